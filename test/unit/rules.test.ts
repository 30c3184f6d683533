import { describe, expect, it } from '@jest/globals';
import {
  deadlineAtRedeem, deadlineAtSend, describeReward, effectiveStatus, formatDeadline, redeemGate, sendingState, unencodableReason,
  verifyGate, type CouponStatus,
} from '../../src/coupons/rules.ts';

const t = (s: string) => new Date(s);

describe('deadlines', () => {
  const fromSend = { expiryMode: 'fromSend' as const, expiryMinutes: 7 * 1440, redeemBy: null };
  const fromRedeem = { expiryMode: 'fromRedeem' as const, expiryMinutes: 120, redeemBy: t('2026-12-31T00:00:00Z') };

  it('from sending: sent time + N, unchanged by redemption', () => {
    const sent = t('2026-11-01T10:00:00Z');
    const d = deadlineAtSend(fromSend, sent);
    expect(d).toEqual(t('2026-11-08T10:00:00Z'));
    expect(deadlineAtRedeem(fromSend, d, t('2026-11-02T00:00:00Z'))).toEqual(d);
  });

  it('from redemption: redeem-by until redeemed, then redeemed time + N', () => {
    expect(deadlineAtSend(fromRedeem, t('2026-11-01T10:00:00Z'))).toEqual(t('2026-12-31T00:00:00Z'));
    expect(deadlineAtRedeem(fromRedeem, t('2026-12-31T00:00:00Z'), t('2026-11-05T09:30:00Z'))).toEqual(t('2026-11-05T11:30:00Z'));
    expect(deadlineAtSend({ ...fromRedeem, redeemBy: null }, t('2026-11-01T10:00:00Z'))).toBeNull();
  });
});

describe('effective status', () => {
  const deadline = t('2026-11-10T00:00:00Z');
  it('a coupon past its deadline reads as expired before any sweep', () => {
    for (const status of ['pending', 'sent', 'opened', 'redeemed'] as const) {
      expect(effectiveStatus({ status, expiresAt: deadline }, t('2026-11-10T00:00:00Z'))).toBe('expired');
      expect(effectiveStatus({ status, expiresAt: deadline }, t('2026-11-09T23:59:59Z'))).toBe(status);
    }
  });
  it('verified and void coupons keep their status; no deadline never expires', () => {
    expect(effectiveStatus({ status: 'verified', expiresAt: deadline }, t('2027-01-01T00:00:00Z'))).toBe('verified');
    expect(effectiveStatus({ status: 'void', expiresAt: deadline }, t('2027-01-01T00:00:00Z'))).toBe('void');
    expect(effectiveStatus({ status: 'sent', expiresAt: null }, t('2099-01-01T00:00:00Z'))).toBe('sent');
  });
});

describe('sending period', () => {
  const p = { sendStart: t('2026-11-01T00:00:00Z'), sendEnd: t('2026-11-30T00:00:00Z') };
  it('is not started, ongoing (inclusive) or ended', () => {
    expect(sendingState(p, t('2026-10-31T23:59:59Z'))).toBe('not_started');
    expect(sendingState(p, t('2026-11-01T00:00:00Z'))).toBe('ongoing');
    expect(sendingState(p, t('2026-11-30T00:00:00Z'))).toBe('ongoing');
    expect(sendingState(p, t('2026-11-30T00:00:01Z'))).toBe('ended');
  });
});

describe('barcode encodability', () => {
  it('CODE_39 takes only A-Z, 0-9, space and -.$/+%', () => {
    expect(unencodableReason('code39', 'ABC-123 $/+%.')).toBeNull();
    expect(unencodableReason('code39', 'abc')).toMatch(/CODE_39/);
    expect(unencodableReason('code39', 'FNA@5841')).toMatch(/CODE_39/);
  });
  it('CODE_128 takes ASCII, QR takes anything', () => {
    expect(unencodableReason('code128', 'FNA@5841')).toBeNull();
    expect(unencodableReason('code128', '優惠')).toMatch(/CODE_128/);
    expect(unencodableReason('qr', '優惠券')).toBeNull();
  });
});

