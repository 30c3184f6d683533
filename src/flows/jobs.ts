import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import { type ContactRow, getConversation, lockContact } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { couponPageUrl, issueCoupon } from '../coupons/issue.ts';
import { markDueReminders } from '../coupons/reminders.ts';
import { formatDateTime } from '../i18n/format.ts';
import { chooseLocale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { query, type Tx } from '../db/client.ts';
import { enqueueMessage } from '../delivery/outbox.ts';
import { couponsResend, type flowsCouponEvent } from '../jobs/contracts.ts';
import { eventCouponColumns, runCouponEvent, type CouponEventOutcome, type EventCoupon } from './coupon-events.ts';
import { continueRun, endStale, getRun, isStale, RunSession } from './runner.ts';

/**
 * What the flow engine's jobs do (their contracts are in jobs/contracts.ts, their handlers
 * attached in jobs/catalog.ts). Every handler is idempotent: a resume checks the run still waits at
 * that step under the contact's lock; a coupon event starts at most one run (unique trigger key);
 * a reminder is claimed by setting reminded_at in its own transaction; a resend is claimed by
 * inserting its coupon_resends row.
 */
/**
 * Wakes a run waiting at a `wait` step. The contact is locked first (the order every flow
 * transaction takes), then the run is re-read: a run no longer waiting at this step makes it a no-op.
 */
export async function resumeRun(ctx: AppContext, runId: string, stepPath: string): Promise<'resumed' | 'stale'> {
  const registry = ctx.flows;
  if (!registry) throw new Error('flows are not started');
  let wrote = false;
  const outcome = await ctx.db.transaction(async (tx) => {
    const peek = await getRun(tx, runId);
    if (!peek) return 'stale' as const;
    const contact = await lockContact(tx, peek.contactId);
    const run = await getRun(tx, runId, { forUpdate: true });
    if (!contact || !run || run.status !== 'waiting' || run.waitingFor !== 'resume' || run.stepPath !== stepPath) return 'stale' as const;
    const conversation = run.conversationId ? await getConversation(tx, run.conversationId) : null;
    const session = new RunSession({ ctx, tx, registry, contact, conversation: conversation ?? fallbackConversation(contact) });
    if (!conversation || conversation.handoffAt) {
      await query(tx, sql`UPDATE flow_runs SET status = 'interrupted', waiting_for = NULL, resume_at = NULL, updated_at = ${session.now},
        ended_at = ${session.now}, end_reason = ${conversation ? 'the conversation was handed off to an agent' : 'the conversation is gone'} WHERE id = ${run.id}`);
      return 'stale' as const;
    }
    if (isStale(registry, run)) {
      await endStale(session, run);
      return 'stale' as const;
    }
    await continueRun(session, run, { phase: 'resume' });
    await session.flush();
    wrote = session.wroteOutbox;
    return 'resumed' as const;
  });
  if (wrote) ctx.notifyOutbox();
  return outcome;
}

function fallbackConversation(contact: ContactRow) {
  return { id: '', contactId: contact.id, channel: contact.channel, externalId: contact.platformUserId, lastInboundAt: null, handoffAt: null };
}

/**
 * Resumes runs whose wake-up is overdue: a resume job sent inside a transaction that had not yet
 * committed when the job ran finds nothing to do, and this sweep catches the run.
 */
export async function resumeDueRuns(ctx: AppContext, graceMs = 30_000): Promise<number> {
  const due = new Date(ctx.clock().getTime() - graceMs);
  const r = await query(ctx.db, sql`SELECT id, step_path AS "stepPath" FROM flow_runs
    WHERE status = 'waiting' AND waiting_for = 'resume' AND resume_at <= ${due} ORDER BY resume_at LIMIT 500`);
  let n = 0;
  for (const row of r.rows as Array<{ id: string; stepPath: string }>) {
    if (await resumeRun(ctx, row.id, row.stepPath) === 'resumed') n++;
  }
  return n;
}

/** A coupon to remind of, with its contact's channel and language (the default reminder needs no contact lookup). */
type CouponInfo = EventCoupon & { channel: ChannelName; contactLanguage: string | null };

/** The default reminder, when no `coupon: {event: expiring}` flow speaks for the campaign: in the contact's language. */
export function reminderText(
  ctx: AppContext, c: Pick<CouponInfo, 'name' | 'token' | 'expiresAt' | 'timeZone' | 'campaignLocale'> & { contactLanguage?: string | null },
): string {
  const locale = chooseLocale({ contact: c.contactLanguage, campaign: c.campaignLocale, fallback: ctx.config.DEFAULT_LOCALE });
  const date = c.expiresAt ? formatDateTime(locale, c.expiresAt, c.timeZone ?? ctx.config.TZ_DEFAULT) : null;
  return messages(locale).reminder({ name: c.name, date, url: couponPageUrl(ctx, c.token) });
}

async function sendReminder(ctx: AppContext, tx: Tx, c: CouponInfo): Promise<void> {
  await enqueueMessage(tx, {
    channel: c.channel, contactId: c.contactId, conversationId: c.conversationId, message: { type: 'text', text: reminderText(ctx, c) },
  });
}

const needsDefault = (o: CouponEventOutcome) => o === 'none' || o === 'dropped' || o === 'skipped';

/** Runs a coupon event deferred because the contact was busy (see runCouponEvent). */
export async function runDeferredCouponEvent(ctx: AppContext, p: z.infer<typeof flowsCouponEvent.payload>): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const r = await query(tx, sql`SELECT ${eventCouponColumns}, ct.channel, ct.language AS "contactLanguage" FROM coupons c JOIN campaigns cm ON cm.id = c.campaign_id
      JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = ${p.couponId}`);
    const c = r.rows[0] as unknown as CouponInfo | undefined;
    if (!c) return;
    const outcome = await runCouponEvent(ctx, tx, p.event, c, { defer: false });
    if (p.fallbackReminder && needsDefault(outcome)) await sendReminder(ctx, tx, c);
  });
  ctx.notifyOutbox();
}

