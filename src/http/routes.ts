import type { RouteModule } from './app.ts';

/** Every feature's routes, in mount order. */
export const routes: RouteModule[] = [];
