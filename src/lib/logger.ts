import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const MAX_DEPTH = 3;

/**
 * Long runs of letters, digits, `-` and `_` mixing letters and digits: coupon and "my coupons"
 * tokens, reply tokens, bearer tokens, access tokens. Only their start is kept.
 */
const tokenLike = /[A-Za-z0-9_-]{20,}/g;

/** Text with every token-like run cut to its first six characters. */
export function redactTokens(text: string): string {
  return text.replace(tokenLike, (run) => (/[0-9]/.test(run) && /[A-Za-z]/.test(run) ? `${run.slice(0, 6)}…` : run));
}

/**
 * What an error may say in a log or a stored record: its kind, its SQLSTATE and the statement, but
 * never the statement's parameters, PostgreSQL's `detail` (which quotes the row's values) or any
 * token. drizzle's own message ends with every parameter; it is rebuilt from the statement alone.
 */
export function safeErrorMessage(err: unknown): string {
  if (!isErrorLike(err)) return redactTokens(typeof err === 'string' ? err : `a thrown ${typeof err}`);
  const e = err as { message: string; query?: unknown; code?: unknown; cause?: unknown };
  if (typeof e.query === 'string') {
    const cause = isErrorLike(e.cause) ? `: ${safeErrorMessage(e.cause)}` : '';
    return `query failed${cause} (${e.query.replace(/\s+/g, ' ').slice(0, 300)})`;
  }
  // drizzle's "Failed query: … params: …" seen without its query field (already serialized once).
  let message = e.message.replace(/\nparams: [\s\S]*$/, '');
  // Data exceptions (class 22) quote the value they refused.
  if (typeof e.code === 'string' && e.code.startsWith('22')) message = message.replace(/: ".*"$/s, ': "[value]"');
  return redactTokens(message);
}

/** pino's `err` serializer: the safe message, the error's kind and codes, the stack's frames only. */
function isErrorLike(err: unknown): err is { message: string } {
  return err instanceof Error || (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string');
}

export function safeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!isErrorLike(err)) return { message: safeErrorMessage(err) };
  const e = err as Record<string, unknown> & { stack?: unknown; cause?: unknown; query?: unknown };
  const type = typeof e.type === 'string' ? e.type : err instanceof Error ? err.constructor.name : 'Error';
  const out: Record<string, unknown> = { type, message: safeErrorMessage(err) };
  for (const key of ['code', 'errno', 'syscall', 'severity', 'constraint', 'table', 'column', 'routine', 'status', 'statusCode']) {
    const v = e[key];
    if (typeof v === 'string' || typeof v === 'number') out[key] = v;
  }
  if (typeof e.stack === 'string') {
    out.stack = e.stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 15).join('\n');
  }
  if (e.cause !== undefined && depth < MAX_DEPTH && typeof e.query !== 'string') out.cause = safeError(e.cause, depth + 1);
  return out;
}

export const safeSerializers = { err: (err: unknown) => safeError(err) };

/**
 * Secrets never reach the log: headers carrying them are redacted (`secretHeaders`: the channels'
 * signature headers, each plug-in declares its own), errors are logged without
 * parameters or bodies (`safeError`), and URLs with tokens are cut where they are logged.
 */
export function createLogger(level: string, destination?: DestinationStream, secretHeaders: readonly string[] = []): Logger {
  const options = {
    level,
    serializers: safeSerializers,
    redact: {
      paths: [
        'req.headers.authorization', ...secretHeaders.map((h) => `req.headers[${JSON.stringify(h.toLowerCase())}]`),
        'req.headers.cookie', '*.accessToken', '*.channelSecret', '*.password',
        '*.replyToken', '*.token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that serializes errors safely, whatever logger it was built from (tests pass their own). */
export function withSafeErrors(log: Logger): Logger {
  return log.child({}, { serializers: safeSerializers });
}
