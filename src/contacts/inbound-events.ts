import { sql } from 'drizzle-orm';
import type { ChannelEvent } from '../../adapters/types.ts';
import { query, type Db, type Tx } from '../db/client.ts';

interface Waiter {
  events: ChannelEvent[];
  resolve(): void;
  reject(err: unknown): void;
}

export interface InboundStoreOptions {
  /** Inserts running at once; the rest of the requests wait and share the next insert. */
  maxInFlight?: number;
  /** Rows per INSERT at most. */
  maxBatch?: number;
}

/**
 * Stores webhook events before they are acknowledged. Requests that arrive while an insert is
 * running are written together in the next one (group commit): one round trip and one WAL flush
 * for many webhooks, which is what keeps the acknowledgement cheaper than a row per request.
 * Each caller's promise resolves once the INSERT holding its rows has committed.
 */
export class InboundEventStore {
  private readonly db: Db;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private queue: Waiter[] = [];
  private inFlight = 0;
  private readonly listeners = new Set<() => void>();

  constructor(db: Db, opts: InboundStoreOptions = {}) {
    this.db = db;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.maxBatch = opts.maxBatch ?? 500;
  }

  /** Resolves when every event is in `inbound_events` (a redelivered one is already there). */
  store(events: ChannelEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.flush();
    });
  }

  /** Called after each commit that stored events (the inbound worker wakes on it). */
  onStored(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch: Waiter[] = [];
      let rows = 0;
      // One request's events always share an INSERT: a webhook is stored whole or not at all.
      while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.events.length <= this.maxBatch)) {
        const waiter = this.queue.shift()!;
        rows += waiter.events.length;
        batch.push(waiter);
      }
      this.inFlight++;
      this.insert(batch.flatMap((w) => w.events)).then(
        () => {
          for (const w of batch) w.resolve();
          for (const listener of this.listeners) listener();
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      ).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async insert(events: ChannelEvent[]): Promise<void> {
    // Two concurrent INSERTs touching the same keys in different orders could deadlock.
    const sorted = [...events].sort((a, b) => (a.channel === b.channel
      ? (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
      : (a.channel < b.channel ? -1 : 1)));
    await query(this.db, sql`
      INSERT INTO inbound_events (channel, event_key, event)
      SELECT * FROM unnest(${sql.param(sorted.map((e) => e.channel))}::text[],
                           ${sql.param(sorted.map((e) => e.eventId))}::text[],
                           ${sql.param(sorted.map(eventJson))}::jsonb[])
      ON CONFLICT (channel, event_key) DO NOTHING`);
  }
}

/**
 * jsonb refuses NUL characters and lone surrogates (which JSON.stringify writes as `\u0000`,
 * `\ud800`); one such text must not fail the other webhooks of its batch.
 */
function eventJson(event: ChannelEvent): string {
  const json = JSON.stringify(event);
  if (!/\\u(0000|d[89a-f])/i.test(json)) return json;
  return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'string' ? value.replaceAll('\0', '').toWellFormed() : value));
}

export interface InboundEventProgress {
  status: 'pending' | 'processed' | 'failed';
  /** What became of it (`no-match`: nothing answered a message), once processed. */
  outcome: string | null;
  error: string | null;
  /** Messages to the event's contact still waiting in the outbox. */
  messagesPending: number;
}

/** How far one stored event (by channel and the platform's event id) has gone, or null when it never arrived. */
export async function inboundEventProgress(tx: Tx, channel: string, eventKey: string): Promise<InboundEventProgress | null> {
  const r = await query(tx, sql`
    SELECT e.processed_at AS "processedAt", e.last_error AS "lastError", e.outcome,
      (SELECT count(*) FROM outbox o JOIN contacts c ON c.id = o.contact_id
        WHERE c.channel = e.channel AND c.platform_user_id = e.event->>'userId' AND o.status = 'pending')::int AS "messagesPending"
    FROM inbound_events e WHERE e.channel = ${channel} AND e.event_key = ${eventKey}`);
  const row = r.rows[0] as { processedAt: Date | null; lastError: string | null; outcome: string | null; messagesPending: number } | undefined;
  if (!row) return null;
  return {
    status: row.processedAt === null ? 'pending' : row.lastError ? 'failed' : 'processed',
    outcome: row.outcome,
    error: row.lastError,
    messagesPending: row.messagesPending,
  };
}
