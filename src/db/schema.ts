import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { ChannelEvent, ChannelName, OutboundMessage } from '../../adapters/types.ts';

import { couponStatuses, expirableStatuses, statusListSql } from '../coupons/statuses.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Key/value settings the service keeps for itself (e.g. the generated admin token's hash). */
export const appSettings = pgTable('app_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const campaigns = pgTable('campaigns', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull(),
  name: text('name').notNull(),
  instructions: text('instructions').notNull().default(''),
  sendStart: ts('send_start').notNull(),
  sendEnd: ts('send_end').notNull(),
  expiryMode: text('expiry_mode', { enum: ['fromSend', 'fromRedeem'] }).notNull(),
  expiryMinutes: integer('expiry_minutes').notNull(),
  /** How the duration was given ("days" or "hours"), so it reads back as it was written. */
  expiryUnit: text('expiry_unit', { enum: ['days', 'hours'] }).notNull(),
  redeemBy: ts('redeem_by'),
  perContactLimit: integer('per_contact_limit').notNull(),
  barcode: text('barcode', { enum: ['qr', 'code39', 'code128'] }).notNull(),
  colorBackground: text('color_background').notNull(),
  colorButton: text('color_button').notNull(),
  colorButtonText: text('color_button_text').notNull(),
  rewardType: text('reward_type', { enum: ['percent', 'amount', 'gift'] }).notNull(),
  rewardValue: numeric('reward_value', { mode: 'number' }),
  rewardCurrency: text('reward_currency'),
  rewardText: text('reward_text'),
  minSpend: numeric('min_spend', { mode: 'number' }),
  visibility: text('visibility', { enum: ['public', 'private'] }).notNull(),
  verification: boolean('verification').notNull(),
  /** Text sent to a contact when a flow's coupon step is refused and the flow has no `else`. */
  refusalText: text('refusal_text'),
  /** Remind contacts this many hours before their coupon's deadline (null: no reminder). */
  remindBeforeHours: integer('remind_before_hours'),
  /** `campaign.low_stock` when the stock left falls to this; the alerts are re-armed when stock is added. */
  lowStockThreshold: integer('low_stock_threshold'),
  lowStockAlertedAt: ts('low_stock_alerted_at'),
  soldOutAlertedAt: ts('sold_out_alerted_at'),
  imageFile: text('image_file'),
  imageType: text('image_type'),
  /** Language of customer texts when neither the contact nor the browser says (null: DEFAULT_LOCALE). */
  locale: text('locale'),
  /** IANA zone every date shown to customers is written in (null: TZ_DEFAULT). */
  timeZone: text('time_zone'),
  /** `active`; `paused` and `ended` send nothing; `archived` is ended and left out of lists (campaignStates). */
  state: text('state', { enum: ['active', 'paused', 'ended', 'archived'] }).notNull().default('active'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('campaigns_slug_key').on(t.slug)]);

/** One-time serials. `couponId` is set when a redemption takes the serial. */
export const serials = pgTable('serials', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  campaignId: text('campaign_id').notNull().references(() => campaigns.id),
  code: text('code').notNull(),
  couponId: text('coupon_id'),
  importId: text('import_id'),
}, (t) => [
  uniqueIndex('serials_campaign_code_key').on(t.campaignId, t.code),
  // The claim walks this index in its own order: it only ever holds available serials.
  index('serials_available_idx').on(t.campaignId, t.id).where(sql`coupon_id IS NULL`),
]);

/** A fixed serial: one code shown to every redeemer, `quantity` is the stock, `taken` the counter. */
export const fixedSerials = pgTable('fixed_serials', {
  campaignId: text('campaign_id').primaryKey().references(() => campaigns.id),
  code: text('code').notNull(),
  quantity: integer('quantity').notNull(),
  taken: integer('taken').notNull().default(0),
}, (t) => [check('fixed_serials_taken_le_quantity', sql`${t.taken} <= ${t.quantity}`)]);

