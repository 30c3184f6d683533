import { sql } from 'drizzle-orm';
import { query, type Db } from '../db/client.ts';

/**
 * The stored hash of the generated admin token (app_settings `admin_token_sha256`). The candidate's
 * hash is stored when none is (or always, on `reset`); `generated` says whether it was, so the
 * candidate is printed once.
 */
export async function storeAdminTokenHash(db: Db, candidateHash: string, reset: boolean): Promise<{ hash: string; generated: boolean }> {
  const inserted = await query(db, reset
    ? sql`INSERT INTO app_settings (key, value) VALUES ('admin_token_sha256', ${candidateHash})
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING value`
    : sql`INSERT INTO app_settings (key, value) VALUES ('admin_token_sha256', ${candidateHash})
        ON CONFLICT (key) DO NOTHING RETURNING value`);
  const stored = await query(db, sql`SELECT value FROM app_settings WHERE key = 'admin_token_sha256'`);
  return { hash: (stored.rows[0] as { value: string }).value, generated: inserted.rows.length > 0 };
}

/** The stored hash of the generated admin token (re-read when another instance reset it). */
export async function readAdminTokenHash(db: Db): Promise<string> {
  const stored = await query(db, sql`SELECT value FROM app_settings WHERE key = 'admin_token_sha256'`);
  return (stored.rows[0] as { value: string }).value;
}
