/**
 * `npm run flows:check [dir]`: validates every flow file offline and prints each error as
 * `file:line:column: message`; exits 1 on any. Campaign slugs are checked too when DATABASE_URL
 * (from the environment or .env) names a reachable database.
 */
import 'dotenv/config';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { formatError, parseFlowFile } from '../src/flows/loader.ts';
import { readFlowDir, validateFiles } from '../src/flows/registry.ts';

const dir = process.argv[2] ?? process.env.FLOWS_DIR ?? './flows';

async function campaignSlugs(url: string | undefined): Promise<{ slugs: Set<string> | null; note: string }> {
  if (!url) return { slugs: null, note: 'campaign slugs not checked: no DATABASE_URL' };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  const where = redact(url);
  try {
    await client.connect();
    const r = await client.query<{ slug: string }>('SELECT slug FROM campaigns');
    return { slugs: new Set(r.rows.map((x) => x.slug)), note: `campaign slugs checked against ${where}` };
  } catch (err) {
    return { slugs: null, note: `campaign slugs not checked: could not connect to ${where} (${(err as Error).message})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

// A mistyped directory must not pass as "no errors".
if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.log(`${dir}: no such directory`);
  process.exit(1);
}
const files = await readFlowDir(dir);
const parsed = files.map((f) => parseFlowFile(path.join(dir, f.file), f.file, f.text));
const { slugs, note } = await campaignSlugs(process.env.DATABASE_URL);
const states = validateFiles(parsed, new Map(), slugs);
let errors = 0;
let flows = 0;
for (const [, state] of states) {
  for (const e of state.errors) console.log(formatError(e));
  errors += state.errors.length;
  flows += state.flows.length;
}
console.error(note);
console.error(`${files.length} file(s), ${flows} flow(s) valid, ${errors} error(s)`);
process.exit(errors > 0 ? 1 : 0);
