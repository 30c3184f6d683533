import { followerSyncJob, profileFetchJob } from '../contacts/follower-sync.ts';
import { sweepExpired } from '../coupons/expiry.ts';
import { runImportJob } from '../coupons/serial-import.ts';
import { remindExpiring, resendReleased, resumeDueRuns, resumeRun, runDeferredCouponEvent } from '../flows/jobs.ts';
import * as contracts from './contracts.ts';
import { defineJob, type JobDefinition } from './define.ts';

/* Each contract (contracts.ts) with its handler. */
export const expirySweepJob = defineJob(contracts.expirySweep, async (_p, ctx) => {
  await sweepExpired(ctx);
});
export const serialImportJob = defineJob(contracts.serialImport, async (p, ctx) => {
  await runImportJob(ctx, p.importId);
});
export const flowsResumeJob = defineJob(contracts.flowsResume, async (p, ctx) => {
  await resumeRun(ctx, p.runId, p.stepPath);
});
export const flowsResumeDueJob = defineJob(contracts.flowsResumeDue, async (_p, ctx) => {
  if (ctx.flows) await resumeDueRuns(ctx);
});
export const flowsCouponEventJob = defineJob(contracts.flowsCouponEvent, async (p, ctx) => {
  await runDeferredCouponEvent(ctx, p);
});
export const couponsRemindJob = defineJob(contracts.couponsRemind, async (_p, ctx) => {
  await remindExpiring(ctx);
});
export const couponsResendJob = defineJob(contracts.couponsResend, async (p, ctx) => {
  await resendReleased(ctx, p.couponId);
});

/** The job catalog: every background job the service runs. */
export const jobCatalog: JobDefinition[] = [
  expirySweepJob,
  serialImportJob,
  flowsResumeJob,
  flowsResumeDueJob,
  flowsCouponEventJob,
  couponsRemindJob,
  couponsResendJob,
  followerSyncJob,
  profileFetchJob,
];
