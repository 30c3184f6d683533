import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { query } from '../../src/db/client.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { deliverWebhooksDue } from '../../src/webhooks/webhook-worker.ts';
import { flowsDir, say } from '../integration/flow-support.ts';
import { launchBrowser, openPage, loadSerials, makeCampaign, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, personOf, startTestService, type TestService } from '../support/service.ts';

/**
 * The till in the console: revenue in the funnel (per currency, per sent coupon, per flow and per
 * agent), a coupon's history in the records, and webhooks out (add, secret once, deliveries, resend).
 */
const browserUa = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let flows: string;
let receiver: http.Server;
let receiverUrl: string;
/** What the shop's system answers. */
let answer = 500;
const received: Array<{ type: string; eventId: string }> = [];
const problems: string[] = [];

beforeAll(async () => {
  flows = flowsDir({ 'gift.yaml': 'id: gift\ntrigger: { keyword: [gift] }\nsteps:\n  - coupon: till-gift\n' });
  receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
    req.on('end', () => {
      const body = JSON.parse(raw) as { type: string };
      received.push({ type: body.type, eventId: String(req.headers['x-chatcoupon-event-id']) });
      res.statusCode = answer;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/coupons`;
  [svc, browser] = await Promise.all([startTestService({ env: { FLOWS_DIR: flows } }), launchBrowser()]);
  ({ context, page } = await openPage(browser, { viewport: { width: 1280, height: 800 } }, problems, { acceptDialogs: true }));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  if (flows) await fs.promises.rm(flows, { recursive: true, force: true });
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

async function tokenOf(couponId: string): Promise<string> {
  const r = await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE id = ${couponId}`);
  return (r.rows[0] as { token: string }).token;
}

async function openAndRedeem(couponId: string): Promise<string> {
  const token = await tokenOf(couponId);
  expect((await request(svc.url).post(`/c/${token}/open`).set('User-Agent', browserUa)).status).toBe(204);
  const redeemed = await request(svc.url).post(`/c/${token}/redeem`).set('Accept', 'application/json').set('User-Agent', browserUa);
  expect(redeemed.body.status).toBe('redeemed');
  return redeemed.body.code as string;
}

describe('webhooks out in the console', () => {
  let campaignId: string;
  const coupons: Record<string, string> = {};

  it('adds an endpoint after plain-word refusals, and shows its secret once', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, ADMIN_TOKEN);
    await page.click('[data-tab=webhooks]');
    await page.waitForSelector('#no-webhooks:visible');

    await page.click('#webhook-add');
    expect(await text('[data-error-for=url]')).toBe('Enter the address your system takes the events at.');
    expect(await text('[data-error-for=events]')).toBe('Tick at least one event to send.');
    await page.fill('#w-url', 'ftp://shop.example/hooks');
    await page.check('input[name=w-event][value="coupon.verified"]');
    await page.click('#webhook-add');
    await page.waitForSelector('[data-error-for=url]:has-text("https://")');
    expect(await text('[data-error-for=url]')).toBe('Enter a full address starting with https:// (or http://).');
    expect(await page.locator('#webhook-secret').isHidden()).toBe(true);
    expect((await request(svc.url).get('/api/v1/webhooks').set(svc.admin)).body.webhooks).toEqual([]);

    await page.fill('#w-url', receiverUrl);
    await page.check('input[name=w-event][value="coupon.voided"]');
    await page.click('#webhook-add');
    await page.waitForSelector('#webhook-secret:visible');
    const stored = await query(svc.ctx.db, sql`SELECT id, secret FROM webhook_endpoints`);
    const endpoint = stored.rows[0] as { id: string; secret: string };
    expect(await text('#webhook-secret-value')).toBe(endpoint.secret);
    const row = page.locator(`#webhooks tr[data-webhook="${endpoint.id}"]`);
    await row.waitFor();
    expect(await row.locator('code').textContent()).toBe(receiverUrl);
    expect(await row.locator('.badge').allTextContents()).toEqual(['coupon.verified', 'coupon.voided']);
    // The secret is in no other answer: reloading the list shows it nowhere.
    await page.reload();
    await page.waitForSelector(`#webhooks tr[data-webhook="${endpoint.id}"]`);
    expect(await page.content()).not.toContain(endpoint.secret);
  });

  it('shows revenue per currency and per sent coupon in the funnel, and per flow and per agent', async () => {
    const campaign = await makeCampaign(svc, { name: 'Till gift', slug: 'till-gift', verification: true, perContactLimit: 5 });
    campaignId = campaign.id;
    await loadSerials(svc, campaign.id, ['TG-1', 'TG-2', 'TG-3', 'TG-4']);
    expect((await request(svc.url).post('/api/v1/flows/reload').set(svc.admin)).status).toBe(200);
    // One from the flow, one sent by the agent Amy from the workbench, one through the API.
    await say(svc.ctx, 'line', 'U-flow', 'gift');
    await say(svc.ctx, 'line', 'U-chat', 'hello');
    const conv = await query(svc.ctx.db, sql`SELECT id FROM conversations WHERE external_id = 'U-chat'`);
    const amy = await personOf(svc, 'agent', 'Amy');
    const sent = await request(svc.url).post('/api/v1/workbench/send').set(amy.header).send({ conversationId: (conv.rows[0] as { id: string }).id, campaignId });
    expect(sent.status).toBe(201);
    const api = await request(svc.url).post(`/api/v1/campaigns/${campaignId}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-api' });
    expect(api.status).toBe(201);
    await deliverDue(svc.ctx, async () => ({ outcome: 'sent' }));
    const byUser = await query(svc.ctx.db, sql`SELECT c.id, ct.platform_user_id AS "userId" FROM coupons c JOIN contacts ct ON ct.id = c.contact_id WHERE c.campaign_id = ${campaignId}`);
    for (const r of byUser.rows as Array<{ id: string; userId: string }>) coupons[r.userId] = r.id;
    expect(Object.keys(coupons).sort()).toEqual(['U-api', 'U-chat', 'U-flow']);

    const flowCode = await openAndRedeem(coupons['U-flow']!);
    const chatCode = await openAndRedeem(coupons['U-chat']!);
    const apiCode = await openAndRedeem(coupons['U-api']!);
    const verify = (body: Record<string, unknown>) => request(svc.url).post('/api/v1/verifications').set(svc.pos).send(body);
    expect((await verify({ code: flowCode, amount: 1000, currency: 'JPY', storeId: 'shibuya-1' })).status).toBe(200);
    expect((await verify({ code: chatCode, amount: 500, currency: 'JPY' })).status).toBe(200);
    expect((await verify({ code: apiCode, amount: 300, currency: 'JPY' })).status).toBe(200);
    const voided = await request(svc.url).post('/api/v1/verifications/void').set(svc.admin).send({ couponId: coupons['U-api'], reason: 'rung up at the wrong till' });
    expect(voided.status).toBe(200);

    await page.click('[data-tab=campaigns]');
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.waitForSelector('[data-stat=revenue]:has-text("¥")');
    expect(await text('[data-stat=revenue]')).toBe('¥1,500');
    expect(await text('[data-stat=revenuePerSent]')).toBe('¥500');
    const cells = async (kind: string, key: string) => await page.locator(`[data-split=${kind}] tr[data-key="${key}"] td`).allTextContents();
    expect(await cells('flow', 'gift')).toEqual(['gift', '1', '1', '1 (100%)', '1', '¥1,000', '¥1,000']);
    expect(await cells('agent', amy.id)).toEqual(['Amy', '1', '1', '1 (100%)', '1', '¥500', '¥500']);
  });

  it('shows a coupon\'s history in the records: who, when, from where', async () => {
    const row = page.locator(`#records tr[data-record="${coupons['U-api']}"]`);
    await row.locator('[data-action=history]').click();
    await page.waitForSelector('#history [data-event=voided]');
    const events = await page.locator('#history-events li').evaluateAll((items) => items.map((li) => [
      (li as HTMLElement).dataset.event, li.querySelector('div')!.textContent!.trim(),
    ]));
    expect(events.map(([e]) => e)).toEqual(['issued', 'delivered', 'opened', 'redeemed', 'verified', 'voided']);
    expect(events[0]![1]).toBe('Issued through the API for LINE');
    expect(events[1]![1]).toBe('Delivered to LINE');
    expect(events[3]![1]).toBe('Redeemed by the customer on the coupon page');
    expect(events[4]![1]).toMatch(/^Verified by the till \(POS token\)/);
    expect(events[4]![1]).toContain('order ¥300');
    expect(events[5]![1]).toMatch(/^Verification voided with the admin token.*reason: rung up at the wrong till$/);
    expect(await text('#history-title')).toBe('History of the coupon of U-api (TG-3)');

    // The flow's coupon: from which flow, and the store it was verified at.
    await page.locator(`#records tr[data-record="${coupons['U-flow']}"] [data-action=history]`).click();
    await page.waitForSelector('#history-title:has-text("U-flow")');
    await page.waitForSelector('#history [data-event=verified]');
    expect(await text('#history [data-event=issued] div')).toBe('Issued by a flow (flow “gift”) for LINE');
    expect(await text('#history [data-event=verified] > div')).toContain('store shibuya-1');
    await page.click('#history-close');
    expect(await page.locator('#history').isHidden()).toBe(true);
  });

  it('lists deliveries with status and attempts, and resends one', async () => {
    expect(await deliverWebhooksDue(svc.ctx)).toBe(4);
    expect(received.map((r) => r.type).sort()).toEqual(['coupon.verified', 'coupon.verified', 'coupon.verified', 'coupon.voided']);
    await page.click('[data-tab=webhooks]');
    await page.click('[data-action=deliveries]');
    await page.waitForSelector('#deliveries tbody tr');
    expect(await page.locator('#deliveries tbody tr').count()).toBe(4);
    const voidedRow = page.locator('#deliveries tbody tr', { has: page.locator('code:text-is("coupon.voided")') });
    expect(await voidedRow.locator('[data-field=status] .badge').textContent()).toBe('waiting to be sent again');
    expect(await voidedRow.locator('[data-field=attempts]').textContent()).toContain('1 attempt');
    expect(await voidedRow.locator('[data-field=attempts] li').textContent()).toContain('answered 500');

    answer = 200;
    await voidedRow.locator('[data-action=resend]').click();
    await page.waitForSelector('#deliveries-result:has-text("will be sent again")');
    expect(await deliverWebhooksDue(svc.ctx)).toBe(1);
    expect(received.at(-1)!.type).toBe('coupon.voided');
    expect(received.filter((r) => r.eventId === received.at(-1)!.eventId)).toHaveLength(2);
    await page.click('#deliveries-refresh');
    await voidedRow.locator('.badge-yes').waitFor();
    expect(await voidedRow.locator('[data-field=status] .badge').textContent()).toBe('accepted');
    expect(await voidedRow.locator('[data-field=attempts] > span').textContent()).toBe('2 attempts');
    // The filter goes to the API.
    await page.selectOption('#d-status', 'sent');
    await page.waitForFunction(() => document.querySelectorAll('#deliveries tbody tr').length === 1);
    await page.selectOption('#d-status', '');
  });

  it('shows a network that does not answer and a server error, never swallowing them', async () => {
    await page.route('**/api/v1/webhooks', (route) => route.abort('connectionrefused'));
    await page.click('#webhooks-refresh');
    await page.waitForSelector('#webhooks-error:has-text("could not be reached")');
    await page.unroute('**/api/v1/webhooks');
    await page.route('**/resend', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal_error","message":"something went wrong on our side"}}' }));
    await page.locator('#deliveries [data-action=resend]').first().click();
    await page.waitForSelector('#deliveries-error:has-text("something went wrong on our side")');
    await page.unroute('**/resend');

    await page.click('[data-tab=campaigns]');
    await page.route('**/history', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }));
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.locator(`#records tr[data-record="${coupons['U-flow']}"] [data-action=history]`).click();
    await page.waitForSelector('#history-error:has-text("answered 502")');
    await page.unroute('**/history');
  });

  it('is usable on a phone', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.waitForSelector('[data-stat=revenue]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.click('[data-tab=webhooks]');
    await page.click('[data-action=deliveries]');
    await page.waitForSelector('#deliveries tbody tr');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
  });
});
