import crypto from 'node:crypto';

/** Ids carry their type: `cmp_…`, `cpn_…`. */
export type IdPrefix = 'cmp' | 'cpn' | 'ctc' | 'cnv' | 'imp' | 'msg' | 'run' | 'psn' | 'tok' | 'ses' | 'brd' | 'whk';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${crypto.randomBytes(12).toString('base64url')}`;
}

/** An unguessable token for URLs a customer holds (coupon page, "my coupons"). */
export function newToken(): string {
  return crypto.randomBytes(18).toString('base64url');
}

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Constant-time comparison of two strings (by their SHA-256, so lengths may differ). */
export function safeEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(Buffer.from(sha256(a), 'hex'), Buffer.from(sha256(b), 'hex'));
}
