import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import {
  couponState, launchBrowser, loadFixedSerial, loadSerials, makeCampaign, meTokenOf, phone, sentCoupon, signInWithToken, twoSentCoupons,
} from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let staffToken: string;
let staffId: string;
let agentToken: string;
let browser: Browser;
/** Console errors and uncaught page errors (a CSP violation shows up here). */
const problems: string[] = [];

beforeAll(async () => {
  // SameSite=None: the workbench signs in inside an inbox on another site (see the framing test).
  [svc, browser] = await Promise.all([startTestService({ env: { SESSION_COOKIE_SAMESITE: 'none' } }), launchBrowser()]);
  const staff = await personOf(svc, 'staff');
  const agent = await personOf(svc, 'agent');
  staffToken = staff.header.Authorization.slice('Bearer '.length);
  staffId = staff.id;
  agentToken = agent.header.Authorization.slice('Bearer '.length);
});
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

async function newPage(opts: { userAgent?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ ...phone, ...opts });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return page;
}

/** Opens a coupon page and waits for its open beacon to be answered. */
async function openCoupon(page: Page, token: string) {
  const beacon = page.waitForResponse((r) => r.url().endsWith(`/c/${token}/open`));
  await page.goto(`${svc.url}/c/${token}`);
  expect((await beacon).status()).toBe(204);
}

