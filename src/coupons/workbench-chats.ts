import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import { channelTitle } from '../channels.ts';
import { recentMessages, type ChatMessage } from '../contacts/chat-history.ts';
import type { ContactRow, ConversationRow } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { campaigns } from '../db/schema.ts';
import { AppError, parseOrThrow, refuse, type Refusal } from '../lib/errors.ts';
import { agentDay, agentLimitsToday } from '../people/agent-limits.ts';
import type { Actor } from '../people/roles.ts';
import { getCampaign, stockOf, type CampaignRow } from './campaigns.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';
import { campaignRefusal, couponCard } from './issue.ts';
import { effectiveStatus } from './rules.ts';
import { effectiveStatusSql } from './rules-sql.ts';
import { channelOf, chatRefusal } from './workbench.ts';
import { query } from '../db/client.ts';

/** How far back the chat list reaches by default: chats whose window just closed still show, saying so. */
export const DEFAULT_CHAT_HOURS = 48;
const MAX_CHATS = 100;
const LIST_MESSAGES = 3;
const CHAT_MESSAGES = 50;
const HELD_COUPONS = 20;

export const chatListQuery = (ctx: AppContext) => z.object({
  channel: channelOf(ctx).optional(),
  /** Chats whose customer wrote within this many hours (default 48, or ACTIVE_CHAT_HOURS when longer). */
  hours: z.coerce.number().int().min(1).max(720).optional(),
}).strict();

export const chatQuery = (ctx: AppContext) => z.union([
  z.object({ conversationId: z.string().min(1).max(64) }).strict(),
  z.object({ channel: channelOf(ctx), externalId: z.string().min(1).max(200) }).strict(),
], { error: 'name the chat by conversationId, or by channel and externalId (the inbox\'s own conversation id)' });

interface ChatRow {
  id: string;
  channel: ChannelName;
  externalId: string;
  lastInboundAt: Date | null;
  handoffAt: Date | null;
  handoffTakenAt: Date | null;
  takenById: string | null;
  takenByName: string | null;
  contactId: string;
  displayName: string | null;
  platformUserId: string;
  language: string | null;
  unreachableAt: Date | null;
}

interface HeldRow { contactId: string; id: string; campaignId: string; name: string; status: string; expiresAt: Date | null; issuedAt: Date }

const chatSelect = sql`SELECT cv.id, cv.channel, cv.external_id AS "externalId", cv.last_inbound_at AS "lastInboundAt", cv.handoff_at AS "handoffAt",
  cv.handoff_taken_at AS "handoffTakenAt", p.id AS "takenById", p.name AS "takenByName",
  ct.id AS "contactId", ct.display_name AS "displayName", ct.platform_user_id AS "platformUserId", ct.language, ct.unreachable_at AS "unreachableAt"
  FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id LEFT JOIN people p ON p.id = cv.handoff_taken_by`;

/** Campaigns an agent could send now: active, in the sending period, with stock left (as the workbench's coupon list). */
async function liveCampaigns(ctx: AppContext, now: Date): Promise<CampaignRow[]> {
  const rows = await ctx.db.select().from(campaigns).where(sql`state = 'active' AND send_start <= ${now} AND send_end >= ${now}`);
  const stock = await stockOf(ctx.db, rows.map((r) => r.id));
  return rows.filter((r) => !stock.get(r.id)!.soldOut);
}

