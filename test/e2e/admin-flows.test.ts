import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { dispatch, flowsDir, say } from '../integration/flow-support.ts';
import { launchBrowser, openPage, loadSerials, makeCampaign, signInWithToken } from '../support/browser.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';

/** The flows view as a marketer reads it: steps and triggers in words, a funnel, refusals as what to do. */
let svc: TestService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let flows: string;
const problems: string[] = [];

const promo = `id: promo
name: Spring promo
trigger: { keyword: [spring, haru] }
steps:
  - say:
      text: "Hello {{contact.displayName}}!"
      quickReplies: [Yes, { label: "No thanks", payload: NO }]
  - ask: "Which month is your birthday?"
    expect: number
    min: 1
    max: 12
    save: month
    retries: 1
    else:
      - say: "No problem."
  - if: "month == 3"
    then:
      - coupon: flows-spring
        else:
          - say: "It is already yours."
    else:
      - tag: [later, spring-fan]
  - wait: 2h
  - handoff: "A person will answer you soon."
`;

beforeAll(async () => {
  flows = flowsDir({
    'promo.yaml': promo,
    'reminder.yaml': 'id: reminder\ntrigger: { coupon: { event: expiring, campaign: flows-spring } }\nchannels: [line, messenger]\nsteps:\n  - say: "Your coupon ends soon: {{coupon.pageUrl}}"\n  - goto: promo\n',
    'broken.yaml': 'id: broken\ntrigger: { follow: true\nsteps: [\n',
  });
  [svc, browser] = await Promise.all([startTestService({ env: { FLOWS_DIR: flows } }), launchBrowser()]);
  ({ context, page } = await openPage(browser, { viewport: { width: 1280, height: 800 } }, problems));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.stop();
  if (flows) await fs.promises.rm(flows, { recursive: true, force: true });
});

const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

