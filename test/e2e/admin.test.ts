import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { SYNC_IMPORT_MAX_BYTES } from '../../src/coupons/serial-import.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { dispatch, flowsDir } from '../integration/flow-support.ts';
import { collectProblems, launchBrowser, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';
import { PATIENCE_MS } from '../support/patience.ts';

const browserUa = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let flows: string;
/** Uploaded images and spooled packs of both services. */
let dataDir: string;
/** Console errors and uncaught page errors (a CSP violation shows up here). */
const problems: string[] = [];

beforeAll(async () => {
  flows = flowsDir({
    'hello.yaml': 'id: hello\nname: Hello on follow\ntrigger: { follow: true }\nsteps:\n  - say: "Hello!"\n  - tag: greeted\n',
    // Names the campaign the test creates through the form: refused until it exists.
    'gift.yaml': 'id: gift\ntrigger: { keyword: [gift] }\nsteps:\n  - coupon: admin-spring\n',
    'broken.yaml': 'id: broken\ntrigger: { follow: true\nsteps: [\n',
  });
  dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'admin-e2e-'));
  [svc, browser] = await Promise.all([startTestService({ env: { FLOWS_DIR: flows, DATA_DIR: dataDir } }), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  // A refusal the page shows is logged by Chromium as a failed resource; collectProblems leaves those out.
  collectProblems(page, problems);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  if (flows) await fs.promises.rm(flows, { recursive: true, force: true });
  if (dataDir) await fs.promises.rm(dataDir, { recursive: true, force: true });
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

describe('admin page in a browser', () => {
  let campaignId: string;

  it('leads to the sign-in page, refuses a wrong token, and comes back signed in for the session', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, 'wrong-token-0123456789');
    await page.waitForSelector('#sign-in-error:has-text("not valid")');

    await signInWithToken(page, ADMIN_TOKEN);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await page.waitForSelector('#no-campaigns:visible');
    await page.reload();
    await page.waitForSelector('#no-campaigns:visible');

    // Before its campaign exists, the flow that names it is shown with the loader's reason.
    await page.click('[data-tab=flows]');
    await page.waitForSelector('[data-flow=gift]');
    expect(await page.locator('[data-flow=gift] .badge').textContent()).toBe('not running');
    expect(await page.locator('[data-flow=gift] [data-field=problems]').textContent()).toContain('the campaign “admin-spring” does not exist yet');
  });

  it('creates a campaign through the form, showing the API\'s field errors first', async () => {
    await page.click('[data-tab=new]');
    await page.fill('#f-name', 'Admin spring 15%');
    await page.fill('#f-slug', 'admin-spring');
    await page.fill('#f-instructions', 'Show this page at the till.');
    await page.selectOption('#f-barcode', 'code128');
    await page.check('#f-verification');
    await page.fill('#f-reward-value', '150');
    await page.click('#create');

    await page.waitForSelector('[data-error-for="reward.value"]:has-text("at most 99")');
    expect(await page.locator('#f-reward-value').getAttribute('aria-invalid')).toBe('true');
    // In plain words, naming the field by its label.
    expect(await text('#create-errors')).toContain('Discount must be at most 99.');
    expect(await text('[data-error-for="name"]')).toBe('');
    const none = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(none.body.campaigns).toEqual([]);

    await page.fill('#f-reward-value', '15');
    await page.click('#create');
    await page.waitForSelector('#d-name:has-text("Admin spring 15%")');
    const list = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(list.body.campaigns).toHaveLength(1);
    const created = list.body.campaigns[0];
    campaignId = created.id;
    expect(created).toMatchObject({
      slug: 'admin-spring', name: 'Admin spring 15%', instructions: 'Show this page at the till.', barcode: 'code128',
      verification: true, visibility: 'public', perContactLimit: 1, expiry: { mode: 'fromSend', days: 7 },
      reward: { type: 'percent', value: 15 }, colors: { background: '#ffffff', button: '#06c755', buttonText: '#ffffff' },
    });
    expect(new Date(created.sendStart).getTime()).toBeLessThanOrEqual(Date.now());
    expect(page.url()).toContain(`#campaign/${campaignId}`);
    expect(await page.locator('#view-new').isHidden()).toBe(true);
    const row = page.locator(`#campaigns tr[data-campaign="${campaignId}"]`);
    expect(await row.locator('td').nth(1).textContent()).toBe('admin-spring');
    expect(await row.locator('td').nth(3).textContent()).toBe('15% off');
    expect(await row.locator('[data-field=stock]').textContent()).toBe('nothing loaded');
    expect(await text('[data-setting=verification]')).toBe('on');
    expect(await text('[data-setting=barcode]')).toBe('CODE_128');
  });

  it('uploads a CSV pack and reports the rejected row; uploads the image', async () => {
    await page.setInputFiles('#csv-file', { name: 'pack.csv', mimeType: 'text/csv', buffer: Buffer.from('serial\nADM-001\nADM-002\nADM-001\nADM-003\n') });
    await page.click('#csv-form button');
    await page.waitForSelector('#csv-result:has-text("loaded")');
    expect(await text('#csv-result')).toBe('3 loaded, 1 rejected (row 4: duplicate of row 2)');
    await page.waitForSelector(`#campaigns tr[data-campaign="${campaignId}"] [data-field=stock]:has-text("3 of 3")`);
    await page.waitForSelector('[data-stat=stockLeft]:text-is("3")');

    // The image is part of the campaign form.
    await page.click('#edit');
    await page.waitForSelector('#create:not([disabled])');
    await page.setInputFiles('#f-image', path.resolve('test/fixtures/coupon-640.png'));
    await page.waitForSelector('#f-image-note:has-text("coupon-640.png")');
    await page.click('#create');
    await page.waitForSelector('#edit-result:text-is("Saved: image.")');
    await page.waitForFunction(() => {
      const img = document.getElementById('image-preview') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth === 640;
    });
  });

  it('edits the campaign in the same form: field errors and a 409 first, then only the changed fields are saved', async () => {
    // Set through the API meanwhile: a start with seconds (the form shows minutes) and a setting the form lacks.
    const oddStart = new Date(Date.now() - 90_500).toISOString();
    const set = await request(svc.url).patch(`/api/v1/campaigns/${campaignId}`).set(svc.admin).send({ sendStart: oddStart, refusalText: 'Ask at the counter.' });
    expect(set.status).toBe(200);
    const before = set.body;
    await page.click('#edit');
    await page.waitForSelector('#form-title:has-text("Edit campaign: Admin spring 15%")');
    await page.waitForSelector('#create:not([disabled])');
    expect(page.url()).toContain(`#edit/${campaignId}`);
    expect(await text('#create')).toBe('Save changes');
    // Pre-filled with the campaign's current values.
    expect(await page.inputValue('#f-name')).toBe('Admin spring 15%');
    expect(await page.inputValue('#f-slug')).toBe('admin-spring');
    expect(await page.inputValue('#f-instructions')).toBe('Show this page at the till.');
    expect(await page.inputValue('#f-reward-type')).toBe('percent');
    expect(await page.inputValue('#f-reward-value')).toBe('15');
    expect(await page.inputValue('#f-barcode')).toBe('code128');
    expect(await page.inputValue('#f-expiry-amount')).toBe('7');
    expect(await page.inputValue('#f-color-button')).toBe('#06c755');
    expect(await page.isChecked('#f-verification')).toBe(true);
    const start = new Date(before.sendStart);
    // On the campaign's own clock (the service's default zone, UTC here), to the minute.
    expect(before.timeZone).toBe('UTC');
    expect(await page.inputValue('#f-send-start')).toBe(start.toISOString().slice(0, 16));

    // A bad value: the API's field error shows next to the field, and nothing is saved.
    await page.fill('#f-name', 'Admin spring 20%');
    await page.fill('#f-reward-value', '150');
    await page.click('#create');
    await page.waitForSelector('[data-error-for="reward.value"]:has-text("at most 99")');
    expect(await page.locator('#f-reward-value').getAttribute('aria-invalid')).toBe('true');
    expect(await text('#create-errors')).toContain('The campaign was not saved:');
    expect(await text('[data-error-for="name"]')).toBe('');
    expect((await request(svc.url).get(`/api/v1/campaigns/${campaignId}`).set(svc.admin)).body.name).toBe('Admin spring 15%');

    // Serials are loaded, so the barcode is fixed: the 409's message shows next to it.
    await page.fill('#f-reward-value', '20');
    await page.selectOption('#f-barcode', 'qr');
    await page.click('#create');
    await page.waitForSelector('[data-error-for=barcode]:has-text("cannot change once serials are loaded")');
    expect(await text('[data-error-for="reward.value"]')).toBe('');
    expect(await page.locator('#f-reward-value').getAttribute('aria-invalid')).toBeNull();
    expect((await request(svc.url).get(`/api/v1/campaigns/${campaignId}`).set(svc.admin)).body).toMatchObject({ name: 'Admin spring 15%', barcode: 'code128' });

    await page.selectOption('#f-barcode', 'code128');
    const [patch] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/api/v1/campaigns/${campaignId}`)),
      page.click('#create'),
    ]);
    // Only what changed goes out: the sending period shown to the minute is not sent back rounded.
    expect(patch.postDataJSON()).toEqual({ name: 'Admin spring 20%', reward: { type: 'percent', value: 20 } });
    await page.waitForSelector('#d-name:has-text("Admin spring 20%")');
    expect(page.url()).toContain(`#campaign/${campaignId}`);
    expect(await page.locator('#view-new').isHidden()).toBe(true);
    expect(await text('#edit-result')).toBe('Saved: name, reward.');
    const row = page.locator(`#campaigns tr[data-campaign="${campaignId}"]`);
    expect(await row.locator('td').first().textContent()).toBe('Admin spring 20%');
    expect(await row.locator('td').nth(3).textContent()).toBe('20% off');
    expect(await text('[data-setting=reward]')).toBe('20% off');
    expect(await text('[data-setting=barcode]')).toBe('CODE_128');

    const after = await request(svc.url).get(`/api/v1/campaigns/${campaignId}`).set(svc.admin);
    expect(after.body).toMatchObject({ name: 'Admin spring 20%', reward: { type: 'percent', value: 20 }, slug: 'admin-spring', barcode: 'code128' });
    expect(after.body.sendStart).toBe(oddStart);
    expect(after.body.refusalText).toBe('Ask at the counter.');
    expect(after.body.sendEnd).toBe(before.sendEnd);
    const stored = await query(svc.ctx.db, sql`SELECT name, reward_type, reward_value::float8 AS value FROM campaigns WHERE id = ${campaignId}`);
    expect(stored.rows[0]).toEqual({ name: 'Admin spring 20%', reward_type: 'percent', value: 20 });

    // Unchanged form: nothing to send. "New campaign" gives a blank create form again.
    await page.click('#edit');
    await page.waitForSelector('#create:not([disabled])');
    expect(await page.inputValue('#f-name')).toBe('Admin spring 20%');
    await page.click('#create');
    await page.waitForSelector('#create-result:text-is("Nothing changed.")');
    await page.click('[data-tab=new]');
    await page.waitForSelector('#form-title:text-is("New campaign")');
    expect(await page.inputValue('#f-name')).toBe('');
    expect(await page.inputValue('#f-slug')).toBe('');
    expect(await page.locator('#cancel-edit').isHidden()).toBe(true);
    expect(await text('#create')).toBe('Create campaign');
    await page.click('[data-tab=campaigns]');
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.waitForSelector('#detail:visible');
  });

  it('shows the funnel and the record of a coupon issued, redeemed and verified, and downloads the CSV', async () => {
    const issued = await request(svc.url).post(`/api/v1/campaigns/${campaignId}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-admin-e2e' });
    expect(issued.status).toBe(201);
    await deliverDue(svc.ctx, async () => ({ outcome: 'sent' }));
    const token = new URL(issued.body.coupon.pageUrl).pathname.split('/').pop()!;
    expect((await request(svc.url).post(`/c/${token}/open`).set('User-Agent', browserUa)).status).toBe(204);
    const redeemed = await request(svc.url).post(`/c/${token}/redeem`).set('Accept', 'application/json').set('User-Agent', browserUa);
    expect(redeemed.body).toMatchObject({ status: 'redeemed', code: 'ADM-001' });
    const verified = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'ADM-001' });
    expect(verified.status).toBe(200);

    await page.click('#refresh');
    await page.waitForSelector('[data-stat=verified]:has-text("1")');
    for (const stage of ['sent', 'opened', 'redeemed', 'verified']) expect(await text(`[data-stat=${stage}]`)).toBe('1');
    expect(await text('[data-rate=opened]')).toBe('100% of sent');
    expect(await text('[data-rate=redeemed]')).toContain('100% of sent');
    expect(await text('[data-rate=verified]')).toBe('100% of redeemed');
    expect(await text('[data-stat=expired]')).toBe('0');
    expect(await text('[data-stat=stockLeft]')).toBe('2');

    const record = page.locator(`#records tr[data-record="${issued.body.coupon.id}"]`);
    await record.waitFor();
    expect(await page.locator('#records tbody tr').count()).toBe(1);
    expect(await record.locator('td').first().textContent()).toBe('U-admin-e2e');
    expect(await record.locator('[data-field=status]').textContent()).toBe('verified');
    expect(await record.locator('[data-field=serial]').textContent()).toBe('ADM-001');

    // The status filter goes to the API: a verified coupon is not listed under "opened".
    await page.selectOption('#r-status', 'opened');
    await page.waitForSelector('#no-records:visible');
    expect(await page.locator('#records tbody tr').count()).toBe(0);
    await page.selectOption('#r-status', 'verified');
    await record.waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('admin-spring-records.csv');
    const csv = await fs.promises.readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('couponId,contactId,channel,userId,displayName,status,deliveryStatus,deliveryError,source,issuedAt,sentAt,openedAt,redeemedAt,verifiedAt,expiresAt,serial,sentBy,broadcastId,verifiedReceivedAt,amount,currency,storeId');
    expect(lines).toHaveLength(2);
    const cells = lines[1]!.split(',').map((cell) => cell.replace(/^"(.*)"$/, '$1'));
    expect(cells[0]).toBe(issued.body.coupon.id);
    expect(cells.slice(2, 7)).toEqual(['line', 'U-admin-e2e', '', 'verified', 'sent']);
    expect(cells[15]).toBe('ADM-001');
  });

  it('pages the records with "load more"', async () => {
    for (let i = 0; i < 51; i++) {
      await request(svc.url).post(`/api/v1/campaigns/${campaignId}/coupons`).set(svc.admin).send({ channel: 'line', userId: `U-page-${i}` });
    }
    const contacts = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM coupons WHERE campaign_id = ${campaignId}`);
    const total = (contacts.rows[0] as { n: number }).n;
    await page.selectOption('#r-status', '');
    await page.waitForSelector('#records-count:has-text("50 shown")');
    expect(await page.locator('#more').isVisible()).toBe(true);
    await page.click('#more');
    await page.waitForSelector(`#records-count:has-text("${total} shown")`);
    expect(await page.locator('#records tbody tr').count()).toBe(total);
    expect(await page.locator('#more').isHidden()).toBe(true);
    const ids = await page.locator('#records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record')));
    expect(new Set(ids).size).toBe(total);
    // The table takes the screen's width and scrolls inside itself, its header kept in view.
    const wrap = await page.locator('#records-wrap').evaluate((e) => ({ width: e.clientWidth, scrolls: e.scrollHeight > e.clientHeight }));
    expect(wrap.width).toBeGreaterThan(1180);
    expect(wrap.scrolls).toBe(true);
    await page.locator('#records-wrap').evaluate((e) => { e.scrollTop = e.scrollHeight; });
    expect(await page.locator('#records thead th').first().evaluate((th) => th.getBoundingClientRect().top - th.closest('#records-wrap')!.getBoundingClientRect().top)).toBeLessThan(2);
  });

  it('shows each flow, loaded or its error, with per-step counts', async () => {
    await dispatch(svc.ctx, 'line', 'U-flow-e2e', { type: 'follow' });
    await page.click('[data-tab=flows]');
    // The listing from the first visit is replaced when the fresh one arrives.
    await page.waitForSelector('[data-flow=gift] .badge:text-is("running")');
    const hello = page.locator('[data-flow=hello]');
    expect(await hello.locator('.badge').textContent()).toBe('running');
    expect(await hello.locator('[data-step="0"] .step-text').textContent()).toBe('Says “Hello!”.');
    expect(await hello.locator('[data-step="0"] [data-count=entered]').textContent()).toBe('1 contact reached this step');
    expect(await hello.locator('[data-step="1"] .step-text').textContent()).toBe('Tags the contact “greeted”.');
    expect(await hello.locator('[data-step="1"] [data-count=stopped]').textContent()).toBe('0 stopped here');
    // The campaign exists now (created through the form), so the flow naming it runs.
    expect(await page.locator('[data-flow=gift] .badge').textContent()).toBe('running');
    expect(await text('[data-flow=gift] [data-field=trigger]')).toBe('Starts when someone sends “gift”.');
    expect(await text('#flows-errors')).toContain('broken.yaml');
  });

  it('shows a network that does not answer and a server error to the person, never swallowing them', async () => {
    await page.click('[data-tab=campaigns]');
    await page.route('**/api/v1/flows', (route) => route.abort('connectionrefused'));
    await page.click('[data-tab=flows]');
    await page.waitForSelector('#flows-error:has-text("could not be reached")');
    await page.unroute('**/api/v1/flows');
    await page.route('**/api/v1/flows', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }));
    await page.click('#flows-refresh');
    await page.waitForSelector('#flows-error:has-text("answered 502")');
    await page.unroute('**/api/v1/flows');
    await page.click('#flows-refresh');
    await page.waitForSelector('[data-flow=hello]');
    expect(await text('#flows-error')).toBe('');

    // The same on the campaign's own parts: its funnel and its records.
    await page.click('[data-tab=campaigns]');
    await page.route('**/stats', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal_error","message":"something went wrong on our side"}}' }));
    await page.route('**/records?*', (route) => route.abort('timedout'));
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.waitForSelector('#funnel td.reason:has-text("something went wrong on our side")');
    await page.waitForSelector('#records-error:has-text("could not be reached")');
    await page.unroute('**/stats');
    await page.unroute('**/records?*');
  });

  it('stays usable on a phone: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('[data-tab=campaigns]');
    await page.click(`#campaigns tr[data-campaign="${campaignId}"] button`);
    await page.waitForSelector('#d-name:visible');
    await page.waitForSelector('[data-stat=sent]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.click('[data-tab=new]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
  });
});

