import type { Express } from 'express';
import { admitsOf, type Admits } from '../../src/http/auth.ts';
import { principals, type Principal } from '../../src/people/roles.ts';

/** One route as the router holds it, with the roles its gates admit (null: nothing declared). */
export interface RouteEntry {
  method: string;
  path: string;
  admits: Admits | null;
}

interface RouterLayer {
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: Array<{ handle: unknown }> };
  handle: { stack?: RouterLayer[]; length: number };
  match(path: string): unknown;
}

/** Intersection of every gate in force (public only when nothing narrower is). */
function combine(declared: Admits[]): Admits | null {
  if (declared.length === 0) return null;
  const roleSets = declared.filter((d): d is readonly Principal[] => d !== 'public');
  if (roleSets.length === 0) return 'public';
  return principals.filter((p) => roleSets.every((set) => set.includes(p)));
}

/**
 * Every route of the app, read from express's own router: a route's gates are its own handlers'
 * and those of the `use` layers before it (in its router and the routers above) whose path it falls under.
 */
export function routeTable(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: RouterLayer[], inherited: Array<{ layer: RouterLayer; admits: Admits }>) => {
    const before = [...inherited];
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          const declared: Admits[] = [
            ...before.filter((b) => b.layer.match(path)).map((b) => b.admits),
            ...layer.route.stack.map((l) => admitsOf(l.handle)).filter((a): a is Admits => a !== undefined),
          ];
          for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) {
            out.push({ method: method.toUpperCase(), path, admits: combine(declared) });
          }
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, before);
      } else {
        const admits = admitsOf(layer.handle);
        if (admits) before.push({ layer, admits });
      }
    }
  };
  const router = (app as unknown as { router: { stack: RouterLayer[] } }).router;
  walk(router.stack, []);
  return out;
}
