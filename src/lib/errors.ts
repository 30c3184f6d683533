import type { z } from 'zod';
// Plain words for every check without its own message (installed for the process).
import './plain-errors.ts';

/**
 * Refusals are data, failures are errors. Every code a caller can see, with its HTTP status.
 * Domain code returns refusals (`Refusal`) or throws `AppError(code)`; only the HTTP layer
 * turns a code into a status.
 */
export const errorStatus = {
  validation_error: 400,
  invalid_json: 400,
  bad_request: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  csrf_failed: 403,
  sign_in_failed: 401,
  link_invalid: 410,
  rate_limited: 429,
  not_found: 404,
  channel_off: 404,
  conflict: 409,
  slug_taken: 409,
  pool_kind_conflict: 409,
  quota_exceeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // refusals a person sees
  sold_out: 409,
  limit_reached: 409,
  agent_limit_reached: 409,
  outside_sending_period: 422,
  not_yet: 422,
  expired: 422,
  void: 422,
  not_delivered: 422,
  already_verified: 409,
  not_redeemed: 422,
  not_verified: 409,
  void_window_passed: 403,
  verification_disabled: 422,
  chat_inactive: 422,
  contact_unreachable: 422,
  not_ongoing: 422,
  private_campaign: 422,
  campaign_paused: 409,
  no_test_contact: 409,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return errorStatus[this.code];
  }
}

/** A refusal: the reason something a person asked for cannot be done. */
export interface Refusal<C extends ErrorCode = ErrorCode> {
  ok: false;
  code: C;
  message: string;
}
export type Result<T, C extends ErrorCode = ErrorCode> = ({ ok: true } & T) | Refusal<C>;

export function refuse<C extends ErrorCode>(code: C, message: string): Refusal<C> {
  return { ok: false, code, message };
}

/** Turns a zod failure into one validation AppError naming every field and rule. */
export function validationError(error: z.ZodError, prefix?: string): AppError {
  const name = (path: readonly PropertyKey[]) => [...(prefix ? [prefix] : []), ...path.map(String)].join('.') || '(body)';
  // A field we do not know is named itself, so the caller sees which one to remove.
  const fields = error.issues.flatMap((i) => (i.code === 'unrecognized_keys'
    ? i.keys.map((key) => ({ field: name([...i.path, key]), message: 'is not a field we know' }))
    : [{ field: name(i.path), message: i.message }]));
  const message = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new AppError('validation_error', message, { fields });
}

/** Parses with zod, throwing the validation AppError on failure. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix?: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, prefix);
  return r.data;
}
