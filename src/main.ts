import 'dotenv/config';
import cluster from 'node:cluster';
import { runPrimary, type ReadyMessage } from './cluster.ts';
import { channelPlugins } from '../adapters/index.ts';
import { loadConfigOrExit } from './config.ts';
import { DataDirInUseError, DataDirUnreachableError } from './db/embedded.ts';
import { PortUnavailableError } from './http/listen.ts';
import { createLogger } from './lib/logger.ts';
import { startupBanner } from './banner.ts';
import { startService } from './service.ts';

const config = loadConfigOrExit();
const log = createLogger(config.LOG_LEVEL, undefined, channelPlugins.flatMap((p) => p.secretHeaders));

if (config.workers > 1 && cluster.isPrimary) {
  try {
    process.exit(await runPrimary(config, log));
  } catch (err) {
    if (err instanceof DataDirInUseError || err instanceof DataDirUnreachableError) {
      console.error(err.message);
      process.exit(1);
    }
    log.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

try {
  const service = await startService(config, {
    log,
    // Exit non-zero so the process supervisor (systemd, Docker, …) starts us afresh.
    onDatabaseLost: () => {
      console.error('The embedded PostgreSQL stopped and could not be restarted; exiting.');
      process.exit(1);
    },
  });
  const url = config.PUBLIC_BASE_URL;
  log.info({ url }, 'chatcoupon is running');
  const banner = startupBanner({
    config,
    listeningUrl: service.url,
    auth: service.auth,
    enabledChannels: Object.keys(service.ctx.channels),
    refusedFlows: service.ctx.flows?.listing().errors ?? [],
  });
  if (cluster.isWorker) {
    // One of WORKERS processes: the primary prints one banner for all.
    const ready: ReadyMessage = { type: 'chatcoupon:ready', url: service.url, banner, generatedAdminToken: service.auth.adminTokenFrom === 'generated' };
    process.send?.(ready);
  } else {
    console.log(banner.join('\n'));
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    service.stop().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  // Refusals an operator can act on are one plain line, printed whole (the log would cut paths that look like tokens).
  if (err instanceof DataDirInUseError || err instanceof DataDirUnreachableError || err instanceof PortUnavailableError) {
    console.error(err.message);
    process.exit(1);
  }
  log.fatal({ err }, 'start-up failed');
  process.exit(1);
}
