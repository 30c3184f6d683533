import { sql } from 'drizzle-orm';
import type { ContactRow, ConversationRow } from '../contacts/contacts.ts';
import { getConversation } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { couponPageUrl } from '../coupons/issue.ts';
import { formatDeadline } from '../coupons/rules.ts';
import type { Tx } from '../db/client.ts';
import { flowsCouponEventJob } from './jobs.ts';
import { flowRegistry } from './registry.ts';
import { activeRun, endStale, interruptRun, isStale, recordDropped, RunSession, startRun } from './runner.ts';
import { matchCouponEvent } from './triggers.ts';
import { interrupts, type CouponEventName } from './types.ts';

export interface CouponEvent {
  couponId: string;
  contactId: string;
  conversationId: string | null;
  campaignSlug: string;
  event: CouponEventName;
}

/** started: a flow runs; none: no flow for it; dropped: another flow was running; skipped: an agent has the chat. */
export type CouponEventOutcome = 'started' | 'none' | 'dropped' | 'skipped' | 'duplicate' | 'deferred';

const contactColumns = sql`id, channel, platform_user_id AS "platformUserId", display_name AS "displayName",
  me_token AS "meToken", tags, attributes, unreachable_at AS "unreachableAt"`;

/** Whether any loaded flow listens to this event of this campaign (no query when none does). */
export function hasCouponFlow(ctx: AppContext, event: CouponEventName, slug?: string): boolean {
  const registry = flowRegistry(ctx);
  return !!registry?.flows.some((f) => f.trigger.type === 'coupon' && f.trigger.event === event && (slug === undefined || f.trigger.campaign === slug));
}

/**
 * Runs the `coupon: {event, campaign}` flow for one coupon, inside the caller's transaction.
 * With `defer`, a contact busy in another transaction is not waited for (the caller may hold coupon
 * locks that transaction wants): the event goes to the `flows.coupon-event` job instead. An event
 * starts at most one run (its trigger key is unique).
 */
export async function runCouponEvent(
  ctx: AppContext, tx: Tx, ev: CouponEvent, opts: { defer: boolean; fallbackReminder?: boolean },
): Promise<{ outcome: CouponEventOutcome; contact?: ContactRow; conversation?: ConversationRow | null }> {
  const registry = flowRegistry(ctx);
  if (!registry || !hasCouponFlow(ctx, ev.event, ev.campaignSlug)) return { outcome: 'none' };
  const locked = await tx.execute(sql`SELECT ${contactColumns} FROM contacts WHERE id = ${ev.contactId} FOR UPDATE ${opts.defer ? sql`SKIP LOCKED` : sql``}`);
  const contact = locked.rows[0] as unknown as ContactRow | undefined;
  if (!contact) {
    if (!opts.defer) return { outcome: 'none' };
    await ctx.jobs.send(flowsCouponEventJob, { couponId: ev.couponId, event: ev.event, fallbackReminder: opts.fallbackReminder ?? false }, { singletonKey: `${ev.couponId}:${ev.event}` });
    return { outcome: 'deferred' };
  }
  const conversation = await conversationFor(tx, ev);
  const flow = matchCouponEvent(registry.flows, ev.event, ev.campaignSlug, contact.channel);
  if (!flow || !conversation) return { outcome: 'none', contact, conversation };
  if (conversation.handoffAt) return { outcome: 'skipped', contact, conversation };
  const triggerKey = `coupon:${ev.couponId}:${ev.event}`;
  const dup = await tx.execute(sql`SELECT 1 FROM flow_runs WHERE trigger_key = ${triggerKey}`);
  if (dup.rows.length > 0) return { outcome: 'duplicate', contact, conversation };
  const session = new RunSession({ ctx, tx, registry, contact, conversation });
  let running = await activeRun(tx, contact.id);
  if (running && isStale(registry, running)) {
    await endStale(session, running);
    running = null;
  }
  if (running) {
    if (!interrupts(flow)) {
      await recordDropped(session, flow, running, triggerKey);
      return { outcome: 'dropped', contact, conversation };
    }
    await interruptRun(session, running, flow);
  }
  // The event's coupon is the run's coupon: `{{coupon.pageUrl}}` and `{{coupon.deadline}}` name it.
  const c = (await tx.execute(sql`SELECT c.token, c.expires_at AS "expiresAt", cm.name FROM coupons c
    JOIN campaigns cm ON cm.id = c.campaign_id WHERE c.id = ${ev.couponId}`)).rows[0] as { token: string; expiresAt: Date | null; name: string } | undefined;
  const state = c ? { vars: {}, coupon: {
    name: c.name, pageUrl: couponPageUrl(ctx, c.token), deadline: c.expiresAt ? formatDeadline(c.expiresAt, ctx.config.TZ_DEFAULT) : '',
  } } : undefined;
  await startRun(session, flow, { triggerKey, ...(state ? { state } : {}) });
  await session.flush();
  if (session.wroteOutbox) ctx.notifyOutbox();
  return { outcome: 'started', contact, conversation };
}

async function conversationFor(tx: Tx, ev: CouponEvent): Promise<ConversationRow | null> {
  if (ev.conversationId) {
    const c = await getConversation(tx, ev.conversationId);
    if (c) return c;
  }
  const r = await tx.execute(sql`SELECT id FROM conversations WHERE contact_id = ${ev.contactId} ORDER BY last_inbound_at DESC NULLS LAST LIMIT 1`);
  const row = r.rows[0] as { id: string } | undefined;
  return row ? await getConversation(tx, row.id) : null;
}

/** Hook for redeem.ts, inside the redemption's transaction: `coupon: {event: redeemed}` flows. */
export async function onCouponRedeemed(
  ctx: AppContext, tx: Tx, coupon: { id: string; contactId: string; conversationId: string | null }, campaign: { slug: string },
): Promise<void> {
  if (!hasCouponFlow(ctx, 'redeemed', campaign.slug)) return;
  await runCouponEvent(ctx, tx, {
    couponId: coupon.id, contactId: coupon.contactId, conversationId: coupon.conversationId, campaignSlug: campaign.slug, event: 'redeemed',
  }, { defer: true });
}

/** Hook for the expiry sweep, inside its transaction: `coupon: {event: expired}` flows. */
export async function onCouponsExpired(
  ctx: AppContext, tx: Tx, rows: Array<{ id: string; campaignId: string; contactId: string }>,
): Promise<void> {
  if (rows.length === 0 || !hasCouponFlow(ctx, 'expired')) return;
  const ids = sql.join(rows.map((r) => sql`${r.id}`), sql`, `);
  const r = await tx.execute(sql`SELECT c.id, c.contact_id AS "contactId", c.conversation_id AS "conversationId", cm.slug
    FROM coupons c JOIN campaigns cm ON cm.id = c.campaign_id WHERE c.id IN (${ids}) ORDER BY c.contact_id`);
  for (const row of r.rows as Array<{ id: string; contactId: string; conversationId: string | null; slug: string }>) {
    if (!hasCouponFlow(ctx, 'expired', row.slug)) continue;
    await runCouponEvent(ctx, tx, { couponId: row.id, contactId: row.contactId, conversationId: row.conversationId, campaignSlug: row.slug, event: 'expired' }, { defer: true });
  }
}
