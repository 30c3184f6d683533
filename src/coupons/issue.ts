import { sql } from 'drizzle-orm';
import type { ChannelCapabilities, ChannelName, CouponCard, QuickReply } from '../../adapters/types.ts';
import { channelCapabilities } from '../channels.ts';
import {
  ensureContact, ensureConversation, ensureDirectConversations, latestConversation, type ContactRow, type ConversationRow,
} from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { outboxInsertMany, type IdentifiedOutboxMessage } from '../delivery/outbox.ts';
import { refuse, type Refusal, type Result } from '../lib/errors.ts';
import { newId, newToken } from '../lib/ids.ts';
import { describeRewardIn, formatDateTime } from '../i18n/format.ts';
import { chooseLocale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { campaignImageUrl, campaignTimeZone, findCampaign, findCampaignBySlug, type CampaignRow } from './campaigns.ts';
import { deadlineAtSend, sendingState } from './rules.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';

export type IssueRefusalCode =
  | 'not_found' | 'outside_sending_period' | 'private_campaign' | 'sold_out' | 'limit_reached'
  | 'chat_inactive' | 'contact_unreachable' | 'campaign_paused';

export interface IssueRequest {
  /** The campaign by id or by slug, or as the caller read it in this transaction. */
  campaign: { id: string } | { slug: string } | { row: CampaignRow };
  contact: ContactRow;
  /** Where the card goes; for LINE and Messenger the conversation whose external id is the user id. */
  conversation: ConversationRow;
  source: 'api' | 'agent' | 'flow' | 'broadcast';
  /** The broadcast issuing the coupon: the coupon and its message carry it. */
  broadcastId?: string;
  /** Text sent just before the card, in the same message (a broadcast's text). */
  intro?: string;
  /** The flow that issues it (source `flow`): its funnel and revenue are counted per flow. */
  flowId?: string | null;
  /** Who issues it (the agent, for source `agent`): counted per agent. */
  issuedBy?: string | null;
  /** A fresh LINE reply token to answer with (flows answering an event). */
  replyToken?: string | null;
  replyTokenExpiresAt?: Date | null;
  quickReplies?: QuickReply[];
  /**
   * A marketer's test send: sent whatever the sending period, visibility and stock, while the
   * campaign is active or paused; no per-contact claim; the coupon is marked `test`.
   */
  test?: boolean;
  /**
   * The caller writes the card itself, in its transaction, after what it wrote before (a flow
   * writes a batch's messages together, in their order): it is handed over instead of written.
   */
  holdCard?: (card: IdentifiedOutboxMessage) => void;
}

export type IssueResult = Result<{ coupon: CouponRow; campaign: CampaignRow; outboxId: string }, IssueRefusalCode>;

/**
 * Whether a coupon can be sent into this conversation now: the refusal, or null. A channel with a
 * messaging window (Messenger's 24 hours) only takes messages inside it; others push any time.
 */
export function channelRefusal(
  capabilities: Pick<ChannelCapabilities, 'messagingWindow'>, contact: ContactRow, conversation: ConversationRow, now: Date,
): Refusal<IssueRefusalCode> | null {
  if (contact.unreachableAt) return refuse('contact_unreachable', 'the contact unfollowed or blocked the account');
  const window = capabilities.messagingWindow;
  if (window) {
    const last = conversation.lastInboundAt;
    if (!last || now.getTime() - last.getTime() > window.hours * 3600_000) {
      return refuse('chat_inactive', `outside ${window.name}: the customer has not written in the last ${window.hours} hours`);
    }
  }
  return null;
}

/** Why a campaign in a state other than `active` sends nothing (the same code for every such state). */
export function campaignStateRefusal(campaign: Pick<CampaignRow, 'name' | 'state'>): Refusal<'campaign_paused'> | null {
  switch (campaign.state) {
    case 'active': return null;
    case 'paused': return refuse('campaign_paused', `"${campaign.name}" is paused: nothing is sent until it is made active again`);
    case 'ended': return refuse('campaign_paused', `"${campaign.name}" has ended: nothing more is sent`);
    case 'archived': return refuse('campaign_paused', `"${campaign.name}" is archived: nothing more is sent`);
  }
}

/** A test may be sent while the campaign is being prepared or paused, not once it has ended. */
function testRefusal(campaign: CampaignRow): Refusal<'campaign_paused'> | null {
  return campaign.state === 'ended' || campaign.state === 'archived' ? campaignStateRefusal(campaign) : null;
}

/** Whether a campaign can be given now, before touching the contact: the refusal, or null. */
export function campaignRefusal(campaign: CampaignRow, source: IssueRequest['source'], now: Date): Refusal<IssueRefusalCode> | null {
  const paused = campaignStateRefusal(campaign);
  if (paused) return paused;
  const state = sendingState(campaign, now);
  if (state === 'not_started') return refuse('outside_sending_period', `"${campaign.name}" can be sent from ${campaign.sendStart.toISOString()}`);
  if (state === 'ended') return refuse('outside_sending_period', `"${campaign.name}" could be sent until ${campaign.sendEnd.toISOString()}`);
  if (campaign.visibility === 'private' && source !== 'agent') {
    return refuse('private_campaign', `"${campaign.name}" is private: only an agent can send it, into one chat`);
  }
  return null;
}

/**
 * Issues a coupon to a contact and writes its card to the outbox, inside the caller's
 * transaction, in one statement: stock left, the per-contact limit claimed only then, the coupon
 * and its card. The coupon becomes `sent` when its delivery is confirmed. Call
 * `ctx.notifyOutbox()` after the commit.
 */
export async function issueCoupon(ctx: AppContext, tx: Tx, req: IssueRequest): Promise<IssueResult> {
  const [result] = await issueCoupons(ctx, tx, [req]);
  return result!;
}

interface Prepared {
  index: number;
  req: IssueRequest;
  campaign: CampaignRow;
  id: string;
  token: string;
  card: IdentifiedOutboxMessage;
}

/**
 * `issueCoupon` for many requests at once (the flows of a batch of events), each with its own
 * contact, campaign and options: one statement per campaign. A contact asks for a campaign at most
 * once per statement (a second request of the same pair goes in the next one), so each request is
 * judged as if made alone, in order. Results are in the order of the requests.
 */
export async function issueCoupons(ctx: AppContext, tx: Tx, reqs: IssueRequest[]): Promise<IssueResult[]> {
  const now = ctx.clock();
  const results: IssueResult[] = new Array<IssueResult>(reqs.length);
  const groups = new Map<string, Array<{ contacts: Set<string>; batch: Prepared[] }>>();
  for (const [index, req] of reqs.entries()) {
    const campaign = 'row' in req.campaign ? req.campaign.row
      : 'id' in req.campaign ? await findCampaign(tx, req.campaign.id) : await findCampaignBySlug(tx, req.campaign.slug);
    if (!campaign) {
      results[index] = refuse('not_found', `campaign ${'id' in req.campaign ? req.campaign.id : 'slug' in req.campaign ? req.campaign.slug : req.campaign.row.id} does not exist`);
      continue;
    }
    const refused = (req.test ? testRefusal(campaign) : campaignRefusal(campaign, req.source, now))
      ?? channelRefusal(channelCapabilities(ctx, req.conversation.channel), req.contact, req.conversation, now);
    if (refused) {
      results[index] = refused;
      continue;
    }
    const id = newId('cpn');
    const token = newToken();
    const card: IdentifiedOutboxMessage = {
      id: newId('msg'),
      channel: req.contact.channel,
      contactId: req.contact.id,
      conversationId: req.conversation.id,
      couponId: id,
      message: {
        type: 'coupon', card: couponCard(ctx, campaign, { id, token, expiresAt: deadlineAtSend(campaign, now) }, req.contact),
        ...(req.intro ? { intro: req.intro } : {}),
        ...(req.quickReplies?.length ? { quickReplies: req.quickReplies } : {}),
      },
      broadcastId: req.broadcastId ?? null,
      replyToken: req.replyToken ?? null,
      replyTokenExpiresAt: req.replyTokenExpiresAt ?? null,
    };
    // One statement per campaign and kind (a test takes no stock and no claim), each contact once in it.
    const key = `${campaign.id}\u0000${req.test ? 'test' : ''}`;
    let statements = groups.get(key);
    if (!statements) groups.set(key, statements = []);
    let free = statements.find((st) => !st.contacts.has(req.contact.id));
    if (!free) statements.push(free = { contacts: new Set(), batch: [] });
    free.contacts.add(req.contact.id);
    free.batch.push({ index, req, campaign, id, token, card });
  }
  for (const statements of groups.values()) {
    for (const { batch } of statements) {
      const issued = await claimAndWrite(tx, batch, now);
      for (const p of batch) results[p.index] = issued(p);
    }
  }
  return results;
}

/** One statement for requests of one campaign, each contact once: the outcome of each. */
async function claimAndWrite(tx: Tx, batch: Prepared[], now: Date): Promise<(p: Prepared) => IssueResult> {
  const campaign = batch[0]!.campaign;
  const test = batch[0]!.req.test ?? false;
  const col = <T>(pick: (p: Prepared) => T) => sql.param(batch.map(pick));
  const expiresAt = deadlineAtSend(campaign, now);
  const wanted = sql`SELECT * FROM unnest(${col((p) => p.id)}::text[], ${col((p) => p.req.contact.id)}::text[],
      ${col((p) => p.req.conversation.id)}::text[], ${col((p) => p.token)}::text[], ${col((p) => p.req.source)}::text[],
      ${col((p) => p.req.broadcastId ?? null)}::text[], ${col((p) => p.req.flowId ?? null)}::text[], ${col((p) => p.req.issuedBy ?? null)}::text[])
    AS u(id, contact_id, conversation_id, token, source, broadcast_id, flow_id, issued_by)`;
  const claim = test
    ? sql`stock AS (SELECT true AS in_stock), claimed AS (SELECT contact_id FROM wanted)`
    : sql`stock AS (SELECT
          EXISTS (SELECT 1 FROM serials WHERE campaign_id = ${campaign.id} AND coupon_id IS NULL)
          OR EXISTS (SELECT 1 FROM fixed_serials WHERE campaign_id = ${campaign.id} AND taken < quantity) AS in_stock),
        claimed AS (
          INSERT INTO contact_campaign_counters AS c (campaign_id, contact_id, held)
          SELECT ${campaign.id}, w.contact_id, 1 FROM wanted w, stock WHERE stock.in_stock ORDER BY w.contact_id
          ON CONFLICT (campaign_id, contact_id) DO UPDATE SET held = c.held + 1 WHERE c.held < ${campaign.perContactLimit}
          RETURNING contact_id)`;
  const written = batch.filter((p) => !p.req.holdCard).map((p) => p.card);
  const cards = written.length > 0 ? sql`, card AS (${outboxInsertMany(written, { when: sql`u.coupon_id IN (SELECT id FROM coupon)` })})` : sql``;
  const result = await query(tx, sql`
    WITH wanted AS (${wanted}), ${claim},
      coupon AS (
        INSERT INTO coupons (id, campaign_id, contact_id, conversation_id, token, status, source, issued_at, expires_at, broadcast_id, flow_id, issued_by, test)
        SELECT w.id, ${campaign.id}, w.contact_id, w.conversation_id, w.token, 'pending', w.source, ${now}, ${expiresAt},
          w.broadcast_id, w.flow_id, w.issued_by, ${test}
        FROM wanted w JOIN claimed USING (contact_id)
        RETURNING ${couponColumns})${cards}
    SELECT (SELECT in_stock FROM stock) AS "inStock", coupon.* FROM (SELECT 1) AS one LEFT JOIN coupon ON true`);
  const rows = result.rows as unknown as Array<CouponRow & { inStock?: boolean }>;
  const inStock = rows[0]!.inStock;
  const coupons = new Map<string, CouponRow>();
  for (const row of rows) {
    if (!row.id) continue;
    delete row.inStock;
    coupons.set(row.id, row);
  }
  const limit = campaign.perContactLimit;
  return (p) => {
    if (!inStock) return refuse('sold_out', `"${campaign.name}" is sold out`);
    const coupon = coupons.get(p.id);
    if (!coupon) return refuse('limit_reached', `the customer already holds ${limit === 1 ? 'this coupon' : `${limit} of these coupons`}`);
    p.req.holdCard?.(p.card);
    return { ok: true, coupon, campaign, outboxId: p.card.id };
  };
}

export type BatchIssueResult =
  | { contactId: string; ok: true; couponId: string; outboxId: string }
  | { contactId: string; ok: false; code: IssueRefusalCode; message: string };

/**
 * `issueCoupons` for many contacts of one campaign (broadcasts), each into its direct
 * conversation: one statement for the lot. A campaign that cannot be sent refuses every contact
 * before any conversation is written. Call `ctx.notifyOutbox()` after the commit.
 */
export async function issueCouponBatch(ctx: AppContext, tx: Tx, req: {
  campaign: CampaignRow;
  contacts: ContactRow[];
  source: IssueRequest['source'];
  broadcastId?: string;
  intro?: string;
}): Promise<BatchIssueResult[]> {
  if (req.contacts.length === 0) return [];
  const refused = campaignRefusal(req.campaign, req.source, ctx.clock());
  if (refused) return req.contacts.map((c) => ({ contactId: c.id, ok: false, code: refused.code, message: refused.message }));
  const conversations = await ensureDirectConversations(tx, req.contacts);
  const results = await issueCoupons(ctx, tx, req.contacts.map((contact): IssueRequest => ({
    campaign: { row: req.campaign }, contact, conversation: conversations.get(contact.id)!, source: req.source,
    ...(req.broadcastId ? { broadcastId: req.broadcastId } : {}), ...(req.intro ? { intro: req.intro } : {}),
  })));
  return results.map((r, i): BatchIssueResult => {
    const contactId = req.contacts[i]!.id;
    return r.ok ? { contactId, ok: true, couponId: r.coupon.id, outboxId: r.outboxId } : { contactId, ok: false, code: r.code, message: r.message };
  });
}

export function couponPageUrl(ctx: AppContext, token: string): string {
  return `${ctx.config.PUBLIC_BASE_URL}/c/${token}`;
}

/** The card every channel renders in its own way, in the contact's language (else the campaign's). */
export function couponCard(
  ctx: AppContext, campaign: CampaignRow, coupon: Pick<CouponRow, 'id' | 'token' | 'expiresAt'>, contact: Pick<ContactRow, 'language'>,
): CouponCard {
  const locale = chooseLocale({ contact: contact.language, campaign: campaign.locale, fallback: ctx.config.DEFAULT_LOCALE });
  const m = messages(locale);
  const reward = describeRewardIn(locale, campaign);
  const deadline = coupon.expiresAt ? m.useBy({ date: formatDateTime(locale, coupon.expiresAt, campaignTimeZone(ctx, campaign)) }) : undefined;
  const imageUrl = campaignImageUrl(ctx, campaign);
  return {
    couponId: coupon.id,
    campaignName: campaign.name,
    rewardText: reward,
    ...(deadline ? { deadlineText: deadline } : {}),
    pageUrl: couponPageUrl(ctx, coupon.token),
    ...(imageUrl ? { imageUrl } : {}),
    colors: { background: campaign.colorBackground, button: campaign.colorButton, buttonText: campaign.colorButtonText },
    buttonLabel: m.cardButton,
    altText: m.cardAltText({ name: campaign.name, reward, deadline: deadline ?? null }),
  };
}

/**
 * Issues a coupon to a platform user by channel and user id (admin API): creates the contact and
 * its conversation when new. For the inbox the contact's latest conversation is used.
 * A refusal issues nothing (a contact created for a new user id stays).
 */
export async function issueToUser(
  ctx: AppContext, campaignId: string, channel: ChannelName, userId: string, opts: { test?: boolean } = {},
): Promise<IssueResult> {
  const result = await ctx.db.transaction(async (tx): Promise<IssueResult> => {
    const contact = await ensureContact(tx, channel, userId, { at: ctx.clock() });
    let conversation: ConversationRow | null;
    if (channelCapabilities(ctx, channel).conversations === 'threads') {
      // The platform names its own conversations: send into the contact's latest one.
      conversation = await latestConversation(tx, contact.id);
      if (!conversation) return refuse('chat_inactive', `this ${channel} contact has no conversation to send into`);
    } else {
      conversation = await ensureConversation(tx, contact, userId);
    }
    return await issueCoupon(ctx, tx, { campaign: { id: campaignId }, contact, conversation, source: 'api', ...(opts.test ? { test: true } : {}) });
  });
  if (result.ok) ctx.notifyOutbox();
  return result;
}
