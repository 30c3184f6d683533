import type { DeliveryResult } from './types.ts';

/** Milliseconds from a Retry-After header (seconds or an HTTP date). */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A transient refusal: try again, not before the platform's Retry-After when it sent one. */
export function retryLater(error: string, res: Response): DeliveryResult {
  const after = retryAfterMs(res.headers.get('retry-after'));
  return { outcome: 'retry', error, ...(after !== undefined ? { retryAfterMs: after } : {}) };
}

/**
 * A request that got no answer (network error or timeout), worth another try. `who` names the
 * platform ("LINE", "the inbox"). Only the error's messages are kept, never a URL that may carry a token.
 */
export function unanswered(err: unknown, who: string): DeliveryResult {
  // Errors from fetch may come from another realm (jest's VM), so they are read by shape, not instanceof.
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; message?: unknown; cause?: { message?: unknown } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { outcome: 'retry', error: `${who} did not answer in time`, maybeDelivered: true };
  const cause = typeof e.cause?.message === 'string' ? `: ${e.cause.message}` : '';
  const code = (e.cause as { code?: unknown } | undefined)?.code;
  // Refused or never resolved: the request never left. Anything else (a reset, a closed socket)
  // may have cut the answer, not the request.
  const neverSent = typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'].includes(code);
  return {
    outcome: 'retry',
    error: `${who} unreachable: ${typeof e.message === 'string' ? e.message : String(err)}${cause}`,
    ...(neverSent ? {} : { maybeDelivered: true }),
  };
}
