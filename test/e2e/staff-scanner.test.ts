import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { barcodeSvg } from '../../src/coupons/barcode.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import type { BarcodeFormat } from '../../src/coupons/rules.ts';
import { collectProblems, launchBrowser, loadSerials, makeCampaign, sentCoupon, signInWithToken } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let staff: Awaited<ReturnType<typeof personOf>>;
/** Console errors and uncaught page errors (a CSP violation shows up here). */
const problems: string[] = [];

/**
 * The camera, replaced: getUserMedia answers a stream painted from the image in
 * `window.__cameraImage` (a barcode drawn by our own barcode code), or no camera when there is none.
 */
const fakeCamera = `(() => {
  navigator.mediaDevices.getUserMedia = async () => {
    const src = window.__cameraImage;
    if (!src) throw new DOMException('Requested device not found', 'NotFoundError');
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 800;
    canvas.height = 600;
    const g = canvas.getContext('2d');
    const w = img.naturalWidth || 300, h = img.naturalHeight || 300;
    const s = Math.min(640 / w, 440 / h);
    const paint = () => {
      g.fillStyle = '#ffffff';
      g.fillRect(0, 0, 800, 600);
      g.drawImage(img, (800 - w * s) / 2, (600 - h * s) / 2, w * s, h * s);
    };
    paint();
    const stream = canvas.captureStream(15);
    const timer = setInterval(paint, 60);
    stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
    const stop = stream.getVideoTracks()[0].stop.bind(stream.getVideoTracks()[0]);
    stream.getVideoTracks()[0].stop = () => { clearInterval(timer); stop(); };
    return stream;
  };
})();`;

