import type { ChannelAdapter, ChannelName, ChannelPlugin } from '../adapters/types.ts';
import type { Config } from './config.ts';
import type { InboundEventHandler } from './contacts/inbound-hooks.ts';
import type { InboundEventStore } from './contacts/inbound-events.ts';
import type { CouponLifecycleHooks } from './coupons/lifecycle.ts';
import type { QuotaExhaustedHandler } from './delivery/delivery-hooks.ts';
import type { PlatformHealth } from './delivery/platform-health.ts';
import type { Db } from './db/client.ts';
import type { FlowRegistry } from './flows/registry.ts';
import type { DeadLetterLister, JobSender } from './jobs/contract.ts';
import type { Clock } from './lib/clock.ts';
import type { Logger } from './lib/logger.ts';

/**
 * The hooks lower layers offer to higher ones: typed fields with no-op defaults that the service
 * wiring (service.ts) fills in. A domain module calls its hook and never imports who listens.
 */
export interface AppHooks {
  /** After a coupon is redeemed, expires or is released (coupons/lifecycle.ts). */
  coupons: CouponLifecycleHooks;
  /** Answers each stored inbound event (contacts/inbound-hooks.ts). */
  inbound: InboundEventHandler;
  /** A broadcast's message met the platform's monthly limit (delivery/delivery-hooks.ts). */
  quotaExhausted: QuotaExhaustedHandler;
}

/** What services need from the running service. Built once in service.ts (and by tests through it). */
export interface AppContext {
  config: Config;
  db: Db;
  log: Logger;
  clock: Clock;
  /** Sends jobs (payloads checked against their schema) and lists the dead-letter queue. */
  jobs: JobSender & DeadLetterLister;
  /** Every channel the service knows (adapters/index.ts): its name, capabilities and variables. */
  channelPlugins: readonly ChannelPlugin[];
  /** The enabled channels; a channel missing here is off. */
  channels: Partial<Record<ChannelName, ChannelAdapter>>;
  /** Each platform's circuit breaker: calls to a platform that is down wait instead of piling up. */
  platforms: PlatformHealth;
  /** Wakes the delivery worker after outbox rows were committed (no-op when none runs). */
  notifyOutbox(): void;
  /** Where webhooks store events before they are acknowledged; the inbound worker listens to it. */
  inboundEvents: InboundEventStore;
  /** The flows that run now (FLOWS_DIR); null until the wiring starts them. */
  flows: FlowRegistry | null;
  hooks: AppHooks;
}