/** What the agent needs to judge every listed chat, read once for the whole list. */
async function sendingFacts(ctx: AppContext, chats: ChatRow[], agent: Actor | undefined, now: Date) {
  const live = await liveCampaigns(ctx, now);
  const contactIds = sql.param([...new Set(chats.map((c) => c.contactId))]);
  const counters = chats.length === 0 ? { rows: [] } : await query(ctx.db, sql`SELECT contact_id AS "contactId", campaign_id AS "campaignId", held
    FROM contact_campaign_counters WHERE contact_id = ANY(${contactIds}::text[])`);
  const held = new Map<string, Map<string, number>>();
  for (const r of counters.rows as Array<{ contactId: string; campaignId: string; held: number }>) {
    if (!held.has(r.contactId)) held.set(r.contactId, new Map());
    held.get(r.contactId)!.set(r.campaignId, r.held);
  }
  const limits = agent?.role === 'agent' ? await agentLimitsToday(ctx.db, agent.id, agentDay(now, ctx.config.TZ_DEFAULT)) : new Map<string, { refusal: Refusal | null }>();
  const coupons = chats.length === 0 ? { rows: [] } : await query(ctx.db, sql`
    SELECT x."contactId", x.id, x."campaignId", x.name, x.status, x."expiresAt", x."issuedAt" FROM (
      SELECT c.contact_id AS "contactId", c.id, c.campaign_id AS "campaignId", cp.name, ${effectiveStatusSql(now, 'c')} AS status,
        c.expires_at AS "expiresAt", c.issued_at AS "issuedAt",
        row_number() OVER (PARTITION BY c.contact_id ORDER BY c.issued_at DESC, c.id) AS n
      FROM coupons c JOIN campaigns cp ON cp.id = c.campaign_id
      WHERE c.contact_id = ANY(${contactIds}::text[]) AND c.status <> 'void') x
    WHERE x.n <= ${HELD_COUPONS} ORDER BY x."issuedAt" DESC`);
  const holding = new Map<string, HeldRow[]>();
  for (const r of coupons.rows as unknown as HeldRow[]) {
    if (!holding.has(r.contactId)) holding.set(r.contactId, []);
    holding.get(r.contactId)!.push(r);
  }
  return { live, held, limits, holding };
}

type Facts = Awaited<ReturnType<typeof sendingFacts>>;

/**
 * Whether a coupon can be sent into the chat now, and why not: the chat's own reason first (the
 * customer blocked us, Messenger's window closed, no message lately), then the coupons — every one
 * that could be sent is at the customer's limit, or at the agent's daily limit.
 */
function chatSendability(ctx: AppContext, chat: ChatRow, facts: Facts, now: Date): { sendable: number; refusal: Refusal | null } {
  const contact = { id: chat.contactId, channel: chat.channel, unreachableAt: chat.unreachableAt } as ContactRow;
  const conversation = { id: chat.id, contactId: chat.contactId, channel: chat.channel, externalId: chat.externalId, lastInboundAt: chat.lastInboundAt, handoffAt: chat.handoffAt } as ConversationRow;
  const refused = chatRefusal(ctx, contact, conversation, now);
  if (refused) return { sendable: 0, refusal: refused };
  const held = facts.held.get(chat.contactId);
  let sendable = 0;
  let atCustomerLimit = 0;
  let atAgentLimit: Refusal | null = null;
  for (const c of facts.live) {
    if (campaignRefusal(c, 'agent', now)) continue;
    if ((held?.get(c.id) ?? 0) >= c.perContactLimit) {
      atCustomerLimit++;
      continue;
    }
    const limit = facts.limits.get(c.id)?.refusal;
    if (limit) {
      atAgentLimit = limit;
      continue;
    }
    sendable++;
  }
  if (sendable > 0) return { sendable, refusal: null };
  if (atAgentLimit && atCustomerLimit === 0) {
    return { sendable, refusal: refuse('agent_limit_reached', 'you reached your daily limit for every coupon that can be sent now') };
  }
  if (atCustomerLimit > 0 || atAgentLimit) {
    return { sendable, refusal: refuse('limit_reached', 'the customer already holds the most allowed of every coupon that can be sent now') };
  }
  return { sendable, refusal: refuse('sold_out', 'no coupon can be sent now (none in its sending period with stock left)') };
}

function messageJson(m: ChatMessage) {
  return { ...m, at: m.at.toISOString() };
}

function chatJson(ctx: AppContext, chat: ChatRow, facts: Facts, messages: ChatMessage[], now: Date) {
  const { sendable, refusal } = chatSendability(ctx, chat, facts, now);
  return {
    conversationId: chat.id,
    channel: chat.channel,
    channelTitle: channelTitle(ctx, chat.channel),
    externalId: chat.externalId,
    contact: {
      id: chat.contactId,
      // A contact without a known name is shown by the end of its platform id.
      name: chat.displayName ?? `${chat.channel} user …${chat.platformUserId.slice(-6)}`,
      named: chat.displayName !== null,
      language: chat.language,
    },
    lastInboundAt: chat.lastInboundAt?.toISOString() ?? null,
    handoffAt: chat.handoffAt?.toISOString() ?? null,
    /** Handed off by a flow: who took it from the queue, if anyone. */
    handoff: chat.handoffAt ? {
      at: chat.handoffAt.toISOString(),
      takenBy: chat.takenById ? { id: chat.takenById, name: chat.takenByName ?? '' } : null,
      takenAt: chat.handoffTakenAt?.toISOString() ?? null,
    } : null,
    sendable: refusal === null,
    sendableCount: sendable,
    ...(refusal ? { reason: refusal.message, reasonCode: refusal.code } : {}),
    lastMessages: messages.map(messageJson),
    coupons: (facts.holding.get(chat.contactId) ?? []).map((h) => ({
      id: h.id, campaignId: h.campaignId, name: h.name, status: h.status, expiresAt: h.expiresAt?.toISOString() ?? null,
    })),
  };
}

