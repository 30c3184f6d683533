import type { RouteModule } from './app.ts';
import { broadcastRoutes } from './broadcast-routes.ts';
import { campaignRoutes } from './campaign-routes.ts';
import { contactRoutes } from './contact-routes.ts';
import { couponRoutes } from './coupon-routes.ts';
import { flowsRoutes } from './flows-routes.ts';
import { imageRoutes } from './image-routes.ts';
import { jobsRoutes } from './jobs-routes.ts';
import { serialsRoutes } from './serials-routes.ts';
import { statusRoutes } from './status-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { webhooksOutRoutes } from './webhooks-out-routes.ts';
import { workbenchRoutes } from './workbench-routes.ts';
import { clientAssetRoutes } from '../pages/client-assets.ts';
import { pageRoutes } from '../pages/page-routes.ts';
import { signInRoutes } from '../pages/sign-in-routes.ts';
import { statusPageRoutes } from '../pages/status-page.ts';
import { staffRoutes } from '../pages/staff-routes.ts';
import { peopleRoutes } from './people-routes.ts';

/** Every feature's routes, in mount order. */
export const routes: RouteModule[] = [
  webhookRoutes, // first: it reads raw bodies, before any JSON parser
  campaignRoutes,
  couponRoutes,
  broadcastRoutes,
  contactRoutes, // before serials: it answers the follower syncs among /api/v1/imports/:id
  serialsRoutes,
  imageRoutes,
  workbenchRoutes,
  flowsRoutes,
  jobsRoutes,
  statusRoutes,
  peopleRoutes,
  signInRoutes,
  webhooksOutRoutes,
  statusPageRoutes,
  pageRoutes,
  staffRoutes,
  clientAssetRoutes,
];
