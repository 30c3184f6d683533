import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { campaignBody } from '../support/campaigns.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';
import { PATIENCE_MS } from '../support/patience.ts';
import { flowsDir } from './flow-support.ts';

/** `npm run simulate` as a person scripts it: input piped in, answers printed, exit when the bot is done. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'sim-secret';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let svc: TestService;
let dir: string;
let cwd: string;
let servicePort: number;
let linePort: number;

beforeAll(async () => {
  [servicePort, linePort] = [await freePort(), await freePort()];
  dir = flowsDir({
    'welcome.yaml': `
id: welcome
trigger: { follow: true }
steps:
  - say: "Welcome! Here is a gift."
  - coupon: sim-gift
`,
  });
  // An empty directory to run in: no .env of the project's is read.
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-sim-'));
  svc = await startTestService({
    workers: true,
    env: {
      PORT: String(servicePort), PUBLIC_BASE_URL: `http://localhost:${servicePort}`, FLOWS_DIR: dir,
      LINE_CHANNEL_SECRET: SECRET, LINE_CHANNEL_ACCESS_TOKEN: 'sim-token', LINE_API_BASE_URL: `http://localhost:${linePort}`,
    },
  });
  const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ name: 'Sim gift', slug: 'sim-gift' }, svc.ctx.clock()));
  expect(created.status).toBe(201);
  expect((await request(svc.url).post('/api/v1/campaigns/sim-gift/serials').set(svc.admin).send({ fixed: { code: 'SIM-1', quantity: 10 } })).status).toBe(200);
  const png = fs.readFileSync(path.join(ROOT, 'test/fixtures/coupon-640.png'));
  expect((await request(svc.url).put('/api/v1/campaigns/sim-gift/image').set(svc.admin).attach('file', png, 'coupon-640.png')).status).toBe(200);
  await svc.ctx.flows!.reload();
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(cwd, { recursive: true, force: true });
});

/** Runs the simulator with this input on stdin, to its own exit. */
function simulate(input: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/simulate.ts'), ...args], {
    cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), LINE_CHANNEL_SECRET: SECRET, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

describe('npm run simulate', () => {
  it('takes PORT and LINE_API_BASE_URL as the service does, prints every answer of piped input, then exits', async () => {
    const { code, out } = await simulate('hi there\nmy coupons\n', {
      PORT: String(servicePort), LINE_API_BASE_URL: `http://localhost:${linePort}`, ADMIN_TOKEN,
    });
    expect(code).toBe(0);
    expect(out).toContain(`LINE stand-in listening at http://localhost:${linePort}`);
    expect(out).toContain(`chatting with http://localhost:${servicePort}`);
    // The follow: the welcome text and the card, whose http image LINE would not show.
    expect(out).toContain('bot> Welcome! Here is a gift.');
    expect(out).toMatch(new RegExp(`\\[Open coupon\\] http://localhost:${servicePort}/c/[A-Za-z0-9_-]+`));
    expect(out).toMatch(new RegExp(`\\(the card's image http://localhost:${servicePort}/images/\\S+ was left out: LINE shows only https images`));
    // A message no flow answers, then the built-in "my coupons".
    expect(out).toContain('(no flow answers "hi there": nothing was sent back)');
    expect(out).toMatch(new RegExp(`bot> Your coupons: http://localhost:${servicePort}/me/[A-Za-z0-9_-]+`));
    // In that order: each line goes once the bot has answered the one before.
    const order = ['bot> Welcome!', 'no flow answers "hi there"', 'bot> Your coupons:'].map((s) => out.indexOf(s));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }, PATIENCE_MS);

  it('--port names the service\'s port; a port that is not one is refused in one line', async () => {
    const { code, out } = await simulate('我的優惠券\n', { ADMIN_TOKEN }, ['--port', String(servicePort), '--line-port', String(linePort)]);
    expect(code).toBe(0);
    expect(out).toContain(`chatting with http://localhost:${servicePort}`);
    // Written in Chinese (the simulated profile shares no language): answered in Chinese.
    expect(out).toContain('bot> 點選連結即可查看您的優惠券：');

    const bad = await simulate('', {}, ['--port', 'http']);
    expect(bad.code).toBe(1);
    expect(bad.out.trim()).toBe('--port must be a port number from 1 to 65535, not "http"');
  }, PATIENCE_MS);
});
