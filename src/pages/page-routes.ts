import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { barcodeSvg } from '../coupons/barcode.ts';
import { campaignImageUrl, campaignTimeZone, draftCampaign, getCampaign, hasOneTimeSerials, type CampaignRow } from '../coupons/campaigns.ts';
import type { CouponRow } from '../coupons/coupon-row.ts';
import { listContactCoupons } from '../coupons/contact-coupons.ts';
import { findCouponByToken, recordOpen, redeemCoupon } from '../coupons/redeem.ts';
import { effectiveStatus, verifyGate } from '../coupons/rules.ts';
import { verifyCoupon } from '../coupons/verify.ts';
import { contactLanguage } from '../contacts/contacts.ts';
import { formatDateTime } from '../i18n/format.ts';
import { chooseLocale, isLocale, locales, type Locale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/availability.ts';
import type { RouteModule } from '../http/app.ts';
import { publicRoute, verifierOf, type RequestActor } from '../http/auth.ts';
import { recordAudit } from '../people/audit.ts';
import { callerError, sendError } from '../http/errors.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { couponPage, messagePage, redeemConfirmPage, refusalNotice, verifyConfirmPage, type CouponPageView, type Notice } from './coupon-page.ts';
import { sendPage, trusted, type SafeHtml } from './html.ts';
import { mePage } from './me-page.ts';
import { isCrawler } from './user-agent.ts';
import { pageRole } from './page-gate.ts';
import { adminPage } from './admin-page.ts';
import { campaignPreviewPage } from './campaign-preview.ts';
import { workbenchPage, type WorkbenchTarget } from './workbench-page.ts';

/** Page tokens are base64url (see newToken); anything else is not a coupon we issued. */
const pageToken = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

/** An image picked in the campaign form and not uploaded yet travels with the preview as a data URL. */
const previewForm = z.object({
  campaign: z.string().max(200_000),
  campaignId: z.string().trim().max(100).optional(),
  locale: z.enum(locales),
  image: z.union([z.literal(''), z.string().max(1_500_000).regex(/^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]+=*$/, 'must be a PNG or JPG image as a data URL')]).optional(),
});

const verifyBody = z.object({ confirm: z.union([z.literal('yes'), z.literal(true)]) });

