import { channelNames, type ChannelName } from '../../adapters/types.ts';
import { CircuitBreaker } from '../lib/circuit-breaker.ts';
import type { Clock } from '../lib/clock.ts';

/**
 * One circuit breaker per platform, shared by everything that calls it (deliveries, profile
 * fetches): when LINE is down, its calls stop and wait, and the other platforms never notice.
 */
export class PlatformHealth {
  private readonly breakers: Record<ChannelName, CircuitBreaker>;

  constructor(clock: Clock, opts?: { threshold: number; coolDownMs: number }) {
    this.breakers = Object.fromEntries(channelNames.map((c) => [c, new CircuitBreaker(clock, opts)])) as Record<ChannelName, CircuitBreaker>;
  }

  of(channel: ChannelName): CircuitBreaker {
    return this.breakers[channel];
  }
}
