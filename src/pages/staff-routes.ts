import { Router } from 'express';
import type { RouteModule } from '../http/app.ts';
import { sendPage } from './html.ts';
import { pageRole } from './page-gate.ts';
import { staffPage } from './staff-page.ts';

/** The staff scanner page (`/staff`); it works with the verification API. */
export const staffRoutes: RouteModule = ({ auth }) => {
  const router = Router();
  router.get('/staff', pageRole(auth, 'staff'), (_req, res) => sendPage(res, 200, (nonce) => staffPage(nonce)));
  return router;
};
