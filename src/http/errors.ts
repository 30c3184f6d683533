import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';
import { AppError, validationError } from '../lib/errors.ts';

export function sendError(res: Response, err: AppError): void {
  res.status(err.status).json({
    error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) },
  });
}

/** The one error handler: AppError and zod failures are the caller's; anything else is a bug. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    let appError: AppError;
    if (err instanceof AppError) appError = err;
    else if (err instanceof z.ZodError) appError = validationError(err);
    else if (e?.type === 'entity.parse.failed') appError = new AppError('invalid_json', 'the body is not valid JSON');
    else if (e?.type === 'entity.too.large') appError = new AppError('payload_too_large', 'the body is too large');
    else if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') appError = new AppError('unsupported_media_type', e.message ?? 'unsupported encoding');
    else if (e?.type === 'request.aborted') appError = new AppError('bad_request', 'the request was aborted');
    else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) appError = new AppError('bad_request', e.message ?? 'bad request');
    else {
      log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error');
      appError = new AppError('internal_error', 'something went wrong on our side');
    }
    sendError(res, appError);
  };
}

export function notFound(req: Request, res: Response): void {
  sendError(res, new AppError('not_found', `no route for ${req.method} ${req.path}`));
}
