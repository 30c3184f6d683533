import { sql } from 'drizzle-orm';
import type { ChannelEvent, ChannelEventType, ChannelName, ContactProfile } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { retryDelayMs } from '../lib/backoff.ts';
import { safeErrorMessage } from '../lib/logger.ts';
import { ConcurrencyLimit } from '../lib/concurrency-limit.ts';
import { PollingLoop } from '../lib/polling-loop.ts';
import { ensureContact, ensureContacts, ensureConversation, ensureConversations, type ContactSighting } from './contacts.ts';
import type { InboundItem } from './inbound-hooks.ts';
import { query } from '../db/client.ts';

/** After this many failed tries an event is set aside (processed_at set, last_error kept). */
export const INBOUND_MAX_ATTEMPTS = 10;
const BATCH = 1024;
/** Events per transaction at most (a contact's events are never split across two). */
const CHUNK = 128;
/** Transactions at once. */
const CONCURRENCY = 4;

/** Events that show the contact is in the chat right now (what makes a conversation active). */
const inboundTypes: ReadonlySet<ChannelEventType> = new Set(['message', 'postback', 'follow', 'referral']);

interface StoredEvent {
  id: number;
  channel: ChannelName;
  event: ChannelEvent;
  attempts: number;
}

type Profile = ContactProfile | null;
type Outcome = 'done' | 'skipped' | 'failed' | 'set-aside';

export interface InboundRound {
  /** Events read this round. */
  fetched: number;
  /** Events processed (committed with their processed mark). */
  done: number;
  failed: number;
}

/**
 * Processes due events in batches: each batch is one transaction that locks its events, applies
 * their effects and marks them processed, so the effects commit exactly once with the marks.
 * One contact's events run in order (an earlier open event holds the later ones back, and a
 * contact's events never straddle two batches); batches run in parallel. A batch that fails is
 * rolled back whole and its events are then processed one transaction each, so one bad event
 * delays only itself and the events of its contact behind it.
 */
