import type { ChannelEvent, ChannelName } from '../../adapters/types.ts';
import { normaliseText, patternText } from './normalise.ts';
import type { CouponEventName, Flow } from './types.ts';

/**
 * Which flows an event starts, most specific first: postback / ref (exact) > keyword > pattern >
 * follow. Ties go to the file name, then the flow id, so the choice never depends on load order.
 */
const rank: Record<Flow['trigger']['type'], number> = { postback: 0, ref: 0, keyword: 1, pattern: 2, follow: 3, coupon: 4 };

export function compareFlows(a: Flow, b: Flow): number {
  return rank[a.trigger.type] - rank[b.trigger.type]
    || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const onChannel = (flow: Flow, channel: ChannelName) => flow.channels === null || flow.channels.includes(channel);

/** Text of a message event, when it has any. */
export function eventText(event: ChannelEvent): string | null {
  return event.type === 'message' && typeof event.text === 'string' ? event.text : null;
}

/**
 * The referral an event carries. A LINE link cannot pass a parameter to the webhook, so a link
 * that pre-fills the message `ref=<ref>` (`https://line.me/R/oaMessage/@id/?ref%3D<ref>`), or a
 * postback with that data, stands in for Messenger's m.me `?ref=`.
 */
export function eventRef(event: ChannelEvent): string | null {
  if ((event.type === 'referral' || event.type === 'follow' || event.type === 'postback') && event.ref) return event.ref;
  const raw = event.type === 'postback' ? event.payload : eventText(event);
  const m = raw === null ? null : /^ref=(.+)$/su.exec(raw.trim());
  return m ? m[1]! : null;
}

/** What triggers compare an event with, worked out once per event rather than once per flow. */
interface EventView {
  event: ChannelEvent;
  text: string | null;
  normalised: string | null;
  ref: string | null;
}

function viewOf(event: ChannelEvent): EventView {
  const text = eventText(event);
  return { event, text, normalised: text === null ? null : normaliseText(text), ref: eventRef(event) };
}

function matches(flow: Flow, v: EventView): boolean {
  const t = flow.trigger;
  const event = v.event;
  switch (t.type) {
    case 'follow':
      // A new conversation on a channel with its own conversations is the start of a chat, like a follow.
      return event.type === 'follow' || event.type === 'conversation';
    case 'keyword':
      return v.normalised !== null && t.normalised.includes(v.normalised);
    case 'pattern':
      return v.text !== null && t.regex.test(patternText(v.text));
    case 'postback':
      return (event.type === 'postback' && event.payload === t.payload)
        || (event.type === 'message' && event.quickReplyPayload === t.payload);
    case 'ref':
      return v.ref === t.ref;
    case 'coupon':
      return false;
  }
}

/** Every flow the event starts, most specific first. */
export function matchFlows(flows: readonly Flow[], event: ChannelEvent): Flow[] {
  const v = viewOf(event);
  return flows.filter((f) => onChannel(f, event.channel) && matches(f, v)).sort(compareFlows);
}

export function matchCouponEvent(flows: readonly Flow[], event: CouponEventName, campaignSlug: string, channel: ChannelName): Flow | null {
  return flows.filter((f) => f.trigger.type === 'coupon' && f.trigger.event === event && f.trigger.campaign === campaignSlug && onChannel(f, channel))
    .sort(compareFlows)[0] ?? null;
}

/** Whether a flow's keyword trigger claims this text on this channel (it then wins over built-ins). */
export function keywordClaimed(flows: readonly Flow[], text: string, channel: ChannelName): boolean {
  const n = normaliseText(text);
  return flows.some((f) => f.trigger.type === 'keyword' && onChannel(f, channel) && f.trigger.normalised.includes(n));
}
