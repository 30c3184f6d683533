import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { from as copyFrom } from 'pg-copy-streams';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { serialImport } from '../jobs/contracts.ts';
import { copyText, CsvToCopy } from '../lib/csv.ts';
import { AppError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { getCampaign } from './campaigns.ts';
import { unencodableReason, type BarcodeFormat } from './rules.ts';

/** A CSV pack must be under 10 MiB: busboy reports the limit once a file reaches this size. */
export const MAX_CSV_BYTES = 10 * 1024 * 1024;
/**
 * Packs up to 1 MiB (about 100,000 short serials, well under a second) are loaded while the
 * request waits and answered 200; larger ones answer 202 and load in the `serial-import` job.
 */
export const SYNC_IMPORT_MAX_BYTES = 1024 * 1024;
/** A pack is written into the pool in slices of this many rows, its progress reported after each. */
export const WRITE_SLICE_ROWS = 50_000;
/** Serials from a CSV pack are at most this long (contract). */
export const MAX_SERIAL_LENGTH = 32;
/** Only the first rejected rows are kept and reported; `rejectedCount` has the total. */
export const MAX_REPORTED_REJECTIONS = 1000;

export interface Rejection { row: number; reason: string }
export type ImportStatus = 'running' | 'done' | 'failed';

export interface ImportView {
  id: string;
  campaignId: string;
  status: ImportStatus;
  /** Rows of the file read so far. */
  read: number;
  /** Serials in the pool from this pack: written so far while running, all of them once done. */
  loaded: number;
  rejectedCount: number;
  rejected: Rejection[];
  error?: string;
}

// Control characters cannot be shown or scanned reliably, and NUL cannot be stored in text.
// eslint-disable-next-line no-control-regex
const controlChar = /[\x00-\x1f\x7f]/;

/** Why one serial from a CSV pack cannot be loaded (before duplicates are looked at), or null. */
export function serialRowReason(format: BarcodeFormat, code: string): string | null {
  if (code === '') return 'blank';
  if (code.length > MAX_SERIAL_LENGTH && [...code].length > MAX_SERIAL_LENGTH) return `longer than ${MAX_SERIAL_LENGTH} characters`;
  if (controlChar.test(code)) return 'contains a line break or another control character';
  return unencodableReason(format, code);
}

/**
 * CSV text in, COPY text rows out (`row_no \t code \t reason`). Rows with a reason keep an empty
 * code: only their row number is reported. A second column refuses the whole file.
 */
class StagingRows extends CsvToCopy {
  /** Data rows (the header excluded) and how many of them were refused here, before SQL. */
  dataRows = 0;
  refused = 0;
  /** Whether the file had any row at all (its header). */
  sawHeader = false;
  constructor(format: BarcodeFormat, onRows: (rows: number) => void) {
    super((row, fields) => {
      if (fields.length > 1) {
        throw new AppError('validation_error',
          `row ${row} has more than one column (a comma outside quotes); a serial pack has one column: nothing was loaded`, { row });
      }
      if (row === 1) {
        this.sawHeader = true;
        return '';
      }
      this.dataRows++;
      const code = fields[0]!.trim();
      const reason = serialRowReason(format, code);
      if (reason === null) return `${row}\t${copyText(code)}\t\\N\n`;
      this.refused++;
      return `${row}\t\t${reason}\n`;
    }, () => onRows(this.dataRows));
  }
}

/** Where uploads wait to be loaded. */
export function importsDir(ctx: AppContext): string {
  return path.join(ctx.config.dataDir, 'imports');
}

/** Serial pools of one campaign change one at a time (CSV packs, fixed serials, kind checks). */
export async function lockSerialPool(tx: Tx, campaignId: string): Promise<void> {
  await query(tx, sql`SELECT pg_advisory_xact_lock(hashtext('serial-pool'), hashtext(${campaignId}))`);
}

export async function hasFixedSerial(tx: Tx, campaignId: string): Promise<boolean> {
  const r = await query(tx, sql`SELECT 1 FROM fixed_serials WHERE campaign_id = ${campaignId}`);
  return r.rows.length > 0;
}

export function fixedPoolConflict(): AppError {
  return new AppError('pool_kind_conflict', 'this campaign has a fixed serial; a CSV pack of one-time serials cannot be added to it');
}

/** Registers an uploaded pack (already spooled at `filePath`) as a running import. */
export async function createImport(ctx: AppContext, campaignId: string, filePath: string, id = newId('imp')): Promise<string> {
  await query(ctx.db, sql`INSERT INTO serial_imports (id, campaign_id, status, file_path, created_at)
    VALUES (${id}, ${campaignId}, 'running', ${filePath}, ${ctx.clock()})`);
  return id;
}

interface ImportRow {
  id: string;
  campaign_id: string;
  status: ImportStatus;
  read: number;
  loaded: number;
  rejected_count: number;
  rejected: Rejection[];
  error: string | null;
  file_path: string | null;
}

async function findImportRow(tx: Tx, id: string): Promise<ImportRow | null> {
  const r = await query(tx, sql`SELECT id, campaign_id, status, read, loaded, rejected_count, rejected, error, file_path
    FROM serial_imports WHERE id = ${id}`);
  return (r.rows[0] as unknown as ImportRow | undefined) ?? null;
}

function toView(r: ImportRow): ImportView {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    status: r.status,
    read: r.read,
    loaded: r.loaded,
    rejectedCount: r.rejected_count,
    rejected: r.rejected,
    ...(r.error ? { error: r.error } : {}),
  };
}

