import { retryLater, unanswered } from '../http-outcome.ts';
import type { Delivery, DeliveryResult, OutboundMessage, Recipient } from '../types.ts';
import { signInboxBody } from './inbound.ts';

export interface InboxSendOptions {
  secret: string;
  callbackUrl: string;
  timeoutMs?: number;
}

/** The JSON we post to the inbox's callback URL. */
export type InboxRequest =
  | {
    conversationId: string;
    message: {
      type: 'coupon';
      couponId: string;
      title: string;
      reward: string;
      deadline?: string;
      pageUrl: string;
      imageUrl?: string;
      buttonLabel: string;
      colors: { background: string; button: string; buttonText: string };
      altText: string;
      quickReplies?: Array<{ label: string; payload?: string }>;
    };
  }
  | {
    conversationId: string;
    message: { type: 'text'; text: string; imageUrl?: string; quickReplies?: Array<{ label: string; payload?: string }> };
  };

const DEFAULT_TIMEOUT_MS = 10_000;

export function renderInbox(message: OutboundMessage, to: Recipient): InboxRequest {
  const quickReplies = message.quickReplies?.length ? { quickReplies: message.quickReplies.map((q) => ({ ...q })) } : {};
  switch (message.type) {
    case 'text':
      return {
        conversationId: to.conversationId,
        message: { type: 'text', text: message.text, ...(message.imageUrl ? { imageUrl: message.imageUrl } : {}), ...quickReplies },
      };
    case 'coupon': {
      const { card } = message;
      return {
        conversationId: to.conversationId,
        message: {
          type: 'coupon',
          couponId: card.couponId,
          title: card.campaignName,
          reward: card.rewardText,
          ...(card.deadlineText ? { deadline: card.deadlineText } : {}),
          pageUrl: card.pageUrl,
          ...(card.imageUrl ? { imageUrl: card.imageUrl } : {}),
          buttonLabel: card.buttonLabel,
          colors: { ...card.colors },
          altText: card.altText,
          ...quickReplies,
        },
      };
    }
  }
}

export async function sendInbox(opts: InboxSendOptions, delivery: Delivery): Promise<DeliveryResult> {
  const body = JSON.stringify(renderInbox(delivery.message, delivery.to));
  let res: Response;
  try {
    res = await fetch(opts.callbackUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'x-inbox-signature': signInboxBody(opts.secret, body),
        // The same id on every try lets the inbox drop a repeat.
        'x-inbox-delivery-id': delivery.retryKey,
      },
      body,
      // A redirected POST would lose its body or signature; treat it as the inbox's mistake.
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    return unanswered(err, 'the inbox');
  }
  const text = await res.text().catch(() => '');
  if (res.ok) {
    let response: unknown = { status: res.status };
    try {
      response = text ? JSON.parse(text) : response;
    } catch { /* a 2xx without JSON is still accepted */ }
    return { outcome: 'sent', response };
  }
  const error = `inbox ${res.status}: ${text.slice(0, 300) || res.statusText || 'no message'}`;
  if (res.status === 429 || res.status >= 500) return retryLater(error, res);
  return { outcome: 'failed', error };
}
