import { sql, type SQL } from 'drizzle-orm';
import {
  expirableStatuses, hiddenFromCustomerStatuses, openableStatuses, remindableStatuses, statusListSql, type CouponStatus,
} from './statuses.ts';

/**
 * The coupon rules of `rules.ts` as SQL fragments, built from the status sets of `statuses.ts`:
 * no query writes a status list of its own.
 */
const inSet = (column: SQL, statuses: readonly CouponStatus[]) => sql`${column} IN (${sql.raw(statusListSql(statuses))})`;

/** `alias.status` (or `status` without an alias). */
const statusOf = (alias?: string) => sql.raw(alias ? `${alias}.status` : 'status');
const expiresAtOf = (alias?: string) => sql.raw(alias ? `${alias}.expires_at` : 'expires_at');

/** The coupon is in a status a deadline applies to (the predicate of `coupons_expiry_idx`). */
export const isExpirableSql = (alias?: string) => inSet(statusOf(alias), expirableStatuses);

/** Past its deadline and still in a status a deadline applies to: what the sweep marks expired. */
export const isPastDeadlineSql = (now: Date, alias?: string) => sql`${isExpirableSql(alias)} AND ${expiresAtOf(alias)} <= ${now}`;

/** The effective status, the same rule as `effectiveStatus`. */
export const effectiveStatusSql = (now: Date, alias?: string) =>
  sql`CASE WHEN ${isPastDeadlineSql(now, alias)} THEN 'expired' ELSE ${statusOf(alias)} END`;

/** Opening the page counts for this coupon. */
export const isOpenableSql = (alias?: string) => inSet(statusOf(alias), openableStatuses);

/** The coupon is listed to its customer ("my coupons"). */
export const isShownToCustomerSql = (alias?: string) => sql`NOT ${inSet(statusOf(alias), hiddenFromCustomerStatuses)}`;

/** The coupon gets a reminder before its deadline. */
export const isRemindableSql = (alias?: string) => inSet(statusOf(alias), remindableStatuses);
