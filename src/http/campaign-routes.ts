import express, { Router } from 'express';
import type { ChannelName } from '../../adapters/types.ts';
import { campaignToJson, createCampaign, getCampaign, listCampaigns, stockOf, updateCampaign } from '../coupons/campaigns.ts';
import { issueToUser } from '../coupons/issue.ts';
import { campaignStats, couponToJson, csvColumns, csvLine, parseRecordsQuery, recordsPage, recordToJson } from '../coupons/records.ts';
import { campaignPreviews } from '../pages/campaign-preview.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { z } from 'zod';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';
import { recordAudit } from '../people/audit.ts';

const issueBody = (channels: readonly ChannelName[]) => z.object({
  channel: z.enum(channels as [ChannelName, ...ChannelName[]]),
  userId: z.string().trim().min(1).max(200),
}).strict();

/** Campaigns, issuing to a user, records and stats: the admin API. */
export const campaignRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const issueBodySchema = issueBody(ctx.channelPlugins.map((p) => p.name));
  // Agents read the list (the workbench names campaigns); everything else is the marketers'.
  router.get('/api/v1/campaigns', requireRole(auth, 'marketer', 'agent'), async (_req, res) => {
    const rows = await listCampaigns(ctx.db);
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
    const { campaign: row, slugChanged } = await updateCampaign(ctx, req.params.id, req.body);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'campaign.updated', { type: 'campaign', id: row.id, name: row.name },
      { fields: req.body && typeof req.body === 'object' ? Object.keys(req.body as object) : [] });
    if (slugChanged) await ctx.flows?.reload();
    const stock = await stockOf(ctx.db, [row.id]);
    res.json(campaignToJson(ctx, row, stock.get(row.id)));
  });

  // What customers would see, in each language: for the campaign form's preview.
  router.get('/api/v1/campaigns/:id/preview', async (req, res) => {
    const row = await getCampaign(ctx.db, req.params.id);
    res.json({ previews: campaignPreviews(ctx, row) });
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

  return router;
};

