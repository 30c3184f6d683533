import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { barcodeSvg } from '../coupons/barcode.ts';
import { campaignImageUrl, getCampaign, type CampaignRow } from '../coupons/campaigns.ts';
import type { CouponRow } from '../coupons/coupon-row.ts';
import { listContactCoupons } from '../coupons/contact-coupons.ts';
import { findCouponByToken, recordOpen, redeemCoupon } from '../coupons/redeem.ts';
import { effectiveStatus, formatDeadline, verifyGate } from '../coupons/rules.ts';
import { verifyCoupon, verifyRefusal } from '../coupons/verify.ts';
import type { RouteModule } from '../http/app.ts';
import { callerError, sendError } from '../http/errors.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { couponPage, messagePage, refusalNotice, verifyConfirmPage, type CouponPageView, type Notice } from './coupon-page.ts';
import { sendPage, trusted, type SafeHtml } from './html.ts';
import { mePage } from './me-page.ts';
import { isCrawler } from './user-agent.ts';
import { adminPage } from './admin-page.ts';
import { workbenchPage, type WorkbenchTarget } from './workbench-page.ts';

/** Page tokens are base64url (see newToken); anything else is not a coupon we issued. */
const pageToken = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

const verifyBody = z.object({ confirm: z.union([z.literal('yes'), z.literal(true)]) });

const workbenchQuery = z.object({
  conversationId: z.string().trim().min(1).max(64).optional(),
  channel: z.enum(['inbox', 'line', 'messenger']).optional(),
  externalId: z.string().trim().min(1).max(200).optional(),
});

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

function imageOrigins(ctx: AppContext): string[] {
  try {
    return [new URL(ctx.config.PUBLIC_BASE_URL).origin];
  } catch {
    return [];
  }
}

const notFoundTitle = 'Coupon not found';
const notFoundText = 'This link does not lead to a coupon. Check that you opened the whole link from your chat.';

