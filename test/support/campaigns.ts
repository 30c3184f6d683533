import { sql } from 'drizzle-orm';
import type { AppContext } from '../../src/context.ts';
import { createCampaign, type CampaignRow } from '../../src/coupons/campaigns.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { query } from '../../src/db/client.ts';

/** A valid campaign body (contract field names), open for sending around `now`. */
export function campaignBody(overrides: Record<string, unknown> = {}, now = new Date()): Record<string, unknown> {
  return {
    name: 'Ten percent off',
    instructions: 'Show this at the till.',
    sendStart: new Date(now.getTime() - 86_400_000).toISOString(),
    sendEnd: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    expiry: { mode: 'fromSend', days: 7 },
    perContactLimit: 1,
    barcode: 'qr',
    colors: { background: '#ffffff', button: '#06c755', buttonText: '#ffffff' },
    reward: { type: 'percent', value: 10 },
    visibility: 'public',
    verification: true,
    ...overrides,
  };
}

let seq = 0;
/** Creates a campaign through the service, with a unique slug. */
export async function makeCampaign(ctx: AppContext, overrides: Record<string, unknown> = {}): Promise<CampaignRow> {
  seq += 1;
  return await createCampaign(ctx, campaignBody({ slug: `test-${seq}-${Math.random().toString(36).slice(2, 8)}`, ...overrides }, ctx.clock()));
}

/** Loads one-time serials straight into the pool (the upload route has its own tests). */
export async function loadSerials(ctx: AppContext, campaignId: string, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  await query(ctx.db, sql`INSERT INTO serials (campaign_id, code) SELECT ${campaignId}, jsonb_array_elements_text(${JSON.stringify(codes)}::jsonb)`);
}

export async function loadFixed(ctx: AppContext, campaignId: string, code: string, quantity: number): Promise<void> {
  await query(ctx.db, sql`INSERT INTO fixed_serials (campaign_id, code, quantity) VALUES (${campaignId}, ${code}, ${quantity})`);
}

/** Delivers every due outbox row as if the platform accepted it. */
export async function deliverAll(ctx: AppContext): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deliverDue(ctx, async () => ({ outcome: 'sent' }));
    total += n;
    if (n === 0) return total;
  }
}
