import { z } from 'zod';
import { itemJobPolicy, jobContract, minuteSweepPolicy } from './contract.ts';

/**
 * Every job's contract (name, payload, policy). A leaf module: senders import it, and the
 * catalog (catalog.ts) pairs each contract with its handler.
 */

/** Persists coupon expiry every minute (coupons/expiry.ts). */
export const expirySweep = jobContract({
  name: 'coupons.expiry-sweep',
  payload: z.object({}).passthrough(),
  ...minuteSweepPolicy,
});

/** Loads a large CSV pack in the background; the upload answered 202 with the import to poll. */
export const serialImport = jobContract({
  name: 'serial-import',
  payload: z.object({ importId: z.string().min(1) }),
  // A crash mid-load rolls the transaction back and leaves the import running: a retry redoes it.
  retryLimit: 2,
  retryDelaySeconds: 5,
  retryBackoff: true,
  expireInSeconds: 900,
  batchSize: 1,
});

/** Wakes a flow run waiting at a `wait` step. */
export const flowsResume = jobContract({
  name: 'flows.resume',
  payload: z.object({ runId: z.string(), stepPath: z.string() }),
  ...itemJobPolicy,
});

/** Resumes runs whose wake-up is overdue (a resume sent before its transaction committed). */
export const flowsResumeDue = jobContract({
  name: 'flows.resume-due',
  payload: z.object({}).passthrough(),
  ...minuteSweepPolicy,
  retryLimit: 2,
  retryBackoff: false,
});

/** A coupon event deferred because its contact was busy in another transaction. */
export const flowsCouponEvent = jobContract({
  name: 'flows.coupon-event',
  payload: z.object({ couponId: z.string(), event: z.enum(['redeemed', 'expiring', 'expired']), fallbackReminder: z.boolean().default(false) }),
  ...itemJobPolicy,
});

/** Reminds contacts of coupons close to their deadline, every minute. */
export const couponsRemind = jobContract({
  name: 'coupons.remind',
  payload: z.object({}).passthrough(),
  ...minuteSweepPolicy,
});

/** Re-issues a flow coupon released after a failed delivery, once. */
export const couponsResend = jobContract({
  name: 'coupons.resend',
  payload: z.object({ couponId: z.string() }),
  ...itemJobPolicy,
  retryDelaySeconds: 30,
  batchSize: 5,
});
