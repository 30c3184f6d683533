import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { loadConfig } from '../../src/config.ts';
import { csvField } from '../../src/coupons/records.ts';
import { campaignBody } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const png = fs.readFileSync(path.join(fixtures, 'coupon-640.png'));

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

let seq = 0;
async function newCampaign(overrides: Record<string, unknown> = {}): Promise<string> {
  seq++;
  const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: `edges-${seq}`, ...overrides }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('dates at the edges', () => {
  it.each(['0000-06-01T00:00:00Z', '0001-06-01T00:00:00Z', '1999-12-31T23:59:59Z', '2200-01-01T00:00:00Z', '9999-01-01T00:00:00Z'])(
    'refuses sendStart %s with a field error, never a 500, and stores nothing', async (date) => {
      const before = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM campaigns`);
      const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: `bad-date-${seq++}`, sendStart: date }));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.fields).toContainEqual({ field: 'sendStart', message: 'must be a date from the year 2000 to 2199' });
      expect(await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM campaigns`)).toMatchObject({ rows: before.rows });
    });

  it('a PATCH writes only the fields it changes', async () => {
    const id = await newCampaign();
    // Values written behind the API's back (an older version, a hand edit) that a whole-row write
    // would normalise: a patch of another field must leave them as stored.
    await query(svc.ctx.db, sql`UPDATE campaigns SET color_background = '#ABCDEF', send_end = '2199-06-01T00:00:00Z' WHERE id = ${id}`);
    const res = await request(svc.url).patch(`/api/v1/campaigns/${id}`).set(svc.admin).send({ name: 'Renamed' });
    expect(res.status).toBe(200);
    const row = await query(svc.ctx.db, sql`SELECT name, color_background, send_end FROM campaigns WHERE id = ${id}`);
    expect(row.rows[0]).toMatchObject({ name: 'Renamed', color_background: '#ABCDEF' });
    expect((row.rows[0] as { send_end: Date }).send_end.toISOString()).toBe('2199-06-01T00:00:00.000Z');
    // A patch naming a field with its current value writes nothing but the update time.
    const same = await request(svc.url).patch(`/api/v1/campaigns/${id}`).set(svc.admin).send({ colors: { background: '#abcdef', button: '#06c755', buttonText: '#ffffff' } });
    expect(same.status).toBe(200);
    expect(same.body.colors.background).toBe('#abcdef');
  });
});

describe('records CSV', () => {
  it('quotes every field and neutralises a formula at the start or after a separator', () => {
    expect(csvField('plain')).toBe('"plain"');
    expect(csvField(null)).toBe('""');
    expect(csvField('=1+1')).toBe('"\'=1+1"');
    expect(csvField(';=1+1')).toBe('"\';=1+1"');
    expect(csvField('a,@SUM(A1)')).toBe('"\'a,@SUM(A1)"');
    expect(csvField('tab\t-2')).toBe('"\'tab\t-2"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(new Date('2026-01-02T03:04:05Z'))).toBe('"2026-01-02T03:04:05.000Z"');
  });
});

describe('ADMIN_TOKEN and POS_TOKEN', () => {
  it.each([' '.repeat(20), 'with a space in it ok', '\tleading-tab-token-0123'])('refuse %j: a bearer token cannot carry whitespace', (value) => {
    expect(() => loadConfig({ ADMIN_TOKEN: value })).toThrow('Invalid ADMIN_TOKEN: must not contain spaces or other whitespace');
    expect(() => loadConfig({ POS_TOKEN: value })).toThrow('Invalid POS_TOKEN: must not contain spaces or other whitespace');
  });
  it('an empty value still means "not set"', () => {
    expect(loadConfig({ ADMIN_TOKEN: '' }).ADMIN_TOKEN).toBeUndefined();
  });
});

describe('serial files with nothing in them', () => {
  const upload = (id: string, csv: string) => request(svc.url).post(`/api/v1/campaigns/${id}/serials`).set(svc.admin)
    .attach('file', Buffer.from(csv), { filename: 'pack.csv', contentType: 'text/csv' });

  it('an empty file says it was empty, loads nothing', async () => {
    const id = await newCampaign();
    const res = await upload(id, '');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('file: the file is empty: no serials to load');
  });

  it('a header-only file says it had only its header', async () => {
    const id = await newCampaign();
    const res = await upload(id, 'serial\r\n');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('file: the file has only its header row: no serials to load');
    const n = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${id}`);
    expect(n.rows[0]).toEqual({ n: 0 });
  });
});

describe('image dimensions', () => {
  /** A PNG whose header claims `w`×`h` (the rest of the file is the fixture's). */
  const claiming = (w: number, h: number) => {
    const buf = Buffer.from(png);
    buf.writeUInt32BE(w, 16);
    buf.writeUInt32BE(h, 20);
    return buf;
  };
  const upload = (id: string, bytes: Buffer) => request(svc.url).put(`/api/v1/campaigns/${id}/image`).set(svc.admin)
    .attach('file', bytes, { filename: 'c.png', contentType: 'image/png' });

  it('refuses a header claiming 100000×100000 pixels, and anything over 1024 on a side', async () => {
    const id = await newCampaign();
    for (const [w, h] of [[100000, 100000], [1025, 640], [640, 1025]] as const) {
      const res = await upload(id, claiming(w, h));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(`${w}×${h} pixels`);
    }
    expect((await upload(id, claiming(1024, 1024))).status).toBe(200);
  });
});
