import type { NextFunction, Request, Response } from 'express';
import { requireRole, sameAdmits, type Auth, type Gate, type RoleName } from '../http/auth.ts';
import { AppError } from '../lib/errors.ts';
import { messagePage } from './coupon-page.ts';
import { sendPage } from './html.ts';

function wantsHtml(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'html';
}

/**
 * A page's roles: as requireRole, but a browser that is not signed in is led to the sign-in page
 * (and back), and a signed-in person of another role reads why not, as a page.
 */
export function pageRole(auth: Auth, ...names: RoleName[]): Gate {
  const gate = requireRole(auth, ...names);
  const handler = async (req: Request, res: Response, next: NextFunction) => {
    let passed = false;
    try {
      await (gate as (req: Request, res: Response, next: NextFunction) => Promise<void>)(req, res, () => {
        passed = true;
      });
    } catch (err) {
      if (!(err instanceof AppError) || !wantsHtml(req)) throw err;
      if (err.code === 'unauthorized' && (req.method === 'GET' || req.method === 'HEAD')) {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      const title = err.code === 'unauthorized' ? 'Please sign in' : err.code === 'csrf_failed' ? 'Please reload the page' : 'Not open to your role';
      // Staff-facing, so in English (customers never reach a gated page).
      sendPage(res, err.status, (nonce) => messagePage('en', { title, text: `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.` }, nonce));
      return;
    }
    if (passed) next();
  };
  return sameAdmits(handler, gate);
}
