import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import request from 'supertest';
import { collectProblems, launchBrowser, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dataDir: string;
/** Console errors and uncaught page errors (a CSP violation shows up here). */
const problems: string[] = [];

beforeAll(async () => {
  dataDir = await fs.promises.mkdtemp(path.join(process.env.TMPDIR ?? '/tmp', 'form-e2e-'));
  [svc, browser] = await Promise.all([
    startTestService({ env: { DATA_DIR: dataDir, TZ_DEFAULT: 'Asia/Taipei', DEFAULT_LOCALE: 'zh-TW' } }),
    launchBrowser(),
  ]);
  // The browser is in another zone than the campaigns: nothing may silently use it.
  context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, timezoneId: 'America/New_York' });
  page = await context.newPage();
  // A refusal the page shows is logged by Chromium as a failed resource; collectProblems leaves those out.
  collectProblems(page, problems);
  await page.goto(`${svc.url}/admin`);
  await signInWithToken(page, ADMIN_TOKEN);
  await page.waitForSelector('#no-campaigns:visible');
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  if (dataDir) await fs.promises.rm(dataDir, { recursive: true, force: true });
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
/** The campaign's state buttons on screen now. */
const shownButtons = () => page.locator('#state-actions button').evaluateAll((bs) => bs.filter((b) => (b as HTMLElement).offsetWidth > 0).map((b) => b.textContent));
const phone = (): Frame => page.frame({ name: 'preview-page' })!;

/** Waits until the phone frame shows a page whose <h1> is `name` (the frame is posted to again as the form changes). */
async function phoneShows(name: string): Promise<Frame> {
  await phone().waitForSelector(`h1:text-is(${JSON.stringify(name)})`);
  return phone();
}

/** The phone frame once it shows the page in `lang`. */
async function phoneShowsLang(lang: string): Promise<Frame> {
  await phone().waitForSelector(`html[lang="${lang}"]`, { state: 'attached' });
  return phone();
}

describe('the campaign form', () => {
  let campaignId: string;

  it('starts with the service\'s language and zone, names the zone beside every date, and says in plain words what is missing', async () => {
    await page.click('[data-tab=new]');
    expect(await page.inputValue('#f-locale')).toBe('zh-TW');
    expect(await page.inputValue('#f-time-zone')).toBe('Asia/Taipei');
    // Every zone the browser knows is offered.
    expect(await page.locator('#f-time-zone option').count()).toBeGreaterThan(300);
    expect(await page.locator('[data-zone]').allTextContents()).toEqual(Array(3).fill('in Asia/Taipei (GMT+8)'));

    await page.fill('#f-name', 'Osaka spring');
    await page.waitForSelector('#preview-note:has-text("Enter a number for the discount.")');
    await page.click('#create');
    await page.waitForSelector('[data-error-for="reward.value"]:has-text("Enter a number for the discount.")');
    expect(await page.locator('#create-errors li').allTextContents()).toEqual(['Enter a number for the discount.']);
    expect(await text('#create-errors')).not.toMatch(/Invalid|expected|received|reward\.value/);
  });

  it('draws the LINE card and the phone page as the marketer types and picks colours, in each language', async () => {
    await page.fill('#f-reward-value', '15');
    await page.waitForSelector('#line-card .lb-name:text-is("Osaka spring")');
    expect(await text('#preview-note')).toBe('');
    // The campaign's language first: Taiwan's wording on the card and the page.
    expect(await page.locator('#line-card').getAttribute('lang')).toBe('zh-TW');
    expect(await page.locator('[data-preview-lang="zh-TW"]').getAttribute('aria-current')).toBe('page');
    let frame = await phoneShows('Osaka spring');
    expect(await frame.locator('html').getAttribute('lang')).toBe('zh-TW');

    await page.fill('#f-name', 'Osaka spring sale');
    await page.fill('#f-instructions', 'Show this at the till.\n- **One** per visit\n- Details: https://shop.example/terms');
    await page.locator('#f-color-background').fill('#202020');
    await page.locator('#f-color-button').fill('#e65100');
    await page.waitForSelector('#line-card .lb-name:text-is("Osaka spring sale")');
    await page.waitForFunction(() => getComputedStyle(document.querySelector('#line-card .lb-button')!).backgroundColor === 'rgb(230, 81, 0)');
    // Light text on the dark background, as LINE's card picks it.
    expect(await page.locator('#line-card .lb-body').evaluate((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]))
      .toEqual(['rgb(32, 32, 32)', 'rgb(255, 255, 255)']);
    frame = await phoneShows('Osaka spring sale');
    expect(await frame.locator('.instructions li strong').textContent()).toBe('One');
    expect(await frame.locator('.instructions a').getAttribute('href')).toBe('https://shop.example/terms');
    expect(await frame.locator('#redeem').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(230, 81, 0)');

    const seen: Record<string, { button: string; lang: string | null }> = {};
    for (const lang of ['en', 'ja', 'zh-TW', 'th']) {
      await page.click(`[data-preview-lang="${lang}"]`);
      await page.waitForSelector(`#line-card[lang="${lang}"]`);
      const f = await phoneShowsLang(lang);
      seen[lang] = { button: await text('#line-card .lb-button'), lang: await f.locator('html').getAttribute('lang') };
    }
    expect(Object.values(seen).map((s) => s.lang)).toEqual(['en', 'ja', 'zh-TW', 'th']);
    expect(new Set(Object.values(seen).map((s) => s.button)).size).toBe(4);
    expect(seen.en!.button).toMatch(/coupon/i);
    expect(await text('#line-alt')).toContain('Notification:');
    expect(problems).toEqual([]);
  });

  it('takes dates in the campaign\'s zone, not the browser\'s, and names the zone wherever it shows them', async () => {
    await page.selectOption('#f-time-zone', 'Asia/Tokyo');
    expect(await page.locator('[data-zone]').first().textContent()).toBe('in Asia/Tokyo (GMT+9)');
    await page.fill('#f-send-start', '2026-03-01T10:00');
    await page.fill('#f-send-end', '2027-03-31T23:30');
    await page.selectOption('#f-locale', 'ja');
    await page.setInputFiles('#f-image', path.resolve('test/fixtures/coupon-640.png'));
    await page.waitForSelector('#f-image-note:has-text("coupon-640.png")');
    // The phone page shows the chosen image before it is uploaded; LINE would leave it out over http.
    await page.waitForFunction(() => document.getElementById('line-alt')!.textContent!.includes('https'));
    await page.click('#create');
    await page.waitForSelector('#d-name:has-text("Osaka spring sale")');
    const list = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    const created = list.body.campaigns[0];
    campaignId = created.id;
    expect(created).toMatchObject({
      name: 'Osaka spring sale', locale: 'ja', timeZone: 'Asia/Tokyo', reward: { type: 'percent', value: 15 },
      sendStart: '2026-03-01T01:00:00.000Z', sendEnd: '2027-03-31T14:30:00.000Z',
      colors: { background: '#202020', button: '#e65100', buttonText: '#ffffff' },
    });
    expect(created.imageUrl).toMatch(/\/images\//);
    expect(await text('[data-setting=timeZone]')).toBe('Asia/Tokyo (GMT+9)');
    expect(await text('[data-setting=period]')).toBe('2026-03-01 10:00 – 2027-03-31 23:30');
    expect(await text(`#campaigns tr[data-campaign="${campaignId}"] td:nth-child(3)`)).toBe('2026-03-01 10:00 – 2027-03-31 23:30 (Asia/Tokyo)');
    expect(await page.locator('[data-setting=instructions] li').allTextContents()).toEqual(['One per visit', 'Details: https://shop.example/terms']);
    await page.waitForFunction(() => {
      const img = document.getElementById('image-preview') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth === 640;
    });

    // Editing shows the same wall clock in the campaign's zone, and the stored image in the preview.
    await page.click('#edit');
    await page.waitForSelector('#create:not([disabled])');
    expect(await page.inputValue('#f-send-start')).toBe('2026-03-01T10:00');
    expect(await page.inputValue('#f-time-zone')).toBe('Asia/Tokyo');
    await phone().waitForSelector('img.hero[src*="/images/"]', { state: 'attached' });
    expect(await phone().locator('h1').textContent()).toBe('Osaka spring sale');
    await page.click('#cancel-edit');
    await page.waitForSelector('#detail:visible');
    expect(problems).toEqual([]);
  });

  it('offers only the serial form that fits the pool, saying why, and refuses a CSV over 10 MB before uploading', async () => {
    expect(await page.locator('#csv-form').isVisible()).toBe(true);
    expect(await page.locator('#fixed-form').isVisible()).toBe(true);
    let posted = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/serials')) posted++; });
    // From disk: a 10 MB buffer sent through the browser protocol is slow on a busy machine.
    const huge = path.join(dataDir, 'huge.csv');
    await fs.promises.writeFile(huge, Buffer.alloc(10 * 1024 * 1024 + 1, 'A'));
    await page.setInputFiles('#csv-file', huge);
    await page.waitForSelector('#csv-result:has-text("must be under 10 MB")');
    await page.click('#csv-form button');
    expect(await text('#csv-result')).toBe('huge.csv is 10.0 MB; a serial pack must be under 10 MB. Split it into smaller files and upload each.');
    expect(posted).toBe(0);

    await page.setInputFiles('#csv-file', { name: 'pack.csv', mimeType: 'text/csv', buffer: Buffer.from('serial\nOS-1\nOS-2\n') });
    await page.click('#csv-form button');
    await page.waitForSelector('#csv-result:has-text("2 loaded")');
    await page.waitForSelector('#fixed-form', { state: 'hidden' });
    expect(await text('#pool-note')).toContain('a fixed serial cannot be added');

    const fixed = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send({
      name: 'Fixed one', sendStart: '2026-01-01T00:00:00Z', sendEnd: '2027-01-01T00:00:00Z', expiry: { mode: 'fromSend', days: 7 },
      reward: { type: 'gift', text: 'Tote' },
    });
    await request(svc.url).post(`/api/v1/campaigns/${fixed.body.id}/serials`).set(svc.admin).send({ fixed: { code: 'FIX1', quantity: 5 } });
    await page.click('#refresh');
    await page.click(`#campaigns tr[data-campaign="${fixed.body.id}"] button`);
    await page.waitForSelector('#d-name:has-text("Fixed one")');
    await page.waitForSelector('#csv-form', { state: 'hidden' });
    expect(await page.locator('#fixed-form').isVisible()).toBe(true);
    expect(await text('#pool-note')).toContain('CSV packs of one-time serials cannot be added');
    expect(problems).toEqual([]);
  });

  it('pauses, resumes, sends a test to the marketer\'s own contact (picked once), ends, archives and duplicates', async () => {
    const own = 'Uf0e1d2c3b4a5968778695a4b3c2d1e0f';
    const imported = await request(svc.url).post('/api/v1/contacts/import').set(svc.admin)
      .attach('file', Buffer.from(`channel,userId,tags,language\nline,${own},,ja\n`), { filename: 'c.csv', contentType: 'text/csv' });
    expect(imported.status).toBe(200);
    expect(imported.body.created).toBe(1);
    await page.click('[data-tab=campaigns]');
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.waitForSelector('#d-state:text-is("active")');
    expect(await shownButtons()).toEqual(['Pause', 'End', 'Archive', 'Duplicate', 'Send me a test']);

    await page.click('[data-move=paused]');
    await page.waitForSelector('#d-state:text-is("paused")');
    expect(await text('#state-result')).toBe('Paused: nothing is sent until you resume it.');
    expect(await text('#state-note')).toContain('nothing is sent');
    expect(await text(`#campaigns tr[data-campaign="${campaignId}"] .badge-paused`)).toBe('paused');
    expect((await request(svc.url).get(`/api/v1/campaigns/${campaignId}`).set(svc.admin)).body.state).toBe('paused');

    // The first test asks who the marketer is among the contacts; the next ones go straight there.
    await page.click('#test-send');
    await page.waitForSelector('#test-pick:visible');
    await page.fill('#test-q', own);
    await page.click('#test-pick button[type=submit]');
    await page.click(`#test-matches button:has-text("${own}")`);
    await page.waitForSelector(`#state-result:has-text("Test sent to line ${own}")`);
    expect(await page.locator('#test-coupon-link').getAttribute('href')).toMatch(/\/c\//);
    expect(await page.locator('#test-pick').isHidden()).toBe(true);
    await page.click('#test-send');
    await page.waitForFunction(() => document.getElementById('state-result')!.textContent!.startsWith('Test sent'));
    const tests = await request(svc.url).get(`/api/v1/campaigns/${campaignId}/stats`).set(svc.admin);
    expect(tests.body.sent).toBe(0);

    await page.click('[data-move=active]');
    await page.waitForSelector('#d-state:text-is("active")');
    await page.click('[data-move=ended]');
    await page.waitForSelector('#confirm-move:visible');
    expect(await text('#confirm-text')).toContain('cannot be started again');
    await page.click('#confirm-no');
    expect(await text('#d-state')).toBe('active');
    await page.click('[data-move=ended]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#d-state:text-is("ended")');
    expect(await shownButtons()).toEqual(['Archive', 'Duplicate']);

    await page.click('[data-move=archived]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#d-state:text-is("archived")');
    // Left out of the list unless asked for; its page in the console still opens.
    await page.waitForSelector(`#campaigns tr[data-campaign="${campaignId}"]`, { state: 'detached' });
    await page.check('#show-archived');
    await page.waitForSelector(`#campaigns tr[data-campaign="${campaignId}"] .badge:text-is("archived")`);

    await page.click('#duplicate');
    await page.waitForSelector('#d-name:has-text("(copy)")');
    expect(await text('#edit-result')).toContain('Duplicated from “Osaka spring sale”');
    expect(await text('#d-state')).toBe('active');
    expect(page.url()).not.toContain(campaignId);
    expect(problems).toEqual([]);
  });
});

