import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { createDb, migrateDb } from '../../src/db/client.ts';
import { startEmbedded } from '../../src/db/embedded.ts';
import { lineOpenApiAvailable, lineOpenApiFolder } from './line-schema.ts';

export const TEMPLATE_DB = 'chatcoupon_test_template';

/**
 * One real PostgreSQL for the whole run: the embedded server in a temporary directory, or the
 * server named by TEST_DATABASE_URL. A template database holds the migrated schema (ours and
 * pg-boss's), so each test file gets a fresh copy in milliseconds.
 */
export default async function globalSetup(): Promise<void> {
  if (!lineOpenApiAvailable()) {
    console.log(`LINE's OpenAPI files are not in ${lineOpenApiFolder} (set LINE_OPENAPI_DIR): LINE bodies are checked against the project's own schema only.`);
  }
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-test-'));
    fs.chmodSync(dir, 0o755);
    const server = await startEmbedded({ dataDir: dir, fast: true });
    adminUrl = server.url.replace(/\/chatcoupon$/, '/postgres');
    (globalThis as Record<string, unknown>).__chatcouponTestDb = { server, dir };
  }
  process.env.CHATCOUPON_TEST_ADMIN_URL = adminUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const templateUrl = withDatabase(adminUrl, TEMPLATE_DB);
  const db = createDb(templateUrl, 2);
  await migrateDb(db);
  await db.$client.end();
  const boss = new PgBoss({ connectionString: templateUrl, max: 2 });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, close: true });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
