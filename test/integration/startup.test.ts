/**
 * What `npm start` tells the person who runs it: the banner (admin console, workbench, webhook
 * URLs, where the admin token came from and how to set or reset it, refused flow files), and a
 * port in use as one plain line before anything else starts.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.ts';
import { startupBanner } from '../../src/banner.ts';
import { runChildServiceToExit, startChildService, stopChildServices } from '../support/child-service.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { PATIENCE_MS } from '../support/patience.ts';

let tmp: string;
let db: TestDatabase;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-startup-'));
  fs.mkdirSync(path.join(tmp, 'flows'));
  // A flow naming a step that does not exist, on line 4.
  fs.writeFileSync(path.join(tmp, 'flows', 'broken.yaml'), 'id: broken\ntrigger:\n  keyword: [hello]\nsteps:\n  - teleport: now\n');
  db = await createTestDatabase();
});
afterAll(async () => {
  await stopChildServices('SIGTERM');
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('environment values', () => {
  it.each([
    ['INBOUND_WORKER', 'maybe', 'Invalid INBOUND_WORKER: must be on or off'],
    ['LOG_LEVEL', 'loud', 'Invalid LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent'],
    ['ADMIN_TOKEN_RESET', 'please', 'Invalid ADMIN_TOKEN_RESET: must be 1 to generate a new admin token, or unset'],
  ])('%s=%s is refused in one line like the others', (name, value, line) => {
    expect(() => loadConfig({ [name]: value })).toThrow(line);
  });
});

describe('the banner', () => {
  const config = loadConfig({ PORT: '3000', ADMIN_TOKEN: 'x'.repeat(16), PUBLIC_BASE_URL: 'https://coupons.example.com' });
  const banner = (auth: Parameters<typeof startupBanner>[0]['auth'], enabledChannels = ['line']) =>
    startupBanner({ config, listeningUrl: 'http://localhost:3000', auth, enabledChannels, refusedFlows: [] }).join('\n');

  it('lists the admin console, the workbench and the webhook URL of each channel, and how to turn the others on', () => {
    const text = banner({ adminTokenFrom: 'env' });
    expect(text).toContain('chatcoupon is running at http://localhost:3000 (public base URL https://coupons.example.com)');
    expect(text).toContain('Admin console:  https://coupons.example.com/admin');
    expect(text).toContain('Workbench:      https://coupons.example.com/workbench');
    expect(text).toMatch(/line\s+https:\/\/coupons\.example\.com\/webhooks\/line\s+→ LINE Developers/);
    expect(text).toContain('off (set MESSENGER_APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN and MESSENGER_VERIFY_TOKEN to turn it on)');
    expect(text).toContain('Admin token: from ADMIN_TOKEN.');
  });

  it('never shows a token except the one generated on this start', () => {
    expect(banner({ adminTokenFrom: 'generated', generatedAdminToken: 'tok-generated-now' })).toContain('\n  tok-generated-now');
    const later = banner({ adminTokenFrom: 'stored' });
    expect(later).toContain('the one generated on the first start');
    expect(later).toContain('ADMIN_TOKEN_RESET=1');
    expect(later).toContain('set ADMIN_TOKEN');
  });
});

describe('npm start', () => {
  it('a port in use is one plain line naming PORT, before the database starts', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = path.join(tmp, 'port-in-use');
      const run = await runChildServiceToExit({ DATA_DIR: dataDir, PORT: String(port), FLOWS_DIR: path.join(tmp, 'flows') });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([`Port ${port} is already in use (PORT=${port}): stop the program using it, or set PORT to a free port.`]);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('prints the banner with the refused flow files; later starts say where the admin token came from; a reset makes a new one', async () => {
    const env = { DATABASE_URL: db.url, FLOWS_DIR: path.join(tmp, 'flows'), DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'silent' };
    const first = await startChildService(env, 60_000);
    await first.waitForLine(/Flow files refused/, 10_000);
    const refused = await first.waitForLine(/broken\.yaml:\d+:\d+: .+/, 10_000);
    expect(refused.input.startsWith(`    ${path.join(tmp, 'flows')}/broken.yaml:5:5: unknown step "teleport"`)).toBe(true);
    const token = (await first.waitForLine(/^ {2}([A-Za-z0-9_-]{32})$/, 10_000))[1]!;
    expect(first.lines.join('\n')).toContain(`Admin console:  ${first.url}/admin`);
    expect(first.lines.join('\n')).toContain(`Workbench:      ${first.url}/workbench`);
    const ok = await fetch(`${first.url}/api/v1/campaigns`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startChildService(env, 60_000);
    await second.waitForLine(/Admin token: the one generated on the first start/, 10_000);
    expect(second.lines.join('\n')).not.toContain(token);
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const reset = await startChildService({ ...env, ADMIN_TOKEN_RESET: '1' });
    const fresh = (await reset.waitForLine(/^ {2}([A-Za-z0-9_-]{32})$/, 10_000))[1]!;
    expect(fresh).not.toBe(token);
    expect((await fetch(`${reset.url}/api/v1/campaigns`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await fetch(`${reset.url}/api/v1/campaigns`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
    reset.process.kill('SIGTERM');
    expect(await reset.exited).toBe(0);
  }, 4 * PATIENCE_MS);
});
