import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { startLineStandin, type LineStandin, type StandinRequest } from '../../scripts/support/line-standin.ts';
import { followEvent, newLineUserId, postLineWebhook, textEvent } from '../../scripts/support/line-webhook.ts';
import { launchBrowser, phone, signInWithToken } from '../support/browser.ts';
import { PATIENCE_MS } from '../support/patience.ts';
import { ADMIN_TOKEN, personOf, startTestService, type TestService } from '../support/service.ts';

/**
 * The first hour of a marketer, in a browser, against the service with its workers and a stand-in
 * LINE: sign in, create a campaign with its image while watching the preview, load serials, send
 * a test to themselves, open it on the phone; a customer asks for the coupon in the chat, redeems
 * it (confirming first), staff verify it at the till; the funnel moves; pause and archive.
 */
let svc: TestService;
let standin: LineStandin;
let browser: Browser;
let admin: BrowserContext;
let mobile: BrowserContext;
let page: Page;
let flows: string;
let dataDir: string;
const problems: string[] = [];

const SECRET = 'first-hour-secret';

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'first-hour-token' });
  flows = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'first-hour-flows-'));
  await fs.promises.writeFile(path.join(flows, 'gift.yaml'), 'id: gift\ntrigger: { keyword: [coupon] }\nsteps:\n  - coupon: first-hour\n');
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'first-hour-data-'));
  [svc, browser] = await Promise.all([
    startTestService({
      workers: true,
      env: {
        FLOWS_DIR: flows, DATA_DIR: dataDir, TZ_DEFAULT: 'Asia/Tokyo', DEFAULT_LOCALE: 'ja',
        LINE_CHANNEL_SECRET: SECRET, LINE_CHANNEL_ACCESS_TOKEN: 'first-hour-token', LINE_API_BASE_URL: standin.url,
      },
    }),
    launchBrowser(),
  ]);
  // The marketer's browser is in another zone than the shop: the console shows the shop's clock.
  admin = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/New_York' });
  mobile = await browser.newContext(phone);
  for (const ctx of [admin, mobile]) {
    ctx.on('console', (m) => {
      // Refusals a page shows (a half-written campaign's preview) are logged by Chromium as failed loads.
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    ctx.on('weberror', (e) => problems.push(e.error().message));
  }
  page = await admin.newPage();
});
afterAll(async () => {
  await admin?.close();
  await mobile?.close();
  await browser?.close();
  await svc?.stop();
  await standin?.close();
  for (const d of [flows, dataDir]) if (d) await fs.promises.rm(d, { recursive: true, force: true });
});

const text = async (p: Page, selector: string) => ((await p.locator(selector).textContent()) ?? '').trim();

/** The coupon page a delivered LINE card links to, on this service. */
function cardLink(req: StandinRequest): string {
  const body = req.body as { messages: Array<{ type: string; contents?: { footer: { contents: Array<{ action: { uri: string } }> } } }> };
  const flex = body.messages.find((m) => m.type === 'flex')!;
  return `${svc.url}${new URL(flex.contents!.footer.contents[0]!.action.uri).pathname}`;
}

const hasCard = (r: StandinRequest) => (r.body as { messages: Array<{ type: string }> }).messages.some((m) => m.type === 'flex');

/** The link of the first coupon card LINE delivered after the first `after` deliveries (a push or a reply). */
async function cardAfter(after: number): Promise<string> {
  const cards = () => standin.delivered.slice(after).filter(hasCard);
  await standin.waitFor(() => cards().length > 0, PATIENCE_MS, 'a coupon card delivered');
  return cardLink(cards()[0]!);
}

