/**
 * What the crash tests share: a test database, a LINE stand-in and a data directory, set up
 * before the file's tests and removed after, and the service started as a child process
 * (`node src/main.ts`) against them, so a test can kill it with SIGKILL and start it again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import type { SQL } from 'drizzle-orm';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { createDb, query, type Db } from '../../src/db/client.ts';
import { startChildService, stopChildServices, type ChildService } from './child-service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { PATIENCE_MS } from './patience.ts';

export interface CrashHarness {
  readonly db: Db;
  readonly standin: LineStandin;
  readonly dataDir: string;
  readonly lineSecret: string;
  /** Headers of an owner's API call (the ADMIN_TOKEN the child runs with). */
  readonly admin: Record<string, string>;
  /** Starts the service on the test database and resolves once it listens. */
  startChild(env?: Record<string, string>): Promise<ChildService & { url: string }>;
  /** Kills the child with SIGKILL and waits for it to be gone. */
  kill(child: ChildService): Promise<void>;
  /** The `n` column of a counting query. */
  count(statement: SQL): Promise<number>;
  /** Polls until `check` holds (the child works on its own schedule); fails after PATIENCE_MS. */
  waitFor(what: string, check: () => Promise<boolean>): Promise<void>;
}

export function crashHarness(name: string): CrashHarness {
  const adminToken = `${name}-admin-token-0123456789`;
  const lineSecret = `${name}-line-secret`;
  let database: TestDatabase;
  let db: Db;
  let standin: LineStandin;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 2);
    standin = await startLineStandin({ accessToken: `${name}-line-token` });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `chatcoupon-${name}-`));
    fs.mkdirSync(path.join(dataDir, 'flows'));
  });

  afterAll(async () => {
    await stopChildServices('SIGKILL');
    await db?.$client.end();
    await database?.drop();
    await standin?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const count = async (statement: SQL): Promise<number> => {
    const r = await query(db, statement);
    return Number((r.rows[0] as { n: number | string }).n);
  };

  return {
    get db() { return db; },
    get standin() { return standin; },
    get dataDir() { return dataDir; },
    lineSecret,
    admin: { Authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    startChild: async (env = {}) => await startChildService({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      FLOWS_DIR: path.join(dataDir, 'flows'),
      ADMIN_TOKEN: adminToken,
      PUBLIC_BASE_URL: 'http://coupons.test',
      LINE_CHANNEL_SECRET: lineSecret,
      LINE_CHANNEL_ACCESS_TOKEN: `${name}-line-token`,
      LINE_API_BASE_URL: standin.url,
      LOG_LEVEL: 'warn',
      ...env,
    }),
    async kill(child) {
      child.process.kill('SIGKILL');
      await child.exited;
    },
    count,
    async waitFor(what, check) {
      const deadline = Date.now() + PATIENCE_MS;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
