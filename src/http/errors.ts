import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { redactTokens, type Logger } from '../lib/logger.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/availability.ts';
import { AppError, validationError } from '../lib/errors.ts';

export function sendError(res: Response, err: AppError): void {
  res.status(err.status).json({
    error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) },
  });
}

/**
 * What an error means to the caller: AppError and zod failures are the caller's, and so are the
 * body parsers' refusals and text PostgreSQL cannot store; anything else is a bug (null).
 */
export function callerError(err: unknown): AppError | null {
  const e = err as { type?: string; status?: number; message?: string };
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return validationError(err);
  if (e?.type === 'entity.parse.failed') return new AppError('invalid_json', 'the body is not valid JSON');
  if (e?.type === 'entity.too.large') return new AppError('payload_too_large', 'the body is too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new AppError('unsupported_media_type', e.message ?? 'unsupported encoding');
  if (e?.type === 'request.aborted') return new AppError('bad_request', 'the request was aborted');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new AppError('bad_request', e.message ?? 'bad request');
  // 22021: a NUL character, which only a request can bring in (a path segment, a query or a body).
  if (pgErrorCode(err) === '22021') return new AppError('bad_request', 'the request contains a NUL character (\\u0000), which is not allowed in text');
  // 22008: a date or time PostgreSQL cannot hold; validation keeps dates in range, this is the backstop.
  if (pgErrorCode(err) === '22008') return new AppError('bad_request', 'a date in the request is out of range');
  return null;
}

/** The SQLSTATE of a PostgreSQL error, whether or not drizzle wrapped it. */
function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The one error handler: the caller's mistakes get their status; anything else is a bug. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    let appError = callerError(err);
    if (!appError && isDatabaseUnavailable(err)) {
      // Never a 500 while the database is away: the caller (a platform retrying a webhook, a
      // browser) is told to come back. Nothing was acknowledged, so nothing is lost.
      log.warn({ err, method: req.method, url: redactUrl(req.originalUrl) }, 'database unavailable');
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      appError = unavailable();
    }
    if (!appError) {
      log.error({ err, method: req.method, url: redactUrl(req.originalUrl) }, 'unhandled error');
      appError = new AppError('internal_error', 'something went wrong on our side');
    }
    sendError(res, appError);
  };
}

export function unavailable(): AppError {
  return new AppError('unavailable', 'the service is briefly unavailable; try again in a few seconds');
}

export function notFound(req: Request, res: Response): void {
  sendError(res, new AppError('not_found', `no route for ${req.method} ${req.path}`));
}

/**
 * Coupon and "my coupons" tokens are secrets in the path: only their start is logged. So are
 * sign-in links and any other token-like run in a path or query (cut as in error messages).
 */
export function redactUrl(url: string): string {
  return redactTokens(url.replace(/^\/(c|me)\/([^/?]{6})[^/?]*/, '/$1/$2…'));
}
