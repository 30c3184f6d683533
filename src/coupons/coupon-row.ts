import type { SQL } from 'drizzle-orm';
import { selectList, type RowOf } from '../db/rows.ts';
import { coupons } from '../db/schema.ts';

const couponRowKeys = [
  'id', 'campaignId', 'contactId', 'conversationId', 'token', 'status', 'deliveryStatus', 'deliveryError', 'source',
  'issuedAt', 'sentAt', 'openedAt', 'redeemedAt', 'verifiedAt', 'verifiedReceivedAt', 'verifiedBy', 'amount', 'currency', 'storeId',
  'expiresAt', 'serialCode', 'test',
] as const;

/** A coupon as services read it (the schema's columns and types). */
export type CouponRow = Pick<RowOf<typeof coupons>, (typeof couponRowKeys)[number]>;

/** The select list of a CouponRow; `alias` qualifies the columns (e.g. `c`). */
export function couponColumnsOf(alias?: string): SQL {
  return selectList(coupons, couponRowKeys, alias);
}

export const couponColumns = couponColumnsOf();
