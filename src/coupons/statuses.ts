/**
 * The coupon status vocabulary and every status set a rule depends on, defined once.
 *
 * Everything that judges a coupon's status reads these: the pure rules in `rules.ts`, the SQL
 * built by `rules-sql.ts` (records filter, stats, expiry sweep, page opens, "my coupons",
 * reminders), the partial index on deadlines in `src/db/schema.ts` (its predicate is built
 * from `expirableStatuses`, so changing the set makes `npm run db:generate` write a migration),
 * and the database redeem function, which is handed `redeemRulesJson` on every call instead of
 * keeping its own lists (drizzle/0002_redeem_rules_from_caller.sql).
 *
 * A leaf module with no imports, so the schema can build its index from it.
 * test/integration/coupon-rules-parity.test.ts runs every state through every path.
 */
export const couponStatuses = ['pending', 'sent', 'opened', 'redeemed', 'verified', 'expired', 'void'] as const;
export type CouponStatus = typeof couponStatuses[number];

/** A coupon in one of these past its deadline is expired (whether or not the sweep has run). */
export const expirableStatuses = ['pending', 'sent', 'opened', 'redeemed'] as const satisfies readonly CouponStatus[];

/** Pressing Redeem again on one of these shows the code taken the first time (when one was taken). */
export const codeShownStatuses = ['redeemed', 'verified'] as const satisfies readonly CouponStatus[];

/**
 * What pressing Redeem answers for a coupon whose effective status is one of these; any other
 * status (sent, opened) takes a serial.
 */
export const redeemRefusalByStatus = {
  pending: 'not_yet',
  expired: 'expired',
  void: 'void',
} as const satisfies Partial<Record<CouponStatus, string>>;

/** What verifying answers for a coupon whose effective status is one of these; only `redeemed` is verified. */
export const verifyRefusalByStatus = {
  verified: 'already_verified',
  expired: 'expired',
  void: 'void',
} as const satisfies Partial<Record<CouponStatus, string>>;
/** The one status a coupon is verified from. */
export const verifiableStatus = 'redeemed' satisfies CouponStatus;

/** Opening the coupon page counts (the first time) only once the coupon reached the customer. */
export const openableStatuses = ['sent', 'opened', 'redeemed', 'verified'] as const satisfies readonly CouponStatus[];

/** Coupons still on their way, or withdrawn after a failed delivery, are not listed to the customer. */
export const hiddenFromCustomerStatuses = ['pending', 'void'] as const satisfies readonly CouponStatus[];

/** Reminded before their deadline: delivered and not yet used up (redeemed ones still have a code to show). */
export const remindableStatuses = ['sent', 'opened', 'redeemed'] as const satisfies readonly CouponStatus[];

/** A status set as an SQL list of literals, `'a', 'b'` (the names are fixed identifiers, checked here). */
export function statusListSql(statuses: readonly CouponStatus[]): string {
  for (const s of statuses) if (!(couponStatuses as readonly string[]).includes(s)) throw new Error(`unknown coupon status ${s}`);
  return statuses.map((s) => `'${s}'`).join(', ');
}

/** The redeem rules as the database function `chatcoupon_redeem` takes them (its `p_rules` argument). */
export const redeemRulesJson = JSON.stringify({
  expirable: expirableStatuses,
  codeShown: codeShownStatuses,
  refusals: redeemRefusalByStatus,
});
