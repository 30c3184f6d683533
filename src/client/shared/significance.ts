/**
 * Whether one group redeems more often than another by more than chance would explain: the
 * two-proportion z-test with a pooled proportion (the textbook test for "did variant A convert
 * better than variant B"). Pure arithmetic, so the console and the tests run the same code.
 */

export interface Proportion {
  /** Those who did it (redeemed). */
  successes: number;
  /** Those who could have (sent the card, or in the group). */
  trials: number;
}

export interface Comparison {
  rateA: number;
  rateB: number;
  /** rateA − rateB. */
  difference: number;
  /** The z statistic; null when it cannot be computed (an empty group, or no variation at all). */
  z: number | null;
  /** Two-sided p-value; null with `z`. */
  pValue: number | null;
  /**
   * Whether the normal approximation holds: at least 5 expected successes and 5 expected failures
   * in each group. Below that the test says little, and the console says so instead of a verdict.
   */
  enoughData: boolean;
  /** p below alpha with enough data: the difference is larger than chance. */
  significant: boolean;
}

/** The standard normal distribution function, from erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Compares two proportions; `alpha` is the false-alarm rate accepted (0.05: one time in twenty). */
export function compareProportions(a: Proportion, b: Proportion, alpha = 0.05): Comparison {
  const rateA = a.trials > 0 ? a.successes / a.trials : 0;
  const rateB = b.trials > 0 ? b.successes / b.trials : 0;
  const base = { rateA, rateB, difference: rateA - rateB };
  if (a.trials <= 0 || b.trials <= 0) return { ...base, z: null, pValue: null, enoughData: false, significant: false };
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const enoughData = [a.trials, b.trials].every((n) => n * pooled >= 5 && n * (1 - pooled) >= 5);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return { ...base, z: null, pValue: null, enoughData, significant: false };
  const z = (rateA - rateB) / se;
  const pValue = Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
  return { ...base, z, pValue, enoughData, significant: enoughData && pValue < alpha };
}

export interface VariantOutcome {
  key: string;
  /** Those the rate is out of (cards sent for a variant). */
  trials: number;
  redeemed: number;
}

export interface Verdict {
  /** The variant that redeems most often (null without variants that sent anything). */
  best: string | null;
  /** One sentence per comparison, for the console. */
  notes: string[];
}

const pctText = (r: number) => `${(Math.round(r * 1000) / 10).toFixed(1)}%`;
const pText = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/**
 * Which variant redeems better, in words that do not overclaim: the best variant is compared with
 * each other one. With more than two variants the threshold is divided by the number of
 * comparisons (Bonferroni), so looking at several pairs does not make a fluke look real.
 */
export function variantVerdict(variants: VariantOutcome[], alpha = 0.05): Verdict {
  const sending = variants.filter((v) => v.trials > 0);
  if (sending.length === 0) return { best: null, notes: ['No cards have been sent yet, so there is nothing to compare.'] };
  const rate = (v: VariantOutcome) => v.redeemed / v.trials;
  const sorted = [...sending].sort((x, y) => rate(y) - rate(x) || y.trials - x.trials);
  const best = sorted[0]!;
  if (sorted.length === 1) return { best: best.key, notes: [`Only variant ${best.key} has sent cards; there is nothing to compare it with.`] };
  const others = sorted.slice(1);
  const level = alpha / others.length;
  const notes = others.map((o) => {
    const c = compareProportions({ successes: best.redeemed, trials: best.trials }, { successes: o.redeemed, trials: o.trials }, level);
    const rates = `${best.key} ${pctText(c.rateA)} vs ${o.key} ${pctText(c.rateB)} redeemed of sent`;
    if (!c.enoughData) return `${rates}: too few redemptions yet to tell whether the difference is real.`;
    if (c.pValue === null) return `${rates}: no difference.`;
    if (c.significant) return `${rates}: ${best.key} redeems better, and the difference is larger than chance (${pText(c.pValue)}).`;
    return `${rates}: the difference could be chance (${pText(c.pValue)}); keep both or send more before choosing.`;
  });
  return { best: best.key, notes };
}