export const serialImports = pgTable('serial_imports', {
  id: text('id').primaryKey(),
  campaignId: text('campaign_id').notNull().references(() => campaigns.id),
  status: text('status', { enum: ['running', 'done', 'failed'] }).notNull(),
  read: integer('read').notNull().default(0),
  loaded: integer('loaded').notNull().default(0),
  rejectedCount: integer('rejected_count').notNull().default(0),
  /** Rejected rows, first ones only (see MAX_REPORTED_REJECTIONS). */
  rejected: jsonb('rejected').$type<Array<{ row: number; reason: string }>>().notNull().default([]),
  error: text('error'),
  filePath: text('file_path'),
  createdAt: ts('created_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
});

export const contacts = pgTable('contacts', {
  id: text('id').primaryKey(),
  channel: text('channel').$type<ChannelName>().notNull(),
  platformUserId: text('platform_user_id').notNull(),
  displayName: text('display_name'),
  /** BCP 47 language from the platform profile (LINE `language`), an import or PATCH. */
  language: text('language'),
  /** Token of the contact's "my coupons" page. */
  meToken: text('me_token').notNull(),
  tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
  attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
  /** Set when the contact unfollowed/blocked us: nothing more is pushed to it. */
  unreachableAt: ts('unreachable_at'),
  profileFetchedAt: ts('profile_fetched_at'),
  /** The last follow event (null for contacts known only from a follower sync or an import). */
  followedAt: ts('followed_at'),
  /** The contact's last message or postback to us. */
  lastMessageAt: ts('last_message_at'),
  firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('contacts_channel_user_key').on(t.channel, t.platformUserId),
  uniqueIndex('contacts_me_token_key').on(t.meToken),
  // Audiences: tag filters use the GIN index; the partial indexes hold only reachable contacts.
  index('contacts_tags_idx').using('gin', t.tags),
  index('contacts_reachable_idx').on(t.channel, t.id).where(sql`unreachable_at IS NULL`),
  index('contacts_last_message_idx').on(t.lastMessageAt).where(sql`unreachable_at IS NULL`),
  index('contacts_followed_idx').on(t.followedAt).where(sql`unreachable_at IS NULL`),
  // Lazy profile fetches walk the contacts still without one.
  index('contacts_profile_missing_idx').on(t.channel, t.id).where(sql`profile_fetched_at IS NULL AND display_name IS NULL`),
]);

/** A follower sync (`POST /api/v1/contacts/sync`), polled through `GET /api/v1/imports/:id`. */
export const contactSyncs = pgTable('contact_syncs', {
  id: text('id').primaryKey(),
  channel: text('channel').notNull(),
  status: text('status', { enum: ['running', 'done', 'failed'] }).notNull(),
  read: integer('read').notNull().default(0),
  created: integer('created').notNull().default(0),
  error: text('error'),
  createdAt: ts('created_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
});

export const conversations = pgTable('conversations', {
  id: text('id').primaryKey(),
  contactId: text('contact_id').notNull().references(() => contacts.id),
  channel: text('channel').$type<ChannelName>().notNull(),
  /** The platform's conversation id (inbox); for LINE and Messenger the user id. */
  externalId: text('external_id').notNull(),
  lastInboundAt: ts('last_inbound_at'),
  /** Set while an agent has the conversation: the bot stays silent. */
  handoffAt: ts('handoff_at'),
  /** The person who took a handed-off conversation from the queue, and when. */
  handoffTakenBy: text('handoff_taken_by'),
  handoffTakenAt: ts('handoff_taken_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('conversations_channel_external_key').on(t.channel, t.externalId),
  index('conversations_contact_idx').on(t.contactId),
  // The workbench's chat list: the latest inbound messages first.
  index('conversations_last_inbound_idx').on(t.lastInboundAt),
]);

export const coupons = pgTable('coupons', {
  id: text('id').primaryKey(),
  campaignId: text('campaign_id').notNull().references(() => campaigns.id),
  contactId: text('contact_id').notNull().references(() => contacts.id),
  conversationId: text('conversation_id'),
  /** Random page token; never a database id. */
  token: text('token').notNull(),
  status: text('status', { enum: couponStatuses }).notNull(),
  deliveryStatus: text('delivery_status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
  deliveryError: text('delivery_error'),
  source: text('source', { enum: ['api', 'agent', 'flow', 'broadcast'] }).notNull(),
  issuedAt: ts('issued_at').notNull(),
  sentAt: ts('sent_at'),
  openedAt: ts('opened_at'),
  redeemedAt: ts('redeemed_at'),
  /** The verification time as the POS gave it (its clock is final). */
  verifiedAt: ts('verified_at'),
  /** When we received the verification (our clock), kept beside the POS's time. */
  verifiedReceivedAt: ts('verified_received_at'),
  verifiedBy: text('verified_by'),
  /** The order the coupon was used on, as the POS reported it (all optional). */
  amount: numeric('amount', { mode: 'number' }),
  currency: text('currency'),
  storeId: text('store_id'),
  /** The flow that issued it (source `flow`), and who issued it (the agent, for `agent`). */
  flowId: text('flow_id'),
  issuedBy: text('issued_by'),
  expiredAt: ts('expired_at'),
  voidAt: ts('void_at'),
  /** The usage deadline; a coupon past it reads as expired whether or not the sweep ran. */
  expiresAt: ts('expires_at'),
  remindedAt: ts('reminded_at'),
  serialCode: text('serial_code'),
  serialId: bigint('serial_id', { mode: 'number' }),
  /** Who sent it, when a person did (the agent in the workbench): id and name at the time. */
  sentById: text('sent_by_id'),
  sentByName: text('sent_by_name'),
  /** The broadcast that issued the coupon, if any. */
  broadcastId: text('broadcast_id'),
  /** A marketer's test send: not counted in stats, records or limits; takes no serial. */
  test: boolean('test').notNull().default(false),
}, (t) => [
  uniqueIndex('coupons_token_key').on(t.token),
  index('coupons_campaign_idx').on(t.campaignId, t.issuedAt),
  index('coupons_contact_idx').on(t.contactId, t.issuedAt),
  index('coupons_serial_code_idx').on(t.serialCode),
  // Built from the rule's own set: changing the set makes db:generate write the index's migration.
  index('coupons_expiry_idx').on(t.expiresAt).where(sql.raw(`status IN (${statusListSql(expirableStatuses)})`)),
  index('coupons_campaign_contact_idx').on(t.campaignId, t.contactId),
]);

/** Per (campaign, contact) counters, so the per-contact limit is one SQL statement. */
export const contactCampaignCounters = pgTable('contact_campaign_counters', {
  campaignId: text('campaign_id').notNull(),
  contactId: text('contact_id').notNull(),
  held: integer('held').notNull().default(0),
  redeemed: integer('redeemed').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.campaignId, t.contactId] })]);

/** Webhook events, stored before they are acknowledged; processed from here exactly once. */
export const inboundEvents = pgTable('inbound_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  channel: text('channel').$type<ChannelName>().notNull(),
  eventKey: text('event_key').notNull(),
  event: jsonb('event').$type<ChannelEvent>().notNull(),
  receivedAt: ts('received_at').notNull().defaultNow(),
  processedAt: ts('processed_at'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** A failed event is retried from this time on (backoff). */
  nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
  /** What became of it once processed (`started`, `answered`, `no-match` when nothing answered, …). */
  outcome: text('outcome'),
}, (t) => [
  uniqueIndex('inbound_events_channel_key').on(t.channel, t.eventKey),
  index('inbound_events_unprocessed_idx').on(t.id).where(sql`processed_at IS NULL`),
  // One contact's events are processed in order: "is an earlier one still open?" walks this.
  index('inbound_events_contact_open_idx').on(t.channel, sql`(event->>'userId')`, t.id).where(sql`processed_at IS NULL`),
  // Pruning finds processed events past their retention without scanning the table.
  index('inbound_events_processed_idx').on(t.processedAt).where(sql`processed_at IS NOT NULL`),
  // A chat's recent messages for the workbench, newest first, without scanning the table.
  index('inbound_events_conversation_idx').on(t.channel, sql`(event->>'conversationId')`, t.id).where(sql`(event->>'type') = 'message'`),
]);

/** Every message to a contact, written in the same transaction as the change it reports. */
export const outbox = pgTable('outbox', {
  id: text('id').primaryKey(),
  /** Write order (ids are random): a contact's messages are delivered in this order. */
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  channel: text('channel').$type<ChannelName>().notNull(),
  contactId: text('contact_id').notNull(),
  conversationId: text('conversation_id'),
  couponId: text('coupon_id'),
  message: jsonb('message').$type<OutboundMessage>().notNull(),
  replyToken: text('reply_token'),
  replyTokenExpiresAt: ts('reply_token_expires_at'),
  /**
   * Set when the first attempt was claimed to answer with the reply token. A reply carries no
   * retry key: if that attempt's outcome was never recorded (the process died), it is not sent again.
   */
  replyUsed: boolean('reply_used').notNull().default(false),
  /** Fixed on the first attempt, so a retried push is never delivered twice. */
  retryKey: text('retry_key').notNull(),
  status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
  lastError: text('last_error'),
  /** Since when the message waited for its platform (its first failed try); null if it never failed. */
  waitingSince: ts('waiting_since'),
  platformResponse: jsonb('platform_response'),
  createdAt: ts('created_at').notNull().defaultNow(),
  sentAt: ts('sent_at'),
  /** The broadcast the message belongs to: pausing it parks its pending messages. */
  broadcastId: text('broadcast_id'),
  /**
   * Set while an attempt is being sent (the claim's lease), cleared with its outcome: a contact's
   * later messages wait while an earlier one is in flight, whichever instance sends it.
   */
  leasedUntil: ts('leased_until'),
}, (t) => [
  index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  // Each channel's delivery claim reads its due messages in order, live ones and broadcast ones
  // apart: an ordered index scan that stops at the batch size, however long the queue is.
  index('outbox_live_due_idx').on(t.channel, t.nextAttemptAt, t.seq).where(sql`status = 'pending' AND broadcast_id IS NULL`),
  index('outbox_bulk_due_idx').on(t.channel, t.nextAttemptAt, t.seq).where(sql`status = 'pending' AND broadcast_id IS NOT NULL`),
  // "Is an earlier message of this contact still in flight?", asked for every message claimed.
  index('outbox_contact_pending_idx').on(t.contactId, t.seq).where(sql`status = 'pending'`),
  index('outbox_contact_idx').on(t.contactId, t.createdAt),
  // Pruning finds finished messages past their retention without scanning the table.
  index('outbox_finished_idx').on(t.status, t.createdAt).where(sql`status <> 'pending'`),
  // A broadcast's messages not (yet) sent: its backlog, and its counts (sent = issued - these).
  index('outbox_broadcast_unsent_idx').on(t.broadcastId, t.status).where(sql`broadcast_id IS NOT NULL AND status <> 'sent'`),
]);

/** A coupon card (or variants of it) sent to an audience. Counts are read from its recipients. */
export const broadcasts = pgTable('broadcasts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: ['scheduled', 'running', 'paused', 'done', 'cancelled'] }).notNull(),
  /** Why a broadcast is paused or was stopped (e.g. `quota_exhausted`); null otherwise. */
  reason: text('reason'),
  audience: jsonb('audience').$type<Record<string, unknown>>().notNull(),
  /** `[{ key, campaignId, text, weight }]`; a broadcast without variants has one, key `a`. */
  variants: jsonb('variants').$type<Array<{ key: string; campaignId: string; text: string | null; weight: number }>>().notNull(),
  holdoutPercent: integer('holdout_percent').notNull().default(0),
  sendAt: ts('send_at').notNull(),
  ratePerSecond: integer('rate_per_second').notNull(),
  quotaMode: text('quota_mode', { enum: ['all-or-nothing', 'up-to-remaining'] }).notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  startedAt: ts('started_at'),
  finishedAt: ts('finished_at'),
  /** The pace: recipients are issued up to `rate_per_second` × the time since this. */
  pacedAt: ts('paced_at'),
}, (t) => [index('broadcasts_due_idx').on(t.sendAt).where(sql`status IN ('scheduled', 'running')`)]);

