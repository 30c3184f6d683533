import express, { Router } from 'express';
import type { ChannelName } from '../../adapters/types.ts';
import {
  campaignToJson, createCampaign, draftCampaign, duplicateCampaign, getCampaign, listCampaigns, stockOf, updateCampaign, type CampaignRow,
} from '../coupons/campaigns.ts';
import { copyCampaignImage } from '../coupons/images.ts';
import type { CampaignState } from '../coupons/rules.ts';
import { getTestContact, sendTestCoupon, setTestContact } from '../coupons/test-send.ts';
import { issueToUser } from '../coupons/issue.ts';
import { campaignStats, couponToJson, csvColumns, csvLine, parseRecordsQuery, recordsPage, recordToJson } from '../coupons/records.ts';
import { campaignCards, campaignPreviews } from '../pages/campaign-preview.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { z } from 'zod';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';
import { recordAudit, type AuditAction } from '../people/audit.ts';

/** The audit action of each state a campaign is moved to (archived → ended takes it out of the archive). */
function stateAction(change: { from: CampaignState; to: CampaignState }): AuditAction {
  switch (change.to) {
    case 'active': return 'campaign.resumed';
    case 'paused': return 'campaign.paused';
    case 'ended': return change.from === 'archived' ? 'campaign.unarchived' : 'campaign.ended';
    case 'archived': return 'campaign.archived';
  }
}

const campaignTarget = (row: CampaignRow) => ({ type: 'campaign', id: row.id, name: row.name });
const listQuery = z.object({ archived: z.enum(['0', '1', 'true', 'false']).optional() });

/** A campaign being written: its fields as for a create (or, with `campaignId`, a patch of that campaign). */
export const draftBody = z.object({
  campaign: z.record(z.string(), z.unknown()),
  campaignId: z.string().trim().min(1).max(100).optional(),
}).strict();

const issueBody = (channels: readonly ChannelName[]) => z.object({
  channel: z.enum(channels as [ChannelName, ...ChannelName[]]),
  userId: z.string().trim().min(1).max(200),
}).strict();

