import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dotenv from 'dotenv';
import { PATIENCE_MS } from '../support/patience.ts';

/**
 * The README's quick start, run as written so it cannot drift: its shell block is cut at the
 * `# terminal N` lines and each part runs in bash as a person would paste it. Only the ports are
 * changed (3000 and 4010 become free ones) and the database goes to a temporary DATA_DIR, so the
 * run never touches the machine's own service or data.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shell blocks of the README's quick start section. */
export function quickStartBlocks(readme: string): string[] {
  const start = readme.indexOf('## Quick start without a real LINE account');
  if (start < 0) throw new Error('the README has no "Quick start without a real LINE account" section');
  const end = readme.indexOf('\n## ', start + 3);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The block cut into its parts: what comes before `# terminal 1`, then each terminal's lines. */
export function terminals(block: string): { setup: string; terminals: string[] } {
  const parts = block.split(/^# terminal \d+.*$/m);
  return { setup: parts[0]!, terminals: parts.slice(1) };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every variable the service reads, empty: nothing from the machine's own `.env` leaks into the run. */
function blankConfig(): Record<string, string> {
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const names = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
  return Object.fromEntries([...names, 'SIMULATE_URL', 'SIMULATE_LINE_PORT'].map((n) => [n, '']));
}

let work: string;
let env: Record<string, string>;
let ports: { service: number; line: number };
let service: ChildProcess | null = null;
const serviceLines: string[] = [];

function bash(script: string, opts: { cwd: string; input?: string }): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

/** The README's ports swapped for free ones. */
const withPorts = (text: string) => text.replaceAll('localhost:3000', `localhost:${ports.service}`).replaceAll('localhost:4010', `localhost:${ports.line}`);

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = quickStartBlocks(readme);
const quickStart = terminals(blocks[0] ?? '');

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-quickstart-'));
  // Run as root, the embedded PostgreSQL runs as the postgres user: it must reach DATA_DIR.
  fs.chmodSync(work, 0o755);
  ports = { service: await freePort(), line: await freePort() };
  env = { ...blankConfig(), PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir() };
});
afterAll(async () => {
  if (service?.pid && service.exitCode === null) {
    // 'close' comes once every process of the group let go of the output: the service itself
    // (under npm) has stopped, and its database with it.
    const closed = new Promise((resolve) => service!.once('close', resolve));
    process.kill(-service.pid, 'SIGTERM');
    await closed;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the README quick start', () => {
  it('is one shell block in three terminals after the settings', () => {
    expect(blocks).toHaveLength(1);
    expect(quickStart.terminals).toHaveLength(3);
  });

  it('runs as written: settings, service, campaign and serials, then a chat with a coupon that redeems', async () => {
    // The settings: a `.env` the service and the simulator both read.
    const setup = await bash(quickStart.setup, { cwd: work });
    expect(setup).toMatchObject({ code: 0 });
    const settings = dotenv.parse(fs.readFileSync(path.join(work, '.env')));
    expect(settings).toMatchObject({ PORT: '3000', LINE_API_BASE_URL: 'http://localhost:4010' });
    Object.assign(env, dotenv.parse(withPorts(fs.readFileSync(path.join(work, '.env'), 'utf8'))), {
      PORT: String(ports.service), DATA_DIR: path.join(work, 'data'),
    });

    // Terminal 1: the service, started by the README's own command in the project folder.
    service = spawn('bash', ['-c', quickStart.terminals[0]!], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const up = new Promise<void>((resolve, reject) => {
      const onLine = (line: string) => {
        serviceLines.push(line);
        if (line.includes(`chatcoupon is running at http://localhost:${ports.service}`)) resolve();
      };
      readline.createInterface({ input: service!.stdout! }).on('line', onLine);
      readline.createInterface({ input: service!.stderr! }).on('line', onLine);
      service!.once('exit', (code) => reject(new Error(`the service exited with ${code}:\n${serviceLines.join('\n')}`)));
    });
    await up;

    // Terminal 2: the campaign and its serials, each curl answering as the README says.
    const admin = await bash(withPorts(quickStart.terminals[1]!), { cwd: work });
    expect(admin.code).toBe(0);
    expect(admin.out).toContain('"slug":"welcome-10"');
    expect(admin.out).toContain('"loaded":3');

    // Terminal 3: the simulator, given a line as a person would type it; it exits once the bot is done.
    const chat = await bash(quickStart.terminals[2]!, { cwd: ROOT, input: 'my coupons\n' });
    expect(chat.code).toBe(0);
    expect(chat.out).toContain('bot> Welcome! Here is a gift.');
    const page = new RegExp(`\\[[^\\]]+\\] (http://localhost:${ports.service}/c/[A-Za-z0-9_-]+)`).exec(chat.out);
    expect(page).not.toBeNull();
    expect(chat.out).toMatch(new RegExp(`bot> Your coupons: http://localhost:${ports.service}/me/`));

    // "Open one in a browser and press Redeem": the first serial.
    const redeemed = await fetch(`${page![1]}/redeem`, { method: 'POST', headers: { Accept: 'application/json' } });
    expect(redeemed.status).toBe(200);
    expect(await redeemed.json()).toMatchObject({ status: 'redeemed', code: 'A100' });
  }, PATIENCE_MS);
});