/**
 * The recipient list, fixed when the broadcast starts. A recipient is issued (claim, coupon and
 * outbox message) in the same transaction that marks it, so it is served at most once.
 */
export const broadcastRecipients = pgTable('broadcast_recipients', {
  broadcastId: text('broadcast_id').notNull(),
  contactId: text('contact_id').notNull(),
  /** Order of issue. */
  seq: integer('seq').notNull(),
  channel: text('channel').notNull(),
  /** The variant key, or `holdout`. Fixed per recipient. */
  variant: text('variant').notNull(),
  status: text('status', { enum: ['pending', 'issued', 'skipped', 'holdout'] }).notNull(),
  reason: text('reason'),
  couponId: text('coupon_id'),
  outboxId: text('outbox_id'),
}, (t) => [
  primaryKey({ columns: [t.broadcastId, t.contactId] }),
  index('broadcast_recipients_pending_idx').on(t.broadcastId, t.seq).where(sql`status = 'pending'`),
]);

/**
 * A contact's run through a flow. At most one run per contact is `running` or `waiting` (the
 * unique partial index); finished runs stay for the marketer's records.
 */
export const flowRuns = pgTable('flow_runs', {
  id: text('id').primaryKey(),
  contactId: text('contact_id').notNull().references(() => contacts.id),
  conversationId: text('conversation_id'),
  /** The flow the run is in now (a `goto` moves it). */
  flowId: text('flow_id').notNull(),
  /** The flow that started the run. */
  startFlowId: text('start_flow_id').notNull(),
  status: text('status', { enum: ['running', 'waiting', 'done', 'failed', 'interrupted', 'handoff', 'dropped'] }).notNull(),
  /** The current step, e.g. `2.then.0`; null once the run ended. */
  stepPath: text('step_path'),
  /** What a waiting run waits for. */
  waitingFor: text('waiting_for', { enum: ['answer', 'resume'] }),
  resumeAt: ts('resume_at'),
  state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
  endReason: text('end_reason'),
  /** Set for runs started by a coupon event (`coupon:<id>:<event>`): such an event starts at most one run. */
  triggerKey: text('trigger_key'),
  startedAt: ts('started_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
  endedAt: ts('ended_at'),
}, (t) => [
  uniqueIndex('flow_runs_one_active_key').on(t.contactId).where(sql`status IN ('running', 'waiting')`),
  index('flow_runs_resume_idx').on(t.resumeAt).where(sql`status = 'waiting' AND waiting_for = 'resume'`),
  uniqueIndex('flow_runs_trigger_key').on(t.triggerKey),
]);

/** One row per executed step: where contacts drop off. */
export const flowStepRuns = pgTable('flow_step_runs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  runId: text('run_id').notNull(),
  flowId: text('flow_id').notNull(),
  stepPath: text('step_path').notNull(),
  stepType: text('step_type').notNull(),
  contactId: text('contact_id').notNull(),
  at: ts('at').notNull(),
  /** completed | waiting | retry | refused | exhausted | failed */
  outcome: text('outcome').notNull(),
}, (t) => [index('flow_step_runs_flow_idx').on(t.flowId, t.stepPath)]);

