import { retryLater, unanswered } from '../http-outcome.ts';
import { truncate } from '../text.ts';
import type { Delivery, DeliveryResult, OutboundMessage, QuickReply, Recipient } from '../types.ts';

export interface MessengerSendOptions {
  pageAccessToken: string;
  graphBaseUrl: string;
  timeoutMs?: number;
}

/** One Send API request body. */
export interface MessengerRequest {
  recipient: { id: string };
  messaging_type: 'RESPONSE';
  message: Record<string, unknown>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Meta's documented limits. */
const MAX_TEXT = 2000;
const MAX_QUICK_REPLIES = 13;
const MAX_QUICK_REPLY_TITLE = 20;
const MAX_PAYLOAD = 1000;
const MAX_TITLE = 80;
const MAX_BUTTON_TITLE = 20;

function quickReplies(items: QuickReply[] | undefined): Record<string, unknown> {
  if (!items?.length) return {};
  return {
    quick_replies: items.slice(0, MAX_QUICK_REPLIES).map((item) => ({
      content_type: 'text',
      title: truncate(item.label, MAX_QUICK_REPLY_TITLE),
      payload: truncate(item.payload ?? item.label, MAX_PAYLOAD),
    })),
  };
}

/** Send API bodies for one outbound message, in order; quick replies ride on the last one. */
export function renderMessenger(message: OutboundMessage, to: Recipient): MessengerRequest[] {
  const body = (msg: Record<string, unknown>): MessengerRequest => ({ recipient: { id: to.userId }, messaging_type: 'RESPONSE', message: msg });
  switch (message.type) {
    case 'text': {
      const parts: Record<string, unknown>[] = [{ text: truncate(message.text, MAX_TEXT) }];
      if (message.imageUrl) parts.push({ attachment: { type: 'image', payload: { url: message.imageUrl, is_reusable: true } } });
      Object.assign(parts[parts.length - 1]!, quickReplies(message.quickReplies));
      return parts.map(body);
    }
    case 'coupon': {
      const { card } = message;
      const subtitle = [card.rewardText, card.deadlineText].filter(Boolean).join('\n');
      return [...(message.intro ? [body({ text: truncate(message.intro, MAX_TEXT) })] : []), body({
        attachment: {
          type: 'template',
          payload: {
            template_type: 'generic',
            image_aspect_ratio: 'square',
            elements: [{
              title: truncate(card.campaignName, MAX_TITLE),
              subtitle: truncate(subtitle, MAX_TITLE),
              ...(card.imageUrl ? { image_url: card.imageUrl } : {}),
              default_action: { type: 'web_url', url: card.pageUrl },
              buttons: [{ type: 'web_url', url: card.pageUrl, title: truncate(card.buttonLabel, MAX_BUTTON_TITLE) }],
            }],
          },
        },
        ...quickReplies(message.quickReplies),
      })];
    }
  }
}

interface GraphError {
  message?: string;
  code?: number;
  error_subcode?: number;
}

/** Graph error codes that clear up on their own: throttling, temporary outages. */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 613, 1200]);

/** Whether a Graph failure is worth another try; the rest never go through. */
export function graphErrorOutcome(status: number, error: GraphError | undefined): 'retry' | 'failed' {
  const code = error?.code;
  const subcode = error?.error_subcode;
  // The person cannot be reached, the 24-hour window closed, no such user, or our token is bad.
  if (code === 551 || code === 190 || (code === 10 && subcode === 2018278) || (code === 100 && subcode === 2018001)) return 'failed';
  if (code !== undefined && TRANSIENT_CODES.has(code)) return 'retry';
  if (status === 429 || status >= 500) return 'retry';
  return 'failed';
}

function endpoint(opts: MessengerSendOptions, path: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ ...params, access_token: opts.pageAccessToken });
  return `${opts.graphBaseUrl.replace(/\/+$/, '')}/${path}?${query}`;
}

async function post(opts: MessengerSendOptions, body: MessengerRequest): Promise<DeliveryResult> {
  let res: Response;
  try {
    res = await fetch(endpoint(opts, 'me/messages'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    // The message only, never the URL: it carries the page access token.
    return unanswered(err, 'Graph API');
  }
  const text = await res.text().catch(() => '');
  let json: { message_id?: string; recipient_id?: string; error?: GraphError } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch { /* not JSON: judged by the status alone */ }
  if (res.ok) return { outcome: 'sent', response: { messageId: json.message_id, recipientId: json.recipient_id } };
  const e = json.error;
  const codes = e?.code !== undefined ? ` (code ${e.code}${e.error_subcode !== undefined ? `, subcode ${e.error_subcode}` : ''})` : '';
  const error = `Graph API ${res.status}${codes}: ${e?.message ?? (text.slice(0, 300) || 'no message')}`;
  if (graphErrorOutcome(res.status, e) === 'failed') return { outcome: 'failed', error };
  return retryLater(error, res);
}

export async function sendMessenger(opts: MessengerSendOptions, delivery: Delivery): Promise<DeliveryResult> {
  const bodies = renderMessenger(delivery.message, delivery.to);
  const first = await post(opts, bodies[0]!);
  if (first.outcome !== 'sent') return first;
  // The Send API has no idempotency key: once the first part went out, a retry would repeat it,
  // so a later part that fails is reported on the sent delivery instead of retried.
  const responses: unknown[] = [first.response];
  const partErrors: string[] = [];
  for (const body of bodies.slice(1)) {
    const result = await post(opts, body);
    if (result.outcome === 'sent') responses.push(result.response);
    else partErrors.push(result.error);
  }
  return { outcome: 'sent', response: bodies.length === 1 ? first.response : { parts: responses, ...(partErrors.length ? { partErrors } : {}) } };
}

export async function fetchMessengerProfile(opts: MessengerSendOptions, psid: string): Promise<{ displayName: string } | null> {
  try {
    const res = await fetch(endpoint(opts, encodeURIComponent(psid), { fields: 'first_name,last_name,name' }), {
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const json = (await res.json()) as { name?: unknown; first_name?: unknown; last_name?: unknown };
    const name = typeof json.name === 'string' && json.name.trim()
      ? json.name.trim()
      : [json.first_name, json.last_name].filter((p): p is string => typeof p === 'string' && p.trim() !== '').join(' ');
    return name ? { displayName: name } : null;
  } catch {
    return null;
  }
}
