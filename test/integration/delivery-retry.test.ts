import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let standin: LineStandin;
let svc: TestService;
let flowsDir: string;

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token' });
  flowsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-flows-'));
  svc = await startTestService({
    env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url, FLOWS_DIR: flowsDir },
  });
});

afterAll(async () => {
  await svc?.stop();
  await standin?.close();
  fs.rmSync(flowsDir, { recursive: true, force: true });
});

async function issue(campaignId: string, userId: string): Promise<Response> {
  return await fetch(`${svc.url}/api/v1/campaigns/${campaignId}/coupons`, {
    method: 'POST', headers: { ...svc.admin, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'line', userId }),
  });
}

interface OutboxState { status: string; attempts: number; last_error: string | null; retry_key: string; wait_ms: number }

async function outboxOf(couponId: string): Promise<OutboxState> {
  const r = await query(svc.ctx.db, sql`SELECT status, attempts, last_error, retry_key,
    (extract(epoch FROM next_attempt_at - now()) * 1000)::int AS wait_ms FROM outbox WHERE coupon_id = ${couponId}`);
  return r.rows[0] as unknown as OutboxState;
}

/** The backoff has passed: the row is due now. */
async function timePasses(couponId: string): Promise<void> {
  await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE coupon_id = ${couponId}`);
}

async function recordOf(campaignId: string, couponId: string) {
  const res = await fetch(`${svc.url}/api/v1/campaigns/${campaignId}/records`, { headers: svc.admin });
  const body = (await res.json()) as { records: Array<{ couponId: string; status: string; deliveryStatus: string; deliveryError: string | null }> };
  return body.records.find((r) => r.couponId === couponId)!;
}

describe('delivery to LINE', () => {
  it('retries 500 and 429 with the same retry key and counts a 409 with an accepted request id as delivered', async () => {
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['A-1', 'A-2']);
    const user = newLineUserId();
    const res = await issue(campaign.id, user);
    expect(res.status).toBe(201);
    const couponId = ((await res.json()) as { coupon: { id: string } }).coupon.id;
    const start = standin.requests.length;
    standin.script(
      { status: 500 },
      { status: 429, headers: { 'retry-after': '30' }, body: { message: 'The API rate limit has been exceeded.' } },
      { status: 409, headers: { 'x-line-accepted-request-id': 'accepted-request-1' }, body: { message: 'The retry key is already accepted' } },
    );

    expect(await deliverDue(svc.ctx)).toBe(1);
    let row = await outboxOf(couponId);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/500/);
    expect(row.wait_ms).toBeGreaterThan(0);
    expect(await deliverDue(svc.ctx)).toBe(0); // not due before its backoff

    await timePasses(couponId);
    expect(await deliverDue(svc.ctx)).toBe(1);
    row = await outboxOf(couponId);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(row.last_error).toMatch(/429/);
    expect(row.wait_ms).toBeGreaterThan(25_000); // LINE's Retry-After is honoured

    await timePasses(couponId);
    expect(await deliverDue(svc.ctx)).toBe(1);
    row = await outboxOf(couponId);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_error: null });

    const tries = standin.requests.slice(start);
    expect(tries.map((t) => [t.kind, t.status])).toEqual([['push', 500], ['push', 429], ['push', 409]]);
    expect(new Set(tries.map((t) => t.retryKey))).toEqual(new Set([row.retry_key]));
    expect(tries.every((t) => t.authorization === 'Bearer line-token')).toBe(true);
    expect(await recordOf(campaign.id, couponId)).toMatchObject({ status: 'sent', deliveryStatus: 'sent', deliveryError: null });
  });

  it('fails a 400 for good: the coupon is void, its claim released and the error visible', async () => {
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['C-1', 'C-2']);
    const user = newLineUserId();
    const res = await issue(campaign.id, user);
    const couponId = ((await res.json()) as { coupon: { id: string } }).coupon.id;
    standin.requests.length = 0;
    standin.script({ status: 400, body: { message: 'The request body has 1 error(s)', details: [{ message: 'must be specified', property: 'to' }] } });

    expect(await deliverDue(svc.ctx)).toBe(1);
    expect(standin.requests).toHaveLength(1);
    const row = await outboxOf(couponId);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    const record = await recordOf(campaign.id, couponId);
    expect(record).toMatchObject({ status: 'void', deliveryStatus: 'failed' });
    expect(record.deliveryError).toMatch(/LINE 400.*must be specified/);

    // Not retried.
    await timePasses(couponId);
    expect(await deliverDue(svc.ctx)).toBe(0);
    expect(standin.requests).toHaveLength(1);
    // The per-contact limit (1) counts only coupons the contact holds: the released one does not.
    const again = await issue(campaign.id, user);
    expect(again.status).toBe(201);
  });
});