export async function processInboundDue(ctx: AppContext, limit = BATCH, profiles?: ProfileFetcher): Promise<InboundRound> {
  // Contacts whose profile is being fetched wait outside the batch, so they cannot crowd it.
  const waiting = profiles?.pendingContacts() ?? [];
  // Events queued behind one that is waiting out a backoff are left out, so they cannot crowd the batch.
  const result = await query(ctx.db, sql`
    SELECT e.id, e.channel, e.event, e.attempts FROM inbound_events e
    WHERE e.processed_at IS NULL AND e.next_attempt_at <= now()
      ${waiting.length > 0 ? sql`AND (e.channel, e.event->>'userId') NOT IN (
        SELECT * FROM unnest(${sql.param(waiting.map((w) => w.channel))}::text[], ${sql.param(waiting.map((w) => w.userId))}::text[]))` : sql``}
      AND NOT EXISTS (
        SELECT 1 FROM inbound_events p
        WHERE p.processed_at IS NULL AND p.channel = e.channel AND (p.event->>'userId') = (e.event->>'userId')
          AND p.id < e.id AND p.next_attempt_at > now())
    ORDER BY e.id LIMIT ${limit}`);
  const rows = result.rows as unknown as StoredEvent[];
  const round: InboundRound = { fetched: rows.length, done: 0, failed: 0 };
  if (rows.length === 0) return round;

  const byContact = new Map<string, StoredEvent[]>();
  for (const row of rows) {
    const key = `${row.channel}\u0000${row.event.userId}`;
    const list = byContact.get(key) ?? [];
    list.push(row);
    byContact.set(key, list);
  }
  const needProfile = await contactsWithoutProfile(ctx, [...byContact.values()].map((list) => list[0]!));

  // A new contact's profile is fetched before its first event is processed.
  const ready: ContactEvents[] = [];
  for (const list of byContact.values()) {
    const first = list[0]!;
    let profile: Profile | undefined;
    if (needProfile.has(`${first.channel}\u0000${first.event.userId}`)) {
      if (profiles) {
        // The profile call runs outside the batches: this contact's events wait for it (in
        // order), everyone else's go on. The worker is woken when it is back.
        profile = profiles.take(first);
        if (profile === undefined) {
          profiles.start(first);
          continue;
        }
      } else {
        profile = await fetchProfile(ctx, first);
      }
    }
    ready.push({ events: list, profile });
  }

  const chunks: ContactEvents[][] = [];
  let chunk: ContactEvents[] = [];
  let size = 0;
  for (const group of ready) {
    if (size > 0 && size + group.events.length > CHUNK) {
      chunks.push(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(group);
    size += group.events.length;
  }
  if (chunk.length > 0) chunks.push(chunk);

  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const batch = chunks[next++]!;
      const done = await processBatch(ctx, batch);
      if (done !== null) {
        round.done += done;
        continue;
      }
      // The batch failed and was rolled back: each event on its own, in order per contact.
      for (const group of batch) {
        let profile = group.profile;
        for (const row of group.events) {
          const outcome = await processOne(ctx, row, profile);
          profile = undefined;
          if (outcome === 'done') round.done++;
          else if (outcome === 'set-aside') round.failed++;
          else {
            if (outcome === 'failed') round.failed++;
            // The rest of this contact's events wait for this one, keeping their order.
            break;
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, chunks.length) }, lane));
  return round;
}

/** One contact's due events in order, and its platform profile when it was just fetched. */
interface ContactEvents {
  events: StoredEvent[];
  profile: Profile | undefined;
}

/** What the contact record learns from one event (the profile only with the contact's first). */
function sighting(row: StoredEvent, profile: Profile | undefined, now: Date): ContactSighting {
  const event = row.event;
  const at = eventTime(event, now);
  const displayName = event.displayName ?? profile?.displayName;
  return {
    channel: row.channel, platformUserId: event.userId, at,
    ...(displayName ? { displayName } : {}),
    ...(profile?.language ? { language: profile.language } : {}),
    ...(profile !== undefined ? { profileFetchedAt: now } : {}),
    // An unfollow marks the contact unreachable; following again clears the mark.
    ...(event.type === 'follow' ? { followedAt: at } : {}),
    ...(event.type === 'unfollow' ? { unfollowedAt: now } : {}),
    ...(event.type === 'message' || event.type === 'postback' ? { messageAt: at } : {}),
  };
}

/**
 * Processes a batch of contacts' events in one transaction. Events another worker holds, and
 * those queued behind an event outside the batch that is still open, are left for a later round
 * (with every later event of their contact). The contacts' n-th events are applied together: one
 * upsert of their contacts, one of their conversations, one call of the handler. Answers how many
 * events were processed, or null when the transaction failed (nothing of it stays).
 */
async function processBatch(ctx: AppContext, batch: ContactEvents[]): Promise<number | null> {
  const ids = batch.flatMap((g) => g.events.map((e) => e.id));
  try {
    const processed = await ctx.db.transaction(async (tx) => {
      const now = ctx.clock();
      const lockedResult = await query(tx, sql`
        SELECT e.id FROM inbound_events e
        WHERE e.id = ANY(${sql.param(ids)}::bigint[]) AND e.processed_at IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM inbound_events p
            WHERE p.processed_at IS NULL AND p.channel = e.channel AND (p.event->>'userId') = (e.event->>'userId')
              AND p.id < e.id AND p.id <> ALL(${sql.param(ids)}::bigint[]))
        FOR UPDATE OF e SKIP LOCKED`);
      const locked = new Set((lockedResult.rows as Array<{ id: number | string }>).map((r) => Number(r.id)));
      // Each contact's events up to the first one this batch does not hold.
      const taken = batch.map((g) => {
        const events: StoredEvent[] = [];
        for (const e of g.events) {
          if (!locked.has(Number(e.id))) break;
          events.push(e);
        }
        return { events, profile: events.length > 0 && events[0] === g.events[0] ? g.profile : undefined };
      }).filter((g) => g.events.length > 0);

      const outcomes = new Map<number, string | null>();
      const waves = Math.max(0, ...taken.map((g) => g.events.length));
      for (let n = 0; n < waves; n++) {
        const wave = taken.filter((g) => g.events.length > n).map((g) => ({ row: g.events[n]!, profile: n === 0 ? g.profile : undefined }));
        const contactRows = await ensureContacts(tx, wave.map((w) => sighting(w.row, w.profile, now)));
        const conversationRows = await ensureConversations(tx, wave.map((w, i) => ({
          contact: contactRows[i]!, externalId: w.row.event.conversationId,
          ...(inboundTypes.has(w.row.event.type) ? { inboundAt: eventTime(w.row.event, now) } : {}),
        })));
        const items: InboundItem[] = [];
        const itemIds: number[] = [];
        wave.forEach((w, i) => {
          outcomes.set(Number(w.row.id), null);
          // Standby: another app answers this chat; we only keep the record.
          if (w.row.event.standby) return;
          items.push({ event: w.row.event, contact: contactRows[i]!, conversation: conversationRows[i]! });
          itemIds.push(Number(w.row.id));
        });
        if (items.length > 0) {
          const handled = await ctx.hooks.inbound(tx, items);
          itemIds.forEach((id, i) => outcomes.set(id, handled[i] || null));
        }
      }
      if (outcomes.size === 0) return 0;
      const marked = [...outcomes.entries()];
      await query(tx, sql`
        UPDATE inbound_events e SET processed_at = ${now}, attempts = e.attempts + 1, last_error = NULL, outcome = u.outcome
        FROM unnest(${sql.param(marked.map(([id]) => id))}::bigint[], ${sql.param(marked.map(([, o]) => o))}::text[]) AS u(id, outcome)
        WHERE e.id = u.id`);
      return marked.length;
    });
    if (processed > 0) ctx.notifyOutbox();
    return processed;
  } catch (err) {
    ctx.log.warn({ err, inboundEvents: ids.length }, 'an inbound batch failed; processing its events one by one');
    return null;
  }
}

/** Profile calls per platform at once: a platform that hangs holds only its own share. */
const PROFILE_CONCURRENCY = 16;

/**
 * Fetches new contacts' profiles away from the event lanes, with a concurrency limit per
 * platform and the platform's circuit breaker: a profile API that hangs delays only the new
 * contacts of that platform, and once the breaker is open they go on without a profile (it is
 * fetched again with their next event).
 */
export class ProfileFetcher {
  private readonly ready = new Map<string, Profile>();
  private readonly pending = new Map<string, { channel: ChannelName; userId: string }>();
  private readonly limits = new Map<ChannelName, ConcurrencyLimit>();
  private readonly ctx: AppContext;
  private readonly onReady: () => void;

  constructor(ctx: AppContext, onReady: () => void) {
    this.ctx = ctx;
    this.onReady = onReady;
  }

  pendingContacts(): Array<{ channel: ChannelName; userId: string }> {
    return [...this.pending.values()];
  }

  /** The fetched profile (null: none to be had), or undefined when not fetched yet. */
  take(row: StoredEvent): Profile | undefined {
    const key = `${row.channel}\u0000${row.event.userId}`;
    const profile = this.ready.get(key);
    this.ready.delete(key);
    return profile;
  }

  start(row: StoredEvent): void {
    const key = `${row.channel}\u0000${row.event.userId}`;
    if (this.pending.has(key)) return;
    this.pending.set(key, { channel: row.channel, userId: row.event.userId });
    let limit = this.limits.get(row.channel);
    if (!limit) this.limits.set(row.channel, (limit = new ConcurrencyLimit(PROFILE_CONCURRENCY)));
    void limit.run(async () => {
      const breaker = this.ctx.platforms.of(row.channel);
      const profile = breaker.allow() ? await fetchProfile(this.ctx, row) : null;
      this.ready.set(key, profile);
      this.pending.delete(key);
      this.onReady();
    });
  }
}

/** Keys of the contacts whose platform profile was never fetched (new ones included). */
async function contactsWithoutProfile(ctx: AppContext, firsts: StoredEvent[]): Promise<Set<string>> {
  const candidates = firsts.filter((row) => !row.event.displayName && row.event.type !== 'unfollow'
    && ctx.channels[row.channel]?.fetchProfile);
  const out = new Set<string>();
  if (candidates.length === 0) return out;
  const known = await query(ctx.db, sql`
    SELECT channel, platform_user_id AS "userId" FROM contacts
    WHERE (channel, platform_user_id) IN (
      SELECT * FROM unnest(${sql.param(candidates.map((r) => r.channel))}::text[], ${sql.param(candidates.map((r) => r.event.userId))}::text[]))
      AND (profile_fetched_at IS NOT NULL OR display_name IS NOT NULL)`);
  const have = new Set((known.rows as Array<{ channel: string; userId: string }>).map((r) => `${r.channel}\u0000${r.userId}`));
  for (const row of candidates) {
    const key = `${row.channel}\u0000${row.event.userId}`;
    if (!have.has(key)) out.add(key);
  }
  return out;
}

/** Outside any transaction: a slow profile API must not hold a database connection. */
async function fetchProfile(ctx: AppContext, row: StoredEvent): Promise<Profile> {
  try {
    return (await ctx.channels[row.channel]?.fetchProfile?.(row.event.userId)) ?? null;
  } catch (err) {
    ctx.log.warn({ err, channel: row.channel }, 'profile fetch failed');
    return null;
  }
}

/** The platform's event time, but never later than now (a platform clock ahead of ours). */
function eventTime(event: ChannelEvent, now: Date): Date {
  const t = new Date(event.timestamp);
  return Number.isNaN(t.getTime()) || t > now ? now : t;
}

async function processOne(ctx: AppContext, row: StoredEvent, profile: Profile | undefined): Promise<Outcome> {
  const event = row.event;
  let outcome: Outcome;
  try {
    outcome = await ctx.db.transaction(async (tx) => {
      const now = ctx.clock();
      // Lock and mark in one statement: the mark only commits together with the effects below.
      const locked = await query(tx, sql`
        UPDATE inbound_events SET processed_at = ${now}, attempts = attempts + 1, last_error = NULL
        WHERE id = (
          SELECT e.id FROM inbound_events e
          WHERE e.id = ${row.id} AND e.processed_at IS NULL
            AND NOT EXISTS (
              SELECT 1 FROM inbound_events p
              WHERE p.processed_at IS NULL AND p.channel = e.channel AND (p.event->>'userId') = (e.event->>'userId') AND p.id < e.id)
          FOR UPDATE OF e SKIP LOCKED)
        RETURNING id`);
      // Another worker has it, it is done, or an earlier event of the contact is still open.
      if (locked.rows.length === 0) return 'skipped' as const;

      const at = eventTime(event, now);
      const displayName = event.displayName ?? profile?.displayName;
      // An unfollow marks the contact unreachable; following again clears the mark.
      const unreachableAt = event.type === 'unfollow' ? now : event.type === 'follow' ? null : undefined;
      const contact = await ensureContact(tx, row.channel, event.userId, {
        at,
        ...(displayName ? { displayName } : {}),
        ...(profile?.language ? { language: profile.language } : {}),
        ...(profile !== undefined ? { profileFetchedAt: now } : {}),
        ...(unreachableAt !== undefined ? { unreachableAt } : {}),
        ...(event.type === 'follow' ? { followedAt: at } : {}),
        ...(event.type === 'message' || event.type === 'postback' ? { messageAt: at } : {}),
      });
      const conversation = await ensureConversation(tx, contact, event.conversationId,
        inboundTypes.has(event.type) ? { inboundAt: at } : {});
      // Standby: another app answers this chat; we only keep the record.
      if (!event.standby) {
        const [handled] = await ctx.hooks.inbound(tx, [{ event, contact, conversation }]);
        if (handled) await query(tx, sql`UPDATE inbound_events SET outcome = ${handled} WHERE id = ${row.id}`);
      }
      return 'done' as const;
    });
  } catch (err) {
    return await recordFailure(ctx, row, err);
  }
  if (outcome === 'done') ctx.notifyOutbox();
  return outcome;
}

async function recordFailure(ctx: AppContext, row: StoredEvent, err: unknown): Promise<'failed' | 'set-aside'> {
  const message = safeErrorMessage(err).slice(0, 2000);
  const attempts = row.attempts + 1;
  const giveUp = attempts >= INBOUND_MAX_ATTEMPTS;
  const log = { err, inboundEvent: row.id, channel: row.channel, type: row.event.type, attempts };
  if (giveUp) ctx.log.error(log, 'inbound event set aside after repeated failures');
  else ctx.log.warn(log, 'inbound event failed; will retry');
  try {
    // The guard skips the write when another worker processed the event in the meantime.
    await query(ctx.db, sql`
      UPDATE inbound_events SET attempts = attempts + 1, last_error = ${message},
        next_attempt_at = now() + make_interval(secs => ${retryDelayMs(attempts) / 1000}),
        processed_at = ${giveUp ? ctx.clock() : null}
      WHERE id = ${row.id} AND processed_at IS NULL`);
  } catch (recordErr) {
    ctx.log.error({ err: recordErr, inboundEvent: row.id }, 'could not record an inbound failure');
    return 'failed';
  }
  return giveUp ? 'set-aside' : 'failed';
}

/**
 * Runs `processInboundDue` whenever events were stored and at least every `pollMs` (retries that
 * came due, events stored by another process or before a restart).
 */
export class InboundWorker {
  private readonly ctx: AppContext;
  private readonly loop: PollingLoop;
  private unsubscribe: (() => void) | null = null;

  constructor(ctx: AppContext, opts: { pollMs?: number } = {}) {
    this.ctx = ctx;
    const profiles = new ProfileFetcher(ctx, () => this.loop.wake());
    this.loop = new PollingLoop(async (isStopped) => {
      // Keep going while full batches come back and move.
      while (!isStopped()) {
        const round = await processInboundDue(ctx, BATCH, profiles);
        if (round.fetched < BATCH || round.done === 0) return;
      }
    }, { name: 'inbound worker', log: ctx.log, pollMs: opts.pollMs ?? 1000 });
  }

  start(): void {
    this.unsubscribe = this.ctx.inboundEvents.onStored(() => this.loop.wake());
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.loop.stop();
  }
}