/** Customer pages (coupon page, redeem, staff verify, my coupons) and the agents' workbench page. */
export const pageRoutes: RouteModule = ({ ctx }) => {
  const router = Router();
  const bodies = [express.urlencoded({ extended: false, limit: '2kb' }), express.json({ limit: '2kb' })];
  const images = imageOrigins(ctx);

  async function load(token: string): Promise<{ coupon: CouponRow; campaign: CampaignRow } | null> {
    if (!pageToken.safeParse(token).success) return null;
    const coupon = await findCouponByToken(ctx.db, token);
    if (!coupon) return null;
    return { coupon, campaign: await getCampaign(ctx.db, coupon.campaignId) };
  }

  async function view(token: string, coupon: CouponRow, campaign: CampaignRow, extra: { notice?: Notice; hideRedeem?: boolean } = {}): Promise<CouponPageView> {
    const status = effectiveStatus(coupon, ctx.clock());
    let barcode: SafeHtml | null = null;
    if ((status === 'redeemed' || status === 'verified') && coupon.serialCode) {
      try {
        barcode = trusted(await barcodeSvg(campaign.barcode, coupon.serialCode));
      } catch (err) {
        // The code is still shown as text; the till can type it.
        ctx.log.warn({ err, campaignId: campaign.id }, 'barcode could not be drawn');
      }
    }
    return { token, coupon, campaign, status, imageUrl: campaignImageUrl(ctx, campaign), timeZone: ctx.config.TZ_DEFAULT, barcode, ...extra };
  }

  const showCoupon = (res: Response, v: CouponPageView) => sendPage(res, 200, (nonce) => couponPage(v, nonce), { imgOrigins: images });
  const showNotFound = (res: Response) => sendPage(res, 404, (nonce) => messagePage(notFoundTitle, notFoundText, nonce));

  router.get('/c/:token', async (req, res) => {
    const found = await load(req.params.token);
    if (!found) return showNotFound(res);
    showCoupon(res, await view(req.params.token, found.coupon, found.campaign));
  });

  // The page's script calls this after load; crawlers run no scripts, and the few that do are dropped here.
  router.post('/c/:token/open', async (req, res) => {
    const purpose = `${req.get('sec-purpose') ?? ''} ${req.get('purpose') ?? ''}`;
    if (!isCrawler(req.get('user-agent')) && !/prefetch|prerender/i.test(purpose) && pageToken.safeParse(req.params.token).success) {
      await recordOpen(ctx, req.params.token);
    }
    res.set('Cache-Control', 'no-store').status(204).end();
  });

  router.post('/c/:token/redeem', ...bodies, async (req, res) => {
    const json = wantsJson(req);
    const token = req.params.token as string;
    if (!pageToken.safeParse(token).success) {
      if (json) return sendError(res.set('Cache-Control', 'no-store'), new AppError('not_found', 'this coupon does not exist'));
      return showNotFound(res);
    }
    const result = await redeemCoupon(ctx, token);
    if (json) {
      res.set('Cache-Control', 'no-store');
      if (!result.ok) return sendError(res, new AppError(result.code, result.message));
      return res.json({
        status: 'redeemed',
        code: result.code,
        couponStatus: effectiveStatus(result.coupon, ctx.clock()),
        alreadyRedeemed: result.alreadyRedeemed,
        redeemedAt: result.coupon.redeemedAt?.toISOString() ?? null,
        expiresAt: result.coupon.expiresAt?.toISOString() ?? null,
      });
    }
    if (!result.coupon) return showNotFound(res);
    const campaign = await getCampaign(ctx.db, result.coupon.campaignId);
    if (result.ok) return showCoupon(res, await view(token, result.coupon, campaign));
    // A refusal is an answer for a person, not an error page: the coupon page with the reason.
    showCoupon(res, await view(token, result.coupon, campaign, {
      notice: refusalNotice(result.code, result.message),
      hideRedeem: result.code === 'sold_out' || result.code === 'limit_reached',
    }));
  });

  router.get('/c/:token/verify', async (req, res) => {
    const found = await load(req.params.token);
    if (!found) return showNotFound(res);
    const v = await view(req.params.token, found.coupon, found.campaign);
    const gate = verifyGate(found.coupon, found.campaign.verification, ctx.clock());
    if (gate !== 'verify') {
      const refusal = verifyRefusal(gate, found.campaign, found.coupon, ctx.config.TZ_DEFAULT);
      return showCoupon(res, { ...v, notice: refusalNotice(refusal.code, refusal.message) });
    }
    sendPage(res, 200, (nonce) => verifyConfirmPage(v, nonce), { imgOrigins: images });
  });

  router.post('/c/:token/verify', ...bodies, async (req, res) => {
    const json = wantsJson(req);
    const token = req.params.token as string;
    if (json) res.set('Cache-Control', 'no-store');
    const found = await load(token);
    if (!found) {
      if (json) return sendError(res, new AppError('not_found', 'this coupon does not exist'));
      return showNotFound(res);
    }
    if (json) parseOrThrow(verifyBody, req.body ?? {});
    else if (!verifyBody.safeParse(req.body ?? {}).success) {
      return sendPage(res, 200, (nonce) => verifyConfirmPage({ ...found, token, status: effectiveStatus(found.coupon, ctx.clock()), imageUrl: null, timeZone: ctx.config.TZ_DEFAULT, barcode: null }, nonce));
    }
    const result = await verifyCoupon(ctx, { token }, { verifiedBy: 'staff' });
    if (json) {
      if (!result.ok) return sendError(res, new AppError(result.code, result.message));
      return res.json({ status: 'verified', verifiedAt: result.coupon.verifiedAt?.toISOString() ?? null });
    }
    if (!result.ok) return showCoupon(res, await view(token, found.coupon, found.campaign, { notice: refusalNotice(result.code, result.message) }));
    const at = result.coupon.verifiedAt ?? ctx.clock();
    showCoupon(res, await view(token, result.coupon, found.campaign, {
      notice: { kind: 'ok', title: 'Verified', message: `Verified at ${formatDeadline(at, ctx.config.TZ_DEFAULT)}.` },
    }));
  });

  router.get('/me/:token', async (req, res) => {
    const list = pageToken.safeParse(req.params.token).success ? await listContactCoupons(ctx, req.params.token) : null;
    if (!list) return sendPage(res, 404, (nonce) => messagePage('Page not found', 'This link does not lead to a coupon list. Ask the chat for "my coupons" to get a fresh link.', nonce));
    sendPage(res, 200, (nonce) => mePage(list, ctx.config.TZ_DEFAULT, nonce));
  });

  router.get('/workbench', (req, res) => {
    const q = workbenchQuery.safeParse(req.query);
    let target: WorkbenchTarget = null;
    if (q.success && q.data.conversationId) target = { conversationId: q.data.conversationId };
    else if (q.success && q.data.channel && q.data.externalId) target = { channel: q.data.channel, externalId: q.data.externalId };
    sendPage(res, 200, (nonce) => workbenchPage(target, nonce), { frameAncestors: '*' });
  });

  router.get('/admin', (_req, res) => sendPage(res, 200, (nonce) => adminPage(nonce)));

  // A failure on a page is shown as a page; JSON callers get the contract's error shape.
  router.use(['/c', '/me', '/workbench'], (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (wantsJson(req) || res.headersSent) return next(err);
    const status = callerError(err)?.status ?? 500;
    if (status >= 500) ctx.log.error({ err, method: req.method }, 'page failed');
    sendPage(res, status, (nonce) => status >= 500
      ? messagePage('Something went wrong', 'Sorry, something went wrong on our side. Please try again in a moment.', nonce)
      : messagePage('That did not work', 'Please go back and try again.', nonce));
  });

  return router;
};