const REMIND_BATCH = 200;

/**
 * Reminds contacts of coupons whose deadline is within their campaign's remind_before_hours:
 * reminded_at is set in the same transaction as the reminder, so each coupon is reminded once.
 * Redeemed coupons are reminded too (their code is still to be used); verified ones are done.
 */
export async function remindExpiring(ctx: AppContext): Promise<number> {
  let total = 0;
  for (;;) {
    const now = ctx.clock();
    const n = await ctx.db.transaction(async (tx) => {
      const ids = await markDueReminders(tx, now, REMIND_BATCH);
      if (ids.length === 0) return 0;
      const r = await query(tx, sql`SELECT ${eventCouponColumns}, ct.channel, ct.language AS "contactLanguage"
        FROM coupons c JOIN campaigns cm ON cm.id = c.campaign_id JOIN contacts ct ON ct.id = c.contact_id
        WHERE c.id = ANY(${sql.param(ids)}::text[])`);
      const rows = (r.rows as unknown as CouponInfo[]).sort((a, b) => (a.contactId < b.contactId ? -1 : 1));
      for (const c of rows) {
        const outcome = await runCouponEvent(ctx, tx, 'expiring', c, { defer: true, fallbackReminder: true });
        if (needsDefault(outcome)) await sendReminder(ctx, tx, c);
      }
      return rows.length;
    });
    total += n;
    if (n < REMIND_BATCH) break;
  }
  if (total > 0) {
    ctx.notifyOutbox();
    ctx.log.info({ reminded: total }, 'expiry reminders');
  }
  return total;
}

/** A flow-issued coupon released after a failed delivery is re-issued this long after. */
export const RESEND_DELAY_MS = 60_000;

/**
 * The `released` coupon hook, in the transaction that released a coupon: queues its one resend
 * when a flow issued it and it is not itself a resend.
 */
export async function onCouponReleased(ctx: AppContext, tx: Tx, couponId: string): Promise<void> {
  const r = await query(tx, sql`SELECT 1 FROM coupons c WHERE c.id = ${couponId} AND c.source = 'flow' AND c.status = 'void'
    AND NOT EXISTS (SELECT 1 FROM coupon_resends rs WHERE rs.new_coupon_id = c.id)`);
  if (r.rows.length === 0) return;
  await ctx.jobs.send(couponsResend, { couponId }, { startAfter: new Date(ctx.clock().getTime() + RESEND_DELAY_MS), singletonKey: couponId });
}

/** Re-issues a released flow coupon once, to the same contact, if the campaign still sends. */
export async function resendReleased(ctx: AppContext, couponId: string): Promise<'reissued' | 'duplicate' | string> {
  const outcome = await ctx.db.transaction(async (tx) => {
    const r = await query(tx, sql`SELECT c.contact_id AS "contactId", c.conversation_id AS "conversationId", c.campaign_id AS "campaignId", c.status, c.source, c.flow_id AS "flowId"
      FROM coupons c WHERE c.id = ${couponId}`);
    const c = r.rows[0] as { contactId: string; conversationId: string | null; campaignId: string; status: string; source: string; flowId: string | null } | undefined;
    if (!c || c.status !== 'void' || c.source !== 'flow') return 'not_released';
    const contact = await lockContact(tx, c.contactId);
    const claimed = await query(tx, sql`INSERT INTO coupon_resends (released_coupon_id, outcome, at) VALUES (${couponId}, 'pending', ${ctx.clock()})
      ON CONFLICT (released_coupon_id) DO NOTHING RETURNING released_coupon_id`);
    if (claimed.rows.length === 0) return 'duplicate';
    const conversation = c.conversationId ? await getConversation(tx, c.conversationId) : null;
    let result: string;
    if (!contact || !conversation) {
      result = 'no_conversation';
    } else {
      const issued = await issueCoupon(ctx, tx, { campaign: { id: c.campaignId }, contact, conversation, source: 'flow', flowId: c.flowId });
      if (issued.ok) {
        await query(tx, sql`UPDATE coupon_resends SET new_coupon_id = ${issued.coupon.id}, outcome = 'reissued' WHERE released_coupon_id = ${couponId}`);
        return 'reissued';
      }
      result = issued.code;
    }
    await query(tx, sql`UPDATE coupon_resends SET outcome = ${result} WHERE released_coupon_id = ${couponId}`);
    return result;
  });
  if (outcome === 'reissued') ctx.notifyOutbox();
  return outcome;
}
