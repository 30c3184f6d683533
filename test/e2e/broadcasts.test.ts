import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import { query } from '../../src/db/client.ts';
import { isoToZoned } from '../../src/client/shared/zoned-time.ts';
import { collectProblems, launchBrowser, loadFixedSerial, makeCampaign, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';

/**
 * The console's contacts and broadcasts views against the whole service with its workers running
 * (jobs, broadcasts, delivery) and the LINE stand-in in LINE's place: a CSV import, a friends sync,
 * an audience counted live, a broadcast composed, started, paused, resumed and followed to the
 * end, a scheduled one read in the campaign's time zone and cancelled.
 */

let standin: LineStandin;
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors and uncaught page errors (a CSP violation shows up here too). */
const problems: string[] = [];
/** Every 4xx/5xx answer the page received, as `status METHOD path`. */
const refused: string[] = [];

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token', displayName: (u) => `Friend ${u.slice(1, 5)}` });
  [svc, browser] = await Promise.all([
    startTestService({
      env: { LINE_CHANNEL_SECRET: 'line-secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url },
      workers: true,
    }),
    launchBrowser(),
  ]);
  // The browser is in Bangkok; the campaigns are in Tokyo: send times must follow the campaign.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Bangkok' });
  page = await context.newPage();
  // An API refusal the page shows is logged by Chromium as a failed resource, which
  // collectProblems leaves out: those are checked one by one in `refused` instead.
  collectProblems(page, problems);
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (r.status() >= 400 && url.pathname !== '/favicon.ico') refused.push(`${r.status()} ${r.request().method()} ${url.pathname}`);
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  await standin?.close();
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
/** Every later text of an element, recorded in the page (to see a progress that may pass quickly). */
async function recordTexts(selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const w = window as unknown as { seen: Record<string, string[]> };
    w.seen ??= {};
    const seen: string[] = (w.seen[sel] = []);
    const target = document.querySelector(sel)!;
    new MutationObserver(() => seen.push(target.textContent ?? '')).observe(target, { childList: true, characterData: true, subtree: true });
  }, selector);
}
const seenTexts = async (selector: string) => await page.evaluate((sel) => (window as unknown as { seen: Record<string, string[]> }).seen[sel] ?? [], selector);

/** The audience's count once no newer one is on its way. */
const estimate = (n: number) => `#ab-estimate:not([data-state]) [data-total="${n}"]`;
/** The quota line once no newer preview is due. */
const quotaLine = '#bc-quota-line:not([data-state])[data-uses]';

const vipIds = Array.from({ length: 45 }, () => newLineUserId());
const otherIds = Array.from({ length: 15 }, () => newLineUserId());

