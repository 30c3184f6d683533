import { waitingByChannel } from '../delivery/outbox.ts';
import type { AppContext } from '../context.ts';
import { tableSizes } from './retention.ts';

/**
 * The service's state for its operator and the consoles' banner: each chat platform (down when its
 * circuit breaker is open or messages wait for it; since when, the next try, how many wait), how
 * long finished rows are kept, and how big the tables are.
 */
export async function serviceStatus(ctx: AppContext) {
  const byChannel = await waitingByChannel(ctx.db);
  const platforms = ctx.channelPlugins.map((p) => p.name).filter((c) => ctx.channels[c]).map((channel) => {
    const breaker = ctx.platforms.of(channel);
    const w = byChannel.get(channel);
    return {
      channel,
      label: ctx.channels[channel]!.delivery.label,
      down: breaker.open || w !== undefined,
      since: (breaker.troubleSince ?? w?.since ?? null),
      nextTry: (breaker.nextTryAt() ?? w?.nextTry ?? null),
      waiting: w?.waiting ?? 0,
    };
  });
  return {
    platforms,
    retention: { days: ctx.config.RETENTION_DAYS, failedDays: ctx.config.RETENTION_FAILED_DAYS },
    tables: await tableSizes(ctx),
  };
}