describe('flows view', () => {
  it('says what to do about a flow whose campaign does not exist yet, and runs it once the files are read again', async () => {
    await page.goto(`${svc.url}/admin`);
    await signInWithToken(page, ADMIN_TOKEN);
    await page.click('[data-tab=flows]');
    await page.waitForSelector('[data-flow=promo]');
    expect(await text('[data-flow=promo] .badge')).toBe('not running');
    const refusal = await text('[data-flow=promo] [data-field=problems]');
    expect(refusal).toContain('promo.yaml, line 18: the campaign “flows-spring” does not exist yet. Create a campaign with the slug “flows-spring” (New campaign), then press “Read files again”.');
    // Never the API's routes: a marketer has no use for them.
    expect(await text('#view-flows')).not.toMatch(/\/api\/|POST |GET /);
    expect(await text('#flows-errors')).toContain('broken.yaml, line');

    const campaign = await makeCampaign(svc, { name: 'Spring gift', slug: 'flows-spring' });
    await loadSerials(svc, campaign.id, ['FS-1', 'FS-2']);
    await page.click('#flows-reload');
    await page.waitForSelector('[data-flow=promo] .badge:text-is("running")');
    expect(await text('#flows-reloaded')).toBe('The flow files were read again.');
    expect(await page.locator('[data-flow=promo] [data-field=problems]').count()).toBe(0);
  });

  it('puts each trigger and step in words: what it says, which coupon it gives, where it waits', async () => {
    expect(await text('[data-flow=promo] h3')).toBe('Spring promo running');
    expect(await text('[data-flow=promo] [data-field=trigger]')).toBe('Starts when someone sends “spring” or “haru”.');
    expect(await text('[data-flow=reminder] [data-field=trigger]'))
      .toBe('Starts when a coupon of “Spring gift” (flows-spring) is about to expire (the campaign’s reminder time).');
    expect(await text('[data-flow=reminder] > p.muted')).toContain('Only on LINE, Messenger.');
    const words = await page.locator('[data-flow=promo] ol.steps > li').evaluateAll((items) => items.map((li) => {
      const t = li.querySelector('.step-words');
      return (t ? t.textContent : li.textContent)!.trim();
    }));
    expect(words).toEqual([
      '1 Says “Hello {{contact.displayName}}!”, offering the answers “Yes” or “No thanks”.',
      '2 Asks “Which month is your birthday?” and waits for the answer: a number from 1 to 12, kept as “month” (1 more try after a wrong answer).waits for an answer',
      'If no valid answer comes:',
      '• Says “No problem.”.',
      '3 Checks whether month == 3.',
      'If so:',
      '• Gives a coupon of “Spring gift” (flows-spring) and sends its card.',
      'If the coupon cannot be given:',
      '• Says “It is already yours.”.',
      'Otherwise:',
      '• Tags the contact “later” and “spring-fan”.',
      '4 Waits 2 hours, then goes on.waits for time',
      '5 Hands the chat to a person (the bot stays quiet until an agent releases it) and says “A person will answer you soon.”.waits for an agent',
    ]);
    expect(await text('[data-flow=reminder] [data-step="1"] .step-text')).toBe('Goes on with the flow “promo”.');
  });

  it('shows per-step counts as a funnel: reached, went on, waiting now, stopped', async () => {
    // Ann answers 3 and gets the coupon, then waits two hours; Bo answers nonsense twice; Cy never answers.
    await say(svc.ctx, 'line', 'U-ann', 'spring');
    await say(svc.ctx, 'line', 'U-ann', '3');
    await say(svc.ctx, 'line', 'U-bo', 'haru');
    await say(svc.ctx, 'line', 'U-bo', 'soon');
    await say(svc.ctx, 'line', 'U-bo', 'later');
    await say(svc.ctx, 'line', 'U-cy', 'spring');
    await dispatch(svc.ctx, 'line', 'U-cy', { type: 'follow' });

    await page.click('#flows-refresh');
    await page.waitForSelector('[data-flow=promo] [data-step="0"] [data-count=entered]:text-is("3 contacts reached this step")');
    const counts = async (step: string) => await page.locator(`[data-flow=promo] [data-step="${step}"] [data-count]`).evaluateAll(
      (spans) => Object.fromEntries(spans.map((s) => [(s as HTMLElement).dataset.count, s.textContent])),
    );
    expect(await counts('0')).toEqual({ entered: '3 contacts reached this step', completed: '3 went on', stopped: '0 stopped here' });
    expect(await counts('1')).toEqual({ entered: '3 contacts reached this step', completed: '2 went on', waiting: '1 waiting here now', stopped: '0 stopped here' });
    expect(await counts('2.then.0')).toEqual({ entered: '1 contact reached this step', completed: '1 went on', stopped: '0 stopped here' });
    expect((await counts('3')).waiting).toBe('2 waiting here now');
    // The bars are drawn against the step most contacts reached.
    const widths = await page.locator('[data-flow=promo] .step-bar .fill').evaluateAll((fills) => fills.map((f) => (f as HTMLElement).style.width));
    expect(widths[0]).toBe('100%');
    expect(widths[2]).toMatch(/^33\.33/);
  });

  it('shows a network that does not answer and a server error in words, never swallowing them', async () => {
    await page.route('**/api/v1/flows/reload', (route) => route.abort('connectionrefused'));
    await page.click('#flows-reload');
    await page.waitForSelector('#flows-error:has-text("could not be reached")');
    expect(await text('#flows-error')).toMatch(/^The flow files could not be read again: The server could not be reached/);
    await page.unroute('**/api/v1/flows/reload');
    await page.route('**/api/v1/flows', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal_error","message":"something went wrong on our side"}}' }));
    await page.click('#flows-refresh');
    await page.waitForSelector('#flows-error:has-text("something went wrong on our side")');
    // What was on screen stays there meanwhile.
    expect(await page.locator('[data-flow=promo]').count()).toBe(1);
    await page.unroute('**/api/v1/flows');
    await page.click('#flows-refresh');
    await page.waitForFunction(() => document.getElementById('flows-error')!.textContent === '');
  });

  it('is readable on a phone', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.click('#flows-refresh');
    await page.waitForSelector('[data-flow=promo] [data-step="4"]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
    // The API answer carries what the words are made of (the console adds nothing of its own).
    const api = await request(svc.url).get('/api/v1/flows').set(svc.admin);
    expect(api.body.campaigns).toEqual({ 'flows-spring': 'Spring gift' });
    expect(api.body.flows.find((f: { id: string }) => f.id === 'promo').steps.find((st: { path: string }) => st.path === '3')).toMatchObject({ path: '3', type: 'wait', detail: { duration: '2h', ms: 7_200_000 }, waiting: 2 });
  });
});