/** A flow-issued coupon whose delivery failed for good is re-issued at most once. */
export const couponResends = pgTable('coupon_resends', {
  releasedCouponId: text('released_coupon_id').primaryKey(),
  newCouponId: text('new_coupon_id'),
  outcome: text('outcome').notNull(),
  at: ts('at').notNull(),
}, (t) => [uniqueIndex('coupon_resends_new_coupon_key').on(t.newCouponId)]);

/**
 * The shop's people. A removed person keeps its row (audit entries name it) but has no tokens,
 * sessions or sign-in; `email` is stored lower-case and unique among people not removed.
 */
export const people = pgTable('people', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
  role: text('role', { enum: ['owner', 'marketer', 'agent', 'staff'] }).notNull(),
  /** scrypt hash (see src/people/passwords.ts); null until the person sets a password. */
  passwordHash: text('password_hash'),
  createdAt: ts('created_at').notNull(),
  removedAt: ts('removed_at'),
}, (t) => [
  uniqueIndex('people_email_key').on(sql`lower(${t.email})`).where(sql`removed_at IS NULL AND email IS NOT NULL`),
  uniqueIndex('people_name_key').on(sql`lower(${t.name})`).where(sql`removed_at IS NULL`),
]);

/** A person's API tokens: only the SHA-256 of the token is stored; it is shown once. */
/** The contact a person (or the admin token, `admin-token`) sends campaign tests to: picked once. */
export const testContacts = pgTable('test_contacts', {
  actorId: text('actor_id').primaryKey(),
  channel: text('channel').notNull(),
  userId: text('user_id').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  personId: text('person_id').notNull().references(() => people.id),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull(),
  createdAt: ts('created_at').notNull(),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
}, (t) => [
  uniqueIndex('api_tokens_hash_key').on(t.tokenHash),
  index('api_tokens_person_idx').on(t.personId),
]);

