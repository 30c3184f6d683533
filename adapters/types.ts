/**
 * The shapes every channel shares. Adapters import only this file; services use these types to
 * talk about events and messages without knowing any platform.
 */
/** A channel's name, as its plug-in declares it (adapters/index.ts lists the plug-ins). */
export type ChannelName = string;

interface ChannelEventBase {
  channel: ChannelName;
  /** Unique per channel: the key that deduplicates redeliveries. */
  eventId: string;
  /** The platform's user id (LINE userId, Messenger PSID, inbox contact id). */
  userId: string;
  /** The platform's conversation id; for LINE and Messenger the user id. */
  conversationId: string;
  displayName?: string;
  /** ISO-8601 time the platform says the event happened. */
  timestamp: string;
  /** LINE reply token, usable once within a minute of the event. */
  replyToken?: string;
  /** LINE standby mode: stored, never answered. */
  standby?: boolean;
}

export type ChannelEvent = ChannelEventBase & (
  | { type: 'follow'; ref?: string; /** LINE: a re-follow after the user had blocked the account. */ unblocked?: boolean }
  | { type: 'unfollow' }
  | { type: 'message'; kind: 'text' | 'image' | 'video' | 'audio' | 'file' | 'location' | 'sticker' | 'other'; messageId?: string; text?: string; quickReplyPayload?: string }
  | { type: 'postback'; payload: string; ref?: string }
  | { type: 'referral'; ref: string }
  | { type: 'conversation' }
  | { type: 'other'; platformType: string }
);
export type ChannelEventType = ChannelEvent['type'];

/** A quick reply button: `payload` comes back as a postback; without it the label is sent as text. */
export interface QuickReply {
  label: string;
  payload?: string;
}

export interface CouponCard {
  couponId: string;
  campaignName: string;
  /** e.g. "10% off", "TWD 100 off", "Free drink". */
  rewardText: string;
  /** e.g. "Use by 2026-12-31 23:59", already in the customer's time zone; absent when none. */
  deadlineText?: string;
  pageUrl: string;
  imageUrl?: string;
  colors: { background: string; button: string; buttonText: string };
  /** Button label on the card. */
  buttonLabel: string;
  /** Plain-text stand-in (LINE altText, notifications). */
  altText: string;
}

export type OutboundMessage =
  | { type: 'text'; text: string; imageUrl?: string; quickReplies?: QuickReply[] }
  /** `intro`: the marketer's text sent just before the card, in the same request where the platform allows. */
  | { type: 'coupon'; card: CouponCard; intro?: string; quickReplies?: QuickReply[] };

export interface Recipient {
  userId: string;
  conversationId: string;
}

export interface Delivery {
  /** Our outbox row id. */
  id: string;
  to: Recipient;
  message: OutboundMessage;
  /** Fresh, unused reply token (LINE), if any. */
  replyToken?: string;
  /**
   * Messages to send after `message` in the same reply, in order: only with a reply token, and
   * only on a channel whose delivery declares `replyCapacity` (within it).
   */
  more?: OutboundMessage[];
  /** Fixed per outbox row: a retried push carries the same key. */
  retryKey: string;
  /** 0 on the first try. */
  attempt: number;
}

export type DeliveryResult =
  | { outcome: 'sent'; response?: unknown }
  /**
   * Transient: try again later (after `retryAfterMs` when the platform said so). `maybeDelivered`:
   * the request left but no answer came back (timeout, connection reset), so the platform may
   * have delivered it.
   */
  | { outcome: 'retry'; error: string; retryAfterMs?: number; maybeDelivered?: boolean }
  /**
   * Permanent: the message will never go through. `quotaExhausted`: the account's monthly message
   * limit is used up (LINE's monthly-limit 429), which no retry this month can fix.
   */
  | { outcome: 'failed'; error: string; quotaExhausted?: boolean };

