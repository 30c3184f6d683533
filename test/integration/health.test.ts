import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/service.ts';
import { createTestDatabase } from '../support/db.ts';
import { ADMIN_TOKEN, POS_TOKEN, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('GET /healthz', () => {
  it('answers ok while the database answers', async () => {
    const res = await request(svc.url).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers 503 while the database refuses connections, and ok again once it is back', async () => {
    const name = new URL(svc.config.DATABASE_URL!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.CHATCOUPON_TEST_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      const down = await request(svc.url).get('/healthz');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ status: 'unavailable' });
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const up = await request(svc.url).get('/healthz');
    expect(up.status).toBe(200);
  });

  it('answers unknown routes with a JSON 404 in the contract shape', async () => {
    const res = await request(svc.url).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('request logs', () => {
  it('carry method, path and status, never a bearer token, a cookie, or a coupon or my-coupons token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const database = await createTestDatabase();
    const config = loadConfig({ PORT: '0', DATABASE_URL: database.url, ADMIN_TOKEN, POS_TOKEN, PUBLIC_BASE_URL: 'http://coupons.test' });
    const service = await startService(config, { log: pino({ level: 'info' }, stream), workers: false });
    try {
      await request(service.url).get('/api/v1/campaigns').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
      await request(service.url).post('/api/v1/verifications').set('Authorization', `Bearer ${POS_TOKEN}`).send({ couponId: 'cpn_x' }).expect(404);
      await request(service.url).get('/c/SecretCouponToken0123456').set('Cookie', 'session=secret-cookie-value').expect(404);
      await request(service.url).post('/c/SecretCouponToken0123456/redeem').set('Accept', 'application/json').expect(404);
      await request(service.url).get('/me/SecretMeToken0123456789?ref=x').expect(404);
    } finally {
      await service.stop();
      await database.drop();
    }
    const requests = lines.map((l) => JSON.parse(l) as { msg: string; req?: { method: string; url: string }; res?: { statusCode: number } })
      .filter((l) => l.req);
    expect(requests.map((l) => [l.req!.method, l.req!.url, l.res!.statusCode])).toEqual([
      ['GET', '/api/v1/campaigns', 200],
      ['POST', '/api/v1/verifications', 404],
      ['GET', '/c/Secret…', 404],
      ['POST', '/c/Secret…/redeem', 404],
      ['GET', '/me/Secret…?ref=x', 404],
    ]);
    const all = lines.join('');
    for (const secret of [ADMIN_TOKEN, POS_TOKEN, 'SecretCouponToken0123456', 'SecretMeToken0123456789', 'secret-cookie-value']) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('links with PORT=0 and no PUBLIC_BASE_URL', () => {
  it('point at the port the service actually took', async () => {
    const own = await startTestService({ env: { PUBLIC_BASE_URL: '' } });
    try {
      expect(own.ctx.config.PUBLIC_BASE_URL).toBe(own.url);
      expect(own.url).not.toMatch(/:0$/);
    } finally {
      await own.stop();
    }
  });
});

describe('caching and transport headers', () => {
  it('admin JSON answers are never stored by a browser or a proxy', async () => {
    const ok = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    const refused = await request(svc.url).get('/api/v1/campaigns');
    expect(refused.status).toBe(401);
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('pages holding a token send HSTS over https, and not over plain http', async () => {
    for (const path of ['/c/AbCdEfGh12345678', '/me/AbCdEfGh12345678', '/admin']) {
      const https = await request(svc.url).get(path).set('X-Forwarded-Proto', 'https');
      expect(https.headers['strict-transport-security']).toBe('max-age=31536000');
      const plain = await request(svc.url).get(path);
      expect(plain.headers['strict-transport-security']).toBeUndefined();
    }
  });
});
