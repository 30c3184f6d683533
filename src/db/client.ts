import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle, NodePgPreparedQuery, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema.ts';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A transaction handle, or the database itself: anything that can run queries. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

// Dates and bigints come back as the types the schema declares; numeric stays a string and
// drizzle maps it (numeric mode 'number').
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * drizzle asks the driver to return timestamps of raw `sql` queries as strings (its typed queries
 * map them itself). Our hot paths use raw SQL and read timestamps as Dates, so raw queries keep
 * the driver's standard parsers; typed queries are untouched.
 */
type RawConfigHolder = { rawQueryConfig?: { types?: unknown } };
const preparedProto = NodePgPreparedQuery.prototype as unknown as Record<'execute' | 'all', (...args: unknown[]) => unknown>;
for (const method of ['execute', 'all'] as const) {
  const original = preparedProto[method];
  preparedProto[method] = function (this: RawConfigHolder, ...args: unknown[]) {
    if (this.rawQueryConfig?.types) delete this.rawQueryConfig.types;
    return original.apply(this, args);
  };
}

export function createDb(connectionString: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString, max, application_name: 'chatcoupon' });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return drizzle(pool, { schema }) as Db;
}

export async function migrateDb(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder });
}
