import { retryLater, unanswered } from '../http-outcome.ts';
import { truncate } from '../text.ts';
import type {
  ContactProfile, CouponCard, Delivery, DeliveryResult, FollowerPage, MessageQuota, OutboundMessage, QuickReply, Recipient,
} from '../types.ts';

export interface LineSendOptions {
  accessToken: string;
  apiBaseUrl: string;
  /** Per-request timeout; LINE answers well within it. */
  timeoutMs?: number;
}

/** A LINE message object as the Messaging API takes it (validated against LINE's OpenAPI in tests). */
export type LineMessage = Record<string, unknown> & { type: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** LINE's documented limits. */
const MAX_LABEL = 20;
const MAX_TEXT = 5000;
const MAX_ALT_TEXT = 400;
const MAX_POSTBACK_DATA = 300;
const MAX_QUICK_REPLIES = 13;

/** LINE fetches images only over HTTPS; an http URL (a local setup) would make LINE refuse the whole request. */
function httpsUrl(url: string | undefined): string | undefined {
  return url && url.startsWith('https://') && url.length <= 2000 ? url : undefined;
}

function quickReply(items: QuickReply[] | undefined): Record<string, unknown> {
  if (!items?.length) return {};
  return {
    quickReply: {
      items: items.slice(0, MAX_QUICK_REPLIES).map((item) => {
        const label = truncate(item.label, MAX_LABEL);
        return {
          type: 'action',
          action: item.payload !== undefined
            ? { type: 'postback', label, data: truncate(item.payload, MAX_POSTBACK_DATA), displayText: label }
            : { type: 'message', label, text: truncate(item.label, MAX_POSTBACK_DATA) },
        };
      }),
    },
  };
}

/** Black or white text, whichever reads on the campaign's background. */
function textColorOn(background: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(background);
  if (!m) return '#111111';
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h!, 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 ? '#ffffff' : '#111111';
}

function couponBubble(card: CouponCard): Record<string, unknown> {
  const textColor = textColorOn(card.colors.background);
  const image = httpsUrl(card.imageUrl);
  const body: Record<string, unknown>[] = [
    { type: 'text', text: truncate(card.campaignName, 200), weight: 'bold', size: 'xl', wrap: true, color: textColor },
    { type: 'text', text: truncate(card.rewardText, 200), size: 'lg', wrap: true, color: textColor },
  ];
  if (card.deadlineText) body.push({ type: 'text', text: truncate(card.deadlineText, 200), size: 'sm', wrap: true, color: textColor });
  return {
    type: 'bubble',
    ...(image ? {
      hero: { type: 'image', url: image, size: 'full', aspectRatio: '1:1', aspectMode: 'cover', action: { type: 'uri', uri: card.pageUrl } },
    } : {}),
    body: { type: 'box', layout: 'vertical', spacing: 'md', contents: body },
    footer: {
      type: 'box',
      layout: 'vertical',
      contents: [{
        type: 'button',
        style: 'primary',
        // LINE draws a primary button's label white; the button colour is the one colour we can set.
        color: card.colors.button,
        action: { type: 'uri', label: truncate(card.buttonLabel, MAX_LABEL), uri: card.pageUrl },
      }],
    },
    styles: {
      body: { backgroundColor: card.colors.background },
      footer: { backgroundColor: card.colors.background },
    },
  };
}

/** LINE takes at most this many message objects in one reply or push. */
export const LINE_MESSAGES_PER_REQUEST = 5;

/** LINE message objects for one outbound message: never more than LINE's five per request. */
export function renderLine(message: OutboundMessage, _to?: Recipient): LineMessage[] {
  switch (message.type) {
    case 'text': {
      const messages: LineMessage[] = [{ type: 'text', text: truncate(message.text, MAX_TEXT) }];
      const image = httpsUrl(message.imageUrl);
      if (image) messages.push({ type: 'image', originalContentUrl: image, previewImageUrl: image });
      Object.assign(messages[messages.length - 1]!, quickReply(message.quickReplies));
      return messages;
    }
    case 'coupon':
      return [...(message.intro ? [{ type: 'text', text: truncate(message.intro, MAX_TEXT) }] : []), {
        type: 'flex',
        altText: truncate(message.card.altText || message.card.campaignName, MAX_ALT_TEXT),
        contents: couponBubble(message.card),
        ...quickReply(message.quickReplies),
      }];
  }
}

/** The request LINE gets for a delivery: a reply while the reply token is fresh, otherwise a push. */
export function lineRequest(delivery: Delivery): { path: string; body: Record<string, unknown>; headers: Record<string, string> } {
  const messages = renderLine(delivery.message, delivery.to);
  if (delivery.replyToken) {
    // The messages riding in the reply follow, in order (the worker keeps them within five).
    for (const more of delivery.more ?? []) messages.push(...renderLine(more, delivery.to));
    return { path: '/v2/bot/message/reply', body: { replyToken: delivery.replyToken, messages }, headers: {} };
  }
  // The retry key makes LINE accept a push once however often it is retried.
  return { path: '/v2/bot/message/push', body: { to: delivery.to.userId, messages }, headers: { 'X-Line-Retry-Key': delivery.retryKey } };
}

async function lineError(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { message?: unknown; details?: Array<{ message?: unknown; property?: unknown }> };
    const details = (json.details ?? []).map((d) => `${String(d.property ?? '')}: ${String(d.message ?? '')}`);
    return [String(json.message ?? `HTTP ${res.status}`), ...details].join('; ');
  } catch {
    return text.slice(0, 500) || `HTTP ${res.status}`;
  }
}

