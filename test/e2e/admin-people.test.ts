import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchBrowser, openPage, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, personOf, startTestService, type TestService } from '../support/service.ts';

/** The owner's pages: people (add, role, tokens shown once, sessions, remove) and the audit log. */
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  [svc, browser] = await Promise.all([startTestService(), launchBrowser()]);
  ({ context, page } = await openPage(browser, { viewport: { width: 1280, height: 800 }, acceptDownloads: true }, problems, { acceptDialogs: true }));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
const me = (token: string) => request(svc.url).get('/api/v1/me').set('Authorization', `Bearer ${token}`);

describe('people and the audit log', () => {
  let miaId: string;
  let miaToken: string;

  it('adds a person after a plain refusal, with their API token shown once', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, ADMIN_TOKEN);
    await page.waitForSelector('[data-tab=people]:visible');
    await page.click('[data-tab=people]');
    await page.waitForSelector('#person-form:visible');
    await page.click('#person-add');
    expect(await text('#person-form [data-person-error=name]')).toBe('Enter the person’s name.');
    await page.fill('#p-name', 'Mia');
    await page.fill('#p-email', 'not-an-email');
    await page.click('#person-add');
    await page.waitForSelector('#person-form [data-person-error=email]:has-text("email")');
    expect((await request(svc.url).get('/api/v1/people').set(svc.admin)).body.people).toEqual([]);

    await page.fill('#p-email', 'mia@shop.example');
    await page.selectOption('#p-role', 'marketer');
    await page.click('#person-add');
    await page.waitForSelector('#person-token:visible');
    miaToken = await text('#person-token-value');
    expect((await me(miaToken)).body).toMatchObject({ name: 'Mia', role: 'marketer' });
    const row = page.locator('#people tbody tr', { hasText: 'mia@shop.example' });
    await row.waitFor();
    miaId = (await row.getAttribute('data-person'))!;
    expect(await row.locator('[data-field=role]').inputValue()).toBe('marketer');
    expect(await text('#people-result')).toBe('Mia was added as marketer.');
  });

  it('changes a role', async () => {
    await page.locator(`#people tr[data-person="${miaId}"] [data-field=role]`).selectOption('agent');
    await page.waitForSelector('#people-result:has-text("Mia is now agent.")');
    expect((await me(miaToken)).body.role).toBe('agent');
  });

  it('creates a token shown once, revokes it, and signs the person out everywhere', async () => {
    // Mia signs in in her own browser.
    const hers = await browser.newContext();
    const herPage = await hers.newPage();
    await herPage.goto(`${svc.url}/workbench`);
    await signInWithToken(herPage, miaToken);
    await hers.close();

    await page.locator(`#people tr[data-person="${miaId}"] [data-action=open]`).click();
    await page.waitForSelector('#person-title:has-text("Mia")');
    await page.waitForSelector('#sessions tbody tr');
    expect(await page.locator('#sessions tbody tr').count()).toBe(1);
    await page.fill('#t-name', 'nightly export');
    await page.click('#token-form button');
    await page.waitForSelector('#person-token-title:has-text("nightly export")');
    const exportToken = await text('#person-token-value');
    expect((await me(exportToken)).status).toBe(200);
    const tokenRow = page.locator('#tokens tbody tr', { hasText: 'nightly export' });
    await tokenRow.locator('[data-action=revoke]').click();
    await tokenRow.waitFor({ state: 'detached' });
    expect((await me(exportToken)).status).toBe(401);

    await page.click('#sessions-revoke');
    await page.waitForSelector('#person-result:has-text("signed out of 1 session")');
    await page.locator('#sessions tbody tr').waitFor({ state: 'detached' });
  });

  it('removes a person: their token stops working at once', async () => {
    await page.locator(`#people tr[data-person="${miaId}"] [data-action=remove]`).click();
    await page.waitForSelector('#people-result:has-text("Mia was removed.")');
    await page.locator(`#people tr[data-person="${miaId}"]`).waitFor({ state: 'detached' });
    expect((await me(miaToken)).status).toBe(401);
  });

  it('shows the audit log, filters it, and downloads it as CSV', async () => {
    await page.click('[data-tab=audit]');
    await page.waitForSelector('#audit tbody tr');
    const actions = await page.locator('#audit tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toEqual(['person.removed', 'sessions.revoked', 'token.revoked', 'token.created', 'person.role_changed', 'person.added']);
    // jsonb keeps its own key order.
    expect((await text('#audit tbody tr:nth-child(5) td:nth-child(5)')).split('; ').sort()).toEqual(['from: marketer', 'to: agent']);
    expect(await text('#audit tbody tr:first-child td:nth-child(2)')).toBe('Admin tokenowner');
    await page.selectOption('#a-action', 'token.created');
    await page.waitForFunction(() => document.querySelectorAll('#audit tbody tr').length === 1);
    await page.fill('#a-actor', 'nobody-at-all');
    await page.click('#audit-filter button[type=submit]');
    await page.waitForSelector('#no-audit:visible');
    await page.fill('#a-actor', '');
    await page.selectOption('#a-action', '');
    await page.waitForFunction(() => document.querySelectorAll('#audit tbody tr').length === 6);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-download')]);
    const csv = await fs.promises.readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toContain('at,actor_id,actor_name,actor_role,action');
    expect(lines).toHaveLength(7);
  });

  it('shows a network that does not answer and a server error, never swallowing them', async () => {
    await page.route('**/api/v1/audit?*', (route) => route.abort('connectionrefused'));
    await page.click('#audit-filter button[type=submit]');
    await page.waitForSelector('#audit-error:has-text("could not be reached")');
    await page.unroute('**/api/v1/audit?*');
    await page.route('**/api/v1/people', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal_error","message":"something went wrong on our side"}}' }));
    await page.click('[data-tab=people]');
    await page.waitForSelector('#people-error:has-text("something went wrong on our side")');
    await page.unroute('**/api/v1/people');
  });

  it('is usable on a phone, and hidden from a marketer', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.click('#people-refresh');
    await page.waitForFunction(() => document.getElementById('people-error')!.textContent === '');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.click('[data-tab=audit]');
    await page.waitForSelector('#audit tbody tr');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);

    const mark = await personOf(svc, 'marketer', 'Mark');
    const theirs = await browser.newContext();
    const p = await theirs.newPage();
    await p.goto(`${svc.url}/admin`);
    await signInWithToken(p, mark.header.Authorization.replace('Bearer ', ''));
    await p.waitForSelector('[data-tab=webhooks]:visible');
    await p.waitForFunction(() => document.querySelector('[data-tab=flows]') !== null);
    await p.waitForLoadState('networkidle');
    expect(await p.locator('[data-tab=people]').isHidden()).toBe(true);
    expect(await p.locator('[data-tab=audit]').isHidden()).toBe(true);
    await theirs.close();
    expect((await request(svc.url).get('/api/v1/audit').set(mark.header)).status).toBe(403);
  });
});
