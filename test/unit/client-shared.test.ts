import { describe, expect, it } from '@jest/globals';
import { compareProportions, normalCdf, variantVerdict } from '../../src/client/shared/significance.ts';
import { isoToZoned, isTimeZone, zonedText, zonedToIso } from '../../src/client/shared/zoned-time.ts';

describe('two-proportion z-test', () => {
  it('normalCdf matches the standard normal table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
    expect(normalCdf(3)).toBeCloseTo(0.9986501, 6);
  });

  it('computes z and the two-sided p-value with the pooled proportion', () => {
    // 20% of 1,000 against 15% of 1,000: pooled 17.5%, SE √(.175·.825·2/1000) = 0.016993.
    const c = compareProportions({ successes: 200, trials: 1000 }, { successes: 150, trials: 1000 });
    expect(c.rateA).toBe(0.2);
    expect(c.rateB).toBe(0.15);
    expect(c.difference).toBeCloseTo(0.05, 10);
    expect(c.z).toBeCloseTo(2.9424, 3);
    expect(c.pValue).toBeCloseTo(0.00326, 4);
    expect(c.enoughData).toBe(true);
    expect(c.significant).toBe(true);
    // The same rates on a tenth of the people: z shrinks by √10 and chance explains it.
    const small = compareProportions({ successes: 20, trials: 100 }, { successes: 15, trials: 100 });
    expect(small.z).toBeCloseTo(2.9424 / Math.sqrt(10), 3);
    expect(small.pValue).toBeGreaterThan(0.05);
    expect(small.significant).toBe(false);
    // Symmetric: swapping the groups flips the sign only.
    const swapped = compareProportions({ successes: 150, trials: 1000 }, { successes: 200, trials: 1000 });
    expect(swapped.z).toBeCloseTo(-c.z!, 10);
    expect(swapped.pValue).toBeCloseTo(c.pValue!, 10);
  });

  it('says nothing it cannot: empty groups, no variation, too few redemptions', () => {
    expect(compareProportions({ successes: 0, trials: 0 }, { successes: 5, trials: 10 })).toMatchObject({ z: null, pValue: null, significant: false, enoughData: false });
    expect(compareProportions({ successes: 0, trials: 500 }, { successes: 0, trials: 500 })).toMatchObject({ z: null, pValue: null, significant: false });
    // 3 of 10 against 0 of 10 looks large but rests on three redemptions.
    const few = compareProportions({ successes: 3, trials: 10 }, { successes: 0, trials: 10 });
    expect(few.enoughData).toBe(false);
    expect(few.significant).toBe(false);
  });

  it('names the better variant and whether the difference is larger than chance', () => {
    const clear = variantVerdict([{ key: 'a', trials: 1000, redeemed: 150 }, { key: 'b', trials: 1000, redeemed: 200 }]);
    expect(clear.best).toBe('b');
    expect(clear.notes).toEqual(['b 20.0% vs a 15.0% redeemed of sent: b redeems better, and the difference is larger than chance (p = 0.003).']);

    const unclear = variantVerdict([{ key: 'a', trials: 100, redeemed: 20 }, { key: 'b', trials: 100, redeemed: 15 }]);
    expect(unclear.best).toBe('a');
    expect(unclear.notes[0]).toMatch(/^a 20\.0% vs b 15\.0% redeemed of sent: the difference could be chance \(p = 0\.3\d\d\)/);

    expect(variantVerdict([{ key: 'a', trials: 8, redeemed: 2 }, { key: 'b', trials: 8, redeemed: 0 }]).notes[0]).toContain('too few redemptions yet');
    expect(variantVerdict([{ key: 'a', trials: 0, redeemed: 0 }]).notes[0]).toContain('No cards have been sent yet');
    expect(variantVerdict([{ key: 'a', trials: 10, redeemed: 1 }, { key: 'b', trials: 0, redeemed: 0 }]).notes[0]).toContain('Only variant a');
  });

  it('divides the threshold among the comparisons when there are more than two variants', () => {
    // b against a alone: p ≈ 0.036, under 0.05. With three variants the threshold is 0.025 per
    // comparison and the same counts are no longer called real.
    const two = variantVerdict([{ key: 'a', trials: 1000, redeemed: 150 }, { key: 'b', trials: 1000, redeemed: 185 }]);
    expect(two.notes[0]).toContain('larger than chance');
    const three = variantVerdict([{ key: 'a', trials: 1000, redeemed: 150 }, { key: 'b', trials: 1000, redeemed: 185 }, { key: 'c', trials: 1000, redeemed: 170 }]);
    expect(three.notes).toHaveLength(2);
    expect(three.notes[0]).toMatch(/^b 18\.5% vs c 17\.0%.*could be chance/);
    expect(three.notes[1]).toMatch(/^b 18\.5% vs a 15\.0%.*could be chance \(p = 0\.036\)/);
  });
});

describe('wall clock in a named time zone', () => {
  it('reads a datetime-local value in the campaign zone, whatever zone the machine is in', () => {
    expect(zonedToIso('2026-12-24T10:00', 'Asia/Tokyo')).toBe('2026-12-24T01:00:00.000Z');
    expect(zonedToIso('2026-12-24T10:00', 'Asia/Bangkok')).toBe('2026-12-24T03:00:00.000Z');
    expect(zonedToIso('2026-12-24T10:00', 'UTC')).toBe('2026-12-24T10:00:00.000Z');
    expect(zonedToIso('2026-07-01T09:30', 'America/New_York')).toBe('2026-07-01T13:30:00.000Z');
    expect(zonedToIso('not a date', 'UTC')).toBeNull();
    expect(zonedToIso('', 'UTC')).toBeNull();
  });

  it('handles the clock changes: after a gap, the first of an overlap', () => {
    // 2026-03-08 02:30 does not exist in New York (02:00 → 03:00): it becomes 03:30 EDT.
    expect(zonedToIso('2026-03-08T02:30', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
    // 2026-11-01 01:30 happens twice in New York: the first (EDT).
    expect(zonedToIso('2026-11-01T01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
  });

  it('shows an instant on the zone\'s wall clock and round-trips', () => {
    expect(isoToZoned('2026-12-24T01:00:00Z', 'Asia/Tokyo')).toBe('2026-12-24T10:00');
    expect(isoToZoned('2026-12-31T23:30:00Z', 'Asia/Taipei')).toBe('2027-01-01T07:30');
    expect(zonedText('2026-12-24T01:00:00Z', 'Asia/Tokyo')).toBe('2026-12-24 10:00 (Asia/Tokyo)');
    for (const zone of ['Asia/Tokyo', 'Asia/Bangkok', 'Europe/Paris', 'America/New_York']) {
      expect(zonedToIso(isoToZoned('2026-10-25T08:15:00Z', zone), zone)).toBe('2026-10-25T08:15:00.000Z');
    }
    expect(isTimeZone('Asia/Tokyo')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
