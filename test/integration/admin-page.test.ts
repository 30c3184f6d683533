import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { adminPage } from '../../src/pages/admin-page.ts';
import { loadSerials, makeCampaign } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('GET /admin', () => {
  it('leads a browser that is not signed in to the sign-in page, and refuses agents and staff', async () => {
    const res = await request(svc.url).get('/admin');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin');
    for (const role of ['agent', 'staff'] as const) {
      const p = await personOf(svc, role);
      const refused = await request(svc.url).get('/admin').set(p.header);
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Not open to your role');
    }
  });

  it('serves the shell to a marketer, with the page headers, a CSP allowing only its own script files, and no framing', async () => {
    const marketer = await personOf(svc, 'marketer');
    const res = await request(svc.url).get('/admin').set(marketer.header);
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
    // Scripts only as files from this origin: the page carries no inline script at all.
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*nonce/);
    const nonce = /style-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1]!;
    const scripts = [...res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1], m[2]]);
    expect(scripts).toEqual([[' type="module" src="/assets/admin/main.ts"', '']]);
    expect([...res.text.matchAll(/<style([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    expect(res.text).not.toMatch(/\son[a-z]+=/i);
    expect(res.text).toContain('<meta name="robots" content="noindex,nofollow">');
    expect(res.text).toContain('id="create-form"');
    expect(res.text).toContain('id="edit"');
    expect(res.text).toContain('id="cancel-edit"');
    // A fresh nonce per response.
    const again = await request(svc.url).get('/admin').set(svc.admin);
    expect(again.headers['content-security-policy']).not.toBe(csp);
  });

  it('puts no data in the page: campaigns come only from the API, which needs the admin token', async () => {
    await makeCampaign(svc, { slug: 'admin-secret', name: 'Hidden <b>name</b>' });
    const page = await request(svc.url).get('/admin').set(svc.admin);
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

  // The edit form sends only changed fields and places errors by the field named first in the message.
  it('answers the edit form\'s PATCH as the page expects: field errors, 409 messages naming the field, the rest kept', async () => {
    const a = await makeCampaign(svc, { slug: 'edit-a', refusalText: 'Ask at the counter.', barcode: 'code128' });
    await makeCampaign(svc, { slug: 'edit-b' });
    const url = `/api/v1/campaigns/${a.id}`;

    const bad = await request(svc.url).patch(url).set(svc.admin).send({ name: 'x'.repeat(51), reward: { type: 'percent', value: 150 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields).toEqual(expect.arrayContaining([
      { field: 'name', message: 'must be at most 50 characters' },
      { field: 'reward.value', message: expect.stringContaining('at most 99') },
    ]));

    const taken = await request(svc.url).patch(url).set(svc.admin).send({ slug: 'edit-b' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toMatch(/^slug: "edit-b" is already used/);

    await loadSerials(svc, a.id, ['EDIT-1']);
    const barcode = await request(svc.url).patch(url).set(svc.admin).send({ barcode: 'qr' });
    expect(barcode.status).toBe(409);
    expect(barcode.body.error.message).toMatch(/^barcode: cannot change once serials are loaded/);

    const ok = await request(svc.url).patch(url).set(svc.admin).send({ name: 'Edited', reward: { type: 'gift', text: 'Free drink' } });
    expect(ok.status).toBe(200);
    const read = await request(svc.url).get(url).set(svc.admin);
    expect(read.body).toMatchObject({
      name: 'Edited', reward: { type: 'gift', text: 'Free drink' }, slug: 'edit-a', barcode: 'code128',
      refusalText: 'Ask at the counter.', sendStart: a.sendStart.toISOString(), sendEnd: a.sendEnd.toISOString(),
    });
    expect((await request(svc.url).patch(url).send({ name: 'Anonymous' })).status).toBe(401);
  });

  it('does not answer other methods on /admin', async () => {
    const res = await request(svc.url).post('/admin').send({});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('adminPage', () => {
  it('renders the nonce it is given, escaped, on its style', () => {
    const out = adminPage('abc"><x', { locale: 'ja', timeZone: 'Asia/Tokyo' });
    expect(out).toContain('<style nonce="abc&quot;&gt;&lt;x">');
    expect(out).not.toContain('abc"><x');
    // A new campaign starts with the service's language and zone.
    expect(out).toContain('data-default-locale="ja" data-default-time-zone="Asia/Tokyo"');
    expect(out).toContain('<option value="ja" selected>');
  });
});
