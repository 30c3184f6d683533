import type { ChannelName } from '../../adapters/types.ts';
import { CircuitBreaker } from '../lib/circuit-breaker.ts';
import type { Clock } from '../lib/clock.ts';

/**
 * One circuit breaker per platform, shared by everything that calls it (deliveries, profile
 * fetches): when LINE is down, its calls stop and wait, and the other platforms never notice.
 */
export class PlatformHealth {
  private readonly breakers = new Map<ChannelName, CircuitBreaker>();
  private readonly clock: Clock;
  private readonly opts: { threshold: number; coolDownMs: number } | undefined;

  constructor(clock: Clock, opts?: { threshold: number; coolDownMs: number }) {
    this.clock = clock;
    this.opts = opts;
  }

  /** The channel's breaker, made on first use (channels come from the plug-ins). */
  of(channel: ChannelName): CircuitBreaker {
    let breaker = this.breakers.get(channel);
    if (!breaker) {
      breaker = new CircuitBreaker(this.clock, this.opts);
      this.breakers.set(channel, breaker);
    }
    return breaker;
  }
}
