import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { serialImportJob } from '../../src/jobs/catalog.ts';
import { InvalidJobPayloadError } from '../../src/jobs/runner.ts';
import { launchBrowser, openPage, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, personOf, startTestService, type TestService } from '../support/service.ts';

/** The console's banner when a chat platform is down, and the operator's status page. */
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  [svc, browser] = await Promise.all([
    startTestService({ env: { LINE_CHANNEL_SECRET: 'status-secret', LINE_CHANNEL_ACCESS_TOKEN: 'status-token', LINE_API_BASE_URL: 'http://127.0.0.1:9' } }),
    launchBrowser(),
  ]);
  ({ context, page } = await openPage(browser, { viewport: { width: 1280, height: 800 } }, problems));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

describe('platform banner and status page', () => {
  it('shows no banner while every platform answers, and a banner once LINE is down', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, ADMIN_TOKEN);
    await page.waitForSelector('#no-campaigns:visible');
    await page.waitForFunction(() => document.getElementById('platform-banner')!.dataset.state === 'ok');
    expect(await page.locator('#platform-banner').isHidden()).toBe(true);

    // Five failures in a row open LINE's circuit breaker, as an outage does.
    const breaker = svc.ctx.platforms.of('line');
    for (let i = 0; i < 5; i++) breaker.failed();
    expect(breaker.open).toBe(true);
    await page.click('[data-tab=flows]');
    await page.waitForSelector('#platform-banner:visible');
    const line = await text('#platform-banner [data-platform=line]');
    expect(line).toMatch(/^LINE is not answering since .+\. Nothing is waiting for it yet \(next try .+\); nothing is lost\.$/);
  });

  it('shows a status answer that cannot be read in the banner, never swallowing it', async () => {
    await page.route('**/api/v1/status', (route) => route.abort('connectionrefused'));
    await page.click('[data-tab=campaigns]');
    await page.waitForSelector('#platform-banner:has-text("could not be read")');
    await page.unroute('**/api/v1/status');
  });

  it('gives the owner a status page with platforms, dead-letter jobs and table sizes', async () => {
    await expect(svc.jobs.send(serialImportJob, { importId: 42 } as unknown as { importId: string })).rejects.toThrow(InvalidJobPayloadError);
    expect(await page.locator('a[href="/admin/status"]').isVisible()).toBe(true);
    await page.click('a[href="/admin/status"]');
    await page.waitForSelector('#platforms');
    expect(await page.locator('#platforms [data-platform=line] td').nth(1).textContent()).toBe('down');
    expect(await text('#dead-letters tbody tr td:nth-child(2)')).toBe(serialImportJob.name);
    expect(await text('#dead-letters tbody tr td:nth-child(3)')).toBe('payload refused when sent');
    expect(await text('#dead-letters tbody tr pre')).toContain('importId');
    expect(await page.locator('#tables tr[data-table=coupons]').count()).toBe(1);
    expect(await page.locator('#tables tr[data-table=outbox] td').nth(2).textContent()).toMatch(/^\d+(\.\d)? (kB|MB|GB)$/);

    await page.setViewportSize({ width: 360, height: 780 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
  });

  it('is the owner\'s only: a marketer is refused the page (its link is marked for the owner)', async () => {
    const mia = await personOf(svc, 'marketer', 'Mia');
    const refused = await request(svc.url).get('/admin/status').set(mia.header).set('Accept', 'text/html');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Not open to your role');
    const owner = await request(svc.url).get('/admin/status').set(svc.admin).set('Accept', 'text/html');
    expect(owner.status).toBe(200);
    expect(owner.headers.refresh).toBe('60');
    expect(owner.headers['content-security-policy']).toContain("script-src 'self'");
    const markup = await request(svc.url).get('/admin').set(mia.header).set('Accept', 'text/html');
    expect(markup.text).toContain('data-role="owner"');
  });
});
