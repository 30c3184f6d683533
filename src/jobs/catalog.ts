import type { JobDefinition } from './define.ts';

/** The job catalog: every background job the service runs. */
export const jobCatalog: JobDefinition[] = [];
