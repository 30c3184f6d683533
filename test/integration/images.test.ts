import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createCampaign, getCampaign } from '../../src/coupons/campaigns.ts';
import { MAX_IMAGE_BYTES } from '../../src/coupons/images.ts';
import { startTestService, type TestService } from '../support/service.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const png = fs.readFileSync(path.join(fixtures, 'coupon-640.png'));
const jpg = fs.readFileSync(path.join(fixtures, 'coupon-800x600.jpg'));
const notImage = fs.readFileSync(path.join(fixtures, 'not-an-image.png'));

let svc: TestService;
let dataDir: string;
let seq = 0;

beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'images-test-'));
  svc = await startTestService({ env: { DATA_DIR: dataDir } });
});
afterAll(async () => {
  await svc.stop();
  await fs.promises.rm(dataDir, { recursive: true, force: true });
});

async function newCampaign(): Promise<string> {
  seq++;
  const row = await createCampaign(svc.ctx, {
    name: `Images ${seq}`,
    sendStart: '2026-01-01T00:00:00Z',
    sendEnd: '2026-12-31T00:00:00Z',
    expiry: { mode: 'fromSend', days: 30 },
    reward: { type: 'percent', value: 10 },
  });
  return row.id;
}

const upload = (id: string, bytes: Buffer, filename: string, contentType = 'image/png') =>
  request(svc.url).put(`/api/v1/campaigns/${id}/image`).set(svc.admin).attach('file', bytes, { filename, contentType });

const storedImages = () => fs.promises.readdir(path.join(dataDir, 'images')).catch(() => [] as string[]);

describe('PUT /api/v1/campaigns/:id/image', () => {
  it('stores a PNG, answers its URL and size, and serves it publicly with the right type and long caching', async () => {
    const id = await newCampaign();
    const res = await upload(id, png, 'coupon.png');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ width: 640, height: 640, type: 'image/png', bytes: png.length });
    expect(res.body.warning).toBeUndefined();
    expect(res.body.imageUrl).toMatch(/^http:\/\/coupons\.test\/images\/[0-9a-f]{32}\.png$/);
    const file = res.body.imageUrl.split('/').pop();
    expect(await storedImages()).toEqual([file]);
    const row = await getCampaign(svc.ctx.db, id);
    expect(row).toMatchObject({ imageFile: file, imageType: 'image/png' });

    const served = await request(svc.url).get(`/images/${file}`).buffer(true);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Buffer.compare(served.body as Buffer, png)).toBe(0);
  });

  it('takes a JPEG by its content (whatever its name), says a non-square image is not the recommended 640×640, and replaces the old file', async () => {
    const id = await newCampaign();
    const first = await upload(id, png, 'first.png');
    const oldFile = first.body.imageUrl.split('/').pop();

    const res = await upload(id, jpg, 'photo.png', 'image/png');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ width: 800, height: 600, type: 'image/jpeg' });
    expect(res.body.warning).toContain('640×640');
    const file = res.body.imageUrl.split('/').pop();
    expect(file).toMatch(/\.jpg$/);
    expect(await storedImages()).not.toContain(oldFile);
    expect(await storedImages()).toContain(file);

    const served = await request(svc.url).get(`/images/${file}`);
    expect(served.headers['content-type']).toBe('image/jpeg');
    expect((await request(svc.url).get(`/images/${oldFile}`)).status).toBe(404);
    expect((await getCampaign(svc.ctx.db, id)).imageType).toBe('image/jpeg');
  });

  it('refuses a text file named .png with 415 and keeps the campaign as it was', async () => {
    const id = await newCampaign();
    const before = await storedImages();
    const res = await upload(id, notImage, 'coupon.png');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect((await getCampaign(svc.ctx.db, id)).imageFile).toBeNull();
    expect(await storedImages()).toEqual(before);
  });

  it('refuses a PNG with a damaged header with 415', async () => {
    const id = await newCampaign();
    const res = await upload(id, png.subarray(0, 12), 'short.png');
    expect(res.status).toBe(415);
    expect(res.body.error.message).toContain('damaged');
  });

  it('refuses an image of 1 MB or more with 413 and stores nothing', async () => {
    const id = await newCampaign();
    const big = Buffer.concat([png, Buffer.alloc(MAX_IMAGE_BYTES - png.length)]);
    expect(big.length).toBe(1024 * 1024);
    const before = await storedImages();
    const res = await upload(id, big, 'big.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect((await getCampaign(svc.ctx.db, id)).imageFile).toBeNull();
    expect(await storedImages()).toEqual(before);

    const justUnder = await upload(id, big.subarray(0, MAX_IMAGE_BYTES - 1), 'under.png');
    expect(justUnder.status).toBe(200);
  });

  it('answers 400 without a file field', async () => {
    const id = await newCampaign();
    const res = await request(svc.url).put(`/api/v1/campaigns/${id}/image`).set(svc.admin).field('image', 'x');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
  });

  it('needs the admin token, and answers 404 for an unknown campaign', async () => {
    const id = await newCampaign();
    const url = `/api/v1/campaigns/${id}/image`;
    expect((await request(svc.url).put(url).attach('file', png, 'a.png')).status).toBe(401);
    expect((await request(svc.url).put(url).set('Authorization', 'Bearer not-the-right-token-at-all').attach('file', png, 'a.png')).status).toBe(401);
    const pos = await request(svc.url).put(url).set(svc.pos).attach('file', png, 'a.png');
    expect(pos.status).toBe(403);
    expect((await getCampaign(svc.ctx.db, id)).imageFile).toBeNull();
    const unknown = await upload('cmp_unknown', png, 'a.png');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('GET /images/:file', () => {
  it('answers 404 for names outside the pattern and for unknown files', async () => {
    for (const p of ['/images/nope.png', '/images/..%2F..%2Fetc%2Fpasswd', `/images/${'a'.repeat(32)}.gif`, `/images/${'a'.repeat(32)}.png`]) {
      const res = await request(svc.url).get(p);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });
});
