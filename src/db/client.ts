import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg, { type QueryResult } from 'pg';
import { sql, type SQLWrapper } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
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
 * drizzle asks the driver to return some types of raw `sql` queries as text (its typed queries
 * map them itself): timestamps, dates, intervals and their arrays. These are those types' ids.
 */
const textTypes = [1184, 1114, 1082, 1186, 1182, 1185, 1115, 1187, 1231];
const textTypeParsers = new Map(textTypes.map((oid) => [oid, pg.types.getTypeParser(oid) as (value: string) => unknown]));

/**
 * Runs a raw `sql` query and maps what drizzle left as text to what the row types say (a
 * timestamp is a Date), by each result column's type. Every raw query goes through here.
 */
export async function query(tx: Tx, statement: SQLWrapper): Promise<QueryResult<Record<string, unknown>>> {
  const result = await tx.execute(statement);
  const mapped: Array<[string, (value: string) => unknown]> = [];
  for (const field of result.fields ?? []) {
    const parse = textTypeParsers.get(field.dataTypeID);
    if (parse) mapped.push([field.name, parse]);
  }
  if (mapped.length > 0) {
    for (const row of result.rows) {
      for (const [name, parse] of mapped) {
        const value = row[name];
        if (typeof value === 'string') row[name] = parse(value);
      }
    }
  }
  return result;
}

/** Whether the database answers a trivial query (the health check). Throws when it does not. */
export async function ping(db: Tx): Promise<void> {
  await db.execute(sql`SELECT 1`);
}

export function createDb(connectionString: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString, max, application_name: 'chatcoupon' });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return drizzle(pool, { schema }) as Db;
}

/** A fixed 64-bit key, the same in every instance, so migrations run one instance at a time. */
const MIGRATION_LOCK = 7_281_036_402_518_377;

/**
 * Applies the migrations not applied yet. Several instances may start at once on one database:
 * each takes the same advisory lock on one connection first, so one applies them and the others
 * then find nothing left to do.
 */
export async function migrateDb(db: Db): Promise<void> {
  const client = await db.$client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migrate(drizzle(client, { schema }), { migrationsFolder });
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    client.release();
  } catch (err) {
    // Closing the connection drops the lock with it.
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
