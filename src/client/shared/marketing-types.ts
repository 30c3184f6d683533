/**
 * The JSON of the contacts, audiences and broadcasts API as the console reads it: the server's
 * own types (imported, never copied). Type-only: nothing here reaches the browser.
 */
import type { Audience, Estimate } from '../../audiences/audience.ts';
import type { broadcastJson, broadcastStats, QuotaLine, RecipientJson } from '../../broadcasts/broadcasts.ts';
import type { listContacts } from '../../contacts/contact-directory.ts';
import type { ContactImportResult } from '../../contacts/contact-import.ts';
import type { SyncView } from '../../contacts/follower-sync.ts';
import type { Json } from './api-types.ts';

/** `GET /api/v1/contacts`. */
export type ContactsPage = Json<Awaited<ReturnType<typeof listContacts>>>;
export type ContactJson = ContactsPage['contacts'][number];
/** `POST /api/v1/contacts/import`. */
export type ContactImportJson = Json<ContactImportResult>;
/** `POST /api/v1/contacts/sync` and `GET /api/v1/imports/:id` for a sync. */
export type SyncJson = Json<SyncView>;
/** The audience object, as sent. */
export type AudienceJson = Json<Audience>;
/** `POST /api/v1/audiences/estimate`. */
export type EstimateJson = Json<Estimate>;
/** `POST /api/v1/broadcasts/preview`. */
export type QuotaLineJson = Json<QuotaLine>;
/** `GET /api/v1/broadcasts/:id`. */
export type BroadcastJson = Json<Awaited<ReturnType<typeof broadcastJson>>>;
export interface BroadcastList { broadcasts: BroadcastJson[] }
/** `GET /api/v1/broadcasts/:id/stats`. */
export type BroadcastStatsJson = Json<Awaited<ReturnType<typeof broadcastStats>>>;
/** `GET /api/v1/broadcasts/:id/recipients`. */
export interface RecipientsPage { recipients: Array<Json<RecipientJson>>; next: string | null }
