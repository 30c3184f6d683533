import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { createCampaign } from '../../src/coupons/campaigns.ts';
import { MAX_CSV_BYTES, SYNC_IMPORT_MAX_BYTES, WRITE_SLICE_ROWS } from '../../src/coupons/serial-import.ts';
import { CsvParser } from '../../src/lib/csv.ts';
import { serialImportJob } from '../../src/jobs/catalog.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let dataDir: string;
let seq = 0;

beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'serials-test-'));
  svc = await startTestService({ env: { DATA_DIR: dataDir } });
});
afterAll(async () => {
  await svc.stop();
  await fs.promises.rm(dataDir, { recursive: true, force: true });
});

async function newCampaign(barcode: 'qr' | 'code39' | 'code128' = 'code39'): Promise<string> {
  seq++;
  const row = await createCampaign(svc.ctx, {
    name: `Serials ${seq}`,
    slug: `serials-${seq}-${barcode}`,
    sendStart: '2026-01-01T00:00:00Z',
    sendEnd: '2026-12-31T00:00:00Z',
    expiry: { mode: 'fromSend', days: 30 },
    reward: { type: 'percent', value: 10 },
    barcode,
  });
  return row.id;
}

function uploadCsv(campaignId: string, csv: string | Buffer) {
  return request(svc.url).post(`/api/v1/campaigns/${campaignId}/serials`).set(svc.admin)
    .attach('file', Buffer.isBuffer(csv) ? csv : Buffer.from(csv, 'utf8'), { filename: 'serials.csv', contentType: 'text/csv' });
}

async function codesOf(campaignId: string): Promise<string[]> {
  const r = await query(svc.ctx.db, sql`SELECT code FROM serials WHERE campaign_id = ${campaignId} ORDER BY id`);
  return (r.rows as Array<{ code: string }>).map((x) => x.code);
}

async function spooledFiles(): Promise<string[]> {
  return await fs.promises.readdir(path.join(dataDir, 'imports')).catch(() => []);
}

