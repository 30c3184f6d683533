import { sql, type SQL } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { PollingLoop } from '../lib/polling-loop.ts';
import { query } from '../db/client.ts';

/**
 * A table that only grows unless pruned: which of its rows are finished, and since when. Rows that
 * ended well are kept `RETENTION_DAYS`, failures `RETENTION_FAILED_DAYS` (someone may still look
 * into them). Another outbox-like table joins by adding an entry here.
 */
export interface RetentionTarget {
  table: string;
  /** Finished rows that ended well, older than the cutoff (`$cutoff` is bound by the caller). */
  done(cutoff: Date): SQL;
  /** Finished rows that failed, older than the cutoff. */
  failed(cutoff: Date): SQL;
}

export const retentionTargets: RetentionTarget[] = [
  {
    table: 'inbound_events',
    done: (cutoff) => sql`processed_at < ${cutoff} AND last_error IS NULL`,
    failed: (cutoff) => sql`processed_at < ${cutoff} AND last_error IS NOT NULL`,
  },
  {
    table: 'outbox',
    done: (cutoff) => sql`status = 'sent' AND created_at < ${cutoff}`,
    failed: (cutoff) => sql`status = 'failed' AND created_at < ${cutoff}`,
  },
  // Webhooks out: a delivery's attempts go with it (ON DELETE CASCADE); an event goes once no
  // delivery of it is left (hence after the deliveries).
  {
    table: 'webhook_deliveries',
    done: (cutoff) => sql`status = 'sent' AND created_at < ${cutoff}`,
    failed: (cutoff) => sql`status = 'failed' AND created_at < ${cutoff}`,
  },
  {
    table: 'webhook_events',
    done: (cutoff) => sql`created_at < ${cutoff} AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`,
    failed: () => sql`false`,
  },
];

export interface PruneOptions {
  /** Rows deleted per statement: each is its own short transaction. */
  batch?: number;
  /** Statements per table per round at most; the rest waits for the next round. */
  maxBatches?: number;
}

export type PruneResult = Record<string, number>;

/**
 * Deletes finished rows past their retention, in small batches that skip rows another
 * transaction holds, so the hot paths (workers claiming rows, webhooks inserting) never wait.
 */
export async function pruneFinished(ctx: AppContext, opts: PruneOptions = {}, targets = retentionTargets): Promise<PruneResult> {
  const batch = opts.batch ?? 1000;
  const maxBatches = opts.maxBatches ?? 200;
  const now = ctx.clock().getTime();
  const day = 86_400_000;
  const doneCutoff = new Date(now - ctx.config.RETENTION_DAYS * day);
  const failedCutoff = new Date(now - ctx.config.RETENTION_FAILED_DAYS * day);
  const out: PruneResult = {};
  for (const target of targets) {
    let total = 0;
    for (const where of [target.done(doneCutoff), target.failed(failedCutoff)]) {
      for (let i = 0; i < maxBatches; i++) {
        const r = await query(ctx.db, sql`
          DELETE FROM ${sql.identifier(target.table)} WHERE id IN (
            SELECT id FROM ${sql.identifier(target.table)} WHERE ${where} LIMIT ${batch} FOR UPDATE SKIP LOCKED)`);
        const n = r.rowCount ?? 0;
        total += n;
        if (n < batch) break;
      }
    }
    out[target.table] = total;
  }
  return out;
}

/** Prunes every `intervalMs` (an hour by default); several processes may run it at once. */
export class RetentionWorker {
  private readonly loop: PollingLoop;
  last: { at: Date; deleted: PruneResult } | null = null;

  constructor(ctx: AppContext, opts: PruneOptions & { intervalMs?: number } = {}) {
    this.loop = new PollingLoop(async () => {
      const deleted = await pruneFinished(ctx, opts);
      this.last = { at: ctx.clock(), deleted };
      if (Object.values(deleted).some((n) => n > 0)) ctx.log.info({ deleted }, 'pruned finished rows past their retention');
    }, { name: 'retention', log: ctx.log, pollMs: opts.intervalMs ?? 3_600_000 });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}

export interface TableSize {
  table: string;
  /** PostgreSQL's estimate (exact counts would scan the table). */
  rows: number;
  bytes: number;
}

/** Sizes of our tables and pg-boss's, largest first: what the operator's status page shows. */
export async function tableSizes(ctx: AppContext): Promise<TableSize[]> {
  const r = await query(ctx.db, sql`
    SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END AS "table",
      CASE WHEN c.relkind = 'p'
        THEN (SELECT COALESCE(sum(GREATEST(p.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid)
        ELSE GREATEST(c.reltuples, 0) END::bigint AS rows,
      CASE WHEN c.relkind = 'p'
        THEN (SELECT COALESCE(sum(pg_total_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t)
        ELSE pg_total_relation_size(c.oid) END::bigint AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'pgboss') AND NOT c.relispartition
    ORDER BY bytes DESC, "table"`);
  return r.rows as unknown as TableSize[];
}
