/**
 * The JSON the API answers, as the browser code reads it: the server's own types (imported, never
 * copied), with what JSON does to them applied. Type-only: nothing here reaches the browser.
 */
import type { HandoffRow } from '../../contacts/contacts.ts';
import type { campaignToJson } from '../../coupons/campaigns.ts';
import type { FixedSerialResult } from '../../coupons/fixed-serials.ts';
import type { couponHistory } from '../../coupons/history.ts';
import type { CampaignImage } from '../../coupons/images.ts';
import type { campaignStats, couponToJson, recordToJson } from '../../coupons/records.ts';
import type { ImportView } from '../../coupons/serial-import.ts';
import type { tillLookup } from '../../coupons/till-lookup.ts';
import type { workbenchCoupons } from '../../coupons/workbench.ts';
import type { workbenchChat, workbenchChats, workbenchDelivery } from '../../coupons/workbench-chats.ts';
import type { flowsListing } from '../../flows/stats.ts';
import type { serviceStatus } from '../../maintenance/status.ts';
import type { auditEntryToJson } from '../../people/audit.ts';
import type { personToJson, tokenToJson } from '../../people/people.ts';
import type { sessionToJson } from '../../people/sessions.ts';
import type { campaignCards } from '../../pages/campaign-preview.ts';
import type { createEndpoint, listDeliveries, listEndpoints } from '../../webhooks/endpoints.ts';

/** What `JSON.stringify` makes of a value: dates become ISO strings. */
export type Json<T> = T extends Date ? string
  : T extends ReadonlyArray<infer U> ? Array<Json<U>>
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;

/** `GET /api/v1/campaigns/:id`, and each campaign of the list. */
export type CampaignJson = Json<ReturnType<typeof campaignToJson>>;
/** `GET /api/v1/campaigns`. */
export interface CampaignList { campaigns: CampaignJson[] }
/** `GET /api/v1/campaigns/:id/stats`. */
export type StatsJson = Json<Awaited<ReturnType<typeof campaignStats>>>;
/** One row of `GET /api/v1/campaigns/:id/records`. */
export type RecordJson = Json<ReturnType<typeof recordToJson>>;
export interface RecordsPage { records: RecordJson[]; nextCursor: string | null }
/** `GET /api/v1/coupons/:id/history`. */
export type HistoryJson = Json<NonNullable<Awaited<ReturnType<typeof couponHistory>>>> & { channelLabels: Record<string, string> };
/** A serial pack loaded at once (200), or the import followed by polling (202, `GET /api/v1/imports/:id`). */
export type ImportJson = Json<ImportView>;
export type SyncImportJson = Pick<ImportJson, 'loaded' | 'rejected' | 'rejectedCount' | 'read'> & { importId: string };
export type FixedSerialJson = Json<FixedSerialResult>;
/** `PUT /api/v1/campaigns/:id/image`. */
export type ImageJson = Json<CampaignImage>;
/** `POST /api/v1/campaign-previews`: the card of a campaign being written, in each language. */
export interface CampaignPreviewsJson { previews: Json<ReturnType<typeof campaignCards>> }
export type PreviewCardJson = CampaignPreviewsJson['previews'][number]['card'];
/** `GET /api/v1/flows`. */
export type FlowsJson = Json<Awaited<ReturnType<typeof flowsListing>>> & { channelLabels: Record<string, string> };
export type FlowJson = FlowsJson['flows'][number];
/** `GET /api/v1/workbench/coupons`. */
export type WorkbenchJson = Json<Awaited<ReturnType<typeof workbenchCoupons>>>;
export type WorkbenchCouponJson = WorkbenchJson['coupons'][number];
/** `GET /api/v1/workbench/chats`, `GET /api/v1/workbench/chat`. */
export type ChatsJson = Json<Awaited<ReturnType<typeof workbenchChats>>>;
export type ChatJson = ChatsJson['chats'][number];
export type OneChatJson = Json<Awaited<ReturnType<typeof workbenchChat>>>;
/** `GET /api/v1/workbench/deliveries/:couponId`. */
export type CardDeliveryJson = Json<Awaited<ReturnType<typeof workbenchDelivery>>>;
/** `GET /api/v1/handoffs`. */
export type HandoffJson = Json<HandoffRow>;

/** A coupon as issuing answers it (`{"coupon":…}` from the workbench and the admin API). */
export type CouponJson = Json<ReturnType<typeof couponToJson>>;

/** `GET /api/v1/webhooks`, `POST /api/v1/webhooks` (with the secret, once) and an endpoint's deliveries. */
export type WebhooksJson = Json<Awaited<ReturnType<typeof listEndpoints>>>;
export type WebhookJson = WebhooksJson['webhooks'][number];
export type NewWebhookJson = Json<Awaited<ReturnType<typeof createEndpoint>>>;
export type DeliveriesJson = Json<Awaited<ReturnType<typeof listDeliveries>>>;
export type DeliveryJson = DeliveriesJson['deliveries'][number];

/** `GET /api/v1/status`: platforms (down, since, messages waiting), retention, table sizes. */
export type StatusJson = Json<Awaited<ReturnType<typeof serviceStatus>>>;

/** `GET /api/v1/verifications/lookup`: a coupon as the staff scanner shows it. */
export type TillLookupJson = Omit<Extract<Json<Awaited<ReturnType<typeof tillLookup>>>, { ok: true }>, 'ok'>;
export type TillHistoryJson = TillLookupJson['history'][number];
/** People (`/api/v1/people…`), their tokens and sessions, and the audit log: the owner's. */
export type PersonJson = ReturnType<typeof personToJson>;
export type TokenJson = ReturnType<typeof tokenToJson>;
export type SessionJson = ReturnType<typeof sessionToJson>;
export type AuditEntryJson = ReturnType<typeof auditEntryToJson>;

/** The contract's error shape; validation errors name their fields. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: { fields?: FieldError[] } & Record<string, unknown> };
}
export interface FieldError { field: string; message: string }
