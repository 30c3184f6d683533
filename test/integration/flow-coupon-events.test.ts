import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { contactOf, flowCampaign, flowsDir, outboxOf, registryOf, say, textsOf } from './flow-support.ts';
import { sweepExpired } from '../../src/coupons/expiry.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import { formatDeadline } from '../../src/coupons/rules.ts';
import { recordOutcome } from '../../src/delivery/delivery-worker.ts';
import { remindExpiring, resendReleased } from '../../src/flows/jobs.ts';
import { flowsCouponEventJob } from '../../src/jobs/catalog.ts';
import { deliverAll } from '../support/campaigns.ts';
import { formatDateTime } from '../../src/i18n/format.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const files = {
  'give.yaml': `
id: give
trigger: { keyword: give }
steps:
  - coupon: ev-remind
---
id: give-plain
trigger: { keyword: plain }
steps:
  - coupon: ev-plain
`,
  'events.yaml': `
id: remind
trigger:
  coupon: { event: expiring, campaign: ev-remind }
steps:
  - say: "Reminder: {{coupon.name}} until {{coupon.deadline}} {{coupon.pageUrl}}"
---
id: redeemed
trigger:
  coupon: { event: redeemed, campaign: ev-remind }
steps:
  - say: "Thanks for using {{coupon.name}}!"
  - tag: used
---
id: expired
trigger:
  coupon: { event: expired, campaign: ev-remind }
steps:
  - say: "Your {{coupon.name}} expired. Here is another chance:"
  - coupon: ev-second
`,
};

let svc: TestService;
let dir: string;
const T0 = new Date('2026-05-01T00:00:00Z');
let now = T0;
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

