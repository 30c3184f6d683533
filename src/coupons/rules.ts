/**
 * The coupon rules as plain functions of their inputs and the time: deadlines, effective
 * status, sendability, the reward's wording. No I/O here; services call these.
 */
import { dateTimeFormat } from '../lib/intl.ts';
import {
  codeShownStatuses, expirableStatuses, redeemRefusalByStatus, verifiableStatus, verifyRefusalByStatus, type CouponStatus,
} from './statuses.ts';

export { couponStatuses, expirableStatuses, type CouponStatus } from './statuses.ts';
export type ExpiryMode = 'fromSend' | 'fromRedeem';

export interface ExpiryRule {
  expiryMode: ExpiryMode;
  expiryMinutes: number;
  redeemBy: Date | null;
}

export interface SendingPeriod {
  sendStart: Date;
  sendEnd: Date;
}

export interface RewardFields {
  rewardType: 'percent' | 'amount' | 'gift';
  rewardValue: number | null;
  rewardCurrency: string | null;
  rewardText: string | null;
  minSpend: number | null;
}

const addMinutes = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);

/**
 * The deadline a coupon carries once sent (`sentAt`: the confirmed send time, or the issue time
 * until delivery is confirmed). From sending: sent + N. From redemption: the campaign's redeem-by
 * date until it is redeemed (none when the campaign has none).
 */
export function deadlineAtSend(rule: ExpiryRule, sentAt: Date): Date | null {
  return rule.expiryMode === 'fromSend' ? addMinutes(sentAt, rule.expiryMinutes) : rule.redeemBy;
}

/** The deadline once redeemed: from redemption it restarts at redeemed + N; from sending it stays. */
export function deadlineAtRedeem(rule: ExpiryRule, current: Date | null, redeemedAt: Date): Date | null {
  return rule.expiryMode === 'fromRedeem' ? addMinutes(redeemedAt, rule.expiryMinutes) : current;
}

const isIn = (set: readonly CouponStatus[], status: CouponStatus) => set.includes(status);
const lookUp = <T extends string>(map: Partial<Record<CouponStatus, T>>, status: CouponStatus): T | undefined =>
  Object.hasOwn(map, status) ? map[status] : undefined;

/** The status a reader must see: past its deadline a coupon is expired, whether or not the sweep ran. */
export function effectiveStatus(c: { status: CouponStatus; expiresAt: Date | null }, now: Date): CouponStatus {
  if (c.expiresAt && c.expiresAt <= now && isIn(expirableStatuses, c.status)) return 'expired';
  return c.status;
}

/**
 * A campaign's state, set by a marketer: `active` sends; `paused` sends nothing for now; `ended`
 * sends nothing for good; `archived` is ended and left out of lists. Pages and redemptions of
 * coupons already sent work in every state.
 */
export const campaignStates = ['active', 'paused', 'ended', 'archived'] as const;
export type CampaignState = typeof campaignStates[number];

/** The states each state may move to (archived → ended takes a campaign out of the archive). */
const stateMoves: Record<CampaignState, readonly CampaignState[]> = {
  active: ['paused', 'ended', 'archived'],
  paused: ['active', 'ended', 'archived'],
  ended: ['archived'],
  archived: ['ended'],
};

/** Why a campaign cannot move from one state to another, or null when it can (or stays). */
export function stateMoveRefusal(from: CampaignState, to: CampaignState): string | null {
  if (from === to || stateMoves[from].includes(to)) return null;
  if (from === 'ended' || from === 'archived') return `an ${from} campaign cannot be ${to === 'active' ? 'sent again' : `made ${to}`}; duplicate it to run it again`;
  return `a campaign cannot move from ${from} to ${to}`;
}

export type SendingState = 'not_started' | 'ongoing' | 'ended';

export function sendingState(p: SendingPeriod, now: Date): SendingState {
  if (now < p.sendStart) return 'not_started';
  if (now > p.sendEnd) return 'ended';
  return 'ongoing';
}

const moneyFormat = (value: number, currency: string) => `${currency} ${Number.isInteger(value) ? value : value.toFixed(2)}`;

/** The reward in words, as a card and the coupon page show it: "10% off", "TWD 100 off", "Free drink". */
export function describeReward(r: RewardFields): string {
  let text: string;
  switch (r.rewardType) {
    case 'percent': text = `${r.rewardValue}% off`; break;
    case 'amount': text = `${moneyFormat(r.rewardValue ?? 0, r.rewardCurrency ?? '')} off`; break;
    case 'gift': text = r.rewardText ?? 'Gift'; break;
  }
  if (r.minSpend) text += ` (min. spend ${r.rewardCurrency ? moneyFormat(r.minSpend, r.rewardCurrency) : r.minSpend})`;
  return text;
}

/** A deadline as customers read it, in the shop's time zone: "2026-12-31 23:59 (Asia/Taipei)". */
export function formatDeadline(d: Date, timeZone: string): string {
  const parts = Object.fromEntries(dateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}${timeZone === 'UTC' ? ' UTC' : ` (${timeZone})`}`;
}

/** Characters CODE_39 can encode (without its extended mode). */
const code39 = /^[A-Z0-9 \-.$/+%]+$/;
/** CODE_128 encodes ASCII 0–127; QR encodes any text. */
// eslint-disable-next-line no-control-regex
const code128 = /^[\x00-\x7F]+$/;

export type BarcodeFormat = 'qr' | 'code39' | 'code128';

/** Why a serial cannot be encoded in a barcode format, or null when it can. */
export function unencodableReason(format: BarcodeFormat, code: string): string | null {
  switch (format) {
    case 'qr': return null;
    case 'code39': return code39.test(code) ? null : 'not encodable in CODE_39 (only A-Z, 0-9, space and -.$/+% are allowed)';
    case 'code128': return code128.test(code) ? null : 'not encodable in CODE_128 (only ASCII characters are allowed)';
  }
}

/**
 * What pressing Redeem does to a coupon in this state. The database function `chatcoupon_redeem`
 * applies the same rule from the same sets (statuses.ts), handed to it on every call.
 */
export type RedeemGate = 'show_code' | 'take_serial' | typeof redeemRefusalByStatus[keyof typeof redeemRefusalByStatus];

export function redeemGate(c: { status: CouponStatus; expiresAt: Date | null; serialCode: string | null }, now: Date): RedeemGate {
  // Pressing again shows the code taken the first time.
  if (isIn(codeShownStatuses, c.status) && c.serialCode) return 'show_code';
  return lookUp(redeemRefusalByStatus, effectiveStatus(c, now)) ?? 'take_serial';
}

/** Whether staff (or a POS) may verify a coupon at `at`, the time the POS says it verified. */
export type VerifyGate = 'verify' | 'verification_disabled' | 'not_redeemed'
  | typeof verifyRefusalByStatus[keyof typeof verifyRefusalByStatus];

export function verifyGate(
  c: { status: CouponStatus; expiresAt: Date | null; redeemedAt: Date | null }, verification: boolean, at: Date,
): VerifyGate {
  if (!verification) return 'verification_disabled';
  // The sweep may already have marked it expired; a redemption verified before its deadline still counts.
  const sweptInTime = c.status === 'expired' && c.redeemedAt !== null && c.expiresAt !== null && at < c.expiresAt;
  const status = effectiveStatus({ status: sweptInTime ? verifiableStatus : c.status, expiresAt: c.expiresAt }, at);
  if (status === verifiableStatus) return 'verify';
  return lookUp(verifyRefusalByStatus, status) ?? 'not_redeemed';
}