/**
 * Browser sessions (httpOnly cookie holding a random token; only its SHA-256 is stored). A session
 * opened with the ADMIN_TOKEN has no person: `admin_key` ties it to that token, so changing
 * ADMIN_TOKEN ends it.
 */
export const sessions = pgTable('sessions', {
  id: text('id').primaryKey(),
  personId: text('person_id').references(() => people.id),
  adminKey: text('admin_key'),
  tokenHash: text('token_hash').notNull(),
  /** The session's CSRF token, put in forms and sent back by page scripts. */
  csrfToken: text('csrf_token').notNull(),
  createdAt: ts('created_at').notNull(),
  expiresAt: ts('expires_at').notNull(),
  lastSeenAt: ts('last_seen_at').notNull(),
  revokedAt: ts('revoked_at'),
  address: text('address'),
  userAgent: text('user_agent'),
}, (t) => [
  uniqueIndex('sessions_hash_key').on(t.tokenHash),
  index('sessions_person_idx').on(t.personId),
]);

/** One-time sign-in links (`npm run user:invite`): only the SHA-256 of the link's token is stored. */
export const signInLinks = pgTable('sign_in_links', {
  tokenHash: text('token_hash').primaryKey(),
  personId: text('person_id').notNull().references(() => people.id),
  createdAt: ts('created_at').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
});

