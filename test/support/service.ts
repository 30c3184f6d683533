import { pino } from 'pino';
import type { ChannelPlugin } from '../../adapters/types.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Clock } from '../../src/lib/clock.ts';
import type { SendFn } from '../../src/delivery/delivery-worker.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase } from './db.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const POS_TOKEN = 'test-pos-token-0123456789abc';

export interface TestService extends Service {
  config: Config;
  /** Bearer header for the admin API. */
  admin: { Authorization: string };
  pos: { Authorization: string };
}

/**
 * The whole service on a fresh database, listening on a free port. `env` adds or overrides
 * variables; workers are off unless asked for, so tests drive jobs and delivery themselves.
 */
export async function startTestService(opts: {
  env?: Record<string, string | undefined>;
  workers?: boolean;
  clock?: Clock;
  send?: SendFn;
  /** The channel plug-ins (default: the registry's). */
  channels?: readonly ChannelPlugin[];
} = {}): Promise<TestService> {
  const database = await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: database.url,
    ADMIN_TOKEN,
    POS_TOKEN,
    PUBLIC_BASE_URL: 'http://coupons.test',
    LOG_LEVEL: 'silent',
    ...opts.env,
  }, ...(opts.channels ? [opts.channels] : []));
  const service = await startService(config, {
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    workers: opts.workers ?? false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.send ? { send: opts.send } : {}),
    ...(opts.channels ? { channels: opts.channels } : {}),
  });
  return {
    ...service,
    config,
    admin: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    pos: { Authorization: `Bearer ${POS_TOKEN}` },
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}

/** A new person of that role, through the people API; answers its id and bearer header. */
export async function personOf(svc: TestService, role: 'owner' | 'marketer' | 'agent' | 'staff', name = `${role}-${Math.random().toString(36).slice(2, 8)}`) {
  const res = await fetch(`${svc.url}/api/v1/people`, {
    method: 'POST',
    headers: { ...svc.admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, role }),
  });
  if (res.status !== 201) throw new Error(`adding a ${role} failed: ${res.status} ${await res.text()}`);
  const body = await res.json() as { id: string; token: string };
  return { id: body.id, name, header: { Authorization: `Bearer ${body.token}` } };
}
