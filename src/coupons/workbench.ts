import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import { findConversation, getContact, getConversation, type ContactRow, type ConversationRow } from '../contacts/contacts.ts';
import { channelCapabilities } from '../channels.ts';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { campaigns } from '../db/schema.ts';
import { AppError, parseOrThrow, refuse, type Refusal } from '../lib/errors.ts';
import { campaignTimeZone, stockOf, type CampaignRow } from './campaigns.ts';
import { campaignRefusal, channelRefusal, issueCoupon, type IssueRefusalCode, type IssueResult } from './issue.ts';
import { describeReward } from './rules.ts';
import { agentDay, agentLimitsToday, claimAgentSend, releaseAgentSend } from '../people/agent-limits.ts';
import { recordAudit } from '../people/audit.ts';
import type { Actor } from '../people/roles.ts';

/** Whether a caller is held to per-agent limits: people with the agent role (the owner is not). */
function limitedAgent(actor: Actor | undefined): actor is Actor {
  return actor?.role === 'agent';
}

/** One of the channels the service knows. */
export const channelOf = (ctx: AppContext) => z.enum(ctx.channelPlugins.map((p) => p.name) as [ChannelName, ...ChannelName[]]);

/** Names a conversation by our id, or by the platform's id on a channel (the inbox names its own). */
const conversationRef = (ctx: AppContext) => z.union([
  z.object({ conversationId: z.string().min(1).max(64) }),
  z.object({ channel: channelOf(ctx), externalId: z.string().min(1).max(200) }),
]);

export const workbenchListQuery = (ctx: AppContext) => z.object({
  q: z.string().trim().max(100).optional(),
  reward: z.enum(['percent', 'amount', 'gift']).optional(),
  visibility: z.enum(['public', 'private']).optional(),
  conversationId: z.string().min(1).max(64).optional(),
  channel: channelOf(ctx).optional(),
  externalId: z.string().min(1).max(200).optional(),
}).strict();

export const workbenchSendBody = (ctx: AppContext) => z.intersection(conversationRef(ctx), z.object({ campaignId: z.string().min(1).max(64) }));

/**
 * A chat is active while the customer wrote recently: within ACTIVE_CHAT_HOURS, except on a
 * channel with a messaging window (Messenger's 24 hours), whose chats are active exactly as long
 * as the window (`channelRefusal`, which `issueCoupon` applies on every path).
 */
export function chatRefusal(ctx: AppContext, contact: ContactRow, conversation: ConversationRow, now: Date): Refusal<IssueRefusalCode> | null {
  // The channel's own reason first: it tells the agent more (blocked, Messenger's window) than "inactive".
  const capabilities = channelCapabilities(ctx, conversation.channel);
  const channel = channelRefusal(capabilities, contact, conversation, now);
  if (channel) return channel;
  if (capabilities.messagingWindow) return null;
  const hours = ctx.config.ACTIVE_CHAT_HOURS;
  const last = conversation.lastInboundAt;
  if (!last || now.getTime() - last.getTime() > hours * 3600_000) {
    return refuse('chat_inactive', `the chat is not active: the customer has not written in the last ${hours} hours`);
  }
  return null;
}

async function resolveConversation(tx: Tx, ref: z.infer<ReturnType<typeof conversationRef>>): Promise<{ contact: ContactRow; conversation: ConversationRow }> {
  const conversation = 'conversationId' in ref
    ? await getConversation(tx, ref.conversationId)
    : await findConversation(tx, ref.channel, ref.externalId);
  if (!conversation) throw new AppError('not_found', 'this conversation does not exist (no message from it has reached us)');
  const contact = await getContact(tx, conversation.contactId);
  if (!contact) throw new AppError('not_found', 'the conversation has no contact');
  return { contact, conversation };
}

