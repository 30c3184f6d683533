import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { campaignBody } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const png = fs.readFileSync(path.join(fixtures, 'coupon-640.png'));

let svc: TestService;
let dataDir: string;
beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'first-hour-test-'));
  svc = await startTestService({ env: { DATA_DIR: dataDir } });
});
afterAll(async () => {
  await svc.stop();
  await fs.promises.rm(dataDir, { recursive: true, force: true });
});

const create = (overrides: Record<string, unknown>) =>
  request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody(overrides, new Date()));

describe('the address npm start prints', () => {
  it('leads to the admin console', async () => {
    const res = await request(svc.url).get('/');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin');
  });
});

describe('slugs', () => {
  it('a campaign named in any script gets a short unique slug', async () => {
    const names = ['春のクーポン', '春のクーポン', '新年優惠券', 'คูปองปีใหม่'];
    const slugs: string[] = [];
    for (const name of names) {
      const res = await create({ name });
      expect(res.status).toBe(201);
      expect(res.body.slug).toMatch(/^c-[a-z0-9]{6}$/);
      slugs.push(res.body.slug as string);
    }
    expect(new Set(slugs).size).toBe(names.length);
  });

  it('a slug derived from the name that is taken gets a suffix; a slug given that is taken is still refused', async () => {
    const first = await create({ name: 'Winter Treat' });
    expect(first.body.slug).toBe('winter-treat');
    const second = await create({ name: 'Winter treat' });
    expect(second.status).toBe(201);
    expect(second.body.slug).toMatch(/^winter-treat-[a-z0-9]{6}$/);
    const given = await create({ name: 'Other', slug: 'winter-treat' });
    expect(given.status).toBe(409);
    expect(given.body.error.code).toBe('slug_taken');
  });

  it('every /api/v1/campaigns/:id route takes the slug in place of the id', async () => {
    const created = await create({ name: 'Welcome ten', slug: 'welcome-ten', perContactLimit: 2 });
    const id = created.body.id as string;
    const slug = 'welcome-ten';
    const base = `/api/v1/campaigns/${slug}`;

    const got = await request(svc.url).get(base).set(svc.admin);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(id);

    const patched = await request(svc.url).patch(base).set(svc.admin).send({ instructions: 'Show at the till.' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, instructions: 'Show at the till.' });

    const fixed = await request(svc.url).post(`${base}/serials`).set(svc.admin).send({ fixed: { code: 'WELCOME10', quantity: 5 } });
    expect(fixed.status).toBe(200);
    const image = await request(svc.url).put(`${base}/image`).set(svc.admin).attach('file', png, { filename: 'c.png', contentType: 'image/png' });
    expect(image.status).toBe(200);

    const issued = await request(svc.url).post(`${base}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-slug-1' });
    expect(issued.status).toBe(201);
    expect(issued.body.coupon.campaignId).toBe(id);

    const records = await request(svc.url).get(`${base}/records`).set(svc.admin);
    expect(records.status).toBe(200);
    expect(records.body.records).toHaveLength(1);
    const stats = await request(svc.url).get(`${base}/stats`).set(svc.admin);
    expect(stats.status).toBe(200);
    expect(stats.body.issued).toBe(1);

    // A renamed slug works at once; an unknown slug is answered by name.
    await request(svc.url).patch(`/api/v1/campaigns/${id}`).set(svc.admin).send({ slug: 'welcome-eleven' }).expect(200);
    expect((await request(svc.url).get('/api/v1/campaigns/welcome-eleven').set(svc.admin)).body.id).toBe(id);
    const missing = await request(svc.url).get('/api/v1/campaigns/welcome-ten').set(svc.admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('campaign welcome-ten does not exist');
    // The admin token is still required.
    expect((await request(svc.url).get('/api/v1/campaigns/welcome-eleven')).status).toBe(401);
  });
});

describe('the records CSV', () => {
  it('starts with a UTF-8 byte-order mark so Excel reads CJK and Thai names', async () => {
    const created = await create({ name: 'CSV names', slug: 'csv-names' });
    const res = await request(svc.url).get(`/api/v1/campaigns/${created.body.id}/records?format=csv`).set(svc.admin)
      .buffer(true).parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toMatch(/^couponId,contactId,/);
  });
});
