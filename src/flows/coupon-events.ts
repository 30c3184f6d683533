import { sql } from 'drizzle-orm';
import { type ConversationRow, getConversation, latestConversation, lockContact } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { couponPageUrl } from '../coupons/issue.ts';
import { formatDeadline } from '../coupons/rules.ts';
import { query, type Tx } from '../db/client.ts';
import { flowsCouponEvent } from '../jobs/contracts.ts';
import { activeRun, endStale, interruptRun, isStale, recordDropped, RunSession, startRun } from './runner.ts';
import { matchCouponEvent } from './triggers.ts';
import { interrupts, type CouponEventName } from './types.ts';

/**
 * The coupon an event is about: who it went to, and what `{{coupon.name}}`, `{{coupon.pageUrl}}`
 * and `{{coupon.deadline}}` show in the run the event starts.
 */
export interface EventCoupon {
  id: string;
  token: string;
  contactId: string;
  conversationId: string | null;
  expiresAt: Date | null;
  /** The campaign's slug and name. */
  slug: string;
  name: string;
  /** The campaign's zone and locale (null: the service defaults). */
  timeZone?: string | null;
  campaignLocale?: string | null;
}

/** The columns of an EventCoupon, from `coupons c JOIN campaigns cm`. */
export const eventCouponColumns = sql`c.id, c.token, c.contact_id AS "contactId", c.conversation_id AS "conversationId",
  c.expires_at AS "expiresAt", cm.slug, cm.name, cm.time_zone AS "timeZone", cm.locale AS "campaignLocale"`;

/** started: a flow runs; none: no flow for it; dropped: another flow was running; skipped: an agent has the chat. */
export type CouponEventOutcome = 'started' | 'none' | 'dropped' | 'skipped' | 'duplicate' | 'deferred';

/** Whether any loaded flow listens to this event (of this campaign, when given); no query. */
export function hasCouponFlow(ctx: AppContext, event: CouponEventName, slug?: string): boolean {
  return ctx.flows?.listensTo(event, slug) ?? false;
}

/**
 * Runs the `coupon: {event, campaign}` flow for one coupon, inside the caller's transaction.
 * With `defer`, a contact busy in another transaction is not waited for (the caller may hold coupon
 * locks that transaction wants): the event goes to the `flows.coupon-event` job instead. An event
 * starts at most one run (its trigger key is unique).
 */
export async function runCouponEvent(
  ctx: AppContext, tx: Tx, event: CouponEventName, coupon: EventCoupon, opts: { defer: boolean; fallbackReminder?: boolean },
): Promise<CouponEventOutcome> {
  const registry = ctx.flows;
  if (!registry || !registry.listensTo(event, coupon.slug)) return 'none';
  const contact = await lockContact(tx, coupon.contactId, { skipLocked: opts.defer });
  if (!contact) {
    if (!opts.defer) return 'none';
    await ctx.jobs.send(flowsCouponEvent, { couponId: coupon.id, event, fallbackReminder: opts.fallbackReminder ?? false }, { singletonKey: `${coupon.id}:${event}` });
    return 'deferred';
  }
  const conversation = await conversationFor(tx, coupon);
  const flow = matchCouponEvent(registry.flows, event, coupon.slug, contact.channel);
  if (!flow || !conversation) return 'none';
  if (conversation.handoffAt) return 'skipped';
  const triggerKey = `coupon:${coupon.id}:${event}`;
  const dup = await query(tx, sql`SELECT 1 FROM flow_runs WHERE trigger_key = ${triggerKey}`);
  if (dup.rows.length > 0) return 'duplicate';
  const session = new RunSession({ ctx, tx, registry, contact, conversation });
  let running = await activeRun(tx, contact.id);
  if (running && isStale(registry, running)) {
    await endStale(session, running);
    running = null;
  }
  if (running) {
    if (!interrupts(flow)) {
      recordDropped(session, flow, running, triggerKey);
      await session.flush();
      return 'dropped';
    }
    await interruptRun(session, running, flow);
  }
  const state = { vars: {}, coupon: {
    name: coupon.name, pageUrl: couponPageUrl(ctx, coupon.token),
    deadline: coupon.expiresAt ? formatDeadline(coupon.expiresAt, coupon.timeZone ?? ctx.config.TZ_DEFAULT) : '',
  } };
  await startRun(session, flow, { triggerKey, state });
  await session.flush();
  if (session.wroteOutbox) ctx.notifyOutbox();
  return 'started';
}

async function conversationFor(tx: Tx, coupon: EventCoupon): Promise<ConversationRow | null> {
  if (coupon.conversationId) {
    const c = await getConversation(tx, coupon.conversationId);
    if (c) return c;
  }
  return await latestConversation(tx, coupon.contactId);
}

/** The `redeemed` coupon hook, inside the redemption's transaction: `coupon: {event: redeemed}` flows. */
export async function onCouponRedeemed(
  ctx: AppContext, tx: Tx,
  coupon: Pick<EventCoupon, 'id' | 'token' | 'contactId' | 'conversationId' | 'expiresAt'>, campaign: Pick<EventCoupon, 'slug' | 'name'>,
): Promise<void> {
  if (!hasCouponFlow(ctx, 'redeemed', campaign.slug)) return;
  await runCouponEvent(ctx, tx, 'redeemed', { ...coupon, slug: campaign.slug, name: campaign.name }, { defer: true });
}

/** The `expired` coupon hook, inside the sweep's transaction: `coupon: {event: expired}` flows. */
export async function onCouponsExpired(
  ctx: AppContext, tx: Tx, rows: Array<{ id: string; campaignId: string; contactId: string }>,
): Promise<void> {
  if (rows.length === 0 || !hasCouponFlow(ctx, 'expired')) return;
  const ids = sql.join(rows.map((r) => sql`${r.id}`), sql`, `);
  const r = await query(tx, sql`SELECT ${eventCouponColumns}
    FROM coupons c JOIN campaigns cm ON cm.id = c.campaign_id WHERE c.id IN (${ids}) ORDER BY c.contact_id`);
  for (const coupon of r.rows as unknown as EventCoupon[]) {
    await runCouponEvent(ctx, tx, 'expired', coupon, { defer: true });
  }
}
