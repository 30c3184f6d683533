import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact } from '../../src/contacts/contacts.ts';
import { listContactCoupons } from '../../src/coupons/contact-coupons.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { couponState, loadFixedSerial, loadSerials, makeCampaign, meTokenOf, sentCoupon, twoSentCoupons } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
/** A staff member: verifying is theirs. */
let staff: Awaited<ReturnType<typeof personOf>>;
beforeAll(async () => {
  svc = await startTestService({ env: { TZ_DEFAULT: 'Asia/Taipei' } });
  staff = await personOf(svc, 'staff');
});
afterAll(async () => {
  await svc.stop();
});

const browserUa = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

function expectPageHeaders(res: request.Response) {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['x-robots-tag']).toContain('noindex');
  const csp = res.headers['content-security-policy'] as string;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).not.toContain('unsafe-inline');
  return csp;
}

describe('GET /c/:token', () => {
  it('renders the coupon page in the campaign colours with escaped content and the page headers', async () => {
    const campaign = await makeCampaign(svc, {
      name: 'Tea <script>alert(1)</script>',
      instructions: 'Line one\n<b>not bold</b> **bold** see https://shop.example/t?a=1&b=2.\n- first\n- second',
    });
    await loadSerials(svc, campaign.id, ['TEA-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-page');
    const res = await request(svc.url).get(`/c/${coupon.token}`).set('User-Agent', browserUa);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    const csp = expectPageHeaders(res);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.text).toContain('Tea &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain('&lt;b&gt;not bold&lt;/b&gt;');
    expect(res.text).toContain('<strong>bold</strong>');
    expect(res.text).toContain('<a href="https://shop.example/t?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">');
    expect(res.text).toContain('<li>first</li><li>second</li>');
    expect(res.text).toContain('--bg:#fff3e0');
    expect(res.text).toContain('--btn:#e65100');
    expect(res.text).toContain('10% off');
    expect(res.text).toContain('GMT+8');
    // One-time serials: Redeem leads to the confirmation first.
    expect(res.text).toContain(`<a class="btn" id="redeem" href="/c/${coupon.token}/redeem">`);
    // The nonce in the header is the one on the style; the script is a file from this origin, and
    // only a page that has an open to record names where to send it.
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(res.text).toContain(`<style nonce="${nonce}">`);
    expect([...res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1], m[2]])).toEqual([[' type="module" src="/assets/pages/coupon.ts"', '']]);
    expect(res.text).toMatch(/<main data-open-url="\/c\/[A-Za-z0-9_-]+\/open">/);
    // A GET never records an open: only the page's script does.
    expect((await couponState(svc, coupon.token)).openedAt).toBeNull();
  });

  it('answers an unknown or malformed token with a friendly 404 page', async () => {
    for (const token of ['doesnotexist12345678', 'bad%20token']) {
      const res = await request(svc.url).get(`/c/${token}`);
      expect(res.status).toBe(404);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('Coupon not found');
      expectPageHeaders(res);
    }
  });
});

describe('POST /c/:token/open', () => {
  it('records the first open by a person once, and ignores crawlers and prefetches', async () => {
    const campaign = await makeCampaign(svc, { slug: 'open-test' });
    await loadSerials(svc, campaign.id, ['OPEN-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-open');
    for (const ua of ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'line-poker/1.0', 'Slackbot-LinkExpanding 1.0', 'Twitterbot/1.0', 'WhatsApp/2.23', 'Mozilla/5.0 (compatible; Discordbot/2.0)', 'TelegramBot (like TwitterBot)', 'Googlebot/2.1', '']) {
      const res = await request(svc.url).post(`/c/${coupon.token}/open`).set('User-Agent', ua);
      expect(res.status).toBe(204);
    }
    await request(svc.url).post(`/c/${coupon.token}/open`).set('User-Agent', browserUa).set('Sec-Purpose', 'prefetch');
    expect((await couponState(svc, coupon.token)).openedAt).toBeNull();

    await request(svc.url).post(`/c/${coupon.token}/open`).set('User-Agent', browserUa).expect(204);
    const first = await couponState(svc, coupon.token);
    expect(first.status).toBe('opened');
    expect(first.openedAt).toBeInstanceOf(Date);
    await request(svc.url).post(`/c/${coupon.token}/open`).set('User-Agent', browserUa).expect(204);
    expect((await couponState(svc, coupon.token)).openedAt).toEqual(first.openedAt);
  });
});