/** Campaigns, issuing to a user, records and stats: the admin API. */
export const campaignRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const issueBodySchema = issueBody(ctx.channelPlugins.map((p) => p.name));
  // Agents read the list (the workbench names campaigns); everything else is the marketers'.
  // Archived campaigns are left out unless `?archived=1`.
  router.get('/api/v1/campaigns', requireRole(auth, 'marketer', 'agent'), async (req, res) => {
    const q = parseOrThrow(listQuery, req.query, 'query');
    const rows = await listCampaigns(ctx.db, { archived: q.archived === '1' || q.archived === 'true' });
    const stock = await stockOf(ctx.db, rows.map((r) => r.id));
    res.json({ campaigns: rows.map((r) => campaignToJson(ctx, r, stock.get(r.id))) });
  });

  router.use('/api/v1/campaigns', requireRole(auth, 'marketer'), express.json({ limit: '100kb' }));

  router.post('/api/v1/campaigns', async (req, res) => {
    const row = await createCampaign(ctx, req.body);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'campaign.created', { type: 'campaign', id: row.id, name: row.name });
    // Flows refused for naming this slug before it existed load now.
    await ctx.flows?.reload();
    const stock = await stockOf(ctx.db, [row.id]);
    res.status(201).location(`/api/v1/campaigns/${row.id}`).json(campaignToJson(ctx, row, stock.get(row.id)));
  });

  router.get('/api/v1/campaigns/:id', async (req, res) => {
    const row = await getCampaign(ctx.db, req.params.id);
    const stock = await stockOf(ctx.db, [row.id]);
    res.json(campaignToJson(ctx, row, stock.get(row.id)));
  });

  router.patch('/api/v1/campaigns/:id', async (req, res) => {
    const { campaign: row, slugChanged, stateChange } = await updateCampaign(ctx, req.params.id, req.body);
    const actor = res.locals.actor as RequestActor;
    const fields = req.body && typeof req.body === 'object' ? Object.keys(req.body as object).filter((k) => k !== 'state') : [];
    const namesState = Boolean(req.body && typeof req.body === 'object' && 'state' in (req.body as object));
    if (fields.length > 0 || (!stateChange && !namesState)) await recordAudit(ctx.db, ctx.clock, actor, 'campaign.updated', campaignTarget(row), { fields });
    if (stateChange) await recordAudit(ctx.db, ctx.clock, actor, stateAction(stateChange), campaignTarget(row), { from: stateChange.from, to: stateChange.to });
    if (slugChanged) await ctx.flows?.reload();
    const stock = await stockOf(ctx.db, [row.id]);
    res.json(campaignToJson(ctx, row, stock.get(row.id)));
  });

  // A copy to run again: fields and image, no serials, no coupons.
  router.post('/api/v1/campaigns/:id/duplicate', async (req, res) => {
    const { source, copy } = await duplicateCampaign(ctx, req.params.id, req.body);
    await copyCampaignImage(ctx, source, copy.id);
    const row = await getCampaign(ctx.db, copy.id);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'campaign.duplicated', campaignTarget(row), { from: source.id });
    await ctx.flows?.reload();
    const stock = await stockOf(ctx.db, [row.id]);
    res.status(201).location(`/api/v1/campaigns/${row.id}`).json(campaignToJson(ctx, row, stock.get(row.id)));
  });

  // "Send me a test": the card to the caller's own contact, not counted anywhere.
  router.post('/api/v1/campaigns/:id/test', async (req, res) => {
    const campaign = await getCampaign(ctx.db, req.params.id);
    const actor = res.locals.actor as RequestActor;
    const { result, testContact } = await sendTestCoupon(ctx, campaign.id, actor, req.body);
    if (!result.ok) throw new AppError(result.code, result.message);
    await recordAudit(ctx.db, ctx.clock, actor, 'campaign.test_sent', campaignTarget(campaign), { couponId: result.coupon.id, channel: testContact.channel });
    res.status(201).json({ coupon: couponToJson(ctx, result.coupon, ctx.clock()), testContact });
  });

  // What customers would see, in each language: for the campaign form's preview.
  router.get('/api/v1/campaigns/:id/preview', async (req, res) => {
    const row = await getCampaign(ctx.db, req.params.id);
    res.json({ previews: campaignPreviews(ctx, row) });
  });

  // The cards of a campaign being written, before it is saved: the campaign form's live preview.
  // Its refusals name the campaign's own fields, as a create or a patch would.
  router.post('/api/v1/campaign-previews', requireRole(auth, 'marketer'), express.json({ limit: '100kb' }), async (req, res) => {
    const body = parseOrThrow(draftBody, req.body);
    const base = body.campaignId ? await getCampaign(ctx.db, body.campaignId) : undefined;
    res.json({ previews: campaignCards(ctx, draftCampaign(ctx, body.campaign, base)) });
  });

  router.post('/api/v1/campaigns/:id/coupons', async (req, res) => {
    const body = parseOrThrow(issueBodySchema, req.body);
    await getCampaign(ctx.db, req.params.id);
    const result = await issueToUser(ctx, req.params.id, body.channel, body.userId);
    if (!result.ok) throw new AppError(result.code, result.message);
    res.status(201).json({ coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });

  router.get('/api/v1/campaigns/:id/records', async (req, res) => {
    const q = parseRecordsQuery(req.query);
    const campaign = await getCampaign(ctx.db, req.params.id);
    const now = ctx.clock();
    if (q.format === 'json') {
      const records = await recordsPage(ctx.db, campaign.id, q, now, q.after);
      const last = records.length === q.limit ? records[records.length - 1]!.couponId : null;
      res.json({ records: records.map(recordToJson), nextCursor: last });
      return;
    }
    // CSV: streamed page by page (keyset), never the whole campaign in memory.
    res.status(200).type('text/csv; charset=utf-8')
      .attachment(`${campaign.slug}-records.csv`);
    // UTF-8 with a byte-order mark: Excel then reads Japanese, Chinese and Thai names correctly.
    res.write(`\uFEFF${csvColumns.join(',')}\r\n`);
    let after: string | undefined;
    const page = { ...q, limit: 2000 };
    for (;;) {
      const records = await recordsPage(ctx.db, campaign.id, page, now, after);
      if (records.length === 0) break;
      const ok = res.write(records.map(csvLine).join(''));
      after = records[records.length - 1]!.couponId;
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
      if (records.length < page.limit || res.destroyed) break;
    }
    res.end();
  });

  router.get('/api/v1/campaigns/:id/stats', async (req, res) => {
    res.json(await campaignStats(ctx, req.params.id));
  });

  // The caller's own contact for test sends ("picked once").
  router.get('/api/v1/me/test-contact', requireRole(auth, 'marketer'), async (_req, res) => {
    res.json({ testContact: await getTestContact(ctx.db, res.locals.actor as RequestActor) });
  });
  router.put('/api/v1/me/test-contact', requireRole(auth, 'marketer'), express.json({ limit: '10kb' }), async (req, res) => {
    res.json({ testContact: await setTestContact(ctx, res.locals.actor as RequestActor, req.body) });
  });

  return router;
};

