import type { ChannelAdapter, ChannelName } from '../adapters/types.ts';
import type { Config } from './config.ts';
import type { Db } from './db/client.ts';
import type { DeadLetterLister, JobSender } from './jobs/runner.ts';
import type { Clock } from './lib/clock.ts';
import type { Logger } from './lib/logger.ts';

/** What services need from the running service. Built once in main.ts (and by tests). */
export interface AppContext {
  config: Config;
  db: Db;
  log: Logger;
  clock: Clock;
  /** Sends jobs (payloads checked against their schema) and lists the dead-letter queue. */
  jobs: JobSender & DeadLetterLister;
  /** The enabled channels; a channel missing here is off. */
  channels: Partial<Record<ChannelName, ChannelAdapter>>;
  /** Wakes the delivery worker after outbox rows were committed (no-op when none runs). */
  notifyOutbox(): void;
}