/** The workbench's target conversation, on one of the channels the service knows. */
const workbenchQuery = (channels: readonly ChannelName[]) => z.object({
  conversationId: z.string().trim().min(1).max(64).optional(),
  channel: z.enum(channels as [ChannelName, ...ChannelName[]]).optional(),
  externalId: z.string().trim().min(1).max(200).optional(),
  /** With `channel`, the platform's conversation id (the inbox's own); alone, ours. */
  conversation: z.string().trim().min(1).max(200).optional(),
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

/** The browser's own language choice, made with the switch on our pages. */
export const LANGUAGE_COOKIE = 'cc_lang';
const LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

function cookieValue(req: Request, name: string): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Customer pages (coupon page, redeem, staff verify, my coupons) and the agents' workbench page. */
export const pageRoutes: RouteModule = ({ ctx, auth }) => {
  const customer = publicRoute('customers hold the page token');
  const staff = pageRole(auth, 'staff');
  const workbenchQuerySchema = workbenchQuery(ctx.channelPlugins.map((p) => p.name));
  const router = Router();
  const bodies = [express.urlencoded({ extended: false, limit: '2kb' }), express.json({ limit: '2kb' })];
  const images = imageOrigins(ctx);
  const secureCookie = ctx.config.PUBLIC_BASE_URL.startsWith('https://');

  /**
   * The page's language: a choice made now with the switch (`?lang=`, remembered for this
   * browser), the one made before (cookie), the contact's, the browser's, the campaign's, ours.
   */
  function pageLocale(req: Request, res: Response, facts: { contact?: string | null; campaign?: string | null } = {}): Locale {
    const asked = req.method === 'GET' ? req.query.lang : undefined;
    let cookie = cookieValue(req, LANGUAGE_COOKIE);
    if (isLocale(asked)) {
      cookie = asked;
      res.append('Set-Cookie', `${LANGUAGE_COOKIE}=${asked}; Path=/; Max-Age=${LANGUAGE_COOKIE_MAX_AGE_S}; SameSite=Lax; HttpOnly${secureCookie ? '; Secure' : ''}`);
    }
    return chooseLocale({
      cookie, contact: facts.contact, acceptLanguage: req.get('accept-language'), campaign: facts.campaign, fallback: ctx.config.DEFAULT_LOCALE,
    });
  }

  async function load(token: string): Promise<{ coupon: CouponRow; campaign: CampaignRow } | null> {
    if (!pageToken.safeParse(token).success) return null;
    const coupon = await findCouponByToken(ctx.db, token);
    if (!coupon) return null;
    return { coupon, campaign: await getCampaign(ctx.db, coupon.campaignId) };
  }

  async function localeFor(req: Request, res: Response, coupon: CouponRow, campaign: CampaignRow): Promise<Locale> {
    return pageLocale(req, res, { contact: await contactLanguage(ctx.db, coupon.contactId), campaign: campaign.locale });
  }

  /** The words of a refusal, with the facts they name. */
  function refusal(locale: Locale, code: string, coupon: CouponRow, campaign: CampaignRow): Notice {
    return refusalNotice(messages(locale), code, {
      campaignName: campaign.name,
      limit: campaign.perContactLimit,
      verifiedAt: coupon.verifiedAt ? formatDateTime(locale, coupon.verifiedAt, campaignTimeZone(ctx, campaign)) : null,
    });
  }

  async function view(token: string, locale: Locale, coupon: CouponRow, campaign: CampaignRow, extra: { notice?: Notice; hideRedeem?: boolean } = {}): Promise<CouponPageView> {
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
    // Only a coupon that can still be redeemed needs to know: its Redeem button then asks first.
    const oneTimeCode = (status === 'sent' || status === 'opened') && await hasOneTimeSerials(ctx.db, campaign.id);
    return { token, coupon, campaign, status, imageUrl: campaignImageUrl(ctx, campaign), locale, timeZone: campaignTimeZone(ctx, campaign), barcode, oneTimeCode, ...extra };
  }

  const showCoupon = (res: Response, v: CouponPageView) => sendPage(res, 200, (nonce) => couponPage(v, nonce), { imgOrigins: images });
  const showNotFound = (req: Request, res: Response) => {
    const locale = pageLocale(req, res);
    sendPage(res, 404, (nonce) => messagePage(locale, messages(locale).couponNotFound, nonce));
  };

  router.get('/c/:token', customer, async (req, res) => {
    const found = await load(req.params.token);
    if (!found) return showNotFound(req, res);
    const locale = await localeFor(req, res, found.coupon, found.campaign);
    showCoupon(res, await view(req.params.token, locale, found.coupon, found.campaign));
  });

  // The page's script calls this after load; crawlers run no scripts, and the few that do are dropped here.
  router.post('/c/:token/open', customer, async (req, res) => {
    const purpose = `${req.get('sec-purpose') ?? ''} ${req.get('purpose') ?? ''}`;
    if (!isCrawler(req.get('user-agent')) && !/prefetch|prerender/i.test(purpose) && pageToken.safeParse(req.params.token).success) {
      await recordOpen(ctx, req.params.token);
    }
    res.set('Cache-Control', 'no-store').status(204).end();
  });

  // A one-time code asks before it is taken ("Show this at the till. Redeem now?"); the answer posts below.
  router.get('/c/:token/redeem', customer, async (req, res) => {
    const found = await load(req.params.token);
    if (!found) return showNotFound(req, res);
    const status = effectiveStatus(found.coupon, ctx.clock());
    if (status !== 'sent' && status !== 'opened') return res.redirect(303, `/c/${encodeURIComponent(req.params.token)}`);
    const locale = await localeFor(req, res, found.coupon, found.campaign);
    const v = await view(req.params.token, locale, found.coupon, found.campaign);
    sendPage(res, 200, (nonce) => redeemConfirmPage(v, nonce), { imgOrigins: images });
  });

  router.post('/c/:token/redeem', customer, ...bodies, async (req, res) => {
    const json = wantsJson(req);
    const token = req.params.token as string;
    if (!pageToken.safeParse(token).success) {
      if (json) return sendError(res.set('Cache-Control', 'no-store'), new AppError('not_found', 'this coupon does not exist'));
      return showNotFound(req, res);
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
    if (!result.coupon) return showNotFound(req, res);
    const campaign = await getCampaign(ctx.db, result.coupon.campaignId);
    const locale = await localeFor(req, res, result.coupon, campaign);
    if (result.ok) return showCoupon(res, await view(token, locale, result.coupon, campaign));
    // A refusal is an answer for a person, not an error page: the coupon page with the reason.
    showCoupon(res, await view(token, locale, result.coupon, campaign, {
      notice: refusal(locale, result.code, result.coupon, campaign),
      hideRedeem: result.code === 'sold_out' || result.code === 'limit_reached',
    }));
  });

  router.get('/c/:token/verify', staff, async (req, res) => {
    const found = await load(req.params.token);
    if (!found) return showNotFound(req, res);
    const locale = await localeFor(req, res, found.coupon, found.campaign);
    const v = await view(req.params.token, locale, found.coupon, found.campaign);
    const gate = verifyGate(found.coupon, found.campaign.verification, ctx.clock());
    if (gate !== 'verify') return showCoupon(res, { ...v, notice: refusal(locale, gate, found.coupon, found.campaign) });
    sendPage(res, 200, (nonce) => verifyConfirmPage(v, nonce), { imgOrigins: images });
  });

  router.post('/c/:token/verify', ...bodies, staff, async (req, res) => {
    const json = wantsJson(req);
    const token = req.params.token as string;
    if (json) res.set('Cache-Control', 'no-store');
    const found = await load(token);
    if (!found) {
      if (json) return sendError(res, new AppError('not_found', 'this coupon does not exist'));
      return showNotFound(req, res);
    }
    const locale = json ? ctx.config.DEFAULT_LOCALE : await localeFor(req, res, found.coupon, found.campaign);
    if (json) parseOrThrow(verifyBody, req.body ?? {});
    else if (!verifyBody.safeParse(req.body ?? {}).success) {
      return sendPage(res, 200, (nonce) => verifyConfirmPage({
        ...found, token, status: effectiveStatus(found.coupon, ctx.clock()), imageUrl: null, locale, timeZone: campaignTimeZone(ctx, found.campaign), barcode: null,
      }, nonce));
    }
    const result = await verifyCoupon(ctx, { token }, { actor: verifierOf(res), ip: req.ip ?? null });
    if (result.ok) {
      await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'coupon.verified', { type: 'coupon', id: result.coupon.id }, { campaignId: result.coupon.campaignId, via: 'coupon page' });
    }
    if (json) {
      if (!result.ok) return sendError(res, new AppError(result.code, result.message));
      return res.json({ status: 'verified', verifiedAt: result.coupon.verifiedAt?.toISOString() ?? null });
    }
    if (!result.ok) {
      const latest = (await load(token))?.coupon ?? found.coupon;
      return showCoupon(res, await view(token, locale, latest, found.campaign, { notice: refusal(locale, result.code, latest, found.campaign) }));
    }
    const at = result.coupon.verifiedAt ?? ctx.clock();
    const done = messages(locale).verifiedNotice({ date: formatDateTime(locale, at, campaignTimeZone(ctx, found.campaign)) });
    showCoupon(res, await view(token, locale, result.coupon, found.campaign, { notice: { kind: 'ok', title: done.title, message: done.text } }));
  });

  router.get('/me/:token', customer, async (req, res) => {
    const list = pageToken.safeParse(req.params.token).success ? await listContactCoupons(ctx, req.params.token) : null;
    if (!list) {
      const locale = pageLocale(req, res);
      const keyword = ctx.config.MY_COUPONS_KEYWORDS[0] ?? 'my coupons';
      return sendPage(res, 404, (nonce) => messagePage(locale, messages(locale).listNotFound({ keyword }), nonce));
    }
    const locale = pageLocale(req, res, { contact: list.language, campaign: list.coupons[0]?.campaignLocale ?? null });
    sendPage(res, 200, (nonce) => mePage(list, locale, nonce));
  });

  router.get('/workbench', pageRole(auth, 'agent'), (req, res) => {
    const q = workbenchQuerySchema.safeParse(req.query);
    let target: WorkbenchTarget = null;
    const external = q.success ? q.data.externalId ?? q.data.conversation : undefined;
    if (q.success && q.data.conversationId) target = { conversationId: q.data.conversationId };
    else if (q.success && q.data.channel && external) target = { channel: q.data.channel, externalId: external };
    else if (q.success && q.data.conversation && q.data.conversation.length <= 64) target = { conversationId: q.data.conversation };
    sendPage(res, 200, (nonce) => workbenchPage(target, nonce), { frameAncestors: '*', imgOrigins: images });
  });

  router.get('/admin', pageRole(auth, 'marketer'), (_req, res) => sendPage(res, 200, (nonce) => adminPage(nonce, {
    locale: ctx.config.DEFAULT_LOCALE, timeZone: ctx.config.TZ_DEFAULT,
    followerChannels: Object.values(ctx.channels).filter((a) => a?.listFollowers).map((a) => a!.name),
  }), { framesSelf: true }));

  // The coupon page of a campaign being written, for the campaign form's phone preview (a frame
  // in the admin page, posted to as the marketer types). Nothing is stored.
  router.post('/admin/preview', pageRole(auth, 'marketer'), express.urlencoded({ extended: false, limit: '2mb' }), async (req, res) => {
    const form = parseOrThrow(previewForm, req.body);
    let draft: unknown;
    try {
      draft = JSON.parse(form.campaign);
    } catch {
      throw new AppError('validation_error', 'campaign: must be the campaign\'s fields as JSON');
    }
    const base = form.campaignId ? await getCampaign(ctx.db, form.campaignId) : undefined;
    const campaign = draftCampaign(ctx, draft, base);
    sendPage(res, 200, (nonce) => campaignPreviewPage(ctx, campaign, form.locale, nonce, form.image || undefined),
      { frameAncestors: 'self', imgOrigins: images });
  });

  // A failure on a page is shown as a page; JSON callers get the contract's error shape.
  router.use(['/c', '/me', '/workbench'], (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (wantsJson(req) || res.headersSent) return next(err);
    const down = isDatabaseUnavailable(err);
    const status = callerError(err)?.status ?? (down ? 503 : 500);
    if (down) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    if (status >= 500) ctx.log[down ? 'warn' : 'error']({ err, method: req.method }, down ? 'page unavailable: database away' : 'page failed');
    const locale = pageLocale(req, res);
    const m = messages(locale);
    sendPage(res, status, (nonce) => messagePage(locale, status >= 500 ? m.serverError : m.badRequest, nonce));
  });

  return router;
};