describe('POST /api/v1/campaigns/:id/serials (CSV pack)', () => {
  it('loads the good rows and reports each rejected row by its spreadsheet row number', async () => {
    const id = await newCampaign('code39');
    const csv = [
      '\uFEFFserial', // row 1: header (with a BOM)
      'ABC001', // 2
      '   ', // 3: blank
      '  ABC002  ', // 4: trimmed, loads
      'ABC001', // 5: duplicate of row 2
      'A'.repeat(33), // 6: too long
      'abc003', // 7: lowercase cannot be encoded in CODE_39
      '"ABC-006"', // 8: quoted
      'ABC007', // 9
      '', // 10: blank
      'ABC008', // 11, no line break at the end
    ].join('\r\n');
    const res = await uploadCsv(id, csv);
    expect(res.status).toBe(200);
    expect(res.body.loaded).toBe(5);
    expect(res.body.rejected).toEqual([
      { row: 3, reason: 'blank' },
      { row: 5, reason: 'duplicate of row 2' },
      { row: 6, reason: 'longer than 32 characters' },
      { row: 7, reason: expect.stringContaining('not encodable in CODE_39') },
      { row: 10, reason: 'blank' },
    ]);
    // Serials are stored (and handed out) in code order.
    expect(await codesOf(id)).toEqual(['ABC-006', 'ABC001', 'ABC002', 'ABC007', 'ABC008']);

    const again = await uploadCsv(id, 'code\nABC002\nABC010\nABC010\n');
    expect(again.status).toBe(200);
    expect(again.body.loaded).toBe(1);
    expect(again.body.rejected).toEqual([
      { row: 2, reason: 'already loaded in this campaign' },
      { row: 4, reason: 'duplicate of row 3' },
    ]);
    expect(await codesOf(id)).toEqual(['ABC-006', 'ABC001', 'ABC002', 'ABC007', 'ABC008', 'ABC010']);

    const imp = await request(svc.url).get(`/api/v1/imports/${again.body.importId}`).set(svc.admin);
    expect(imp.status).toBe(200);
    expect(imp.body).toMatchObject({ campaignId: id, status: 'done', read: 3, loaded: 1, rejectedCount: 2 });
    expect(await spooledFiles()).toEqual([]);
  });

  it('keeps quoted commas and escaped quotes inside one column on a QR campaign', async () => {
    const id = await newCampaign('qr');
    const res = await uploadCsv(id, 'serial\n"A,1"\n"say ""hi"""\nlast\n');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ loaded: 3, rejected: [] });
    expect(await codesOf(id)).toEqual(['A,1', 'last', 'say "hi"']);
  });

  it('reports rows refused before SQL (blank, not encodable) in row order', async () => {
    const id = await newCampaign('code128');
    const res = await uploadCsv(id, 'serial\nA1\n\n\u00e9t\u00e9\nA2\ntab\there\n');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ loaded: 2, rejectedCount: 3 });
    expect(res.body.rejected).toEqual([
      { row: 3, reason: 'blank' },
      { row: 4, reason: expect.stringContaining('not encodable in CODE_128') },
      { row: 6, reason: 'contains a line break or another control character' },
    ]);
    expect(await codesOf(id)).toEqual(['A1', 'A2']);
  });

  it('refuses a whole file with a second column, naming the row, and loads nothing', async () => {
    const id = await newCampaign('code39');
    const res = await uploadCsv(id, 'serial\nA1\nA2,extra\nA3\n');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toContain('row 3');
    expect(res.body.error.details).toEqual({ row: 3 });
    expect(await codesOf(id)).toEqual([]);
    expect(await spooledFiles()).toEqual([]);
  });

  it('answers 413 for a file of 10 MB or more and loads nothing', async () => {
    const id = await newCampaign('code39');
    const row = 'ABCDEFG\n';
    const body = Buffer.alloc(MAX_CSV_BYTES, row);
    body.write('serial\n', 0);
    const res = await uploadCsv(id, body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await codesOf(id)).toEqual([]);
    expect(await spooledFiles()).toEqual([]);
    const imports = await query(svc.ctx.db, sql`SELECT id FROM serial_imports WHERE campaign_id = ${id}`);
    expect(imports.rows).toHaveLength(0);
  });

  it('answers 400 to a body that is not a multipart file', async () => {
    const id = await newCampaign('code39');
    const plain = await request(svc.url).post(`/api/v1/campaigns/${id}/serials`).set(svc.admin)
      .set('Content-Type', 'text/csv').send('serial\nA1\n');
    expect(plain.status).toBe(400);
    expect(plain.body.error.code).toBe('bad_request');
    const noFile = await request(svc.url).post(`/api/v1/campaigns/${id}/serials`).set(svc.admin)
      .field('serials', 'A1');
    expect(noFile.status).toBe(400);
    expect(noFile.body.error.message).toContain('"file"');
    expect(await codesOf(id)).toEqual([]);
  });

  it('takes a pack over the synchronous size as a job: 202, Location, progress, then done; a second run does nothing', async () => {
    const id = await newCampaign('code128');
    const lines = ['serial'];
    for (let i = 1; i <= 150_000; i++) lines.push(`B${String(i).padStart(7, '0')}`);
    lines[10] = ''; // row 11: blank
    lines.push('B0000002'); // row 150,002: duplicate of row 3
    const csv = lines.join('\n') + '\n';
    expect(Buffer.byteLength(csv)).toBeGreaterThan(SYNC_IMPORT_MAX_BYTES);

    const res = await uploadCsv(id, csv);
    expect(res.status).toBe(202);
    const importId = res.body.id as string;
    expect(res.headers.location).toBe(`/api/v1/imports/${importId}`);
    expect(res.body).toMatchObject({ campaignId: id, status: 'running', loaded: 0 });
    expect(await spooledFiles()).toEqual([`${importId}.csv`]);

    const running = await request(svc.url).get(res.headers.location!).set(svc.admin);
    expect(running.body.status).toBe('running');

    // Every change to the import row, as it is committed: the progress a poller can see.
    await query(svc.ctx.db, sql.raw(`CREATE TABLE import_progress_seen (status text, read int, loaded int);
      CREATE FUNCTION note_import_progress() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO import_progress_seen VALUES (NEW.status, NEW.read, NEW.loaded); RETURN NEW; END $$;
      CREATE TRIGGER note_import_progress AFTER UPDATE ON serial_imports FOR EACH ROW EXECUTE FUNCTION note_import_progress();`));
    try {
      await serialImportJob.handler({ importId }, svc.ctx);
      const seen = (await query(svc.ctx.db, sql`SELECT status, read, loaded FROM import_progress_seen`)).rows;
      // Written in slices of WRITE_SLICE_ROWS, each reported while the pack is still running.
      expect(seen.filter((r) => r.status === 'running' && (r.loaded as number) > 0)).toEqual([
        { status: 'running', read: 150_001, loaded: WRITE_SLICE_ROWS },
        { status: 'running', read: 150_001, loaded: 2 * WRITE_SLICE_ROWS },
      ]);
      expect(seen.at(-1)).toEqual({ status: 'done', read: 150_001, loaded: 149_999 });
    } finally {
      await query(svc.ctx.db, sql.raw(`DROP TRIGGER note_import_progress ON serial_imports; DROP FUNCTION note_import_progress(); DROP TABLE import_progress_seen;`));
    }
    const done = await request(svc.url).get(res.headers.location!).set(svc.admin);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      id: importId, campaignId: id, status: 'done', read: 150_001, loaded: 149_999, rejectedCount: 2,
      rejected: [{ row: 11, reason: 'blank' }, { row: 150_002, reason: 'duplicate of row 3' }],
    });
    expect(await spooledFiles()).toEqual([]);

    await serialImportJob.handler({ importId }, svc.ctx);
    const count = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${id}`);
    expect((count.rows[0] as { n: number }).n).toBe(149_999);
    const after = await request(svc.url).get(res.headers.location!).set(svc.admin);
    expect(after.body).toEqual(done.body);
  });

  it('marks a queued pack failed with the row when it has a second column', async () => {
    const id = await newCampaign('code128');
    const lines = ['serial'];
    for (let i = 1; i <= 120_000; i++) lines.push(`C${String(i).padStart(8, '0')}`);
    lines[99_999] = 'C1,C2'; // row 100,000
    const res = await uploadCsv(id, lines.join('\n'));
    expect(res.status).toBe(202);
    await serialImportJob.handler({ importId: res.body.id }, svc.ctx);
    const imp = await request(svc.url).get(`/api/v1/imports/${res.body.id}`).set(svc.admin);
    expect(imp.body.status).toBe('failed');
    expect(imp.body.error).toContain('row 100000');
    expect(await codesOf(id)).toEqual([]);
    expect(await spooledFiles()).toEqual([]);
  });
});

describe('POST /api/v1/campaigns/:id/serials (fixed serial)', () => {
  const fixed = (id: string, code: string, quantity: number) =>
    request(svc.url).post(`/api/v1/campaigns/${id}/serials`).set(svc.admin).send({ fixed: { code, quantity } });

  it('loads a fixed serial as a counter, tops it up with the same code, refuses another code', async () => {
    const id = await newCampaign('code128');
    const first = await fixed(id, 'FNA@5841', 1000);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ loaded: 1000, rejected: [], stock: { kind: 'fixed', total: 1000, left: 1000, soldOut: false } });

    const topUp = await fixed(id, 'FNA@5841', 1_000_000);
    expect(topUp.status).toBe(200);
    expect(topUp.body.stock).toEqual({ kind: 'fixed', total: 1_001_000, left: 1_001_000, soldOut: false });

    const other = await fixed(id, 'OTHER', 5);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    expect(other.body.error.message).toContain('FNA@5841');

    const rows = await query(svc.ctx.db, sql`SELECT code, quantity, taken FROM fixed_serials WHERE campaign_id = ${id}`);
    expect(rows.rows).toEqual([{ code: 'FNA@5841', quantity: 1_001_000, taken: 0 }]);
    const serialRows = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${id}`);
    expect((serialRows.rows[0] as { n: number }).n).toBe(0);
  });

  it('validates the code and the quantity', async () => {
    const id = await newCampaign('code39');
    for (const [code, quantity, field] of [
      ['', 10, 'fixed.code'],
      ['A'.repeat(17), 10, 'fixed.code'],
      ['FNA@5841', 10, 'fixed.code'], // "@" is not in CODE_39
      ['OK1', 0, 'fixed.quantity'],
      ['OK1', 1_000_001, 'fixed.quantity'],
      ['OK1', 1.5, 'fixed.quantity'],
    ] as const) {
      const res = await fixed(id, code, quantity);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
    const rows = await query(svc.ctx.db, sql`SELECT 1 FROM fixed_serials WHERE campaign_id = ${id}`);
    expect(rows.rows).toHaveLength(0);
  });

  it('refuses mixing a fixed serial and a CSV pack in one campaign (409 pool_kind_conflict)', async () => {
    const withFixed = await newCampaign('code128');
    expect((await fixed(withFixed, 'SAME', 10)).status).toBe(200);
    const csv = await uploadCsv(withFixed, 'serial\nX1\n');
    expect(csv.status).toBe(409);
    expect(csv.body.error.code).toBe('pool_kind_conflict');
    expect(await codesOf(withFixed)).toEqual([]);

    const withCsv = await newCampaign('code128');
    expect((await uploadCsv(withCsv, 'serial\nX1\n')).status).toBe(200);
    const fx = await fixed(withCsv, 'SAME', 10);
    expect(fx.status).toBe(409);
    expect(fx.body.error.code).toBe('pool_kind_conflict');
  });
});

