/**
 * `npm run user:invite -- --name "Amy" --role staff [--email amy@shop.example]`: adds the person
 * (or finds them by email or name) and prints a one-time sign-in link, good for 72 hours. With no
 * mail server configured, the link is printed here for the owner to pass on. Uses DATABASE_URL, or
 * else the embedded database under DATA_DIR (stop the service first, or set DATABASE_URL to the
 * URL it prints in DATA_DIR/database-url).
 */
import 'dotenv/config';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config.ts';
import { createDb, migrateDb } from '../src/db/client.ts';
import { DataDirInUseError, startEmbedded } from '../src/db/embedded.ts';
import { AppError } from '../src/lib/errors.ts';
import { systemClock } from '../src/lib/clock.ts';
import { findOrAddPerson } from '../src/people/people.ts';
import { roles, type Actor, type Role } from '../src/people/roles.ts';
import { createSignInLink } from '../src/people/sessions.ts';

const usage = `usage: npm run user:invite -- --name <name> --role <${roles.join('|')}> [--email <email>]`;
const cliActor: Actor = { id: 'cli', name: 'Command line (user:invite)', role: 'owner' };

let args;
try {
  args = parseArgs({ options: { name: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } }, strict: true }).values;
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
if (!args.name || !args.role) {
  console.error(usage);
  process.exit(2);
}
if (!(roles as readonly string[]).includes(args.role)) {
  console.error(`--role must be one of ${roles.join(', ')}\n${usage}`);
  process.exit(2);
}

const config = loadConfigOrExit();

let url = config.DATABASE_URL;
let stopEmbedded: (() => Promise<void>) | null = null;
if (!url) {
  const written = path.join(config.dataDir, 'database-url');
  if (fs.existsSync(written)) {
    url = fs.readFileSync(written, 'utf8').trim();
  } else {
    try {
      const embedded = await startEmbedded({ dataDir: config.dataDir });
      url = embedded.url;
      stopEmbedded = () => embedded.stop();
    } catch (err) {
      if (err instanceof DataDirInUseError) {
        console.error(`${err.message}\nStop the service, or set DATABASE_URL to its database, and run this again.`);
        process.exit(1);
      }
      throw err;
    }
  }
}

const db = createDb(url, 2);
let code = 0;
try {
  await migrateDb(db);
  const ctx = { db, clock: systemClock };
  const { person, added } = await findOrAddPerson(ctx, cliActor, {
    name: args.name, role: args.role as Role, ...(args.email ? { email: args.email } : {}),
  });
  const link = await createSignInLink(ctx, person.id);
  console.log(added ? `Added ${person.name} (${person.role}).` : `${person.name} (${person.role}) already has an account: here is a new sign-in link.`);
  console.log(`No mail server is configured: give ${person.name} this one-time sign-in link (good until ${link.expiresAt.toISOString()}):`);
  console.log(`  ${config.PUBLIC_BASE_URL}/login/link/${link.token}`);
} catch (err) {
  if (err instanceof AppError) {
    console.error(err.message);
    code = 1;
  } else {
    throw err;
  }
} finally {
  await db.$client.end();
  if (stopEmbedded) await stopEmbedded();
}
process.exit(code);