export interface RawRequest {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** What the delivery worker asks a channel before retrying. */
export interface DeliveryCapabilities {
  /** The platform's name as people read it ("LINE"). */
  label: string;
  /**
   * How long after a message was written it may still be retried safely: LINE keeps a push's
   * retry key 24 hours, Messenger answers only inside its 24-hour window, the inbox takes 24 hours.
   */
  retryForMs: number;
  /**
   * A reply may carry several messages: at most `max` of the platform's message objects, `size`
   * of them for one of our messages (LINE: five). Messages to the same contact queued right behind
   * a reply then ride in it instead of going as messages of their own (a LINE push counts against
   * the month's quota; a reply does not). Absent: one message per request.
   */
  replyCapacity?: { max: number; size(message: OutboundMessage): number };
}

/**
 * What the core asks a channel instead of branching on its name: the platform's rules for
 * replies, sending windows, texts and conversations.
 */
export interface ChannelCapabilities {
  /** The platform's name as people read it in the consoles ("LINE"); absent: the channel's name. */
  label?: string;
  /** Events carry a reply token usable once, up to this long after the event; absent: no replies. */
  replyTokenLifetimeMs?: number;
  /**
   * Messages may only be sent this long after the contact's last message, and a chat is active
   * exactly that long; absent: the channel sends any time (a chat is active for ACTIVE_CHAT_HOURS).
   */
  messagingWindow?: { hours: number; name: string };
  /** The longest chat text the platform takes: a longer text is cut. */
  maxTextLength: number;
  /** Makes a value safe inside a chat text of this platform. */
  escapeText(value: string): string;
  /**
   * `per-user`: one conversation per user, whose id is the user's (opened by the first message);
   * `threads`: the platform's own conversations, opened by a `conversation` event; a coupon issued
   * to a user goes into their latest one.
   */
  conversations: 'per-user' | 'threads';
  /**
   * Whether a broadcast may send to this channel's contacts. False where conversations belong to
   * the shop's agents (the inbox).
   */
  broadcast: boolean;
  /** The shape of the platform's user ids, checked when contacts are imported; absent: any id. */
  userId?: { pattern: RegExp; description: string };
}

/** A request to one of a channel's extra routes (e.g. a subscription handshake). */
export interface ChannelRouteRequest {
  query: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** Its answer: a body to send, or a refusal (answered as the service's JSON error). */
export type ChannelRouteResult =
  | { status: 200; contentType: string; body: string }
  | { refused: 'forbidden' | 'validation_error'; message: string };

/** An extra GET route at `/webhooks/<channel>` (the POST there is the webhook), answered while the channel is on. */
export interface ChannelRoute {
  method: 'get';
  handle(req: ChannelRouteRequest): ChannelRouteResult;
}

/**
 * A channel plug-in: everything the service needs to know about a platform, in its own folder.
 * Adding a channel is a folder under adapters/ and one line in adapters/index.ts.
 */
export interface ChannelPlugin<Options = unknown> {
  readonly name: ChannelName;
  readonly capabilities: ChannelCapabilities;
  /** Request headers that carry secrets (signatures): redacted from logs. */
  readonly secretHeaders: readonly string[];
  /** Its environment variables, for the configuration table: name → what it is. */
  readonly variables: Readonly<Record<string, string>>;
  /**
   * Reads its environment variables: null when the channel is off. A wrong value throws
   * ChannelConfigError (adapters/env.ts) with one line naming the variable.
   */
  configure(env: Record<string, string | undefined>): Options | null;
  create(options: Options): ChannelAdapter;
}

export interface ChannelAdapter {
  readonly name: ChannelName;
  readonly delivery: DeliveryCapabilities;
  readonly capabilities: ChannelCapabilities;
  /** Extra routes under `/webhooks/<name>` (e.g. Messenger's subscription handshake). */
  readonly routes?: readonly ChannelRoute[];
  /** Checks the signature on the raw bytes; false means 401 and nothing stored. */
  verify(req: RawRequest): boolean;
  /** Normalises an already verified body; throws on a malformed one. */
  parse(body: unknown): ChannelEvent[];
  /** The platform's request body for a message (exposed for tests and the simulator). */
  render(message: OutboundMessage, to: Recipient): unknown;
  send(delivery: Delivery): Promise<DeliveryResult>;
  /** The contact's display name (and language, when the platform says) from its profile API. */
  fetchProfile?(userId: string): Promise<ContactProfile | null>;
  /** One page of the account's followers (LINE), `start` being the previous page's `next`. */
  listFollowers?(start?: string): Promise<FollowerPage>;
  /** The account's monthly message quota: `limit` null when none is set. */
  messageQuota?(): Promise<MessageQuota>;
}

export interface ContactProfile {
  displayName: string;
  /** BCP 47 tag, e.g. `ja`, `zh-Hant`. */
  language?: string;
}

export type FollowerPage =
  | { ok: true; userIds: string[]; next?: string }
  /** The platform refused (`status` 0: it did not answer); `message` is its own words. */
  | { ok: false; status: number; message: string };

export interface MessageQuota {
  limit: number | null;
  used: number;
}