describe('coupon page in a browser', () => {
  it('records the open once, redeems, shows code and barcode, and shows the same code when opened again', async () => {
    const campaign = await makeCampaign(svc, { slug: 'e2e-main', barcode: 'code128' });
    await loadSerials(svc, campaign.id, ['E2E-0001', 'E2E-0002']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-e2e');
    const page = await newPage();

    await openCoupon(page, coupon.token);
    await expect(page.locator('h1').textContent()).resolves.toBe('Spring 10% off');
    await expect(page.locator('[data-field=status]').textContent()).resolves.toBe('Ready to use');
    // Mobile-first: nothing wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The campaign's button colour is applied (CSP lets the nonce'd style through).
    expect(await page.locator('#redeem').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(230, 81, 0)');
    const opened = await couponState(svc, coupon.token);
    expect(opened.status).toBe('opened');
    expect(opened.openedAt).toBeInstanceOf(Date);

    // A one-time code asks first; Cancel takes nothing.
    await page.click('#redeem');
    await page.waitForSelector('#confirm-question');
    expect(await page.locator('#confirm-question').textContent()).toBe('Show this at the till. Redeem now?');
    await page.click('#cancel');
    await page.waitForSelector('#redeem');
    expect((await couponState(svc, coupon.token)).status).toBe('opened');
    await page.click('#redeem');
    await page.click('#confirm');
    await page.waitForSelector('#code');
    expect(await page.locator('#code').textContent()).toBe('E2E-0001');
    const barcode = page.locator('#barcode svg');
    expect(await barcode.isVisible()).toBe(true);
    const box = (await barcode.boundingBox())!;
    expect(box.width).toBeGreaterThan(100);
    expect(box.height).toBeGreaterThan(30);
    expect(await page.locator('#redeem').count()).toBe(0);

    await page.goto(`${svc.url}/c/${coupon.token}`);
    expect(await page.locator('#code').textContent()).toBe('E2E-0001');
    const after = await couponState(svc, coupon.token);
    expect(after).toMatchObject({ status: 'redeemed', serialCode: 'E2E-0001' });
    expect(after.openedAt).toEqual(opened.openedAt);
    expect(problems).toEqual([]);
  });

  it('gives the last serial to one of two people pressing Redeem at once; the other sees sold out', async () => {
    const campaign = await makeCampaign(svc, { slug: 'e2e-race' });
    await loadSerials(svc, campaign.id, ['LAST-ONE']);
    const [a, b] = [await sentCoupon(svc, campaign.id, 'U-race-a'), await sentCoupon(svc, campaign.id, 'U-race-b')];
    const [pa, pb] = [await newPage(), await newPage()];
    await Promise.all([openCoupon(pa, a.token), openCoupon(pb, b.token)]);

    await Promise.all([pa.click('#redeem'), pb.click('#redeem')]);
    await Promise.all([pa.waitForSelector('#confirm'), pb.waitForSelector('#confirm')]);
    await Promise.all([pa.click('#confirm'), pb.click('#confirm')]);
    await Promise.all([pa.waitForSelector('#code, [data-notice]'), pb.waitForSelector('#code, [data-notice]')]);
    const outcomes = await Promise.all([pa, pb].map(async (p) => ((await p.locator('#code').count())
      ? `code:${await p.locator('#code').textContent()}`
      : `notice:${await p.locator('[data-notice] h2').textContent()}`)));
    expect(outcomes.sort()).toEqual(['code:LAST-ONE', 'notice:Sold out']);
    const states = [await couponState(svc, a.token), await couponState(svc, b.token)].map((s) => s.status).sort();
    expect(states).toEqual(['opened', 'redeemed']);
  });

  it('lets staff verify a redeemed coupon after a confirmation step', async () => {
    const campaign = await makeCampaign(svc, { slug: 'e2e-verify', verification: true, barcode: 'qr', timeZone: 'Asia/Tokyo' });
    await loadFixedSerial(svc, campaign.id, 'FNA@5841', 5);
    const coupon = await sentCoupon(svc, campaign.id, 'U-verify');
    const page = await newPage();
    await openCoupon(page, coupon.token);
    expect(await page.locator('#verify').count()).toBe(0);
    // A fixed code is the same for everyone: Redeem shows it at once.
    await page.click('#redeem');
    await page.waitForSelector('#code');
    expect(await page.locator('#barcode svg').isVisible()).toBe(true);

    // Verifying is for signed-in staff: the phone at the till signs in once, then comes back here.
    await page.click('#verify');
    await signInWithToken(page, staffToken);
    await page.waitForSelector('text=Confirm verification?');
    await page.click('#cancel');
    await page.waitForSelector('#verify');
    expect((await couponState(svc, coupon.token)).status).toBe('redeemed');

    await page.click('#verify');
    await page.click('#confirm');
    await page.waitForSelector('[data-notice=ok]');
    expect(await page.locator('[data-notice=ok]').textContent()).toContain('Verified at');
    expect(await page.locator('[data-field=status]').textContent()).toBe('Used');
    expect(await page.locator('#verify').count()).toBe(0);
    const state = await couponState(svc, coupon.token);
    expect(state).toMatchObject({ status: 'verified', verifiedBy: staffId });
    expect(state.verifiedAt).toBeInstanceOf(Date);

    // Used: no barcode to scan again, the code struck through, "Used on … at …" in the campaign's zone.
    await page.goto(`${svc.url}/c/${coupon.token}`);
    expect(await page.locator('#barcode').count()).toBe(0);
    expect(await page.locator('[data-field=used] #code').textContent()).toBe('FNA@5841');
    expect(await page.locator('#code').evaluate((e) => getComputedStyle(e).textDecorationLine)).toBe('line-through');
    const used = await page.locator('[data-field=verified-at]').textContent();
    const day = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Tokyo', year: 'numeric', month: 'short', day: 'numeric' }).format(state.verifiedAt!);
    const time = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(state.verifiedAt!);
    expect(used).toBe(`Used on ${day} at ${time}`);
  });

  it('shows "Staff: verify" only when the campaign verifies coupons, and it leads to the staff sign-in', async () => {
    const off = await makeCampaign(svc, { slug: 'e2e-verify-off', verification: false });
    await loadFixedSerial(svc, off.id, 'NOVERIFY', 5);
    const a = await sentCoupon(svc, off.id, 'U-verify-off');
    const page = await newPage();
    await openCoupon(page, a.token);
    await page.click('#redeem');
    await page.waitForSelector('#code');
    expect(await page.locator('#verify').count()).toBe(0);

    const on = await makeCampaign(svc, { slug: 'e2e-verify-on', verification: true });
    await loadFixedSerial(svc, on.id, 'VERIFYME', 5);
    const b = await sentCoupon(svc, on.id, 'U-verify-on');
    const other = await newPage();
    await openCoupon(other, b.token);
    await other.click('#redeem');
    await other.waitForSelector('#verify');
    await other.click('#verify');
    await other.waitForURL(/\/login\?next=/);
    expect(new URL(other.url()).searchParams.get('next')).toBe(`/c/${b.token}/verify`);
    expect((await couponState(svc, b.token)).status).toBe('redeemed');
  });

  it('does not count a link-preview crawler as an open, even one that runs the script', async () => {
    const campaign = await makeCampaign(svc, { slug: 'e2e-crawler' });
    await loadSerials(svc, campaign.id, ['CRAWL-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-crawl');
    const crawler = await newPage({ userAgent: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)' });
    await openCoupon(crawler, coupon.token);
    expect(await crawler.locator('h1').textContent()).toBe('Spring 10% off');
    const state = await couponState(svc, coupon.token);
    expect(state.status).toBe('sent');
    expect(state.openedAt).toBeNull();
  });

  it('lists my coupons with their statuses and links to each coupon page', async () => {
    const { first, second } = await twoSentCoupons(svc, 'U-me-e2e',
      { campaign: { slug: 'e2e-me-1', name: 'Coffee 20% off', reward: { type: 'percent', value: 20 } }, serial: 'ME-A' },
      { campaign: { slug: 'e2e-me-2', name: 'Free cookie', reward: { type: 'gift', text: 'Free cookie' } }, serial: 'ME-B' });
    await query(svc.ctx.db, sql`UPDATE coupons SET status = 'redeemed', serial_code = 'ME-A', redeemed_at = now() WHERE token = ${first.token}`);

    const page = await newPage();
    await page.goto(`${svc.url}/me/${await meTokenOf(svc, 'line', 'U-me-e2e')}`);
    const items = page.locator('#coupons li');
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).locator('h2').textContent()).toBe('Free cookie');
    expect(await items.nth(0).locator('[data-status]').textContent()).toBe('Ready to use');
    expect(await items.nth(1).locator('h2').textContent()).toBe('Coffee 20% off');
    expect(await items.nth(1).locator('[data-status]').textContent()).toBe('Redeemed');

    await items.nth(1).locator('a').click();
    await page.waitForURL(`${svc.url}/c/${first.token}`);
    expect(await page.locator('#code').textContent()).toBe('ME-A');
    expect(second.token).not.toBe(first.token);
  });
});

describe('workbench page in a browser', () => {
  it('signs in, filters, shows a detail, sends into the conversation and shows refusals', async () => {
    const gift = await makeCampaign(svc, { slug: 'wb-gift', name: 'Workbench gift', reward: { type: 'gift', text: 'Tote bag' }, visibility: 'private' });
    const pct = await makeCampaign(svc, { slug: 'wb-pct', name: 'Workbench 15%', reward: { type: 'percent', value: 15 } });
    await loadSerials(svc, gift.id, ['WB-G1']);
    await loadSerials(svc, pct.id, ['WB-P1', 'WB-P2']);
    const conversationId = await svc.ctx.db.transaction(async (tx) => {
      const { ensureContact, ensureConversation } = await import('../../src/contacts/contacts.ts');
      const contact = await ensureContact(tx, 'line', 'U-workbench');
      return (await ensureConversation(tx, contact, 'U-workbench', { inboundAt: new Date() })).id;
    });

    const page = await browser.newPage({ viewport: { width: 420, height: 800 } });
    try {
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => {
        // Refusals the page shows (a wrong token, a network cut below) are logged by Chromium as failed loads.
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
      });
      await page.goto(`${svc.url}/workbench?conversationId=${conversationId}`);
      await signInWithToken(page, 'wrong-token-0123456789');
      await page.waitForSelector('#sign-in-error:has-text("not valid")');

      await signInWithToken(page, agentToken);
      // Opened straight on the chat it names.
      await page.waitForSelector('#chat:has-text("A coupon can be sent into this chat")');
      await page.waitForSelector(`[data-campaign="${gift.id}"]`);
      expect(await page.locator('#list li').count()).toBeGreaterThanOrEqual(2);
      // Signed in once: the session cookie carries on.
      await page.reload();
      await page.waitForSelector(`[data-campaign="${gift.id}"]`);

      await page.selectOption('#reward', 'gift');
      await page.waitForSelector(`[data-campaign="${pct.id}"]`, { state: 'detached' });
      await page.selectOption('#reward', '');
      await page.fill('#q', '15%');
      await page.waitForSelector(`[data-campaign="${gift.id}"]`, { state: 'detached' });
      expect(await page.locator('#list li').count()).toBe(1);

      await page.click(`[data-campaign="${pct.id}"]`);
      expect(await page.locator('#d-name').textContent()).toBe('Workbench 15%');
      expect(await page.locator('#d-stock').textContent()).toBe('2');
      // The instructions as written with **bold**, a list and a link, shown as such (not as markup).
      expect(await page.locator('#d-instructions strong').textContent()).toBe('Not');
      expect(await page.locator('#d-instructions li').allTextContents()).toEqual(['One per visit', 'Not with other offers']);
      expect(await page.locator('#d-instructions a').getAttribute('href')).toBe('https://shop.example/terms');
      expect(await page.locator('#d-instructions').textContent()).not.toContain('**');
      expect(await page.locator('#send').isEnabled()).toBe(true);
      await page.click('#send');
      await page.waitForSelector('#d-result:has-text("Sent.")');
      const sent = await query(svc.ctx.db, sql`SELECT source, status FROM coupons WHERE campaign_id = ${pct.id} AND conversation_id = ${conversationId}`);
      expect(sent.rows).toEqual([{ source: 'agent', status: 'pending' }]);
      // The customer holds the one allowed: the list now says why it cannot be sent again.
      await page.waitForSelector('#d-reason:has-text("already holds")');
      expect(await page.locator('#send').isDisabled()).toBe(true);

      // A refusal from the send itself (stock gone after the list was loaded) is shown as given.
      await page.click('#back');
      await page.fill('#q', '');
      await page.waitForSelector(`[data-campaign="${gift.id}"]`);
      await page.click(`[data-campaign="${gift.id}"]`);
      await query(svc.ctx.db, sql`UPDATE serials SET coupon_id = 'taken-elsewhere' WHERE campaign_id = ${gift.id}`);
      await page.click('#send');
      await page.waitForSelector('#d-result:has-text("Not sent:")');
      expect(await page.locator('#d-result').textContent()).toContain('sold out');

      // A network that does not answer is said so, and the button can be pressed again.
      await query(svc.ctx.db, sql`UPDATE serials SET coupon_id = NULL WHERE campaign_id = ${gift.id} AND coupon_id = 'taken-elsewhere'`);
      await page.reload();
      await page.click(`[data-campaign="${gift.id}"]`);
      await page.route('**/api/v1/workbench/send', (route) => route.abort('connectionrefused'));
      await page.click('#send');
      await page.waitForSelector('#d-result:has-text("could not be reached")');
      expect(await page.locator('#send').textContent()).toBe('Send');
      await page.unroute('**/api/v1/workbench/send');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('can be framed by an inbox on another origin, while coupon pages cannot', async () => {
    const campaign = await makeCampaign(svc, { slug: 'e2e-frame' });
    await loadSerials(svc, campaign.id, ['FRAME-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-frame');
    const page = await browser.newPage();
    let inbox: http.Server | undefined;
    try {
      // The inbox: another origin (its own port) that frames the workbench and, wrongly, a coupon page.
      inbox = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(
          `<iframe id="wb" src="${svc.url}/workbench?channel=inbox&externalId=c-1"></iframe><iframe id="cp" src="${svc.url}/c/${coupon.token}"></iframe>`);
      });
      await new Promise<void>((resolve) => inbox!.listen(0, '127.0.0.1', resolve));
      const inboxUrl = `http://127.0.0.1:${(inbox.address() as AddressInfo).port}/`;
      const blocked = page.waitForEvent('console', (m) => /frame-ancestors|Refused to (display|frame)/i.test(m.text()));
      await page.goto(inboxUrl);
      const wb = page.frameLocator('#wb');
      // Signing in happens inside the frame, and leads back to the chat it was opened for.
      await wb.locator('#sign-in-form').waitFor();
      await wb.locator('summary').click();
      await wb.locator('#token').fill(agentToken);
      await wb.locator('#token-form button').click();
      // No message from c-1 has reached us: the chat view says so.
      await wb.locator('#chat:has-text("no message from it has reached us")').waitFor();
      expect(await wb.locator('#c-name').textContent()).toBe('c-1');
      await blocked;
      expect(await page.frameLocator('#cp').locator('#redeem').count()).toBe(0);
      expect(page.frames().some((f) => f.url().includes(`/c/${coupon.token}`))).toBe(false);
    } finally {
      await page.close();
      if (inbox) await new Promise((resolve) => inbox!.close(resolve));
    }
  });
});