/** Failed sign-ins, counted per account and per address to slow down guessing. */
export const signInFailures = pgTable('sign_in_failures', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  /** `account:<lower-case identifier>` or `address:<ip>`. */
  key: text('key').notNull(),
  at: ts('at').notNull(),
}, (t) => [index('sign_in_failures_key_idx').on(t.key, t.at)]);

/** Who did what and when: written in the same transaction as the change it records. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: ts('at').notNull(),
  actorId: text('actor_id').notNull(),
  actorName: text('actor_name').notNull(),
  actorRole: text('actor_role').notNull(),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id').notNull(),
  targetName: text('target_name'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
}, (t) => [
  index('audit_log_actor_idx').on(t.actorId, t.id),
  index('audit_log_action_idx').on(t.action, t.id),
]);

/** Per-agent limits: at most `perAgentPerDay` coupons of a campaign per agent per day (TZ_DEFAULT days). */
export const agentLimits = pgTable('agent_limits', {
  campaignId: text('campaign_id').primaryKey().references(() => campaigns.id),
  perAgentPerDay: integer('per_agent_per_day').notNull(),
});

/** What each agent sent of each campaign each day: the limit is one conditional upsert on this. */
export const agentDailyCounts = pgTable('agent_daily_counts', {
  personId: text('person_id').notNull(),
  campaignId: text('campaign_id').notNull(),
  day: text('day').notNull(),
  sent: integer('sent').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.personId, t.campaignId, t.day] })]);