describe('serial routes: auth and unknown ids', () => {
  it('needs the admin token', async () => {
    const id = await newCampaign('qr');
    const url = `/api/v1/campaigns/${id}/serials`;
    const body = { fixed: { code: 'X', quantity: 1 } };
    expect((await request(svc.url).post(url).send(body)).status).toBe(401);
    expect((await request(svc.url).post(url).set('Authorization', 'Bearer wrong-token-wrong-token').send(body)).status).toBe(401);
    const pos = await request(svc.url).post(url).set(svc.pos).send(body);
    expect(pos.status).toBe(403);
    expect(pos.body.error.code).toBe('forbidden');
    expect((await request(svc.url).get('/api/v1/imports/imp_x')).status).toBe(401);
    expect((await request(svc.url).get('/api/v1/imports/imp_x').set(svc.pos)).status).toBe(403);
    const rows = await query(svc.ctx.db, sql`SELECT 1 FROM fixed_serials WHERE campaign_id = ${id}`);
    expect(rows.rows).toHaveLength(0);
  });

  it('answers 404 for an unknown campaign or import', async () => {
    const csv = await uploadCsv('cmp_nope', 'serial\nA\n');
    expect(csv.status).toBe(404);
    expect(csv.body.error.code).toBe('not_found');
    const fx = await request(svc.url).post('/api/v1/campaigns/cmp_nope/serials').set(svc.admin).send({ fixed: { code: 'A', quantity: 1 } });
    expect(fx.status).toBe(404);
    const imp = await request(svc.url).get('/api/v1/imports/imp_nope').set(svc.admin);
    expect(imp.status).toBe(404);
  });
});

describe('the CSV splitter serial packs and contact files share', () => {
  const parse = (chunks: string[]) => {
    const out: Array<[number, string]> = [];
    const p = new CsvParser((row, fields) => out.push([row, fields.join('|')]));
    for (const c of chunks) p.push(c);
    p.end();
    return out;
  };
  const text = '\uFEFFh\r\n"a ""q"" b"\r\n\r\n"multi\nline"\rlast"x"\n"A,1"';
  const expected: Array<[number, string]> = [[1, 'h'], [2, 'a "q" b'], [3, ''], [4, 'multi\nline'], [5, 'lastx'], [6, 'A,1']];

  it('gives the same records however the text is cut into chunks', () => {
    expect(parse([text])).toEqual(expected);
    expect(parse([...text])).toEqual(expected);
    for (let cut = 1; cut < text.length; cut++) expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
  });

  it('does not count a final line break as a row, and splits fields at a comma outside quotes', () => {
    expect(parse(['h\na\n'])).toEqual([[1, 'h'], [2, 'a']]);
    expect(parse(['h\na\nb,c\n'])).toEqual([[1, 'h'], [2, 'a'], [3, 'b|c']]);
  });
});