/**
 * The chats an agent can work in: those whose customer wrote lately, newest first, each with the
 * contact, the last messages, whether a coupon can be sent there now (or why not) and the
 * coupons the customer already holds.
 */
export async function workbenchChats(ctx: AppContext, input: unknown, agent?: Actor) {
  const q = parseOrThrow(chatListQuery(ctx), input, 'query');
  const now = ctx.clock();
  const hours = q.hours ?? Math.max(DEFAULT_CHAT_HOURS, ctx.config.ACTIVE_CHAT_HOURS);
  const where: SQL[] = [sql`cv.last_inbound_at >= ${new Date(now.getTime() - hours * 3600_000)}`];
  if (q.channel) where.push(sql`cv.channel = ${q.channel}`);
  const r = await query(ctx.db, sql`${chatSelect} WHERE ${sql.join(where, sql` AND `)}
    ORDER BY cv.last_inbound_at DESC, cv.id LIMIT ${MAX_CHATS}`);
  const chats = r.rows as unknown as ChatRow[];
  const facts = await sendingFacts(ctx, chats, agent, now);
  const messages = await recentMessages(ctx.db, chats.map((c) => ({ id: c.id, channel: c.channel, externalId: c.externalId, contactId: c.contactId })), LIST_MESSAGES);
  return {
    hours,
    channels: ctx.channelPlugins.map((p) => ({ name: p.name, title: channelTitle(ctx, p.name) })),
    chats: chats.map((c) => chatJson(ctx, c, facts, messages.get(c.id) ?? [], now)),
  };
}

/** One chat, by our id or the inbox's own: as in the list, with its recent messages (read-only). */
export async function workbenchChat(ctx: AppContext, input: unknown, agent?: Actor) {
  const q = parseOrThrow(chatQuery(ctx), input, 'query');
  const now = ctx.clock();
  const r = await query(ctx.db, 'conversationId' in q
    ? sql`${chatSelect} WHERE cv.id = ${q.conversationId}`
    : sql`${chatSelect} WHERE cv.channel = ${q.channel} AND cv.external_id = ${q.externalId}`);
  const chat = r.rows[0] as unknown as ChatRow | undefined;
  if (!chat) throw new AppError('not_found', 'this conversation does not exist (no message from it has reached us)');
  const facts = await sendingFacts(ctx, [chat], agent, now);
  const messages = await recentMessages(ctx.db, [{ id: chat.id, channel: chat.channel, externalId: chat.externalId, contactId: chat.contactId }], CHAT_MESSAGES);
  return { chat: chatJson(ctx, chat, facts, messages.get(chat.id) ?? [], now) };
}

/**
 * A coupon sent from the workbench, as its delivery stands: its card as the customer gets it (in
 * the contact's language, drawn by the same code that wrote it to the outbox) and whether the
 * platform took it. The workbench polls it after sending.
 */
export async function workbenchDelivery(ctx: AppContext, couponId: string) {
  const r = await query(ctx.db, sql`SELECT ${couponColumns}, (SELECT language FROM contacts WHERE id = coupons.contact_id) AS "contactLanguage"
    FROM coupons WHERE id = ${couponId}`);
  const coupon = r.rows[0] as unknown as (CouponRow & { contactLanguage: string | null }) | undefined;
  if (!coupon) throw new AppError('not_found', 'no coupon has this id');
  const campaign = await getCampaign(ctx.db, coupon.campaignId);
  return {
    couponId: coupon.id,
    status: effectiveStatus(coupon, ctx.clock()),
    deliveryStatus: coupon.deliveryStatus,
    deliveryError: coupon.deliveryError,
    sentAt: coupon.sentAt?.toISOString() ?? null,
    card: couponCard(ctx, campaign, coupon, { language: coupon.contactLanguage }),
  };
}
