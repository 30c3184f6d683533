import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { createCampaign } from '../../src/coupons/campaigns.ts';
import { SYNC_IMPORT_MAX_BYTES } from '../../src/coupons/serial-import.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'serials-worker-test-'));
  svc = await startTestService({ env: { DATA_DIR: dataDir }, workers: true });
});
afterAll(async () => {
  await svc.stop();
  await fs.promises.rm(dataDir, { recursive: true, force: true });
});

describe('a large CSV pack with the workers running', () => {
  it('answers 202 and the serial-import job loads it; the client polls the Location until done', async () => {
    const campaign = await createCampaign(svc.ctx, {
      name: 'Worker pack',
      sendStart: '2026-01-01T00:00:00Z',
      sendEnd: '2026-12-31T00:00:00Z',
      expiry: { mode: 'fromSend', days: 30 },
      reward: { type: 'gift', text: 'Free drink' },
      barcode: 'code39',
    });
    const lines = ['serial'];
    for (let i = 1; i <= 130_000; i++) lines.push(`W${String(i).padStart(8, '0')}`);
    lines.push('w-lower'); // row 130,002: not encodable in CODE_39
    const csv = Buffer.from(lines.join('\n'));
    expect(csv.length).toBeGreaterThan(SYNC_IMPORT_MAX_BYTES);

    const res = await request(svc.url).post(`/api/v1/campaigns/${campaign.id}/serials`).set(svc.admin)
      .attach('file', csv, { filename: 'pack.csv', contentType: 'text/csv' });
    expect(res.status).toBe(202);
    const location = res.headers.location!;
    expect(location).toBe(`/api/v1/imports/${res.body.id}`);

    // The contract's way to learn the end of a 202: poll the Location (bounded).
    let body: { status: string; loaded: number; read: number; rejectedCount: number; rejected: unknown[] } = res.body;
    const deadline = Date.now() + 30_000;
    while (body.status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      body = (await request(svc.url).get(location).set(svc.admin)).body;
    }
    expect(body).toMatchObject({ status: 'done', read: 130_001, loaded: 130_000, rejectedCount: 1 });
    expect(body.rejected).toEqual([{ row: 130_002, reason: expect.stringContaining('CODE_39') }]);
    const count = await svc.ctx.db.execute(sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${campaign.id}`);
    expect((count.rows[0] as { n: number }).n).toBe(130_000);
  });
});
