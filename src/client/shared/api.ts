import type { ApiErrorBody, FieldError } from './api-types.ts';
import { signIn } from './session.ts';

/**
 * One way to call the JSON API for every screen: the session goes along, and every failure comes
 * back as a value with a message a person can read (a refusal from the API, a server error, or a
 * network that did not answer), so callers show it instead of losing it.
 */
export type Answer<T> =
  | { ok: true; status: number; body: T; headers: Headers }
  | { ok: false; status: number; error: ApiProblem; headers: Headers | null };

export interface ApiProblem {
  /** The API's error code, or `network` / `bad_answer` when no usable answer came. */
  code: string;
  message: string;
  fields: FieldError[];
}

function problemOf(status: number, body: unknown): ApiProblem {
  const error = (body as Partial<ApiErrorBody> | null)?.error;
  if (error && typeof error.message === 'string') {
    const fields = Array.isArray(error.details?.fields) ? error.details.fields : [];
    return { code: String(error.code ?? 'error'), message: error.message, fields };
  }
  return { code: 'bad_answer', message: `The server answered ${status} without an explanation. Try again in a moment.`, fields: [] };
}

export interface CallOptions {
  method?: string;
  /** A JSON body (sent as application/json) or form data (multipart). */
  json?: unknown;
  form?: FormData;
  accept?: string;
}

/** Sends a request in the session; answers with the response itself for non-JSON bodies. */
export async function call(path: string, opts: CallOptions = {}): Promise<Response | ApiProblem> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  try {
    return await fetch(path, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body });
  } catch (err) {
    return { code: 'network', message: `The server could not be reached (${err instanceof Error ? err.message : String(err)}). Check the connection and try again.`, fields: [] };
  }
}

/**
 * The refusal a response carries. A 401 means the session ended (signed out elsewhere, expired,
 * revoked): the page goes to the sign-in page, which leads back here. A 403 (another role, a
 * stale page) is shown like any refusal.
 */
export async function problemFrom(res: Response): Promise<ApiProblem> {
  const body: unknown = await res.json().catch(() => null);
  if (res.status === 401) signIn();
  return problemOf(res.status, body);
}

/** Calls a JSON endpoint. `T` is the body of a 2xx answer, from api-types.ts. */
export async function api<T>(path: string, opts: CallOptions = {}): Promise<Answer<T>> {
  const res = await call(path, opts);
  if (!(res instanceof Response)) return { ok: false, status: 0, error: res, headers: null };
  if (!res.ok) return { ok: false, status: res.status, error: await problemFrom(res), headers: res.headers };
  // No content (a DELETE done): the answer is the status itself.
  if (res.status === 204) return { ok: true, status: 204, body: undefined as T, headers: res.headers };
  const body: unknown = await res.json().catch(() => undefined);
  if (body === undefined) {
    return { ok: false, status: res.status, error: { code: 'bad_answer', message: `The server answered ${res.status} with something that is not JSON.`, fields: [] }, headers: res.headers };
  }
  return { ok: true, status: res.status, body: body as T, headers: res.headers };
}

/** Path segment for an id typed by a person or taken from a URL. */
export const seg = (id: string): string => encodeURIComponent(id);