describe('the first hour of a marketer', () => {
  const marketer = newLineUserId();
  const customer = newLineUserId();
  let campaignId: string;

  it('signs in, creates a campaign with its image while the preview follows, and loads serials', async () => {
    await page.goto(`${svc.url}/`);
    await signInWithToken(page, ADMIN_TOKEN);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await page.click('[data-tab=new]');
    await page.fill('#f-name', '春の10%オフ');
    await page.fill('#f-slug', 'first-hour');
    await page.fill('#f-reward-value', '10');
    await page.fill('#f-instructions', 'レジでこの画面をお見せください。\n- **1回**限り');
    await page.check('#f-verification');
    await page.setInputFiles('#f-image', path.resolve('test/fixtures/coupon-640.png'));
    await page.waitForSelector('#line-card .lb-name:text-is("春の10%オフ")');
    expect(await text(page, '#line-card .lb-reward')).toBe('10%オフ');
    await page.frame({ name: 'preview-page' })!.waitForSelector('h1:text-is("春の10%オフ")');
    await page.click('#create');
    await page.waitForSelector('#d-name:has-text("春の10%オフ")');
    expect(await text(page, '[data-setting=timeZone]')).toBe('Asia/Tokyo (GMT+9)');
    campaignId = new URL(page.url()).hash.replace('#campaign/', '');
    await page.waitForFunction(() => (document.getElementById('image-preview') as HTMLImageElement).naturalWidth === 640);

    await page.setInputFiles('#csv-file', { name: 'serials.csv', mimeType: 'text/csv', buffer: Buffer.from('serial\nFH-001\nFH-002\nFH-003\n') });
    await page.click('#csv-form button');
    await page.waitForSelector('#csv-result:text-is("3 loaded, 0 rejected")');
    await page.waitForSelector('[data-stat=stockLeft]:text-is("3")');
  });

  it('sends a test to the marketer\'s own LINE and opens it on the phone; the numbers do not move', async () => {
    // The marketer follows the shop's account from their own LINE, so they are a contact.
    expect((await postLineWebhook(svc.url, SECRET, [followEvent(marketer)])).status).toBe(200);
    // Stored once the worker has taken the event in: asked for until it is there.
    while ((await request(svc.url).get(`/api/v1/contacts?q=${marketer}`).set(svc.admin)).body.contacts.length === 0) { /* not yet */ }
    await page.click('#test-send');
    await page.waitForSelector('#test-pick:visible');
    await page.fill('#test-q', marketer);
    await page.click('#test-pick button[type=submit]');
    const before = standin.delivered.length;
    await page.click(`#test-matches button:has-text("${marketer}")`);
    await page.waitForSelector(`#state-result:has-text("Test sent to line ${marketer}")`);
    const link = await cardAfter(before);
    expect(standin.delivered.slice(before).filter(hasCard).map((r) => (r.body as { to?: string }).to)).toEqual([marketer]);

    const mine = await mobile.newPage();
    await mine.goto(link);
    await mine.click('#redeem');
    await mine.click('#confirm');
    await mine.waitForSelector('#code');
    expect(await text(mine, '#code')).toMatch(/^TEST-/);
    await mine.close();
    await page.click('#refresh');
    await page.waitForSelector('[data-stat=sent]');
    expect(await text(page, '[data-stat=sent]')).toBe('0');
    expect(await text(page, '[data-stat=stockLeft]')).toBe('3');
  });

  it('a customer asks in the chat, redeems after confirming, staff verify at the till, and the funnel moves', async () => {
    const before = standin.delivered.length;
    expect((await postLineWebhook(svc.url, SECRET, [textEvent(customer, 'coupon')])).status).toBe(200);
    const link = await cardAfter(before);
    const phonePage = await mobile.newPage();
    await phonePage.goto(link);
    await phonePage.click('#redeem');
    await phonePage.waitForSelector('#confirm-question');
    await phonePage.click('#confirm');
    await phonePage.waitForSelector('#code');
    expect(await text(phonePage, '#code')).toMatch(/^FH-00[123]$/);

    const staff = await personOf(svc, 'staff');
    await phonePage.click('#verify');
    await signInWithToken(phonePage, staff.header.Authorization.slice('Bearer '.length));
    await phonePage.click('#confirm');
    await phonePage.waitForSelector('[data-notice=ok]');
    await phonePage.close();

    await page.click('#refresh');
    await page.waitForSelector('[data-stat=verified]:text-is("1")');
    for (const stage of ['sent', 'opened', 'redeemed', 'verified']) expect(await text(page, `[data-stat=${stage}]`)).toBe('1');
    expect(await text(page, '[data-stat=stockLeft]')).toBe('2');
    // The record's times are on the campaign's clock, named above the table.
    expect(await text(page, '#records-zone')).toBe('times in Asia/Tokyo (GMT+9)');
    const records = await request(svc.url).get(`/api/v1/campaigns/${campaignId}/records`).set(svc.admin);
    const redeemedAt = new Date(records.body.records[0].redeemedAt as string);
    const tokyo = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    await page.waitForSelector('#records tbody tr');
    expect(await page.locator('#records tbody tr').first().locator('td').allTextContents()).toContain(tokyo.format(redeemedAt));
  });

  it('pauses the campaign (the chat is refused) and archives it', async () => {
    await page.click('[data-move=paused]');
    await page.waitForSelector('#d-state:text-is("paused")');
    const before = standin.delivered.length;
    expect((await postLineWebhook(svc.url, SECRET, [textEvent(newLineUserId(), 'coupon')])).status).toBe(200);
    await standin.waitFor(() => standin.delivered.length > before, PATIENCE_MS, 'an answer to the ask while paused');
    // The customer is told, in words; no card goes out.
    expect(standin.delivered.slice(before).some(hasCard)).toBe(false);

    await page.click('[data-move=archived]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#d-state:text-is("archived")');
    await page.waitForSelector(`#campaigns tr[data-campaign="${campaignId}"]`, { state: 'detached' });
    const listed = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(listed.body.campaigns.map((c: { id: string }) => c.id)).not.toContain(campaignId);
    expect(problems).toEqual([]);
  });
});