describe('wording', () => {
  it('describes each reward type', () => {
    const base = { rewardValue: null, rewardCurrency: null, rewardText: null, minSpend: null };
    expect(describeReward({ ...base, rewardType: 'percent', rewardValue: 15 })).toBe('15% off');
    expect(describeReward({ ...base, rewardType: 'amount', rewardValue: 100, rewardCurrency: 'TWD', minSpend: 500 })).toBe('TWD 100 off (min. spend TWD 500)');
    expect(describeReward({ ...base, rewardType: 'gift', rewardText: 'Free drink' })).toBe('Free drink');
  });
  it('formats deadlines in the shop time zone', () => {
    expect(formatDeadline(t('2026-12-31T15:59:00Z'), 'Asia/Taipei')).toBe('2026-12-31 23:59 (Asia/Taipei)');
    expect(formatDeadline(t('2026-12-31T15:59:00Z'), 'UTC')).toBe('2026-12-31 15:59 UTC');
  });
});

describe('status transitions', () => {
  const deadline = t('2026-11-10T00:00:00Z');
  const before = t('2026-11-09T12:00:00Z');
  const after = t('2026-11-10T00:00:01Z');
  const coupon = (status: CouponStatus, extra: { serialCode?: string; redeemedAt?: Date } = {}) => ({
    status, expiresAt: deadline, serialCode: extra.serialCode ?? null, redeemedAt: extra.redeemedAt ?? null,
  });

  it('Redeem: sent and opened take a serial; pending is not yet; past the deadline, expired; void stays void', () => {
    expect(redeemGate(coupon('sent'), before)).toBe('take_serial');
    expect(redeemGate(coupon('opened'), before)).toBe('take_serial');
    expect(redeemGate(coupon('pending'), before)).toBe('not_yet');
    expect(redeemGate(coupon('sent'), after)).toBe('expired');
    expect(redeemGate(coupon('expired'), before)).toBe('expired');
    expect(redeemGate(coupon('void'), before)).toBe('void');
  });

  it('Redeem again shows the code taken the first time, even after verification or the deadline', () => {
    expect(redeemGate(coupon('redeemed', { serialCode: 'A1' }), before)).toBe('show_code');
    expect(redeemGate(coupon('verified', { serialCode: 'A1' }), after)).toBe('show_code');
    expect(redeemGate(coupon('redeemed', { serialCode: 'A1' }), after)).toBe('show_code');
  });

  it('Verify: only a redeemed coupon of a campaign with verification, judged at the POS time', () => {
    const redeemed = coupon('redeemed', { serialCode: 'A1', redeemedAt: t('2026-11-09T00:00:00Z') });
    expect(verifyGate(redeemed, true, before)).toBe('verify');
    expect(verifyGate(redeemed, false, before)).toBe('verification_disabled');
    expect(verifyGate(redeemed, true, after)).toBe('expired');
    expect(verifyGate(coupon('verified'), true, before)).toBe('already_verified');
    expect(verifyGate(coupon('sent'), true, before)).toBe('not_redeemed');
    expect(verifyGate(coupon('opened'), true, before)).toBe('not_redeemed');
    expect(verifyGate(coupon('void'), true, before)).toBe('void');
  });

  it('Verify: a coupon the sweep marked expired still verifies at a POS time before its deadline', () => {
    const swept = { status: 'expired' as const, expiresAt: deadline, redeemedAt: t('2026-11-09T00:00:00Z') };
    expect(verifyGate(swept, true, before)).toBe('verify');
    expect(verifyGate(swept, true, after)).toBe('expired');
    expect(verifyGate({ ...swept, redeemedAt: null }, true, before)).toBe('expired');
  });
});