export async function getImport(ctx: AppContext, id: string): Promise<ImportView> {
  const row = await findImportRow(ctx.db, id);
  if (!row) throw new AppError('not_found', `import ${id} does not exist`);
  return toView(row);
}

async function removeFile(file: string | null): Promise<void> {
  if (file) await fs.promises.rm(file, { force: true });
}

/**
 * Loads a spooled pack into the campaign's pool, all or nothing, in one transaction:
 * COPY every row into a temporary staging table, then set-based statements keep the first
 * occurrence of each code, leave out codes the campaign already has, insert the rest, and list
 * the rejected rows. Idempotent: an import that is no longer running is left
 * as it is. A file the caller got wrong (a second column) fails the import with the reason.
 */
export async function runImport(ctx: AppContext, importId: string): Promise<ImportView> {
  const first = await findImportRow(ctx.db, importId);
  if (!first) throw new AppError('not_found', `import ${importId} does not exist`);
  if (first.status !== 'running') return toView(first);
  try {
    return await loadPack(ctx, importId);
  } catch (err) {
    const message = err instanceof AppError ? err.message : `the import failed: ${(err as Error).message}`;
    const r = await query(ctx.db, sql`UPDATE serial_imports SET status = 'failed', loaded = 0, error = ${message}, finished_at = ${ctx.clock()}
      WHERE id = ${importId} AND status = 'running' RETURNING file_path`);
    if (r.rows.length > 0) await removeFile((r.rows[0] as { file_path: string | null }).file_path);
    throw err;
  }
}

