/**
 * `npm start` as an operator runs it: `node src/main.ts` as a child process. A bad environment
 * value stops start-up with one line; the embedded PostgreSQL under DATA_DIR is locked against a
 * second process, stopped cleanly on SIGTERM after in-flight requests finish, and reused after.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { campaignBody } from '../support/campaigns.ts';
import { runChildServiceToExit, spawnChildService, stopChildServices } from '../support/child-service.ts';
import { PATIENCE_MS } from '../support/patience.ts';

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-process-'));
  // Run as root, PostgreSQL runs as the postgres user, which must reach DATA_DIR.
  fs.chmodSync(tmp, 0o755);
  fs.mkdirSync(path.join(tmp, 'flows'));
});

afterAll(async () => {
  await stopChildServices('SIGTERM');
  const pidFile = path.join(tmp, 'data', 'pg', 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      if (pid) process.kill(pid, 'SIGINT');
    } catch { /* already gone */ }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function spawnService(env: Record<string, string>) {
  return spawnChildService({ FLOWS_DIR: path.join(tmp, 'flows'), LOG_LEVEL: 'info', ...env });
}

function runToExit(env: Record<string, string>) {
  return runChildServiceToExit({ FLOWS_DIR: path.join(tmp, 'flows'), ...env });
}

describe('start-up with a bad environment value', () => {
  it.each([
    ['PORT', 'eighty', 'must be a port number'],
    ['PORT', '70000', 'must be a port number'],
    ['DATABASE_URL', 'mysql://localhost/chatcoupon', 'postgres://'],
    ['PUBLIC_BASE_URL', 'coupons.example.com', 'must be an http:// or https:// URL'],
    ['ADMIN_TOKEN', 'short', 'at least 16 characters'],
    ['POS_TOKEN', 'short', 'at least 16 characters'],
    ['TZ_DEFAULT', 'Mars/Olympus_Mons', 'IANA time zone'],
    ['LINE_CHANNEL_SECRET', 'a-secret-without-its-access-token', 'must be set together'],
  ])('%s=%s stops with exit code 1 and one line naming the variable and the rule, touching nothing', async (name, value, rule) => {
    const dataDir = path.join(tmp, `bad-${name}`);
    const run = await runToExit({ DATA_DIR: dataDir, [name]: value });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Invalid ${name}: `));
    expect(lines[0]).toContain(rule);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

interface HeldRequest {
  /** The server has parsed the request (it answered 100 Continue): it is in flight. */
  ready: Promise<void>;
  sendBody(): void;
  response: Promise<{ status: number; body: string }>;
}

const runAsRoot = process.getuid?.() === 0;
(runAsRoot ? it : it.skip)('run as root, a DATA_DIR PostgreSQL cannot reach stops start-up with the reason and the fix', async () => {
  const closed = path.join(tmp, 'closed');
  fs.mkdirSync(closed, { mode: 0o700 });
  const run = await runToExit({ DATA_DIR: path.join(closed, 'data'), LOG_LEVEL: 'fatal' });
  expect(run.code).toBe(1);
  expect(run.stdout + run.stderr).toContain(`cannot reach DATA_DIR through ${closed}; allow it (chmod o+x ${closed})`);
  expect(fs.existsSync(path.join(closed, 'data', 'chatcoupon.lock'))).toBe(false);
});

/** Starts a POST whose body is held back until `sendBody()`. */
function startHeldRequest(url: string, headers: Record<string, string>, body: string): HeldRequest {
  const req = http.request(url, {
    method: 'POST',
    // Keep-alive, as browsers and POS clients use: the shutdown must not wait for the idle socket.
    agent: new http.Agent({ keepAlive: true }),
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
  });
  const ready = new Promise<void>((resolve) => req.on('continue', () => resolve()));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
  });
  req.flushHeaders();
  return { ready, response, sendBody: () => req.end(body) };
}

describe('npm start on the embedded PostgreSQL', () => {
  it('locks DATA_DIR against a second process, finishes in-flight requests on SIGTERM, stops PostgreSQL cleanly (SIGTERM and SIGINT) and reuses the data', async () => {
    const dataDir = path.join(tmp, 'data');
    const env = { DATA_DIR: dataDir };

    // First start: creates the database, prints its URL and the generated admin token once.
    const first = spawnService(env);
    const url = (await first.waitForLine(/chatcoupon is running at (http:\/\/\S+)/))[1]!;
    const token = (await first.waitForLine(/^ {2}(\S{20,})$/))[1]!;
    expect(first.lines.some((l) => /Generated admin token/.test(l))).toBe(true);
    const admin = { Authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const created = await fetch(`${url}/api/v1/campaigns`, { method: 'POST', headers: admin, body: JSON.stringify(campaignBody({ slug: 'before-restart' })) });
    expect(created.status).toBe(201);

    // A second process on the same DATA_DIR says it is in use and exits, leaving the first untouched.
    const second = await runToExit(env);
    expect(second.code).toBe(1);
    expect(second.stderr + second.stdout).toContain(`${dataDir} is in use by another chatcoupon process`);
    expect(second.stdout).not.toContain('chatcoupon is running');
    expect(fs.readFileSync(path.join(dataDir, 'chatcoupon.lock'), 'utf8')).toBe(String(first.process.pid));
    const still = await fetch(`${url}/api/v1/campaigns`, { headers: admin });
    expect(((await still.json()) as { campaigns: Array<{ slug: string }> }).campaigns.map((c) => c.slug)).toEqual(['before-restart']);

    // SIGTERM while a request is in flight: the request still completes, then the process exits 0.
    const held = startHeldRequest(`${url}/api/v1/campaigns`, { authorization: admin.Authorization }, JSON.stringify(campaignBody({ slug: 'in-flight' })));
    await held.ready;
    first.process.kill('SIGTERM');
    await first.waitForLine(/"msg":"shutting down"/);
    held.sendBody();
    const answer = await held.response;
    expect(answer.status).toBe(201);
    const answeredAt = Date.now();
    expect(await first.exited).toBe(0);
    expect(Date.now() - answeredAt).toBeLessThan(15_000); // well under the 65 s keep-alive timeout
    // Stopped cleanly: PostgreSQL removed its pid file and the lock is released.
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'chatcoupon.lock'))).toBe(false);

    // Started again on the same directory: the data is there, the admin token is not printed again.
    const again = spawnService(env);
    const url2 = (await again.waitForLine(/chatcoupon is running at (http:\/\/\S+)/))[1]!;
    expect(again.lines.some((l) => /Generated admin token/.test(l))).toBe(false);
    const list = await fetch(`${url2}/api/v1/campaigns`, { headers: admin });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { campaigns: Array<{ slug: string }> }).campaigns.map((c) => c.slug).sort()).toEqual(['before-restart', 'in-flight']);
    again.process.kill('SIGINT');
    expect(await again.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 4 * PATIENCE_MS);
});
