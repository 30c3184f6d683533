import crypto from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../../src/db/client.ts';
import { TEMPLATE_DB, withDatabase } from './global-setup.ts';

function adminUrl(): string {
  const url = process.env.CHATCOUPON_TEST_ADMIN_URL;
  if (!url) throw new Error('CHATCOUPON_TEST_ADMIN_URL is not set: run the tests through jest (npm test)');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database copied from the migrated template: one per test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl(), name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A database handle on a fresh test database (closing it drops the database). */
export async function freshDb(): Promise<{ db: Db; url: string; close(): Promise<void> }> {
  const t = await createTestDatabase();
  const db = createDb(t.url, 20);
  return {
    db,
    url: t.url,
    async close() {
      await db.$client.end();
      await t.drop();
    },
  };
}