async function loadPack(ctx: AppContext, importId: string): Promise<ImportView> {
  const client = await ctx.db.$client.connect();
  let progress: Promise<unknown> = Promise.resolve();
  let copying = false;
  try {
    await client.query('BEGIN');
    const imp = (await client.query<ImportRow>(`SELECT id, campaign_id, status, read, loaded, rejected_count, rejected, error, file_path
      FROM serial_imports WHERE id = $1`, [importId])).rows[0]!;
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('serial-pool'), hashtext($1))`, [imp.campaign_id]);
    // Re-read under the lock: a second run of the same import waits here and then finds it done.
    const status = (await client.query<{ status: ImportStatus }>('SELECT status FROM serial_imports WHERE id = $1', [importId])).rows[0]!.status;
    if (status !== 'running') {
      await client.query('ROLLBACK');
      return await getImport(ctx, importId);
    }
    if ((await client.query('SELECT 1 FROM fixed_serials WHERE campaign_id = $1', [imp.campaign_id])).rows.length > 0) throw fixedPoolConflict();
    if (!imp.file_path) throw new AppError('conflict', `import ${importId} has no file to load`);
    const campaign = await getCampaign(ctx.db, imp.campaign_id);

    await client.query(`SET LOCAL work_mem = '64MB'`);
    await client.query(`CREATE TEMP TABLE serial_stage (row_no int NOT NULL, code text NOT NULL, reason text) ON COMMIT DROP`);
    const startedAt = Date.now();
    let lastReport = startedAt;
    copying = true;
    const staging = new StagingRows(campaign.barcode, (rows) => {
      const now = Date.now();
      if (now - lastReport < 250) return;
      lastReport = now;
      // Progress goes through another connection so it is visible before the load commits.
      progress = progress.then(async () => {
        if (copying) {
          await query(ctx.db, sql`UPDATE serial_imports SET read = ${rows}, loaded = 0 WHERE id = ${importId} AND status = 'running'`);
        }
      }).catch(() => undefined);
    });
    const input = fs.createReadStream(imp.file_path, { encoding: 'utf8', highWaterMark: 1 << 18 });
    await pipeline(input, staging, client.query(copyFrom('COPY serial_stage (row_no, code, reason) FROM STDIN')));
    copying = false;
    await progress;
    if (staging.dataRows === 0) {
      const message = staging.sawHeader ? 'the file has only its header row: no serials to load' : 'the file is empty: no serials to load';
      throw new AppError('validation_error', `file: ${message}`, { fields: [{ field: 'file', message }] });
    }
    // Every row is read: say so while the insert, the longest step, runs.
    await query(ctx.db, sql`UPDATE serial_imports SET read = ${staging.dataRows} WHERE id = ${importId} AND status = 'running'`);

    const copiedAt = Date.now();
    await client.query('ANALYZE serial_stage');

    // The codes to insert, numbered in code order. Plain INSERTs: the pool lock keeps other
    // loads of this campaign out, and codes it already has are left out here, so no conflict can
    // arise (ON CONFLICT would cost a second probe). Rows go in code order, so every index of
    // serials is filled in its own order: measured with 1M random codes, 24 s in file order
    // against 11 s in code order. Serials are then handed out in code order, which one-time
    // codes do not mind.
    await client.query(`CREATE TEMP TABLE serial_new (n bigint NOT NULL, code text NOT NULL) ON COMMIT DROP`);
    const fresh = await client.query(`INSERT INTO serial_new (n, code)
      SELECT row_number() OVER (ORDER BY t.code), t.code FROM (
        SELECT s.code FROM serial_stage s
        WHERE s.reason IS NULL AND NOT EXISTS (SELECT 1 FROM serials x WHERE x.campaign_id = $1 AND x.code = s.code)
        GROUP BY s.code) t`, [imp.campaign_id]);
    const toWrite = fresh.rowCount ?? 0;
    await client.query('CREATE INDEX ON serial_new (n)');
    // Written in slices, each reported (as `loaded` while running) so a big pack's progress
    // moves while it is written, not only while it is read.
    let loaded = 0;
    for (let from = 0; from < toWrite; from += WRITE_SLICE_ROWS) {
      const inserted = await client.query(`INSERT INTO serials (campaign_id, code, import_id)
        SELECT $1, code, $2 FROM serial_new WHERE n > $3 AND n <= $4 ORDER BY n`, [imp.campaign_id, importId, from, from + WRITE_SLICE_ROWS]);
      loaded += inserted.rowCount ?? 0;
      if (loaded < toWrite) {
        await query(ctx.db, sql`UPDATE serial_imports SET loaded = ${loaded} WHERE id = ${importId} AND status = 'running'`);
      }
    }
    const insertedAt = Date.now();
    const read = staging.dataRows;
    const rejectedCount = read - loaded;
    let rejected: Rejection[] = [];
    if (rejectedCount > 0 && rejectedCount === staging.refused) {
      rejected = (await client.query<Rejection>(`SELECT row_no AS row, reason FROM serial_stage WHERE reason IS NOT NULL
        ORDER BY row_no LIMIT ${MAX_REPORTED_REJECTIONS}`)).rows;
    } else if (rejectedCount > 0) {
      // A later occurrence of a code is a duplicate of its first row; a first occurrence that
      // was not loaded by this import was already in the campaign.
      rejected = (await client.query<Rejection>(`WITH firsts AS (
          SELECT code, min(row_no) AS first_row FROM serial_stage WHERE reason IS NULL GROUP BY code)
        SELECT s.row_no AS row, COALESCE(s.reason,
          CASE WHEN s.row_no <> f.first_row THEN 'duplicate of row ' || f.first_row ELSE 'already loaded in this campaign' END) AS reason
        FROM serial_stage s
        LEFT JOIN firsts f ON s.reason IS NULL AND f.code = s.code
        LEFT JOIN serials x ON s.row_no = f.first_row AND x.campaign_id = $1 AND x.code = s.code
        WHERE s.reason IS NOT NULL OR s.row_no <> f.first_row OR x.import_id IS DISTINCT FROM $2
        ORDER BY s.row_no LIMIT ${MAX_REPORTED_REJECTIONS}`, [imp.campaign_id, importId])).rows;
    }
    await client.query(`UPDATE serial_imports SET status = 'done', read = $2, loaded = $3, rejected_count = $4, rejected = $5::jsonb,
        file_path = NULL, finished_at = $6 WHERE id = $1`,
    [importId, read, loaded, rejectedCount, JSON.stringify(rejected), ctx.clock()]);
    await client.query('COMMIT');
    ctx.log.info({ importId, campaignId: imp.campaign_id, read, loaded, rejectedCount, copyMs: copiedAt - startedAt,
      insertMs: insertedAt - copiedAt, totalMs: Date.now() - startedAt }, 'serial pack loaded');
    await removeFile(imp.file_path);
    return { id: importId, campaignId: imp.campaign_id, status: 'done', read, loaded, rejectedCount, rejected };
  } catch (err) {
    copying = false;
    await progress;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Hands a spooled import to the `serial-import` job. When it cannot be queued, the import is
 * marked failed and its file removed before the error goes on.
 */
export async function queueImport(ctx: AppContext, importId: string, spool: string): Promise<void> {
  try {
    await ctx.jobs.send(serialImport, { importId }, { singletonKey: importId });
  } catch (err) {
    await query(ctx.db, sql`UPDATE serial_imports SET status = 'failed', error = 'the import could not be queued', file_path = NULL
      WHERE id = ${importId}`);
    await fs.promises.rm(spool, { force: true });
    throw err;
  }
}

/** The `serial-import` job: a refusal is recorded on the import and not worth a retry. */
export async function runImportJob(ctx: AppContext, importId: string): Promise<void> {
  try {
    await runImport(ctx, importId);
  } catch (err) {
    // runImport marked the import failed with the reason.
    if (err instanceof AppError) {
      ctx.log.info({ importId, code: err.code, message: err.message }, 'serial import refused');
      return;
    }
    throw err;
  }
}