beforeAll(async () => {
  [svc, browser] = await Promise.all([startTestService({ env: { TILL_CURRENCY: 'TWD' } }), launchBrowser()]);
  staff = await personOf(svc, 'staff', 'Amy');
  context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await context.addInitScript(fakeCamera);
  page = await context.newPage();
  // A refusal the page shows is logged by Chromium as a failed resource; collectProblems leaves those out.
  collectProblems(page, problems);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

/** A coupon of a new campaign with this barcode format, sent and redeemed with `code`. */
async function redeemed(barcode: BarcodeFormat, code: string, overrides: Record<string, unknown> = {}) {
  const c = await makeCampaign(svc, { name: `Scan ${code}`, barcode, verification: true, ...overrides });
  await loadSerials(svc, c.id, [code]);
  const coupon = await sentCoupon(svc, c.id, `U-scan-${code}`);
  const r = await redeemCoupon(svc.ctx, coupon.token);
  if (!r.ok) throw new Error(r.message);
  return coupon;
}

async function showToCamera(format: BarcodeFormat, code: string): Promise<void> {
  const svg = await barcodeSvg(format, code);
  const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
  await page.evaluate((s) => {
    (window as unknown as { __cameraImage: string }).__cameraImage = s;
  }, src);
}

const couponRow = async (id: string) => (await query(svc.ctx.db, sql`SELECT status, amount::float8 AS amount, currency, verified_by AS "verifiedBy" FROM coupons WHERE id = ${id}`)).rows[0];

describe('the staff scanner at the till, on a 360 px phone', () => {
  it('a staff member signs in and lands on the scanner; it fits the screen with big buttons', async () => {
    await page.goto(`${svc.url}/staff`);
    await signInWithToken(page, staff.header.Authorization.slice(7));
    expect(new URL(page.url()).pathname).toBe('/staff');
    await page.waitForSelector('#start-camera:visible');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    for (const id of ['#start-camera', '#code', '#lookup']) {
      const box = (await page.locator(id).boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(48);
      expect(box.width).toBeGreaterThanOrEqual(300);
    }
  });

  it('reads a CODE_128 from the camera, shows the coupon, verifies it with the order total, and undoes it', async () => {
    const coupon = await redeemed('code128', 'C128-7781', { reward: { type: 'amount', value: 50, currency: 'TWD' } });
    await showToCamera('code128', 'C128-7781');
    await page.click('#start-camera');
    await page.waitForSelector('#result:visible');
    expect(await text('#r-name')).toBe('Scan C128-7781');
    expect(await text('#r-reward')).toBe('TWD 50 off');
    expect(await page.getAttribute('#r-status', 'data-status')).toBe('redeemed');
    expect(await text('#r-code')).toBe('C128-7781');
    expect(await text('#r-deadline')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await page.locator('#r-history li').evaluateAll((li) => li.map((e) => (e as HTMLElement).dataset.event))).toEqual(['issued', 'delivered', 'opened', 'redeemed']);
    // Chromium on Linux has no BarcodeDetector: the library read it.
    const native = await page.evaluate(() => 'BarcodeDetector' in window);
    expect(await page.getAttribute('#camera-status', 'data-decoder')).toBe(native ? 'native' : 'zxing');
    expect(await page.locator('#camera').isVisible()).toBe(false);

    expect(await text('#amount-label')).toContain('TWD');
    await page.fill('#amount', '880');
    await page.click('#verify');
    await page.waitForSelector('#r-done:has-text("Verified at")');
    expect(await page.getAttribute('#r-status', 'data-status')).toBe('verified');
    expect(await page.locator('#verify-form').isVisible()).toBe(false);
    expect(await text('#r-why')).toContain('already verified');
    expect(await page.locator('#r-history li').last().textContent()).toContain('Verified by Amy');
    expect(await couponRow(coupon.id)).toEqual({ status: 'verified', amount: 880, currency: 'TWD', verifiedBy: staff.id });

    expect(await text('#undo-until')).toContain('You can undo this verification until');
    await page.selectOption('#undo-reason', 'The order was cancelled');
    await page.click('#undo');
    await page.waitForSelector('#r-done:has-text("Verification undone")');
    expect(await page.getAttribute('#r-status', 'data-status')).toBe('redeemed');
    expect(await page.locator('#r-history li').last().textContent()).toContain('The order was cancelled');
    expect(await couponRow(coupon.id)).toEqual({ status: 'redeemed', amount: null, currency: null, verifiedBy: null });
  });

  it('reads a QR code and a CODE_39 the same way; "next" starts the camera again', async () => {
    await redeemed('qr', 'QR-猫-0042');
    await showToCamera('qr', 'QR-猫-0042');
    await page.click('#next');
    await page.waitForSelector('#result:visible');
    expect(await text('#r-code')).toBe('QR-猫-0042');
    await page.click('#verify');
    await page.waitForSelector('#r-done:has-text("Verified at")');

    await redeemed('code39', 'C39-5150');
    await showToCamera('code39', 'C39-5150');
    await page.click('#next');
    await page.waitForSelector('#result:visible');
    expect(await text('#r-code')).toBe('C39-5150');
    expect(await page.getAttribute('#r-status', 'data-status')).toBe('redeemed');
  });

  it('manual entry: an unknown code, a coupon already verified, a campaign without verification, each in plain words', async () => {
    // The camera (started again by "next") has nothing to read now.
    await page.evaluate(() => {
      delete (window as unknown as { __cameraImage?: string }).__cameraImage;
    });
    await page.click('#next');
    await page.waitForSelector('#camera-status:has-text("No camera was found")');
    await page.fill('#code', 'NO-SUCH-1');
    await page.click('#lookup');
    await page.waitForSelector('#error:has-text("No redeemed coupon has the code NO-SUCH-1")');
    expect(await page.locator('#result').isVisible()).toBe(false);

    await page.fill('#code', 'qr-猫-0042');
    await page.click('#lookup');
    await page.waitForSelector('#result:visible');
    expect(await text('#r-why')).toMatch(/^This coupon was already verified at .*\.$/);
    expect(await page.locator('#verify-form').isVisible()).toBe(false);

    await redeemed('code128', 'NOVERIFY-1', { verification: false });
    await page.fill('#code', 'NOVERIFY-1');
    await page.click('#lookup');
    await page.waitForSelector('#r-why:has-text("does not use verification")');
    expect(await page.locator('#verify-form').isVisible()).toBe(false);
  });

  it('without a camera it says so and manual entry still works', async () => {
    await page.click('#next');
    await page.click('#start-camera');
    await page.waitForSelector('#camera-status:has-text("No camera was found")');
    expect(await page.locator('#start-camera').isVisible()).toBe(true);
    expect(await page.locator('#code').isVisible()).toBe(true);
  });

  it('no error reached the console', () => {
    expect(problems).toEqual([]);
  });
});
