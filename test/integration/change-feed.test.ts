/**
 * What instances on one database tell each other, and start-ups that race: the change feed
 * (LISTEN/NOTIFY) reaches the other processes, not the sender, and after its connection was cut
 * it reconnects and calls every listener once (what was announced meanwhile is lost); two
 * instances migrating an empty database at once both start.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { ChangeFeed, type ChangeTopic } from '../../src/db/changes.ts';
import { createDb, migrateDb, type Db } from '../../src/db/client.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const log = createLogger('silent');
let database: TestDatabase;
let pool: pg.Pool;
const feeds: ChangeFeed[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
});

afterAll(async () => {
  for (const feed of feeds) await feed.stop();
  await pool?.end();
  await database?.drop();
});

function feed(): ChangeFeed {
  const f = new ChangeFeed(database.url, pool, log, { retryDelayMs: () => 10 });
  feeds.push(f);
  return f;
}

/** Resolves with the topic the next time `f` calls a listener of one of `topics`. */
function next(f: ChangeFeed, topics: ChangeTopic[]): Promise<ChangeTopic> {
  return new Promise((resolve) => {
    const offs = topics.map((t) => f.on(t, () => {
      for (const off of offs) off();
      resolve(t);
    }));
  });
}

it('tells the other processes, not the sender, and catches up after losing its connection', async () => {
  const a = feed();
  const b = feed();
  await a.start();
  await b.start();
  const heardByA: ChangeTopic[] = [];
  a.on('flows', () => heardByA.push('flows'));

  const heard = next(b, ['flows', 'admin-token']);
  await a.publish('flows');
  expect(await heard).toBe('flows');
  // A's own announcement came back to it and was ignored: a later one from B is the first it hears.
  const heardFromB = next(a, ['admin-token']);
  await b.publish('admin-token');
  expect(await heardFromB).toBe('admin-token');
  expect(heardByA).toEqual([]);

  // B's listening connection is cut: once back, it calls every listener, as if each topic had changed.
  const caughtUp = Promise.all([next(b, ['flows']), next(b, ['admin-token'])]);
  await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'chatcoupon-changes' AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
      AND backend_start = (SELECT max(backend_start) FROM pg_stat_activity WHERE application_name = 'chatcoupon-changes' AND datname = current_database())`);
  expect((await caughtUp).sort()).toEqual(['admin-token', 'flows']);
  // And it hears announcements again.
  const again = next(b, ['flows']);
  await a.publish('flows');
  expect(await again).toBe('flows');
});

it('lets instances that start together on an empty database migrate it once', async () => {
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const name = `${database.name}_empty`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(database.url);
  url.pathname = `/${name}`;
  const dbs: Db[] = [createDb(url.toString(), 2), createDb(url.toString(), 2), createDb(url.toString(), 2)];
  try {
    await Promise.all(dbs.map((d) => migrateDb(d)));
    const applied = await dbs[0]!.$client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    const journal = JSON.parse(fs.readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
    expect((applied.rows[0] as { n: number }).n).toBe(journal.entries.length);
  } finally {
    for (const d of dbs) await d.$client.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