describe('contacts view', () => {
  it('imports a CSV, showing the rejected rows by number, and pages through the contacts', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, ADMIN_TOKEN);
    await page.goto(`${svc.url}/admin#contacts`);
    await page.waitForSelector('#view-contacts:visible');
    await page.waitForSelector('#no-contacts:visible');

    const rows = ['channel,userId,tags,language'];
    for (const u of vipIds) rows.push(`line,${u},vip|tokyo,ja`);
    for (const u of otherIds) rows.push(`line,${u},osaka,zh-TW`);
    rows.push('fax,12345,,');             // row 62: unknown channel
    rows.push('line,U-not-a-line-id,vip,'); // row 63: not a LINE user id
    await page.setInputFiles('#contacts-file', { name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.click('#contacts-import-form button');
    await page.waitForSelector('#contacts-import-result:has-text("created")');
    expect(await text('#contacts-import-result')).toBe('60 created, 0 updated, 2 rejected (the other rows were imported)');
    expect(await page.locator('#contacts-import-rejected li').allTextContents()).toEqual([
      expect.stringMatching(/^Row 62: unknown channel "fax"/),
      expect.stringMatching(/^Row 63: userId is not a LINE user id/),
    ]);

    // 50 a page, then the rest with "load more".
    await page.waitForSelector('#contacts-count:has-text("50 shown, more to load")');
    await page.click('#contacts-more');
    await page.waitForSelector('#contacts-count:has-text("60 shown")');
    expect(await page.locator('#contacts-more').isHidden()).toBe(true);
    const ids = await page.locator('#contacts tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-contact')));
    expect(new Set(ids).size).toBe(60);

    // Filter by tag, then by channel, then search a user id.
    await page.fill('#c-tag', 'osaka');
    await page.click('#contacts-filter button');
    await page.waitForSelector('#contacts-count:text-is("15 shown")');
    expect(await page.locator('#contacts tbody tr').first().locator('td').nth(4).textContent()).toBe('osaka');
    await page.fill('#c-tag', '');
    await page.selectOption('#c-channel', 'messenger');
    await page.click('#contacts-filter button');
    await page.waitForSelector('#no-contacts:visible');
    await page.selectOption('#c-channel', '');
    await page.fill('#c-q', vipIds[3]!);
    await page.click('#contacts-filter button');
    await page.waitForSelector('#contacts-count:text-is("1 shown")');
    expect(await page.locator('#contacts tbody tr td').allTextContents()).toEqual(
      ['—', 'line', vipIds[3], 'ja', 'viptokyo', '', '', 'yes']);
    await page.fill('#c-q', '');
  });

  it('syncs LINE friends with a progress bar; LINE\'s refusal is shown in plain words', async () => {
    // Two pages of friends: 1,200 new, and two already imported.
    standin.followers = [...Array.from({ length: 1200 }, () => newLineUserId()), vipIds[0]!, otherIds[0]!];
    await recordTexts('#sync-result');
    await page.click('[data-sync-channel=line]');
    await page.waitForSelector('#sync-result:has-text("Done:")', { timeout: 60_000 });
    expect(await text('#sync-result')).toBe('Done: 1,202 friends read, 1,200 new contacts added. Their names and languages follow in the next minutes.');
    expect((await seenTexts('#sync-result')).some((t) => /^Syncing… [\d,]+ friends read so far$/.test(t))).toBe(true);
    expect(await page.locator('#sync-progress').getAttribute('aria-valuenow')).toBe('100');
    const n = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM contacts`);
    expect((n.rows[0] as { n: number }).n).toBe(1260);

    standin.followersRefusal = { status: 403, body: { message: 'Access to this API is not available for your account' } };
    await page.click('[data-sync-channel=line]');
    await page.waitForSelector('#sync-result:has-text("The sync failed")', { timeout: 60_000 });
    expect(await text('#sync-result')).toMatch(/^The sync failed: LINE does not allow this account to list its friends.*Nothing was added\.$/);
    expect(await page.locator('#sync-progress').isHidden()).toBe(true);
    standin.followersRefusal = null;
    expect(problems).toEqual([]);
    expect(refused).toEqual([]);
  });
});

describe('broadcasts view', () => {
  let spring: { id: string };
  let autumn: { id: string };

  beforeAll(async () => {
    spring = await makeCampaign(svc, { name: 'Spring 10%', timeZone: 'Asia/Tokyo', verification: true });
    autumn = await makeCampaign(svc, { name: 'Autumn gift', reward: { type: 'gift', text: 'Free tea' }, timeZone: 'Asia/Tokyo' });
    await loadFixedSerial(svc, spring.id, 'SPRING-10', 1000);
    await loadFixedSerial(svc, autumn.id, 'AUTUMN-1', 1000);
    standin.quota = { limit: 5000, used: 1000 };
  });

  it('counts the audience live per channel and shows the quota line before sending', async () => {
    await page.click('[data-tab=broadcasts]');
    await page.waitForSelector('#no-broadcasts:visible');
    await page.click('#broadcast-new');
    await page.waitForSelector('#broadcast-compose:visible');
    // Everyone reachable at first: the imported contacts and the synced friends.
    await page.waitForSelector(estimate(1260));
    expect(await page.locator('#ab-estimate [data-channel=line]').getAttribute('data-count')).toBe('1260');
    expect(await page.locator('#ab-estimate [data-channel=messenger]').getAttribute('data-count')).toBe('0');

    await page.fill('#ab-tags-all', 'vip');
    await page.waitForSelector(estimate(45));
    await page.fill('#ab-languages', 'zh');
    await page.waitForSelector(estimate(0));
    await page.fill('#ab-languages', '');
    await page.waitForSelector(estimate(45));
    await page.uncheck('[data-audience-channel=line]');
    await page.waitForSelector(estimate(0));
    expect(await page.locator('#ab-estimate [data-channel=line]').count()).toBe(0);
    await page.check('[data-audience-channel=line]');
    await page.waitForSelector(estimate(45));
    // A bad tag is the API's refusal, shown at the field.
    await page.fill('#ab-tags-none', 'a|b');
    await page.waitForSelector('#ab-estimate.reason:not([data-state])');
    expect(await text('[data-bc-error-for="audience.tagsNone"]')).toContain('must not contain "|"');
    expect(refused.splice(0)).toEqual(['400 POST /api/v1/audiences/estimate']);
    await page.fill('#ab-tags-none', '');
    await page.waitForSelector(estimate(45));

    await page.fill('#bc-name', 'VIP spring');
    await page.selectOption('#bc-campaign', spring.id);
    await page.waitForSelector(quotaLine);
    expect(await text('#bc-quota-line')).toBe('This uses 45 of your 4,000 remaining messages this month.');
  });

  it('composes variants with a holdout, starts, shows progress with rate and time left, pauses, resumes, and ends with results per variant', async () => {
    await page.check('#bc-mode-variants');
    await page.waitForSelector('#bc-variants [data-variant=b]');
    const a = page.locator('#bc-variants [data-variant=a]');
    const b = page.locator('#bc-variants [data-variant=b]');
    await a.locator('select').selectOption(spring.id);
    await a.locator('[data-field=weight]').fill('2');
    await a.locator('[data-field=text]').fill('Spring is here: 10% off for our VIPs');
    await b.locator('select').selectOption(autumn.id);
    await b.locator('[data-field=text]').fill('A free tea for our VIPs');
    await page.click('#bc-add-variant');
    await page.click('#bc-variants [data-variant=c] button');
    expect(await page.locator('#bc-variants .variant').count()).toBe(2);
    await page.fill('#bc-holdout', '10');
    await page.fill('#bc-rate', '4');
    // With a holdout the line estimates the recipients outside it.
    await page.waitForSelector(quotaLine);
    expect(await text('#bc-quota-line')).toMatch(/^This uses \d+ of your 4,000 remaining messages this month\.$/);

    await recordTexts('#bd-progress-text');
    await page.click('#bc-send');
    await page.waitForSelector('#broadcast-detail:visible');
    expect(page.url()).toMatch(/#broadcast\/brd_/);
    const id = decodeURIComponent(page.url().split('#broadcast/')[1]!);
    await page.waitForSelector('#bd-status[data-status=running]');
    const created = (await request(svc.url).get(`/api/v1/broadcasts/${id}`).set(svc.admin)).body;
    expect(created).toMatchObject({ name: 'VIP spring', ratePerSecond: 4, holdoutPercent: 10, audience: { tagsAll: ['vip'] },
      variants: [{ key: 'a', campaignId: spring.id, weight: 2, text: 'Spring is here: 10% off for our VIPs' }, { key: 'b', campaignId: autumn.id, weight: 1 }] });
    const target = created.counts.recipients - created.counts.holdout;
    expect(created.counts.recipients).toBe(45);

    // Progress while it runs: some sent, a measured rate and the time left.
    await page.waitForSelector('#bd-pace:has-text("cards a second · about")', { timeout: 30_000 });
    await page.click('#bd-pause');
    await page.waitForSelector('#bd-status[data-status=paused]');
    await page.waitForSelector('#bd-pace:has-text("Paused with")');
    const pausedAt = (await request(svc.url).get(`/api/v1/broadcasts/${id}`).set(svc.admin)).body.counts;
    expect(pausedAt.pending).toBeGreaterThan(0);
    expect(await page.locator('#bd-resume').isVisible()).toBe(true);
    expect(await page.locator('#bd-pause').isHidden()).toBe(true);
    await page.click('#bd-resume');
    await page.waitForSelector('#bd-status[data-status=running]');

    await page.waitForSelector('#bd-status[data-status=done]', { timeout: 60_000 });
    expect(await text('#bd-progress-text')).toBe(`${target} of ${target} done (${target} sent, 0 skipped, 0 failed); ${created.counts.holdout} held out`);
    expect(await page.locator('#bd-progress').getAttribute('aria-valuenow')).toBe('100');
    const partial = (await seenTexts('#bd-progress-text')).filter((t) => {
      const m = /^(\d+) of (\d+) done/.exec(t);
      return m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2]);
    });
    expect(partial.length).toBeGreaterThan(0);
    expect(await page.locator('#bd-pause').isHidden()).toBe(true);
    expect(await page.locator('#bd-cancel').isHidden()).toBe(true);
    // Each VIP outside the holdout got one push with the variant's text and card, once.
    const pushes = standin.delivered.filter((r) => r.kind === 'push');
    expect(pushes).toHaveLength(target);
    expect(new Set(pushes.map((p) => (p.body as { to: string }).to)).size).toBe(target);

    // Results per variant, then revenue once coupons are verified at the till.
    await page.waitForSelector('#bd-results tr[data-variant=holdout]');
    const stats = (await request(svc.url).get(`/api/v1/broadcasts/${id}/stats`).set(svc.admin)).body as { variants: Array<{ key: string; sent: number }> };
    for (const v of stats.variants.filter((x) => x.key !== 'holdout')) {
      expect(await page.locator(`#bd-results tr[data-variant=${v.key}] td`).nth(2).textContent()).toBe(String(v.sent));
    }
    // Who got what: every recipient listed, then the holdout alone.
    await page.waitForSelector(`#bd-recipients-count:text-is("45 shown")`);
    expect(await page.locator('#bd-recipients tr[data-status=issued] td:nth-child(4)').allTextContents()).toEqual(Array(target).fill('card sent'));
    await page.selectOption('#bd-r-status', 'holdout');
    await page.click('#bd-recipients-filter button');
    await page.waitForSelector(`#bd-recipients-count:text-is("${created.counts.holdout} shown")`);
    expect(await page.locator('#bd-recipients tbody tr[data-status=holdout]').count()).toBe(created.counts.holdout);
    const coupons = await query(svc.ctx.db, sql`SELECT cp.id, cp.token FROM broadcast_recipients r JOIN coupons cp ON cp.id = r.coupon_id
      WHERE r.broadcast_id = ${id} AND r.variant = 'a' ORDER BY cp.id LIMIT 2`);
    for (const [i, c] of (coupons.rows as Array<{ id: string; token: string }>).entries()) {
      expect((await redeemCoupon(svc.ctx, c.token)).ok).toBe(true);
      const v = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: c.id, amount: i === 0 ? 1500 : 700, currency: 'JPY' });
      expect(v.status).toBe(200);
    }
    await page.click('[data-tab=broadcasts]');
    await page.waitForSelector(`#broadcasts tr[data-broadcast="${id}"] [data-status=done]`);
    await page.click(`#broadcasts tr[data-broadcast="${id}"] button`);
    await page.waitForSelector('#bd-results tr[data-variant=a] td:has-text("¥2,200")');
    expect(await page.locator('#bd-results tr[data-variant=a] td').nth(4).textContent()).toBe('2');
    const notes = await page.locator('#bd-verdict li').allTextContents();
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^A [\d.]+% vs B 0\.0% redeemed of sent: too few redemptions yet to tell whether the difference is real\.$/);
    expect(notes[1]).toMatch(/^Against the holdout: .*too few redemptions yet/);
  });

  it('shows a broadcast paused by its campaign in words, and resumes it once the campaign is active again', async () => {
    const b = await request(svc.url).post('/api/v1/broadcasts').set(svc.admin)
      .send({ name: 'Osaka tea', audience: { tagsAll: ['osaka'] }, campaignId: autumn.id, ratePerSecond: 1 });
    expect(b.status).toBe(201);
    await page.goto(`${svc.url}/admin#broadcast/${b.body.id}`);
    await page.waitForSelector('#bd-status[data-status=running]');
    expect((await request(svc.url).patch(`/api/v1/campaigns/${autumn.id}`).set(svc.admin).send({ state: 'paused' })).status).toBe(200);
    await page.waitForSelector('#bd-status[data-status=paused]', { timeout: 30_000 });
    expect(await text('#bd-reason')).toBe('Paused: Its campaign was paused, ended or archived. Make the campaign active again, then resume.');
    expect((await request(svc.url).patch(`/api/v1/campaigns/${autumn.id}`).set(svc.admin).send({ state: 'active' })).status).toBe(200);
    await page.click('#bd-resume');
    await page.waitForSelector('#bd-status[data-status=running]');
    expect(await text('#bd-reason')).toBe('');
    page.once('dialog', (d) => void d.accept());
    await page.click('#bd-cancel');
    await page.waitForSelector('#bd-status[data-status=cancelled]');
    // Those left are skipped as cancelled, listed by that reason.
    const left = (await request(svc.url).get(`/api/v1/broadcasts/${b.body.id}`).set(svc.admin)).body.skippedBy.cancelled as number;
    expect(left).toBeGreaterThan(0);
    await page.waitForSelector('#bd-r-reason option[value=cancelled]', { state: 'attached' });
    await page.selectOption('#bd-r-status', 'skipped');
    await page.selectOption('#bd-r-reason', 'cancelled');
    await page.click('#bd-recipients-filter button');
    await page.waitForSelector(`#bd-recipients-count:text-is("${left} shown")`);
    expect(new Set(await page.locator('#bd-recipients tbody td:nth-child(5)').allTextContents())).toEqual(new Set(['cancelled']));
    expect(problems).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('schedules in the campaign\'s time zone, not the browser\'s, and cancels', async () => {
    await page.goto(`${svc.url}/admin#broadcasts/new`);
    await page.waitForSelector('#broadcast-compose:visible');
    await page.fill('#bc-name', 'Tomorrow morning');
    await page.fill('#ab-tags-all', 'osaka');
    await page.selectOption('#bc-campaign', autumn.id);
    await page.check('#bc-when-later');
    expect(await text('#bc-zone')).toBe('(Asia/Tokyo, the campaign\'s time zone)');
    const tomorrow = isoToZoned(new Date(Date.now() + 86_400_000).toISOString(), 'Asia/Tokyo').slice(0, 10);
    await page.fill('#bc-send-at', `${tomorrow}T09:00`);
    await page.click('#bc-send');
    await page.waitForSelector('#bd-status[data-status=scheduled], #bc-errors:visible');
    expect(await page.locator('#bc-errors').isHidden() ? '' : await text('#bc-errors')).toBe('');
    await page.waitForSelector('#bd-status[data-status=scheduled]');
    const id = decodeURIComponent(page.url().split('#broadcast/')[1]!);
    const b = (await request(svc.url).get(`/api/v1/broadcasts/${id}`).set(svc.admin)).body;
    // 09:00 in Tokyo is 00:00 UTC (02:00 UTC would be 09:00 in Bangkok, the browser's zone).
    expect(b.sendAt).toBe(`${tomorrow}T00:00:00.000Z`);
    expect(await text('#bd-when')).toContain(`Starts ${tomorrow} 09:00 (Asia/Tokyo)`);

    page.once('dialog', (d) => void d.accept());
    await page.click('#bd-cancel');
    await page.waitForSelector('#bd-status[data-status=cancelled]');
    expect(await text('#bd-action-result')).toBe('Cancelled.');
    expect(problems).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('shows the API\'s refusal in the form and stays usable on a phone', async () => {
    await page.goto(`${svc.url}/admin#broadcasts`);
    await page.click('#broadcast-new');
    await page.waitForSelector('#broadcast-compose:visible');
    await page.click('#bc-send');
    await page.waitForSelector('#bc-errors:visible');
    expect(await text('#bc-form [data-bc-error-for=name]')).not.toBe('');
    expect(await text('#bc-form [data-bc-error-for=campaignId]')).not.toBe('');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.check('#bc-mode-variants');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.click('[data-tab=contacts]');
    await page.waitForSelector('#view-contacts:visible');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
    expect(refused).toEqual(['400 POST /api/v1/broadcasts']);
  });
});
