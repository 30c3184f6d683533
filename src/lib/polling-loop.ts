import type { Logger } from './logger.ts';

/**
 * Runs `drain` whenever woken (after a commit that left work for it) and at least every `pollMs`
 * (retries that came due, work left by another process or a crash). A wake during a run makes it
 * run again right after; `drain` keeps going while it finds work and returns when it runs dry.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly drain: (isStopped: () => boolean) => Promise<void>;
  private readonly opts: { name: string; log: Logger; pollMs: number };

  constructor(drain: (isStopped: () => boolean) => Promise<void>, opts: { name: string; log: Logger; pollMs: number }) {
    this.drain = drain;
    this.opts = opts;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
      }
    });
  }

  private async run(): Promise<void> {
    try {
      await this.drain(() => this.stopped);
    } catch (err) {
      this.opts.log.error({ err }, `${this.opts.name} error`);
    }
  }

  /** Stops polling and waits for the run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
