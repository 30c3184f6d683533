import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { adminPage } from '../../src/pages/admin-page.ts';
import { makeCampaign } from '../support/browser.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('GET /admin', () => {
  it('serves the shell without a token, with the page headers, a nonce CSP and no framing', async () => {
    const res = await request(svc.url).get('/admin');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-robots-tag']).toContain('noindex');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    // Every script and style element carries this response's nonce; there are no inline handlers.
    const scripts = [...res.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toEqual([` nonce="${nonce}"`]);
    expect([...res.text.matchAll(/<style([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    expect(res.text).not.toMatch(/\son[a-z]+=/i);
    expect(res.text).toContain('<meta name="robots" content="noindex,nofollow">');
    expect(res.text).toContain('id="login-form"');
    expect(res.text).toContain('id="create-form"');
    // A fresh nonce per response.
    const again = await request(svc.url).get('/admin');
    expect(again.headers['content-security-policy']).not.toBe(csp);
  });

  it('puts no data in the page: campaigns come only from the API, which needs the admin token', async () => {
    await makeCampaign(svc, { slug: 'admin-secret', name: 'Hidden <b>name</b>' });
    const page = await request(svc.url).get('/admin');
    expect(page.text).not.toContain('admin-secret');
    expect(page.text).not.toContain('Hidden');

    const anonymous = await request(svc.url).get('/api/v1/campaigns');
    expect(anonymous.status).toBe(401);
    const pos = await request(svc.url).get('/api/v1/campaigns').set(svc.pos);
    expect([401, 403]).toContain(pos.status);
    const admin = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(admin.status).toBe(200);
    expect(admin.body.campaigns.map((c: { slug: string }) => c.slug)).toContain('admin-secret');
  });

  it('does not answer other methods on /admin', async () => {
    const res = await request(svc.url).post('/admin').send({});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('adminPage', () => {
  it('renders the nonce it is given, escaped', () => {
    const out = adminPage('abc"><x');
    expect(out).toContain('<script nonce="abc&quot;&gt;&lt;x">');
    expect(out).not.toContain('abc"><x');
  });
});
