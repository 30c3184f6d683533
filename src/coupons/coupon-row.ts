import { sql } from 'drizzle-orm';
import type { CouponStatus } from './rules.ts';

/** A coupon as services read it (raw SQL rows, camel-cased). */
export interface CouponRow {
  id: string;
  campaignId: string;
  contactId: string;
  conversationId: string | null;
  token: string;
  status: CouponStatus;
  deliveryStatus: 'pending' | 'sent' | 'failed';
  deliveryError: string | null;
  source: 'api' | 'agent' | 'flow' | 'broadcast';
  issuedAt: Date;
  sentAt: Date | null;
  openedAt: Date | null;
  redeemedAt: Date | null;
  /** The POS's own time of verification, stored as given. */
  verifiedAt: Date | null;
  /** When we received the verification. */
  verifiedReceivedAt: Date | null;
  verifiedBy: string | null;
  /** The order's total and currency, and the store, as the POS reported them. */
  amount: number | null;
  currency: string | null;
  storeId: string | null;
  expiresAt: Date | null;
  serialCode: string | null;
}

export const couponColumns = sql.raw(`id, campaign_id AS "campaignId", contact_id AS "contactId", conversation_id AS "conversationId",
  token, status, delivery_status AS "deliveryStatus", delivery_error AS "deliveryError", source, issued_at AS "issuedAt",
  sent_at AS "sentAt", opened_at AS "openedAt", redeemed_at AS "redeemedAt", verified_at AS "verifiedAt",
  verified_received_at AS "verifiedReceivedAt", verified_by AS "verifiedBy", amount::float8 AS amount, currency, store_id AS "storeId",
  expires_at AS "expiresAt", serial_code AS "serialCode"`);
