import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.ts';
import { createCampaign } from '../../src/coupons/campaigns.ts';
import { SYNC_IMPORT_MAX_BYTES } from '../../src/coupons/serial-import.ts';
import { createDb, query } from '../../src/db/client.ts';
import { startService } from '../../src/service.ts';
import { createTestDatabase } from '../support/db.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';
import { PATIENCE_MS } from '../support/patience.ts';

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
    const deadline = Date.now() + PATIENCE_MS;
    while (body.status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      body = (await request(svc.url).get(location).set(svc.admin)).body;
    }
    expect(body).toMatchObject({ status: 'done', read: 130_001, loaded: 130_000, rejectedCount: 1 });
    expect(body.rejected).toEqual([{ row: 130_002, reason: expect.stringContaining('CODE_39') }]);
    const count = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${campaign.id}`);
    expect((count.rows[0] as { n: number }).n).toBe(130_000);
  });
});

describe('graceful shutdown', () => {
  it('lets a serial import that is running finish before the service stops', async () => {
    const database = await createTestDatabase();
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'serials-stop-test-'));
    const config = loadConfig({ PORT: '0', DATABASE_URL: database.url, DATA_DIR: dir, ADMIN_TOKEN, LOG_LEVEL: 'silent', FLOWS_DIR: dir });
    // The stop waits for the import however slow the machine is: the test is about waiting, not speed.
    const service = await startService(config, { log: pino({ level: 'silent' }), workers: true, jobStopGraceMs: PATIENCE_MS });
    const db = createDb(database.url, 2);
    let stopped = false;
    try {
      const campaign = await createCampaign(service.ctx, {
        name: 'Stop pack', sendStart: '2026-01-01T00:00:00Z', sendEnd: '2026-12-31T00:00:00Z',
        expiry: { mode: 'fromSend', days: 30 }, reward: { type: 'gift', text: 'Free drink' },
      });
      const rows = 900_000;
      const lines = ['serial'];
      for (let i = 1; i <= rows; i++) lines.push(`S${String(i).padStart(8, '0')}`);
      const res = await request(service.url).post(`/api/v1/campaigns/${campaign.id}/serials`).set({ Authorization: `Bearer ${ADMIN_TOKEN}` })
        .attach('file', Buffer.from(lines.join('\n')), { filename: 'pack.csv', contentType: 'text/csv' });
      expect(res.status).toBe(202);
      const importId = res.body.id as string;
      const state = async () => (await query(db, sql`SELECT status, read, loaded FROM serial_imports WHERE id = ${importId}`)).rows[0] as
        { status: string; read: number; loaded: number };

      // Wait until the job is part-way through reading the file, then stop the whole service.
      const deadline = Date.now() + 30_000;
      let seen = await state();
      while (seen.status === 'running' && seen.read === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        seen = await state();
      }
      expect(seen).toMatchObject({ status: 'running' });
      expect(seen.read).toBeGreaterThan(0);
      stopped = true;
      await service.stop();

      expect(await state()).toEqual({ status: 'done', read: rows, loaded: rows });
      const count = await query(db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${campaign.id}`);
      expect((count.rows[0] as { n: number }).n).toBe(rows);
    } finally {
      if (!stopped) await service.stop();
      await db.$client.end();
      await database.drop();
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }, 2 * PATIENCE_MS);
});
