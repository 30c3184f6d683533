import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { sql } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { ChannelName } from '../../adapters/types.ts';
import { createCampaign, type CampaignRow } from '../../src/coupons/campaigns.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { loadFixed, loadSerials as loadSerialsInto } from './campaigns.ts';
import type { TestService } from './service.ts';
import { query } from '../../src/db/client.ts';

/** Headless Chromium for page tests; close it in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: await chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Where a Chromium installed on the machine usually lives (Debian's package first). */
const SYSTEM_CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

let resolved: Promise<string> | undefined;

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH` when set (and present), else the
 * machine's own Chromium, else the one shipped inside the `@sparticuz/chromium` devDependency,
 * so a fresh `npm ci` is enough to run the browser tests.
 */
export function chromiumPath(): Promise<string> {
  resolved ??= (async () => {
    const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : SYSTEM_CHROMIUMS;
    const found = candidates.find((file) => fs.existsSync(file));
    return found ?? await bundledChromium();
  })();
  return resolved;
}

/**
 * Inflates the package's brotli-compressed Chromium once into the temporary directory (keyed by
 * the package version). Each process writes its own part file and renames it into place, so two
 * test workers inflating at the same time never see a half-written browser.
 */
async function bundledChromium(): Promise<string> {
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const { version } = JSON.parse(fs.readFileSync(path.join(bin, '..', 'package.json'), 'utf8')) as { version: string };
  const target = path.join(os.tmpdir(), `chatcoupon-chromium-${version}`);
  if (fs.existsSync(target)) return target;
  const part = `${target}.part-${process.pid}-${randomUUID()}`;
  try {
    await pipeline(fs.createReadStream(path.join(bin, 'chromium.br')), zlib.createBrotliDecompress(), fs.createWriteStream(part, { mode: 0o755 }));
    fs.renameSync(part, target);
  } finally {
    fs.rmSync(part, { force: true });
  }
  return target;
}

/** A phone-sized page, as customers open coupons from a chat. */
export const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** A campaign open for sending now, with overrides in the contract's field names. */
export async function makeCampaign(svc: TestService, overrides: Record<string, unknown> = {}): Promise<CampaignRow> {
  const now = svc.ctx.clock().getTime();
  return await createCampaign(svc.ctx, {
    name: 'Spring 10% off',
    instructions: 'Show this page at the till.\n- One per visit\n- **Not** with other offers\nDetails: https://shop.example/terms.',
    sendStart: new Date(now - 3600_000).toISOString(),
    sendEnd: new Date(now + 30 * 86400_000).toISOString(),
    expiry: { mode: 'fromSend', days: 7 },
    reward: { type: 'percent', value: 10 },
    colors: { background: '#fff3e0', button: '#e65100', buttonText: '#ffffff' },
    ...overrides,
  });
}

export async function loadSerials(svc: TestService, campaignId: string, codes: string[]): Promise<void> {
  await loadSerialsInto(svc.ctx, campaignId, codes);
}

export async function loadFixedSerial(svc: TestService, campaignId: string, code: string, quantity: number): Promise<void> {
  await loadFixed(svc.ctx, campaignId, code, quantity);
}

/** Issues a coupon to a user and confirms its delivery, as the delivery worker would: it is `sent`. */
export async function sentCoupon(svc: TestService, campaignId: string, userId: string, channel: ChannelName = 'line') {
  const issued = await issueToUser(svc.ctx, campaignId, channel, userId);
  if (!issued.ok) throw new Error(`issue refused: ${issued.code} ${issued.message}`);
  await deliverDue(svc.ctx, async () => ({ outcome: 'sent' }));
  return issued.coupon;
}

/**
 * One contact holding a sent coupon from each of two new campaigns (one serial each), the first
 * issued an hour before the second: a "my coupons" list in a known order.
 */
export async function twoSentCoupons(svc: TestService, userId: string, older: CouponSeed, newer: CouponSeed) {
  const c1 = await makeCampaign(svc, older.campaign);
  const c2 = await makeCampaign(svc, newer.campaign);
  await loadSerials(svc, c1.id, [older.serial]);
  await loadSerials(svc, c2.id, [newer.serial]);
  const first = await sentCoupon(svc, c1.id, userId);
  const second = await sentCoupon(svc, c2.id, userId);
  await query(svc.ctx.db, sql`UPDATE coupons SET issued_at = issued_at - interval '1 hour' WHERE token = ${first.token}`);
  return { first, second };
}

export interface CouponSeed {
  /** The campaign's fields, over makeCampaign's defaults. */
  campaign: Record<string, unknown>;
  serial: string;
}

export interface CouponState {
  status: string;
  openedAt: Date | null;
  redeemedAt: Date | null;
  verifiedAt: Date | null;
  verifiedBy: string | null;
  serialCode: string | null;
}

export async function couponState(svc: TestService, token: string): Promise<CouponState> {
  const r = await query(svc.ctx.db, sql`SELECT status, opened_at AS "openedAt", redeemed_at AS "redeemedAt",
    verified_at AS "verifiedAt", verified_by AS "verifiedBy", serial_code AS "serialCode" FROM coupons WHERE token = ${token}`);
  return r.rows[0] as unknown as CouponState;
}

export async function meTokenOf(svc: TestService, channel: ChannelName, userId: string): Promise<string> {
  const r = await query(svc.ctx.db, sql`SELECT me_token FROM contacts WHERE channel = ${channel} AND platform_user_id = ${userId}`);
  return (r.rows[0] as { me_token: string }).me_token;
}

/** On the sign-in page (where a page without a session leads): signs in with an API token. */
export async function signInWithToken(page: Page, token: string): Promise<void> {
  await page.waitForSelector('#sign-in-form');
  await page.click('summary');
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('#token-form button')]);
}

/**
 * Collects what a page reports as going wrong: uncaught errors, and console errors other than
 * Chromium's "Failed to load resource" line, which it logs for every 4xx answer a page shows
 * on purpose (tests check those answers themselves).
 */
export function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
}

/**
 * A fresh browser context and page with its problems collected (`collectProblems`), and its
 * confirm dialogs accepted when `acceptDialogs` (otherwise Playwright dismisses them).
 */
export async function openPage(
  browser: Browser, options: BrowserContextOptions, problems: string[], opts: { acceptDialogs?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  collectProblems(page, problems);
  if (opts.acceptDialogs) page.on('dialog', (d) => void d.accept());
  return { context, page };
}
