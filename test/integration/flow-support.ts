import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { ChannelEvent, ChannelName, OutboundMessage } from '../../adapters/types.ts';
import { ensureContact, ensureConversation, type ContactRow, type ConversationRow } from '../../src/contacts/contacts.ts';
import type { AppContext } from '../../src/context.ts';
import { dispatchEvent, type DispatchOutcome } from '../../src/flows/dispatch.ts';
import type { FlowRegistry } from '../../src/flows/registry.ts';
import { loadFixed, makeCampaign } from '../support/campaigns.ts';
import { query } from '../../src/db/client.ts';

/** A temporary flows directory holding these files. */
export function flowsDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-flows-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The shipped example flows, copied. */
export function shippedFlows(): Record<string, string> {
  const dir = path.resolve('flows');
  return Object.fromEntries(fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

export function registryOf(ctx: AppContext): FlowRegistry {
  const r = ctx.flows;
  if (!r) throw new Error('flows are not started');
  return r;
}

/** A campaign with this slug and a fixed-serial pool. */
export async function flowCampaign(ctx: AppContext, slug: string, overrides: Record<string, unknown> = {}, stock = 100) {
  const c = await makeCampaign(ctx, { slug, name: `Campaign ${slug}`, ...overrides });
  await loadFixed(ctx, c.id, 'FIXED-1', stock);
  return c;
}

export interface Chat {
  contact: ContactRow;
  conversation: ConversationRow;
}

let eventSeq = 0;

/** Runs an event through the flow engine as the inbound worker does: one transaction. */
export async function dispatch(
  ctx: AppContext, channel: ChannelName, userId: string, event: Partial<ChannelEvent> & { type: ChannelEvent['type'] },
): Promise<{ outcome: DispatchOutcome; chat: Chat }> {
  eventSeq += 1;
  const full = {
    channel, userId, conversationId: userId, eventId: `evt-${eventSeq}-${Math.random()}`, timestamp: ctx.clock().toISOString(),
    ...event,
  } as ChannelEvent;
  return await ctx.db.transaction(async (tx) => {
    const contact = await ensureContact(tx, channel, userId, { at: ctx.clock() });
    const conversation = await ensureConversation(tx, contact, userId, { inboundAt: ctx.clock() });
    const outcome = await dispatchEvent(ctx, tx, full, contact, conversation);
    return { outcome, chat: { contact, conversation } };
  });
}

export const say = (ctx: AppContext, channel: ChannelName, userId: string, text: string) =>
  dispatch(ctx, channel, userId, { type: 'message', kind: 'text', text });

export interface OutboxRow {
  id: string;
  message: OutboundMessage;
  replyToken: string | null;
  replyTokenExpiresAt: Date | null;
  couponId: string | null;
  status: string;
}

/** Outbox rows of a platform user not yet read by `taken`, oldest first. */
export async function outboxOf(ctx: AppContext, channel: ChannelName, userId: string): Promise<OutboxRow[]> {
  const r = await query(ctx.db, sql`
    SELECT o.id, o.message, o.reply_token AS "replyToken", o.reply_token_expires_at AS "replyTokenExpiresAt", o.coupon_id AS "couponId", o.status
    FROM outbox o JOIN contacts c ON c.id = o.contact_id
    WHERE c.channel = ${channel} AND c.platform_user_id = ${userId}
    ORDER BY o.created_at, o.ctid`);
  return r.rows as unknown as OutboxRow[];
}

/** Texts sent to a user (coupon cards as `[coupon <campaign name>]`), in the order written. */
export async function textsOf(ctx: AppContext, channel: ChannelName, userId: string): Promise<string[]> {
  return (await outboxOf(ctx, channel, userId)).map((r) => (r.message.type === 'text' ? r.message.text : `[coupon ${r.message.card.campaignName}]`));
}

export async function contactOf(ctx: AppContext, channel: ChannelName, userId: string) {
  const r = await query(ctx.db, sql`SELECT id, tags, attributes, me_token AS "meToken" FROM contacts WHERE channel = ${channel} AND platform_user_id = ${userId}`);
  return r.rows[0] as { id: string; tags: string[]; attributes: Record<string, unknown>; meToken: string };
}

export async function runsOf(ctx: AppContext, contactId: string) {
  const r = await query(ctx.db, sql`SELECT id, flow_id AS "flowId", start_flow_id AS "startFlowId", status, step_path AS "stepPath",
    waiting_for AS "waitingFor", end_reason AS "endReason" FROM flow_runs WHERE contact_id = ${contactId} ORDER BY started_at, ctid`);
  return r.rows as Array<{ id: string; flowId: string; startFlowId: string; status: string; stepPath: string | null; waitingFor: string | null; endReason: string | null }>;
}

/** Polls a condition (a file watcher has no event to await); fails after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