/**
 * What happened to a coupon at the till, one row per verification or void: who (`pos`, `admin`, or the person's id),
 * when (our clock, and the POS's own time), from where (store, address) and why (a void's reason).
 * Issue, delivery, opening and redemption happen once each and are read from the coupon's columns.
 */
export const couponHistory = pgTable('coupon_history', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  couponId: text('coupon_id').notNull().references(() => coupons.id),
  event: text('event', { enum: ['verified', 'voided'] }).notNull(),
  at: ts('at').notNull(),
  posAt: ts('pos_at'),
  actor: text('actor').notNull(),
  storeId: text('store_id'),
  ip: text('ip'),
  reason: text('reason'),
  amount: numeric('amount'),
  currency: text('currency'),
}, (t) => [index('coupon_history_coupon_idx').on(t.couponId, t.id)]);

/** The shop's own systems: where events are POSTed, which types, and the secret that signs them. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events').array().notNull(),
  /** Kept to sign deliveries; shown only when the endpoint is created. */
  secret: text('secret').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * Events for the shop's systems (an outbox): written in the same transaction as the change they
 * report — coupon events by the trigger on `coupons`, the others by `recordWebhookEvent` — and only
 * when an endpoint subscribes. `payload` is what the change saw (the coupon row); `body` the JSON
 * sent, built on the first attempt and kept so every retry carries the same bytes.
 */
export const webhookEvents = pgTable('webhook_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  couponId: text('coupon_id'),
  campaignId: text('campaign_id'),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  body: text('body'),
  /** Set by callers whose job may run twice: one event per key. */
  dedupeKey: text('dedupe_key'),
}, (t) => [
  uniqueIndex('webhook_events_dedupe_key').on(t.dedupeKey),
  index('webhook_events_created_idx').on(t.createdAt),
]);

/** One event to one endpoint: pending until a 2xx, retried with backoff, failed after 24 hours. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  eventId: text('event_id').notNull().references(() => webhookEvents.id, { onDelete: 'cascade' }),
  endpointId: text('endpoint_id').notNull().references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
  status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  /** A new delivery is due at once, whatever the clocks say ('epoch'); later the backoff sets it. */
  nextAttemptAt: ts('next_attempt_at').notNull().default(sql`'epoch'`),
  firstAttemptAt: ts('first_attempt_at'),
  lastError: text('last_error'),
  createdAt: ts('created_at').notNull().defaultNow(),
  deliveredAt: ts('delivered_at'),
}, (t) => [
  uniqueIndex('webhook_deliveries_event_endpoint_key').on(t.eventId, t.endpointId),
  index('webhook_deliveries_due_idx').on(t.endpointId, t.nextAttemptAt, t.id).where(sql`status = 'pending'`),
  index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
]);

/** Every attempt of a delivery: when, the HTTP status (null: no answer), the error. */
export const webhookAttempts = pgTable('webhook_attempts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  deliveryId: bigint('delivery_id', { mode: 'number' }).notNull().references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
  at: ts('at').notNull(),
  statusCode: integer('status_code'),
  error: text('error'),
  durationMs: integer('duration_ms').notNull(),
}, (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.id)]);

/** A redemption that may have crossed a campaign's stock thresholds, to be looked at after commit. */
export const webhookStockChecks = pgTable('webhook_stock_checks', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  campaignId: text('campaign_id').notNull(),
});