/** Campaigns an agent can send now (in the sending period, stock left), and for one chat whether each can go to it. */
export async function workbenchCoupons(ctx: AppContext, input: unknown, agent?: Actor) {
  const q = parseOrThrow(workbenchListQuery(ctx), input, 'query');
  const now = ctx.clock();
  // Only active campaigns: paused, ended and archived ones send nothing.
  const where: SQL[] = [sql`state = 'active'`, sql`send_start <= ${now}`, sql`send_end >= ${now}`];
  if (q.q) {
    const pattern = `%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(sql`(name ILIKE ${pattern} OR slug ILIKE ${pattern})`);
  }
  if (q.reward) where.push(sql`reward_type = ${q.reward}`);
  if (q.visibility) where.push(sql`visibility = ${q.visibility}`);
  const rows = await ctx.db.select().from(campaigns).where(sql.join(where, sql` AND `)).orderBy(sql`send_end, name`);
  const stock = await stockOf(ctx.db, rows.map((r) => r.id));
  const live = rows.filter((r) => !stock.get(r.id)!.soldOut);

  let chat: { contact: ContactRow; conversation: ConversationRow } | null = null;
  let held = new Map<string, number>();
  if (q.conversationId || (q.channel && q.externalId)) {
    chat = await resolveConversation(ctx.db, q.conversationId ? { conversationId: q.conversationId } : { channel: q.channel!, externalId: q.externalId! });
    const counters = await query(ctx.db, sql`SELECT campaign_id, held FROM contact_campaign_counters WHERE contact_id = ${chat.contact.id}`);
    held = new Map((counters.rows as Array<{ campaign_id: string; held: number }>).map((c) => [c.campaign_id, c.held]));
  }
  const chatState = chat ? chatRefusal(ctx, chat.contact, chat.conversation, now) : null;
  const limits = limitedAgent(agent) ? await agentLimitsToday(ctx.db, agent.id, agentDay(now, ctx.config.TZ_DEFAULT)) : new Map();
  return {
    ...(chat ? { conversation: { id: chat.conversation.id, channel: chat.conversation.channel, active: chatState === null, ...(chatState ? { reason: chatState.message } : {}) } } : {}),
    coupons: live.map((c) => {
      let refusal: Refusal | null = null;
      if (chat) {
        refusal = chatState ?? campaignRefusal(c, 'agent', now);
        if (!refusal && (held.get(c.id) ?? 0) >= c.perContactLimit) refusal = refuse('limit_reached', 'the customer already holds the most coupons of this campaign allowed');
      }
      const limit = limits.get(c.id);
      if (!refusal && limit?.refusal) refusal = limit.refusal;
      return {
        campaignId: c.id,
        name: c.name,
        slug: c.slug,
        reward: rewardJson(c),
        rewardText: describeReward(c),
        visibility: c.visibility,
        instructions: c.instructions,
        stockLeft: stock.get(c.id)!.left,
        sendStart: c.sendStart.toISOString(),
        sendEnd: c.sendEnd.toISOString(),
        /** The campaign's zone: its dates are shown on its own clock. */
        timeZone: campaignTimeZone(ctx, c),
        perContactLimit: c.perContactLimit,
        ...(limit ? { agentLimit: { perDay: limit.perDay, sentToday: limit.sentToday } } : {}),
        ...(chat || limit?.refusal ? { sendable: refusal === null, ...(refusal ? { reason: refusal.message, reasonCode: refusal.code } : {}) } : {}),
      };
    }),
  };
}

function rewardJson(c: CampaignRow) {
  return {
    type: c.rewardType,
    ...(c.rewardValue !== null ? { value: c.rewardValue } : {}),
    ...(c.rewardCurrency ? { currency: c.rewardCurrency } : {}),
    ...(c.rewardText ? { text: c.rewardText } : {}),
    ...(c.minSpend !== null ? { minSpend: c.minSpend } : {}),
  };
}

/** An agent sends a coupon into an active chat: issued (auto-claimed) and the card queued, or refused. */
export async function workbenchSend(ctx: AppContext, body: unknown, agent?: Actor): Promise<IssueResult | Refusal<'agent_limit_reached'>> {
  const b = parseOrThrow(workbenchSendBody(ctx), body);
  const now = ctx.clock();
  const day = agentDay(now, ctx.config.TZ_DEFAULT);
  const result = await ctx.db.transaction(async (tx): Promise<IssueResult | Refusal<'agent_limit_reached'>> => {
    const { contact, conversation } = await resolveConversation(tx, b);
    const refused = chatRefusal(ctx, contact, conversation, now);
    if (refused) return refused;
    if (limitedAgent(agent)) {
      const overLimit = await claimAgentSend(tx, agent.id, b.campaignId, day);
      if (overLimit) return overLimit;
    }
    const issued = await issueCoupon(ctx, tx, { campaign: { id: b.campaignId }, contact, conversation, source: 'agent', issuedBy: agent?.id ?? null });
    if (!issued.ok) {
      if (limitedAgent(agent)) await releaseAgentSend(tx, agent.id, b.campaignId, day);
      return issued;
    }
    if (agent) {
      // Records show who sent it; the audit log keeps it with the chat.
      await query(tx, sql`UPDATE coupons SET sent_by_id = ${agent.id}, sent_by_name = ${agent.name} WHERE id = ${issued.coupon.id}`);
      await recordAudit(tx, ctx.clock, agent, 'coupon.sent', { type: 'coupon', id: issued.coupon.id, name: issued.campaign.name }, {
        campaignId: issued.campaign.id, conversationId: conversation.id, channel: conversation.channel, contactId: contact.id,
      });
    }
    return issued;
  });
  if (result.ok) ctx.notifyOutbox();
  return result;
}
