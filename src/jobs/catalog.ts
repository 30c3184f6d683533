import { expirySweepJob } from '../coupons/expiry.ts';
import { serialImportJob } from '../coupons/serial-import.ts';
import { couponsRemindJob, couponsResendJob, flowsCouponEventJob, flowsResumeDueJob, flowsResumeJob } from '../flows/jobs.ts';
import type { JobDefinition } from './define.ts';

/** The job catalog: every background job the service runs. */
export const jobCatalog: JobDefinition[] = [
  expirySweepJob as unknown as JobDefinition,
  serialImportJob as unknown as JobDefinition,
  ...[flowsResumeJob, flowsResumeDueJob, flowsCouponEventJob, couponsRemindJob, couponsResendJob] as unknown as JobDefinition[],
];
