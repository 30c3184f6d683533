import type { Clock } from './clock.ts';

/**
 * Notices that a platform is down and stops hammering it: after `threshold` failures in a row the
 * circuit opens for `coolDownMs`; then one call goes through as a probe, and its success closes
 * the circuit again. The clock is passed in, so tests need not wait.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: Date | null = null;
  private probing = false;
  /** When the current trouble began (the first failure of the run), for "down since …". */
  troubleSince: Date | null = null;

  private readonly clock: Clock;
  private readonly opts: { threshold: number; coolDownMs: number };

  constructor(clock: Clock, opts: { threshold: number; coolDownMs: number } = { threshold: 5, coolDownMs: 30_000 }) {
    this.clock = clock;
    this.opts = opts;
  }

  /** Whether a call may go out now (false while open; one probe once the cool-down passed). */
  allow(): boolean {
    if (!this.openedAt) return true;
    if (this.probing) return false;
    if (this.clock().getTime() - this.openedAt.getTime() < this.opts.coolDownMs) return false;
    this.probing = true;
    return true;
  }

  /** When the next call may go out, while open. */
  nextTryAt(): Date | null {
    return this.openedAt ? new Date(this.openedAt.getTime() + this.opts.coolDownMs) : null;
  }

  get open(): boolean {
    return this.openedAt !== null;
  }

  /** The probe let through found nothing to do: the next call may probe again. */
  unusedProbe(): void {
    this.probing = false;
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probing = false;
    this.troubleSince = null;
  }

  failed(): void {
    const now = this.clock();
    this.troubleSince ??= now;
    this.failures++;
    if (this.probing || this.failures >= this.opts.threshold) this.openedAt = now;
    this.probing = false;
  }
}
