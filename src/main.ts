import 'dotenv/config';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirInUseError } from './db/embedded.ts';
import { createLogger } from './lib/logger.ts';
import { startService } from './service.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config.LOG_LEVEL);

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
  console.log(`chatcoupon is running at ${service.url} (public base URL ${url})`);
  if (service.auth.generatedAdminToken) {
    console.log(`Generated admin token (shown only this once; set ADMIN_TOKEN to choose your own):\n  ${service.auth.generatedAdminToken}`);
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
  if (err instanceof DataDirInUseError) {
    console.error(err.message);
    process.exit(1);
  }
  log.fatal({ err }, 'start-up failed');
  process.exit(1);
}
