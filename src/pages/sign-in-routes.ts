import crypto from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { RouteModule } from '../http/app.ts';
import { clearSessionCookie, cookieValue, csrfOk, homeOf, sameOrigin, publicRoute, setSessionCookie, type RequestActor } from '../http/auth.ts';
import { sendError } from '../http/errors.ts';
import { AppError } from '../lib/errors.ts';
import { safeEqual } from '../lib/ids.ts';
import { getPerson } from '../people/people.ts';
import { createSession, endSession, setPassword, signIn, signInLinkValid, useSignInLink, type ClientInfo, type NewSession } from '../people/sessions.ts';
import { messagePage } from './coupon-page.ts';
import { sendPage } from './html.ts';
import { pageRole } from './page-gate.ts';
import { accountPage, signInLinkPage, signInPage } from './sign-in-page.ts';

/** Sign-in forms carry a token also set as a cookie (before there is a session to tie it to). */
const FORM_COOKIE = 'cc_form';

/** A local path to return to after signing in; anything else (another site) goes home. */
function safeNext(value: unknown): string | null {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 500 ? value : null;
}

/** Signing in on the way to the workbench happens inside the inbox that frames it. */
function framing(next: string | null): { frameAncestors: 'none' | '*' } {
  return { frameAncestors: next && /^\/workbench(?:[?#]|$)/.test(next) ? '*' : 'none' };
}

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

function clientOf(req: Request): ClientInfo {
  return { address: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

/** Sign-in with a password, a one-time link or an API token; the account page; sign-out. */
export const signInRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const json = express.json({ limit: '4kb' });
  const signedIn = pageRole(auth, 'owner', 'marketer', 'agent', 'staff');
  const open = publicRoute('signing in');

  function formToken(req: Request, res: Response): string {
    const existing = cookieValue(req, FORM_COOKIE);
    if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
    const token = crypto.randomBytes(24).toString('base64url');
    res.append('Set-Cookie', `${FORM_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${ctx.config.PUBLIC_BASE_URL.startsWith('https:') ? '; Secure' : ''}`);
    return token;
  }

  /** A browser form must carry the token of its cookie; a non-browser client sends neither Origin nor the cookie. */
  function formOk(req: Request): boolean {
    const cookie = cookieValue(req, FORM_COOKIE);
    const sent = typeof req.body?._csrf === 'string' ? req.body._csrf as string : null;
    if (cookie && sent) return safeEqual(cookie, sent);
    return sameOrigin(req, ctx.config) !== false;
  }

  function startSession(req: Request, res: Response, session: NewSession, next: string | null) {
    setSessionCookie(res, ctx.config, session, ctx.clock());
    if (wantsJson(req)) {
      res.json({ person: session.person, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() });
      return;
    }
    res.redirect(303, next ?? homeOf(session.person.role));
  }

  router.get('/login', open, async (req, res) => {
    const next = safeNext(req.query.next) ?? '';
    const actor = await auth.identify(req, res);
    if (actor && actor.via === 'session') {
      res.redirect(303, next || homeOf(actor.role));
      return;
    }
    const token = formToken(req, res);
    sendPage(res, 200, (nonce) => signInPage({ next, formToken: token }, nonce), framing(next));
  });

  router.post('/login', open, form, json, async (req, res) => {
    const next = safeNext(req.body?.next);
    const again = (status: number, error: string, login?: string) => {
      if (wantsJson(req)) return sendError(res, new AppError(status === 429 ? 'rate_limited' : status === 403 ? 'csrf_failed' : 'sign_in_failed', error));
      const token = formToken(req, res);
      sendPage(res, status, (nonce) => signInPage({ next: next ?? '', formToken: token, error, ...(login ? { login } : {}) }, nonce), framing(next));
    };
    if (!formOk(req)) return again(403, 'This form has expired. Please try again.');
    const client = clientOf(req);
    if (typeof req.body?.token === 'string' && req.body.token.trim()) {
      const actor: RequestActor | null = await auth.actorOfToken(req.body.token.trim());
      if (!actor || actor.role === 'pos') return again(401, actor ? 'The POS token is for the POS API only.' : 'This token is not valid.');
      const subject = actor.id === 'admin-token'
        ? { adminKey: auth.adminKey }
        : { person: { id: actor.id, name: actor.name, role: actor.role as Exclude<typeof actor.role, 'pos'> } };
      const session = await ctx.db.transaction((tx) => createSession(tx, ctx.clock(), subject, client));
      return startSession(req, res, session, next);
    }
    let result;
    try {
      result = await signIn(ctx, req.body ?? {}, client, {
        account: ctx.config.SIGN_IN_MAX_FAILURES_ACCOUNT, address: ctx.config.SIGN_IN_MAX_FAILURES_ADDRESS,
      });
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_error' && !wantsJson(req)) return again(400, 'Enter your email or name and your password.');
      throw err;
    }
    if (!result.ok) return again(result.code === 'rate_limited' ? 429 : 401, result.message, typeof req.body?.login === 'string' ? req.body.login : undefined);
    startSession(req, res, result.session, next);
  });

  router.get('/login/link/:token', open, async (req, res) => {
    const valid = /^[A-Za-z0-9_-]{43}$/.test(req.params.token) && await signInLinkValid(ctx, req.params.token);
    const token = formToken(req, res);
    sendPage(res, valid ? 200 : 410, (nonce) => signInLinkPage({ valid, formToken: token, action: `/login/link/${req.params.token}` }, nonce));
  });

  router.post('/login/link/:token', open, form, async (req, res) => {
    if (!formOk(req)) {
      const token = formToken(req, res);
      return sendPage(res, 403, (nonce) => signInLinkPage({ valid: true, formToken: token, action: `/login/link/${req.params.token}` }, nonce));
    }
    const result = /^[A-Za-z0-9_-]{43}$/.test(req.params.token)
      ? await useSignInLink(ctx, req.params.token, clientOf(req))
      : { ok: false as const, code: 'link_invalid' as const, message: '' };
    if (!result.ok) return sendPage(res, 410, (nonce) => signInLinkPage({ valid: false, formToken: '', action: '' }, nonce));
    // First stop: the account page, where a person invited by link chooses a password.
    startSession(req, res, result.session, '/account');
  });

  router.post('/logout', open, form, async (req, res) => {
    const actor = await auth.identify(req, res);
    if (actor?.via === 'session' && actor.sessionId) {
      if (!csrfOk(req, actor, ctx.config)) {
        return sendPage(res, 403, (nonce) => messagePage('en', { title: 'Please reload the page', text: 'This form has expired. Reload the page and try again.' }, nonce));
      }
      await endSession(ctx, actor.sessionId);
    }
    clearSessionCookie(res, ctx.config);
    if (wantsJson(req)) return void res.status(204).end();
    res.redirect(303, '/login');
  });

  async function showAccount(req: Request, res: Response, status: number, message?: { ok: boolean; text: string }) {
    const actor = res.locals.actor as RequestActor;
    const hasPassword = actor.id === 'admin-token' ? false : (await getPerson(ctx.db, actor.id)).hasPassword;
    sendPage(res, status, (nonce) => accountPage({
      name: actor.name, role: actor.role, home: homeOf(actor.role), hasPassword,
      csrfToken: actor.csrfToken ?? '', ...(message ? { message } : {}),
    }, nonce));
  }

  router.get('/account', signedIn, (req, res) => showAccount(req, res, 200));

  router.post('/account/password', form, signedIn, async (req, res) => {
    const actor = res.locals.actor as RequestActor;
    if (actor.id === 'admin-token') {
      return showAccount(req, res, 409, { ok: false, text: 'The admin token has no password. Add yourself as a person (owner) and sign in as that person.' });
    }
    try {
      await setPassword(ctx, actor.id, { password: req.body?.password, ...(req.body?.currentPassword ? { currentPassword: req.body.currentPassword } : {}) });
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_error') {
        const fields = (err.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields ?? [];
        const text = fields.map((f) => `${f.field === 'currentPassword' ? 'Current password' : 'New password'} ${f.message}.`).join(' ') || err.message;
        return showAccount(req, res, 400, { ok: false, text });
      }
      throw err;
    }
    showAccount(req, res, 200, { ok: true, text: 'Your password is saved.' });
  });

  return router;
};
