import crypto from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../lib/logger.ts';

/**
 * What a process keeps in memory that another process can change: the flows (files re-read, or a
 * campaign a flow names created or renamed) and the admin token's hash (reset on a start).
 */
export type ChangeTopic = 'flows' | 'admin-token';
const topics: readonly ChangeTopic[] = ['flows', 'admin-token'];

const CHANNEL = 'chatcoupon_changes';

type Queryable = { query(text: string, values: unknown[]): Promise<unknown> };

export interface ChangeFeedOptions {
  /** Pause before reconnecting after the listening connection was lost (attempt is 1-based). */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * Tells every instance on the database that something it keeps in memory changed, with
 * PostgreSQL's LISTEN/NOTIFY on one dedicated connection per process. A notification is lost
 * while that connection is down, so after reconnecting every subscriber is called once, as if
 * each topic had changed: what a process reloads then is what it would have reloaded anyway.
 * A process ignores its own notifications (it already acted on the change).
 */
export class ChangeFeed {
  /** This process's id in the notifications it sends. */
  readonly origin = crypto.randomBytes(8).toString('hex');
  private readonly url: string;
  private readonly pool: Queryable;
  private readonly log: Logger;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly listeners = new Map<ChangeTopic, Set<() => void>>();
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  /** `url` for the listening connection; `pool` sends the notifications. */
  constructor(url: string, pool: Queryable, log: Logger, opts: ChangeFeedOptions = {}) {
    this.url = url;
    this.pool = pool;
    this.log = log;
    this.retryDelayMs = opts.retryDelayMs ?? ((attempt) => Math.min(10_000, 250 * 2 ** (attempt - 1)));
  }

  /** Calls `listener` when another process announced `topic` (or after a reconnect). */
  on(topic: ChangeTopic, listener: () => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Listens; resolves once the first connection listens (start-up fails if the database cannot be reached). */
  async start(): Promise<void> {
    await this.connect();
  }

  /**
   * Tells the other processes `topic` changed. Call it after the change committed; a failure is
   * logged, not thrown (the change itself is done; the others catch up on their next reconnect or reload).
   */
  async publish(topic: ChangeTopic): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ topic, origin: this.origin })]);
    } catch (err) {
      this.log.warn({ err, topic }, 'could not tell the other instances about a change');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting = (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: 'chatcoupon-changes' });
      client.on('error', () => undefined);
      client.on('notification', (msg) => this.received(msg.payload));
      client.on('end', () => {
        if (this.client !== client || this.stopped) return;
        this.client = null;
        this.log.warn('lost the connection that hears other instances\' changes; reconnecting');
        this.reconnect(1);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      if (this.stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
    })();
    return this.connecting;
  }

  private reconnect(attempt: number): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().then(() => {
        if (this.stopped) return;
        this.log.info({ attempt }, 'listening to other instances\' changes again');
        // Whatever was announced while we were away is caught up by reloading everything.
        for (const topic of topics) this.emit(topic);
      }, (err: unknown) => {
        this.log.warn({ err, attempt }, 'could not reconnect to hear other instances\' changes');
        this.reconnect(attempt + 1);
      });
    }, this.retryDelayMs(attempt));
  }

  private received(payload: string | undefined): void {
    let message: { topic?: unknown; origin?: unknown };
    try {
      message = JSON.parse(payload ?? '') as typeof message;
    } catch {
      return;
    }
    if (message.origin === this.origin) return;
    if (typeof message.topic === 'string' && (topics as readonly string[]).includes(message.topic)) this.emit(message.topic as ChangeTopic);
  }

  private emit(topic: ChangeTopic): void {
    for (const listener of this.listeners.get(topic) ?? []) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err, topic }, 'change listener failed');
      }
    }
  }
}