describe('POST /c/:token/redeem', () => {
  it('reveals the code as JSON, idempotently, and the page then shows it on GET with a barcode', async () => {
    const campaign = await makeCampaign(svc, { slug: 'redeem-json', barcode: 'code128' });
    await loadSerials(svc, campaign.id, ['ABC-001', 'ABC-002']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-json');
    const first = await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json');
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toMatchObject({ status: 'redeemed', code: 'ABC-001', alreadyRedeemed: false });
    const again = await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json');
    expect(again.body).toMatchObject({ status: 'redeemed', code: 'ABC-001', alreadyRedeemed: true });

    const page = await request(svc.url).get(`/c/${coupon.token}`);
    expect(page.text).toContain('data-field="code">ABC-001<');
    expect(page.text).toMatch(/<div class="barcode"[^>]*><svg[^>]*viewBox/);
    expect(page.text).not.toContain('id="redeem"');
  });

  it('answers a form post with the page showing the code (status 200)', async () => {
    const campaign = await makeCampaign(svc, { slug: 'redeem-form' });
    await loadFixedSerial(svc, campaign.id, 'FNA@5841', 10);
    const coupon = await sentCoupon(svc, campaign.id, 'U-form');
    const res = await request(svc.url).post(`/c/${coupon.token}/redeem`).type('form').send('')
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.status).toBe(200);
    expectPageHeaders(res);
    expect(res.text).toContain('data-field="code">FNA@5841<');
    expect(res.text).toContain('<svg');
    expect((await couponState(svc, coupon.token)).status).toBe('redeemed');
  });

  it('shows sold out as a friendly page to a browser and as a 409 error to JSON callers', async () => {
    const campaign = await makeCampaign(svc, { slug: 'sold-out' });
    await loadSerials(svc, campaign.id, ['ONLY-1']);
    const a = await sentCoupon(svc, campaign.id, 'U-so-a');
    const b = await sentCoupon(svc, campaign.id, 'U-so-b');
    await request(svc.url).post(`/c/${a.token}/redeem`).set('Accept', 'application/json').expect(200);
    const json = await request(svc.url).post(`/c/${b.token}/redeem`).set('Accept', 'application/json');
    expect(json.status).toBe(409);
    expect(json.body.error.code).toBe('sold_out');
    expect(typeof json.body.error.message).toBe('string');
    const page = await request(svc.url).post(`/c/${b.token}/redeem`).type('form').send('');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sold out');
    expect(page.text).not.toContain('id="redeem"');
    expect((await couponState(svc, b.token)).status).toBe('sent');
  });

  it('refuses an expired coupon: 422 JSON, a friendly page for the browser', async () => {
    const campaign = await makeCampaign(svc, { slug: 'expired' });
    await loadSerials(svc, campaign.id, ['EXP-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-exp');
    await query(svc.ctx.db, sql`UPDATE coupons SET expires_at = now() - interval '1 minute' WHERE token = ${coupon.token}`);
    const json = await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json');
    expect(json.status).toBe(422);
    expect(json.body.error.code).toBe('expired');
    const page = await request(svc.url).post(`/c/${coupon.token}/redeem`).type('form').send('');
    expect(page.status).toBe(200);
    expect(page.text).toContain('This coupon has expired');
    expect(page.text).toContain('data-status="expired"');
  });

  it('answers a coupon still on its way with a friendly "not ready yet" page, and 422 not_yet to JSON callers', async () => {
    const campaign = await makeCampaign(svc, { slug: 'not-yet' });
    await loadSerials(svc, campaign.id, ['NY-1']);
    const issued = await issueToUser(svc.ctx, campaign.id, 'line', 'U-not-yet'); // delivery not confirmed yet
    if (!issued.ok) throw new Error(issued.message);
    const json = await request(svc.url).post(`/c/${issued.coupon.token}/redeem`).set('Accept', 'application/json');
    expect(json.status).toBe(422);
    expect(json.body.error.code).toBe('not_yet');
    const page = await request(svc.url).post(`/c/${issued.coupon.token}/redeem`).type('form').send('');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Not ready yet');
    expect((await couponState(svc, issued.coupon.token)).serialCode).toBeNull();
  });

  it('answers a contact past its redemption limit with a friendly page, and 409 limit_reached to JSON callers', async () => {
    const campaign = await makeCampaign(svc, { slug: 'limit-page', perContactLimit: 1 });
    await loadSerials(svc, campaign.id, ['LIM-1', 'LIM-2']);
    const first = await sentCoupon(svc, campaign.id, 'U-limit-page');
    await query(svc.ctx.db, sql`UPDATE contact_campaign_counters SET held = 0 WHERE campaign_id = ${campaign.id}`);
    const second = await sentCoupon(svc, campaign.id, 'U-limit-page'); // slipped past the issue limit
    await request(svc.url).post(`/c/${first.token}/redeem`).set('Accept', 'application/json').expect(200);
    const json = await request(svc.url).post(`/c/${second.token}/redeem`).set('Accept', 'application/json');
    expect(json.status).toBe(409);
    expect(json.body.error.code).toBe('limit_reached');
    const page = await request(svc.url).post(`/c/${second.token}/redeem`).type('form').send('');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Limit reached');
    expect(page.text).not.toContain('id="redeem"');
  });

  it('answers an oversized body with a page for browsers and the JSON error for JSON callers', async () => {
    const big = `x=${'a'.repeat(5000)}`;
    const page = await request(svc.url).post('/c/unknowntoken1234567/redeem').type('form').send(big);
    expect(page.status).toBe(413);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('That did not work');
    const json = await request(svc.url).post('/c/unknowntoken1234567/redeem').type('form').set('Accept', 'application/json').send(big);
    expect(json.status).toBe(413);
    expect(json.body.error.code).toBe('payload_too_large');
  });

  it('answers an unknown token with 404 in both forms', async () => {
    const json = await request(svc.url).post('/c/unknowntoken1234567/redeem').set('Accept', 'application/json');
    expect(json.status).toBe(404);
    expect(json.body.error.code).toBe('not_found');
    const page = await request(svc.url).post('/c/unknowntoken1234567/redeem').type('form').send('');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Coupon not found');
  });
});

describe('staff verify', () => {
  it('is for signed-in staff: a browser is led to sign in, an API call without credentials is refused, other roles are forbidden', async () => {
    const campaign = await makeCampaign(svc, { slug: 'verify-who', verification: true });
    await loadSerials(svc, campaign.id, ['WHO-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-who');
    const page = await request(svc.url).get(`/c/${coupon.token}/verify`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/login?next=${encodeURIComponent(`/c/${coupon.token}/verify`)}`);
    const api = await request(svc.url).post(`/c/${coupon.token}/verify`).set('Accept', 'application/json').send({ confirm: 'yes' });
    expect(api.status).toBe(401);
    const agent = await personOf(svc, 'agent');
    const refused = await request(svc.url).get(`/c/${coupon.token}/verify`).set(agent.header);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Not open to your role');
  });

  it('asks for confirmation, verifies on confirm, then refuses a second verification', async () => {
    const campaign = await makeCampaign(svc, { slug: 'verify-json', verification: true });
    await loadSerials(svc, campaign.id, ['VER-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-ver');
    const early = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).set('Accept', 'application/json').send({ confirm: 'yes' });
    expect(early.status).toBe(422);
    expect(early.body.error.code).toBe('not_redeemed');

    await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json').expect(200);
    const page = await request(svc.url).get(`/c/${coupon.token}`);
    expect(page.text).toContain(`href="/c/${coupon.token}/verify"`);
    const confirm = await request(svc.url).get(`/c/${coupon.token}/verify`).set(staff.header);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Confirm verification?');
    expect(confirm.text).toContain('name="confirm" value="yes"');

    const noConfirm = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).set('Accept', 'application/json').send({});
    expect(noConfirm.status).toBe(400);
    expect(noConfirm.body.error.code).toBe('validation_error');
    const formNoConfirm = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).type('form').send('');
    expect(formNoConfirm.text).toContain('Confirm verification?');
    expect((await couponState(svc, coupon.token)).status).toBe('redeemed');

    const ok = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).set('Accept', 'application/json').send({ confirm: 'yes' });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('verified');
    const state = await couponState(svc, coupon.token);
    expect(state.status).toBe('verified');
    expect(state.verifiedBy).toBe(staff.id);
    expect(ok.body.verifiedAt).toBe(state.verifiedAt!.toISOString());

    const twice = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).type('form').send('confirm=yes');
    expect(twice.status).toBe(200);
    expect(twice.text).toContain('Already verified');
    const twiceJson = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).set('Accept', 'application/json').send({ confirm: true });
    expect(twiceJson.status).toBe(409);
    expect(twiceJson.body.error.code).toBe('already_verified');
  });

  it('has no verify button, and refuses, when the campaign does not use verification', async () => {
    const campaign = await makeCampaign(svc, { slug: 'no-verify' });
    await loadSerials(svc, campaign.id, ['NOV-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-nov');
    await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json').expect(200);
    const page = await request(svc.url).get(`/c/${coupon.token}`);
    expect(page.text).not.toContain('Staff: verify');
    const res = await request(svc.url).post(`/c/${coupon.token}/verify`).set(staff.header).type('form').send('confirm=yes');
    expect(res.status).toBe(200);
    expect(res.text).toContain('No verification needed');
    expect((await couponState(svc, coupon.token)).status).toBe('redeemed');
  });
});

describe('staff verify refusals', () => {
  it('tells staff why a coupon cannot be verified: expired after redeeming, or not redeemed yet', async () => {
    const campaign = await makeCampaign(svc, { slug: 'verify-refusals', verification: true });
    await loadSerials(svc, campaign.id, ['VR-1']);
    const waiting = await sentCoupon(svc, campaign.id, 'U-vr-wait');
    const notYet = await request(svc.url).get(`/c/${waiting.token}/verify`).set(staff.header);
    expect(notYet.status).toBe(200);
    expect(notYet.text).toContain('Not redeemed yet');
    expect(notYet.text).toContain('The customer has to press Redeem first.');

    const late = await sentCoupon(svc, campaign.id, 'U-vr-late');
    await request(svc.url).post(`/c/${late.token}/redeem`).set('Accept', 'application/json').expect(200);
    await query(svc.ctx.db, sql`UPDATE coupons SET expires_at = now() - interval '1 minute' WHERE token = ${late.token}`);
    const expired = await request(svc.url).get(`/c/${late.token}/verify`).set(staff.header);
    expect(expired.status).toBe(200);
    expect(expired.text).toContain('This coupon has expired');
    expect(expired.text).not.toContain('Confirm verification?');
    expect(expired.text).not.toContain('press Redeem first');
  });
});

describe('broken links', () => {
  it('answers a link whose token cannot be decoded with a page, not JSON', async () => {
    for (const path of ['/c/%ZZ', '/me/%ZZ', '/c/%ZZ/verify']) {
      const res = await request(svc.url).get(path);
      expect(res.status).toBe(400);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('That did not work');
    }
    const json = await request(svc.url).post('/c/%ZZ/redeem').set('Accept', 'application/json');
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('bad_request');
  });
});

describe('GET /me/:token', () => {
  it('lists the contact\'s coupons newest first with effective statuses', async () => {
    const { first, second } = await twoSentCoupons(svc, 'U-me',
      { campaign: { slug: 'me-one', name: 'Me One' }, serial: 'ME-1' },
      { campaign: { slug: 'me-two', name: 'Me Two', reward: { type: 'gift', text: 'Free <cookie>' } }, serial: 'ME-2' });
    await request(svc.url).post(`/c/${first.token}/redeem`).set('Accept', 'application/json').expect(200);
    await query(svc.ctx.db, sql`UPDATE coupons SET expires_at = now() - interval '1 minute' WHERE token = ${second.token}`);

    const meToken = await meTokenOf(svc, 'line', 'U-me');
    const list = await listContactCoupons(svc.ctx, meToken);
    expect(list!.coupons.map((c) => [c.campaignName, c.status])).toEqual([['Me Two', 'expired'], ['Me One', 'redeemed']]);

    const res = await request(svc.url).get(`/me/${meToken}`);
    expect(res.status).toBe(200);
    expectPageHeaders(res);
    expect(res.text.indexOf('Me Two')).toBeLessThan(res.text.indexOf('Me One'));
    expect(res.text).toContain('Free &lt;cookie&gt;');
    expect(res.text).toContain(`href="/c/${first.token}"`);
    expect(res.text).toContain('data-status="expired"');
    expect(res.text).toContain('data-status="redeemed"');
  });

  it('shows an empty list for a contact without coupons and 404 for an unknown token', async () => {
    const contact = await ensureContact(svc.ctx.db, 'line', 'U-empty');
    const res = await request(svc.url).get(`/me/${contact.meToken}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('You have no coupons yet.');
    const missing = await request(svc.url).get('/me/nobodyhasthistoken1');
    expect(missing.status).toBe(404);
    expect(missing.type).toBe('text/html');
  });
});

describe('GET /workbench', () => {
  it('is a page that may be framed by the inbox and carries the conversation it was opened for', async () => {
    const res = await request(svc.url).get('/workbench?channel=inbox&externalId=conv-%3C1%3E').set(svc.admin);
    expect(res.status).toBe(200);
    const csp = expectPageHeaders(res);
    expect(csp).toContain('frame-ancestors *');
    expect(res.headers['x-frame-options']).toBeUndefined();
    // The conversation goes to the page's script as data, escaped like any attribute.
    expect(res.text).toContain('<main id="workbench" data-target="{&quot;channel&quot;:&quot;inbox&quot;,&quot;externalId&quot;:&quot;conv-&lt;1&gt;&quot;}">');
    expect(res.text).toContain('<script type="module" src="/assets/workbench/main.ts"></script>');
  });
});
