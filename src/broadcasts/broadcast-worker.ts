import { sql } from 'drizzle-orm';
import { contactColumns, type ContactRow } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { findCampaign, type CampaignRow } from '../coupons/campaigns.ts';
import { campaignRefusal, issueCouponBatch, type IssueRefusalCode } from '../coupons/issue.ts';
import { PollingLoop } from '../lib/polling-loop.ts';
import { announceFinished, broadcastColumns, pauseBroadcast, startDue, type BroadcastRow } from './broadcasts.ts';
import { query } from '../db/client.ts';

/** Recipients issued per transaction at most. */
const SLICE_MAX = 200;
/**
 * A broadcast issues no more while this many of its messages wait in the outbox: the backlog
 * stays short, so a reply to a customer chatting now is never queued behind thousands of cards.
 */
const BACKLOG_MAX = 400;
/** At most this much unused sending time carries over (a burst after an idle moment). */
const MAX_BURST_MS = 1000;
/** How often a running broadcast issues its next slice. */
const TICK_MS = 50;

/** What a refused issue means for the recipient: the `skippedBy` reason. */
const skipReason: Record<IssueRefusalCode, string> = {
  limit_reached: 'limit_reached',
  sold_out: 'sold_out',
  chat_inactive: 'outside_window',
  contact_unreachable: 'unreachable',
  outside_sending_period: 'outside_sending_period',
  private_campaign: 'private_campaign',
  not_found: 'not_found',
  campaign_paused: 'campaign_paused',
};

export type SliceOutcome =
  /** Issued this many recipients. */
  | { state: 'issued'; count: number }
  /** Nothing may be issued yet (the rate, or the outbox backlog). */
  | { state: 'waiting' }
  /** Not running (paused, cancelled, finished, or another process holds it). */
  | { state: 'idle' }
  | { state: 'done' };

/**
 * Issues the next recipients of a running broadcast, as many as its rate allows since the last
 * slice. Each recipient's claim, coupon and outbox message are written in the transaction that
 * marks the recipient issued (or skipped, with the reason): across a crash, a recipient is either
 * wholly served or still pending, never both. A broadcast with no one left to issue and no message
 * left to send is done.
 */
