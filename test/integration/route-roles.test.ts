import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { principals, type Principal } from '../../src/people/roles.ts';
import { routeTable, type RouteEntry } from '../support/route-table.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let routes: RouteEntry[];
/** A bearer token for every principal: people of each role, plus the two configured tokens. */
const callers: Array<{ label: string; role: Principal; header: Record<string, string> }> = [];

beforeAll(async () => {
  svc = await startTestService();
  routes = routeTable(svc.app);
  callers.push({ label: 'ADMIN_TOKEN', role: 'owner', header: svc.admin });
  callers.push({ label: 'POS_TOKEN', role: 'pos', header: svc.pos });
  for (const role of ['owner', 'marketer', 'agent', 'staff'] as const) {
    const r = await request(svc.url).post('/api/v1/people').set(svc.admin).send({ name: `Route ${role}`, role });
    expect(r.status).toBe(201);
    callers.push({ label: `${role} person`, role, header: { Authorization: `Bearer ${r.body.token}` } });
  }
});
afterAll(async () => {
  await svc?.stop();
});

/** A concrete URL for a route path: parameters get values that name nothing. */
const urlOf = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => `no-such-${name}`);

describe('every route declares the roles it admits, and each role gets the answer its declaration says', () => {
  it('reads a non-trivial route table from the router, every route declared', () => {
    expect(routes.length).toBeGreaterThan(30);
    const undeclared = routes.filter((r) => r.admits === null).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual([]);
    // The table is the router's own: routes added in this change are in it with their roles.
    expect(routes).toEqual(expect.arrayContaining([
      { method: 'POST', path: '/api/v1/people', admits: ['owner'] },
      { method: 'GET', path: '/api/v1/audit', admits: ['owner'] },
      { method: 'GET', path: '/api/v1/campaigns', admits: ['owner', 'marketer', 'agent'] },
      { method: 'POST', path: '/api/v1/campaigns', admits: ['owner', 'marketer'] },
      { method: 'POST', path: '/api/v1/verifications', admits: expect.arrayContaining(['owner', 'staff', 'pos']) },
      { method: 'GET', path: '/c/:token', admits: 'public' },
      { method: 'GET', path: '/c/:token/verify', admits: ['owner', 'staff'] },
      { method: 'GET', path: '/admin', admits: ['owner', 'marketer'] },
      { method: 'GET', path: '/workbench', admits: ['owner', 'agent'] },
    ]));
  });

  it('answers 401 without credentials on every gated route', async () => {
    const wrong: string[] = [];
    for (const r of routes.filter((x) => x.admits !== 'public')) {
      const res = await request(svc.url)[r.method.toLowerCase() as 'get'](urlOf(r.path)).set('Accept', 'application/json').send({});
      if (res.status !== 401 || res.body?.error?.code !== 'unauthorized') wrong.push(`${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 forbidden to every role a route does not admit, and lets every admitted role past the gate', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const r of routes) {
      for (const caller of callers) {
        const admitted = r.admits === 'public' || r.admits!.includes(caller.role);
        const res = await request(svc.url)[r.method.toLowerCase() as 'get'](urlOf(r.path))
          .set('Accept', 'application/json').set(caller.header).send({});
        const code = res.body?.error?.code;
        checked++;
        if (!admitted && !(res.status === 403 && code === 'forbidden')) {
          wrong.push(`${caller.label} ${r.method} ${r.path}: expected 403 forbidden, got ${res.status} ${code}`);
        }
        if (admitted && (res.status === 401 || code === 'forbidden' || code === 'unauthorized' || res.status >= 500)) {
          wrong.push(`${caller.label} ${r.method} ${r.path}: expected past the gate, got ${res.status} ${code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(routes.length * callers.length);
  });

  it('the contract\'s role table holds on the routes it names', () => {
    const admits = (method: string, path: string) => routes.find((r) => r.method === method && r.path === path)?.admits;
    const only = (set: unknown, expected: Principal[]) => expect([...(set as Principal[])].sort()).toEqual([...expected].sort());
    only(admits('GET', '/api/v1/people'), ['owner']);
    only(admits('DELETE', '/api/v1/people/:id'), ['owner']);
    only(admits('POST', '/api/v1/workbench/send'), ['owner', 'agent']);
    only(admits('GET', '/api/v1/workbench/coupons'), ['owner', 'agent']);
    only(admits('POST', '/api/v1/campaigns/:id/serials'), ['owner', 'marketer']);
    only(admits('GET', '/api/v1/campaigns/:id/records'), ['owner', 'marketer']);
    only(admits('POST', '/api/v1/verifications'), ['owner', 'staff', 'pos']);
    only(admits('GET', '/c/:token/verify'), ['owner', 'staff']);
    expect(principals).toHaveLength(5);
  });
});