describe('admin page with the workers running', () => {
  let big: TestService;

  beforeAll(async () => {
    big = await startTestService({ env: { DATA_DIR: dataDir }, workers: true });
  });
  afterAll(async () => {
    await big?.stop();
  });

  it('follows a large pack answered with 202 by polling the import, with a progress line', async () => {
    const created = await request(big.url).post('/api/v1/campaigns').set(big.admin).send({
      name: 'Big pack', slug: 'big-pack', sendStart: '2026-01-01T00:00:00Z', sendEnd: '2027-12-31T00:00:00Z',
      expiry: { mode: 'fromSend', days: 30 }, reward: { type: 'gift', text: 'Free drink' }, barcode: 'code39',
    });
    expect(created.status).toBe(201);
    const lines = ['serial'];
    for (let i = 1; i <= 130_000; i++) lines.push(`B${String(i).padStart(8, '0')}`);
    lines.push('b-lower'); // row 130,002: CODE_39 has no lower case
    const csv = Buffer.from(lines.join('\n'));
    expect(csv.length).toBeGreaterThan(SYNC_IMPORT_MAX_BYTES);

    const p = await context.newPage();
    try {
      p.on('pageerror', (e) => problems.push(e.message));
      await p.setViewportSize({ width: 1280, height: 800 });
      await p.goto(`${big.url}/admin`);
      await signInWithToken(p, ADMIN_TOKEN);
      await p.goto(`${big.url}/admin#campaign/${created.body.id}`);
      await p.waitForSelector('#d-name:has-text("Big pack")');
      // Every text the result line shows, to see the progress line even when the load is quick.
      await p.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        new MutationObserver(() => seen.push(document.getElementById('csv-result')!.textContent ?? ''))
          .observe(document.getElementById('csv-result')!, { childList: true, characterData: true, subtree: true });
      });
      const accepted = p.waitForResponse((r) => r.url().endsWith(`/api/v1/campaigns/${created.body.id}/serials`));
      const polled = p.waitForResponse((r) => r.url().includes('/api/v1/imports/'));
      await p.setInputFiles('#csv-file', { name: 'big.csv', mimeType: 'text/csv', buffer: csv });
      await p.click('#csv-form button');
      expect((await accepted).status()).toBe(202);
      expect((await polled).status()).toBe(200);
      await p.waitForSelector('#csv-result:has-text("loaded,")', { timeout: PATIENCE_MS });
      expect((await p.locator('#csv-result').textContent())).toMatch(/^130,000 loaded, 1 rejected \(row 130002: .*CODE_39/);
      const seen = await p.evaluate(() => (window as unknown as { seen: string[] }).seen);
      expect(seen.some((t) => /^Loading… [\d,]+ rows read(, [\d,]+ written)?$/.test(t))).toBe(true);
      await p.waitForSelector('[data-stat=stockLeft]:has-text("130,000")');
      expect(problems).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