export async function issueSlice(ctx: AppContext, id: string): Promise<SliceOutcome> {
  const outcome = await ctx.db.transaction(async (tx): Promise<SliceOutcome> => {
    const locked = await query(tx, sql`SELECT ${broadcastColumns} FROM broadcasts WHERE id = ${id} AND status = 'running' FOR UPDATE SKIP LOCKED`);
    const b = locked.rows[0] as unknown as BroadcastRow | undefined;
    if (!b) return { state: 'idle' };
    const now = ctx.clock();
    const base = Math.max(new Date(b.pacedAt ?? now).getTime(), now.getTime() - MAX_BURST_MS);
    const budget = Math.min(SLICE_MAX, Math.floor(((now.getTime() - base) * b.ratePerSecond) / 1000));
    const backlog = await query(tx, sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM outbox WHERE broadcast_id = ${id} AND status = 'pending' LIMIT ${BACKLOG_MAX}) x`);
    const waiting = (backlog.rows[0] as { n: number }).n;
    const next = await query(tx, sql`SELECT contact_id AS "contactId", variant FROM broadcast_recipients
      WHERE broadcast_id = ${id} AND status = 'pending' ORDER BY seq LIMIT ${Math.max(budget, 1)}`);
    const recipients = next.rows as Array<{ contactId: string; variant: string }>;
    if (recipients.length === 0) {
      if (waiting > 0) return { state: 'waiting' };
      await query(tx, sql`UPDATE broadcasts SET status = 'done', finished_at = ${now} WHERE id = ${id}`);
      await announceFinished(tx, id);
      return { state: 'done' };
    }
    // A campaign that cannot be sent now (its period ended, or a marketer paused, ended or archived
    // it: `campaign_paused`) pauses the broadcast with the reason, rather than skipping everyone
    // left: resumed once the campaign is active again, it carries on where it stopped.
    const variants = new Map(b.variants.map((v) => [v.key, v]));
    const campaigns = new Map<string, CampaignRow>();
    for (const variant of b.variants) {
      const campaign = await findCampaign(tx, variant.campaignId);
      if (campaign) campaigns.set(campaign.id, campaign);
      const refused = campaign ? campaignRefusal(campaign, 'broadcast', now) : { code: 'not_found' as const, message: 'the campaign was removed' };
      if (refused) {
        await pauseBroadcast(ctx, id, refused.code, tx);
        ctx.log.warn({ broadcast: id, code: refused.code, message: refused.message }, 'broadcast paused: its campaign cannot be sent');
        return { state: 'idle' };
      }
    }
    if (budget <= 0 || waiting >= BACKLOG_MAX) return { state: 'waiting' };

    const contactRows = await query(tx, sql`SELECT ${contactColumns} FROM contacts WHERE id = ANY(${sql.param(recipients.map((r) => r.contactId))}::text[])`);
    const contacts = new Map((contactRows.rows as unknown as ContactRow[]).map((c) => [c.id, c]));
    const issued: Array<{ contactId: string; couponId: string; outboxId: string }> = [];
    const skipped: Array<{ contactId: string; reason: string }> = [];
    for (const [key, variant] of variants) {
      const group = recipients.filter((r) => r.variant === key).map((r) => contacts.get(r.contactId)).filter((c): c is ContactRow => !!c);
      if (group.length === 0) continue;
      const results = await issueCouponBatch(ctx, tx, {
        campaign: campaigns.get(variant.campaignId)!, contacts: group, source: 'broadcast', broadcastId: id,
        ...(variant.text ? { intro: variant.text } : {}),
      });
      for (const r of results) {
        if (r.ok) issued.push({ contactId: r.contactId, couponId: r.couponId, outboxId: r.outboxId });
        else skipped.push({ contactId: r.contactId, reason: skipReason[r.code] ?? r.code });
      }
    }
    // A contact removed since the list was fixed cannot be reached.
    for (const r of recipients) if (!contacts.has(r.contactId)) skipped.push({ contactId: r.contactId, reason: 'unreachable' });
    if (issued.length) {
      await query(tx, sql`UPDATE broadcast_recipients r SET status = 'issued', coupon_id = u.coupon_id, outbox_id = u.outbox_id
        FROM unnest(${sql.param(issued.map((i) => i.contactId))}::text[], ${sql.param(issued.map((i) => i.couponId))}::text[],
          ${sql.param(issued.map((i) => i.outboxId))}::text[]) AS u(contact_id, coupon_id, outbox_id)
        WHERE r.broadcast_id = ${id} AND r.contact_id = u.contact_id`);
    }
    if (skipped.length) {
      await query(tx, sql`UPDATE broadcast_recipients r SET status = 'skipped', reason = u.reason
        FROM unnest(${sql.param(skipped.map((s) => s.contactId))}::text[], ${sql.param(skipped.map((s) => s.reason))}::text[]) AS u(contact_id, reason)
        WHERE r.broadcast_id = ${id} AND r.contact_id = u.contact_id`);
    }
    await query(tx, sql`UPDATE broadcasts SET paced_at = ${new Date(base + (recipients.length * 1000) / b.ratePerSecond)} WHERE id = ${id}`);
    return { state: 'issued', count: recipients.length };
  });
  if (outcome.state === 'issued') ctx.notifyOutbox();
  if (outcome.state === 'done') ctx.log.info({ broadcast: id }, 'broadcast finished');
  return outcome;
}

/** Starts the scheduled broadcasts whose time has come and moves every running one a slice on. */
export async function broadcastRound(ctx: AppContext): Promise<{ running: number; issued: number }> {
  const due = await query(ctx.db, sql`SELECT id, status FROM broadcasts WHERE status IN ('scheduled', 'running') AND send_at <= ${ctx.clock()}`);
  let running = 0;
  let issued = 0;
  for (const row of due.rows as Array<{ id: string; status: string }>) {
    if (row.status === 'scheduled') await startDue(ctx, row.id);
    const outcome = await issueSlice(ctx, row.id);
    if (outcome.state === 'issued') issued += outcome.count;
    if (outcome.state === 'issued' || outcome.state === 'waiting') running++;
  }
  return { running, issued };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs broadcasts: a slice every tick while one is running, a look for due ones every `pollMs`. */
export class BroadcastWorker {
  private readonly loop: PollingLoop;

  constructor(ctx: AppContext, opts: { pollMs?: number } = {}) {
    this.loop = new PollingLoop(async (isStopped) => {
      while (!isStopped()) {
        const { running } = await broadcastRound(ctx);
        if (running === 0) return;
        await delay(TICK_MS);
      }
    }, { name: 'broadcast worker', log: ctx.log, pollMs: opts.pollMs ?? 1000 });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