beforeAll(async () => {
  dir = flowsDir(files);
  svc = await startTestService({ env: { FLOWS_DIR: dir }, clock: () => now });
  const twoDays = { expiry: { mode: 'fromSend', days: 2 }, remindBeforeHours: 24 };
  await flowCampaign(svc.ctx, 'ev-remind', twoDays);
  await flowCampaign(svc.ctx, 'ev-plain', twoDays);
  await flowCampaign(svc.ctx, 'ev-second');
  await registryOf(svc.ctx).reload();
  expect(registryOf(svc.ctx).flows.map((f) => f.id).sort()).toEqual(['expired', 'give', 'give-plain', 'redeemed', 'remind']);
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const couponOf = async (userId: string, slug: string) => (await query(svc.ctx.db, sql`
  SELECT c.id, c.token, c.status, c.expires_at AS "expiresAt", c.reminded_at AS "remindedAt" FROM coupons c
  JOIN campaigns cm ON cm.id = c.campaign_id JOIN contacts ct ON ct.id = c.contact_id
  WHERE ct.platform_user_id = ${userId} AND cm.slug = ${slug} ORDER BY c.issued_at, c.id`)).rows as Array<{ id: string; token: string; status: string; expiresAt: Date; remindedAt: Date | null }>;

describe('coupon events', () => {
  it('knows which events and campaigns have a flow, without a query', () => {
    const registry = registryOf(svc.ctx);
    expect(registry.listensTo('expiring', 'ev-remind')).toBe(true);
    expect(registry.listensTo('expiring', 'ev-plain')).toBe(false);
    expect(registry.listensTo('redeemed')).toBe(true);
    expect(registry.listensTo('expired', 'ev-second')).toBe(false);
  });

  it('reminds once per coupon, through the expiring flow or the default text', async () => {
    await say(svc.ctx, 'line', 'U-rem', 'give');
    await say(svc.ctx, 'line', 'U-plain', 'plain');
    expect(await deliverAll(svc.ctx)).toBe(2);
    const [remind] = await couponOf('U-rem', 'ev-remind');
    const [plain] = await couponOf('U-plain', 'ev-plain');
    expect(remind!.expiresAt).toEqual(hours(48));

    now = hours(23.9); // 24.1 h before the deadline
    expect(await remindExpiring(svc.ctx)).toBe(0);
    now = hours(25);
    expect(await remindExpiring(svc.ctx)).toBe(2);
    const deadline = formatDeadline(hours(48), 'UTC');
    expect(await textsOf(svc.ctx, 'line', 'U-rem')).toEqual(['[coupon Campaign ev-remind]', `Reminder: Campaign ev-remind until ${deadline} http://coupons.test/c/${remind!.token}`]);
    // The default reminder is ours: in the contact's language (here the default, English), dates in the campaign's zone.
    expect(await textsOf(svc.ctx, 'line', 'U-plain')).toEqual(['[coupon Campaign ev-plain]', `Your coupon "Campaign ev-plain" expires on ${formatDateTime('en', hours(48), 'UTC')}. http://coupons.test/c/${plain!.token}`]);
    expect((await couponOf('U-rem', 'ev-remind'))[0]!.remindedAt).toEqual(hours(25));

    now = hours(26);
    expect(await remindExpiring(svc.ctx)).toBe(0);
    expect(await textsOf(svc.ctx, 'line', 'U-rem')).toHaveLength(2);
  });

  it('runs the redeemed flow inside the redemption', async () => {
    const [remind] = await couponOf('U-rem', 'ev-remind');
    const r = await redeemCoupon(svc.ctx, remind!.token);
    expect(r.ok).toBe(true);
    expect((await textsOf(svc.ctx, 'line', 'U-rem')).slice(2)).toEqual(['Thanks for using Campaign ev-remind!']);
    expect((await contactOf(svc.ctx, 'line', 'U-rem')).tags).toEqual(['used']);
    // Pressing again is the same redemption: no second run.
    await redeemCoupon(svc.ctx, remind!.token);
    expect(await textsOf(svc.ctx, 'line', 'U-rem')).toHaveLength(3);
  });

  it('defers the event when the contact is busy, and runs it once from the job', async () => {
    await say(svc.ctx, 'line', 'U-busy', 'give');
    await deliverAll(svc.ctx);
    const [coupon] = await couponOf('U-busy', 'ev-remind');
    const contact = await contactOf(svc.ctx, 'line', 'U-busy');
    // Another transaction holds the contact (e.g. its webhook event being processed).
    const holder = await svc.ctx.db.$client.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE', [contact.id]);
      expect((await redeemCoupon(svc.ctx, coupon!.token)).ok).toBe(true);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await textsOf(svc.ctx, 'line', 'U-busy')).toEqual(['[coupon Campaign ev-remind]']);
    const jobs = (await query(svc.ctx.db, sql`SELECT data FROM pgboss.job WHERE name = 'flows.coupon-event'`)).rows as Array<{ data: { couponId: string; event: 'redeemed'; fallbackReminder: boolean } }>;
    expect(jobs.map((j) => j.data)).toEqual([{ couponId: coupon!.id, event: 'redeemed', fallbackReminder: false }]);
    await flowsCouponEventJob.handler(jobs[0]!.data, svc.ctx);
    await flowsCouponEventJob.handler(jobs[0]!.data, svc.ctx);
    expect(await textsOf(svc.ctx, 'line', 'U-busy')).toEqual(['[coupon Campaign ev-remind]', 'Thanks for using Campaign ev-remind!']);
  });

  it('runs the expired flow from the expiry sweep', async () => {
    now = hours(48.5);
    expect(await sweepExpired(svc.ctx)).toBeGreaterThanOrEqual(2);
    expect((await textsOf(svc.ctx, 'line', 'U-rem')).slice(3)).toEqual(['Your Campaign ev-remind expired. Here is another chance:', '[coupon Campaign ev-second]']);
    // ev-plain has no expired flow: nothing is said.
    expect(await textsOf(svc.ctx, 'line', 'U-plain')).toHaveLength(2);
  });
});

describe('resend of released coupons', () => {
  it('re-issues a flow coupon whose delivery failed for good, once', async () => {
    now = hours(10);
    await say(svc.ctx, 'line', 'U-resend', 'plain');
    const [row] = await outboxOf(svc.ctx, 'line', 'U-resend');
    await recordOutcome(svc.ctx, { id: row!.id, couponId: row!.couponId, attempts: 8, channel: 'line' }, { outcome: 'failed', error: 'LINE 400: bad request' }, now);
    expect((await couponOf('U-resend', 'ev-plain')).map((c) => c.status)).toEqual(['void']);
    const jobs = (await query(svc.ctx.db, sql`SELECT data, start_after AS "startAfter" FROM pgboss.job WHERE name = 'coupons.resend'`)).rows;
    expect(jobs).toEqual([{ data: { couponId: row!.couponId }, startAfter: new Date(now.getTime() + 60_000) }]);

    expect(await resendReleased(svc.ctx, row!.couponId!)).toBe('reissued');
    expect(await resendReleased(svc.ctx, row!.couponId!)).toBe('duplicate');
    const coupons = await couponOf('U-resend', 'ev-plain');
    const reissued = coupons.find((c) => c.id !== row!.couponId)!;
    expect(coupons.map((c) => [c.id === row!.couponId ? 'released' : 'reissued', c.status]).sort()).toEqual([['reissued', 'pending'], ['released', 'void']]);

    // The re-issued coupon failing too is not resent again.
    const rows = await outboxOf(svc.ctx, 'line', 'U-resend');
    const second = rows.find((r) => r.couponId === reissued.id)!;
    await recordOutcome(svc.ctx, { id: second.id, couponId: second.couponId, attempts: 8, channel: 'line' }, { outcome: 'failed', error: 'again' }, now);
    expect((await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'coupons.resend'`)).rows).toEqual([{ n: 1 }]);
    const resends = (await query(svc.ctx.db, sql`SELECT released_coupon_id AS "released", new_coupon_id AS "reissued", outcome FROM coupon_resends`)).rows;
    expect(resends).toEqual([{ released: row!.couponId, reissued: reissued.id, outcome: 'reissued' }]);
  });
});
