import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { processInboundDue } from '../../src/contacts/inbound-worker.ts';
import { deliverAll } from '../support/campaigns.ts';
import { collectProblems, launchBrowser, loadSerials, makeCampaign, signInWithToken } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { flowsDir } from '../integration/flow-support.ts';
import { query } from '../../src/db/client.ts';

const INBOX_SECRET = 'inbox-secret-for-the-workbench';
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let agent: Awaited<ReturnType<typeof personOf>>;
/** Console errors and uncaught page errors (a CSP violation shows up here). */
const problems: string[] = [];
// "human" hands the chat to an agent: it joins the queue.
const flows = flowsDir({ 'human.yaml': 'id: human\ntrigger: { keyword: [human] }\nsteps:\n  - handoff: "An agent will answer you here."\n' });

let eventNo = 0;
async function inboxMessage(conversation: string, contact: { id: string; name: string }, text: string) {
  const body = JSON.stringify({
    id: `evt-wb-${++eventNo}`, type: 'message.created', conversation: { id: conversation }, contact, message: { id: `m-${eventNo}`, text },
    createdAt: new Date(Date.now() - 60_000 + eventNo * 1000).toISOString(),
  });
  const r = await fetch(`${svc.url}/webhooks/inbox`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-inbox-signature': `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(body).digest('hex')}` },
  });
  expect(r.status).toBe(200);
  await processInboundDue(svc.ctx);
}

beforeAll(async () => {
  [svc, browser] = await Promise.all([
    startTestService({ env: { INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: 'http://inbox.test/cb', FLOWS_DIR: flows } }),
    launchBrowser(),
  ]);
  agent = await personOf(svc, 'agent', 'Mia');
  context = await browser.newContext({ viewport: { width: 400, height: 820 } });
  page = await context.newPage();
  // A refusal the page shows is logged by Chromium as a failed resource; collectProblems leaves those out.
  collectProblems(page, problems);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  fs.rmSync(flows, { recursive: true, force: true });
});

const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

describe('the agent\'s inbox view in a browser', () => {
  let campaignId: string;

  it('lists the chats active now, newest first, and the handoff queue', async () => {
    const c = await makeCampaign(svc, { name: 'Inbox thanks', reward: { type: 'percent', value: 12 }, perContactLimit: 1 });
    campaignId = c.id;
    await loadSerials(svc, c.id, ['IN-1', 'IN-2']);
    await inboxMessage('conv-alice', { id: 'k-alice', name: 'Alice' }, 'Is the blue one in stock?');
    await inboxMessage('conv-bob', { id: 'k-bob', name: 'Bob' }, 'human');

    await page.goto(`${svc.url}/workbench`);
    await signInWithToken(page, agent.header.Authorization.slice(7));
    await page.waitForSelector('#chat-list li');
    const names = await page.locator('#chat-list li h2').allTextContents();
    expect(names).toEqual(['Bob', 'Alice']);
    expect(await text('#chat-list li:nth-child(2) .snippet')).toBe('Is the blue one in stock?');
    expect(await text('#chat-list li:first-child .badge-wait')).toBe('handed off');
    await page.waitForSelector('#handoffs:visible');
    expect(await page.locator('#handoff-list li').count()).toBe(1);
    expect(await text('#handoff-list li h2')).toBe('Bob');
    expect(await text('#handoff-list li .reason')).toBe('Nobody has taken it yet');
  });

  it('opens a chat: its messages read-only, the coupons sendable now; sending shows the card and its delivery live', async () => {
    await page.click('#chat-list li:nth-child(2) button');
    await page.waitForSelector('#c-name:has-text("Alice")');
    expect(await text('#c-meta')).toMatch(/inbox/i);
    expect(await page.locator('#c-messages li').allTextContents()).toEqual([expect.stringContaining('Is the blue one in stock?')]);
    expect(await page.locator('#c-no-coupons').isVisible()).toBe(true);
    await page.waitForSelector(`[data-campaign="${campaignId}"]`);
    await page.click(`[data-campaign="${campaignId}"]`);
    await page.click('#send');
    await page.waitForSelector('#sent-card .name');
    expect(await text('#sent-card .name')).toBe('Inbox thanks');
    expect(await text('#sent-card .reward')).toBe('12% off');
    expect(await page.getAttribute('#sent-card .btn', 'href')).toMatch(/^http:\/\/coupons\.test\/c\//);
    expect(await page.getAttribute('#delivery', 'data-status')).toBe('pending');

    // The platform takes it: the page sees it without being touched.
    expect(await deliverAll(svc.ctx)).toBeGreaterThanOrEqual(1);
    await page.waitForSelector('#delivery[data-status="sent"]');
    expect(await text('#delivery')).toContain('Delivered to the chat');
    await page.waitForSelector('#c-coupons li');
    expect(await text('#c-coupons li')).toBe('Inbox thanks: sent');
    await page.waitForSelector('#chat:has-text("already holds")');
    const sent = await query(svc.ctx.db, sql`SELECT source, sent_by_name AS "sentBy", delivery_status AS "delivery" FROM coupons WHERE campaign_id = ${campaignId}`);
    expect(sent.rows).toEqual([{ source: 'agent', sentBy: 'Mia', delivery: 'sent' }]);
    expect(await page.locator('#c-messages li[data-direction="out"]').last().textContent()).toContain('Inbox thanks — 12% off');
  });

  it('opens straight on a chat named by the inbox (?channel=inbox&conversation=…); takes and gives back a handoff', async () => {
    await page.goto(`${svc.url}/workbench?channel=inbox&conversation=conv-bob`);
    await page.waitForSelector('#chat-view:visible');
    await page.waitForSelector('#c-name:has-text("Bob")');
    expect(await page.locator('#chats-view').isVisible()).toBe(false);
    await page.waitForSelector('#c-handoff:visible');
    expect(await text('#c-handoff-text')).toContain('Nobody has taken it yet');
    // The bot's last word is among the messages.
    expect(await page.locator('#c-messages li').allTextContents()).toEqual([
      expect.stringContaining('human'), expect.stringContaining('An agent will answer you here.')]);

    await page.click('#take');
    await page.waitForSelector('#c-handoff-text:has-text("Mia took it")');
    expect(await page.locator('#take').isVisible()).toBe(false);
    const taken = await query(svc.ctx.db, sql`SELECT handoff_taken_by AS "by" FROM conversations WHERE external_id = 'conv-bob'`);
    expect(taken.rows).toEqual([{ by: agent.id }]);

    await page.click('#release');
    await page.waitForSelector('#c-handoff', { state: 'hidden' });
    const released = await query(svc.ctx.db, sql`SELECT handoff_at AS "at", handoff_taken_by AS "by" FROM conversations WHERE external_id = 'conv-bob'`);
    expect(released.rows).toEqual([{ at: null, by: null }]);

    await page.click('#to-chats');
    await page.waitForSelector('#chat-list li');
    expect(await page.locator('#handoffs').isVisible()).toBe(false);
  });

  it('no error reached the console', () => {
    expect(problems).toEqual([]);
  });
});
