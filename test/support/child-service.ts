/**
 * `node src/main.ts` as a child process, as an operator runs it: for the tests that need a real
 * process (signals, SIGKILL, start-up refusals). The environment is only what `env` gives, with
 * PATH, HOME and PORT=0, so nothing from the test runner leaks into the service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PATIENCE_MS } from './patience.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildService {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Every output line so far, stdout and stderr interleaved. */
  lines: string[];
  /**
   * Resolves with the first output line matching `re`; rejects when the process exits first or,
   * given `timeoutMs`, when no line matched in time.
   */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

const children = new Set<ChildService>();

function spawnMain(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the service; stop it yourself or with `stopChildServices` in afterAll. */
export function spawnChildService(env: Record<string, string>): ChildService {
  const proc = spawnMain(env);
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: ChildService = {
    process: proc,
    exited,
    lines,
    waitForLine(re, timeoutMs) {
      for (const line of lines) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = timeoutMs === undefined ? undefined
          : setTimeout(() => reject(new Error(`the service did not print ${re} within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        } });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the service exited with ${code} before printing ${re}:\n${lines.join('\n')}`));
        });
      });
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  const onLine = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      const m = w.re.exec(line);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  readline.createInterface({ input: proc.stdout! }).on('line', onLine);
  readline.createInterface({ input: proc.stderr! }).on('line', onLine);
  return child;
}

/** Starts the service and resolves once it listens, with the URL it printed. */
export async function startChildService(env: Record<string, string>, timeoutMs = PATIENCE_MS): Promise<ChildService & { url: string }> {
  const child = spawnChildService(env);
  const url = (await child.waitForLine(/chatcoupon is running at (http:\/\/\S+)/, timeoutMs))[1]!;
  return Object.assign(child, { url });
}

/** Runs the service to its exit and answers its exit code and output, split by stream. */
export async function runChildServiceToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnMain(env);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/**
 * Stops every child service still running: `signal`, then SIGKILL after `graceMs`. SIGTERM is the
 * kind choice: a SIGKILLed service leaves its embedded PostgreSQL running.
 */
export async function stopChildServices(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
  for (const child of children) {
    child.process.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.process.kill('SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
  }
}
