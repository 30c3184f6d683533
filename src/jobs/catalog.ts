import { expirySweepJob } from '../coupons/expiry.ts';
import { serialImportJob } from '../coupons/serial-import.ts';
import { couponsRemindJob, couponsResendJob, flowsCouponEventJob, flowsResumeDueJob, flowsResumeJob } from '../flows/jobs.ts';
import type { JobDefinition } from './define.ts';

/** The job catalog: every background job the service runs. */
export const jobCatalog: JobDefinition[] = [
  expirySweepJob,
  serialImportJob,
  flowsResumeJob,
  flowsResumeDueJob,
  flowsCouponEventJob,
  couponsRemindJob,
  couponsResendJob,
];