export async function sendLine(opts: LineSendOptions, delivery: Delivery): Promise<DeliveryResult> {
  const request = lineRequest(delivery);
  let res: Response;
  try {
    res = await fetch(`${opts.apiBaseUrl.replace(/\/+$/, '')}${request.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${opts.accessToken}`, ...request.headers },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    return unanswered(err, 'LINE');
  }
  const requestId = res.headers.get('x-line-request-id') ?? undefined;
  if (res.ok) {
    await res.body?.cancel();
    return { outcome: 'sent', response: { requestId } };
  }
  // An earlier try with the same retry key went through: the message is delivered, once.
  const acceptedId = res.headers.get('x-line-accepted-request-id');
  if (res.status === 409 && acceptedId) {
    await res.body?.cancel();
    return { outcome: 'sent', response: { requestId: acceptedId, duplicate: true } };
  }
  const error = `LINE ${res.status}: ${await lineError(res)}`;
  // The monthly limit is also a 429, but no retry helps until the quota grows or the month turns.
  if (res.status === 429 && MONTHLY_LIMIT.test(error)) return { outcome: 'failed', error, quotaExhausted: true };
  if (res.status === 429 || res.status >= 500) return retryLater(error, res);
  // Reply tokens expire within a minute; the worker pushes on the next attempt instead.
  if (res.status === 400 && request.path.endsWith('/reply') && /reply token/i.test(error)) {
    return { outcome: 'retry', error, retryAfterMs: 0 };
  }
  return { outcome: 'failed', error };
}

/** LINE's answer when the account's monthly message limit is used up. */
const MONTHLY_LIMIT = /You have reached your monthly limit/i;

function lineGet(opts: LineSendOptions, path: string): Promise<Response> {
  return fetch(`${opts.apiBaseUrl.replace(/\/+$/, '')}${path}`, {
    headers: { Authorization: `Bearer ${opts.accessToken}` },
    signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
}

/** The profile's `language` is the user's LINE language setting (absent when they did not allow it). */
export async function fetchLineProfile(opts: LineSendOptions, userId: string): Promise<ContactProfile | null> {
  try {
    const res = await lineGet(opts, `/v2/bot/profile/${encodeURIComponent(userId)}`);
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const json = (await res.json()) as { displayName?: unknown; language?: unknown };
    if (typeof json.displayName !== 'string') return null;
    const language = typeof json.language === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(json.language) ? json.language : undefined;
    return { displayName: json.displayName, ...(language ? { language } : {}) };
  } catch {
    return null;
  }
}

/** `GET /v2/bot/followers/ids`, 1,000 at a time (LINE's maximum). */
export async function listLineFollowers(opts: LineSendOptions, start?: string): Promise<FollowerPage> {
  const query = new URLSearchParams({ limit: '1000', ...(start ? { start } : {}) });
  let res: Response;
  try {
    res = await lineGet(opts, `/v2/bot/followers/ids?${query.toString()}`);
  } catch (err) {
    const r = unanswered(err, 'LINE');
    return { ok: false, status: 0, message: r.outcome === 'sent' ? 'LINE did not answer' : r.error };
  }
  if (!res.ok) return { ok: false, status: res.status, message: await lineError(res) };
  const json = (await res.json().catch(() => null)) as { userIds?: unknown; next?: unknown } | null;
  if (!json || !Array.isArray(json.userIds) || !json.userIds.every((u) => typeof u === 'string')) {
    return { ok: false, status: res.status, message: 'LINE answered without a list of user ids' };
  }
  return { ok: true, userIds: json.userIds as string[], ...(typeof json.next === 'string' && json.next ? { next: json.next } : {}) };
}

/** `GET /v2/bot/message/quota` and `/quota/consumption`: the month's limit and what is used. */
export async function fetchLineQuota(opts: LineSendOptions): Promise<MessageQuota> {
  const [quota, consumption] = await Promise.all([
    lineGet(opts, '/v2/bot/message/quota'), lineGet(opts, '/v2/bot/message/quota/consumption'),
  ]);
  if (!quota.ok) throw new Error(`LINE ${quota.status} reading the message quota: ${await lineError(quota)}`);
  if (!consumption.ok) throw new Error(`LINE ${consumption.status} reading the quota consumption: ${await lineError(consumption)}`);
  const q = (await quota.json()) as { type?: unknown; value?: unknown };
  const c = (await consumption.json()) as { totalUsage?: unknown };
  const used = typeof c.totalUsage === 'number' ? c.totalUsage : 0;
  return { limit: q.type === 'limited' && typeof q.value === 'number' ? q.value : null, used };
}
