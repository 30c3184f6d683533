/**
 * What `npm run chaos` judges, kept apart from the processes it drives so it can be tested
 * without waiting: its settings, the verdict on each check, and the readings it takes from the
 * stand-ins' request lists, the polls during a database outage and the service's log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChaosSettings {
  /** How long LINE hangs (answers nothing) in the first trial. */
  hangSeconds: number;
  /** How long LINE answers 500 in the second trial. */
  outageSeconds: number;
  /** New LINE contacts whose profile fetches hang while LINE hangs. */
  newcomers: number;
  /** LINE customers given a coupon while LINE answers 500. */
  outageCustomers: number;
}

const knobs: Array<{ name: string; key: keyof ChaosSettings; fallback: number }> = [
  { name: 'CHAOS_HANG_SECONDS', key: 'hangSeconds', fallback: 30 },
  { name: 'CHAOS_OUTAGE_SECONDS', key: 'outageSeconds', fallback: 60 },
  { name: 'CHAOS_NEWCOMERS', key: 'newcomers', fallback: 20 },
  { name: 'CHAOS_CUSTOMERS', key: 'outageCustomers', fallback: 10 },
];

/** The settings from the environment; a value that is not a whole number above 0 throws, naming it. */
export function chaosSettings(env: Record<string, string | undefined>): ChaosSettings {
  const settings = {} as ChaosSettings;
  for (const { name, key, fallback } of knobs) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      settings[key] = fallback;
      continue;
    }
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a whole number above 0, not "${raw}"`);
    settings[key] = n;
  }
  return settings;
}

export interface Check {
  name: string;
  pass: boolean;
  /** What was measured or counted, with the target when there is one. */
  figure: string;
}

export function formatCheck(check: Check): string {
  return `${check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.figure}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A request as a stand-in saw it: enough to tell whose message it was and what it carried. */
export interface SeenRequest {
  kind: 'reply' | 'push' | 'other';
  body: unknown;
  retryKey?: string;
}

/** The coupon token in a message's page link (`…/c/<token>`), if it carries one. */
export function couponToken(body: unknown): string | null {
  const match = /\/c\/([A-Za-z0-9_-]{8,})/.exec(JSON.stringify(body ?? null));
  return match ? match[1]! : null;
}

/**
 * Coupon cards LINE delivered, per user: a push names its user, a reply is known by the reply
 * token the user's event carried. A coupon that reached its user twice (a reply and a push, or
 * two pushes with different retry keys) counts 2.
 */
export function couponCardsPerUser(delivered: SeenRequest[], replyTokenOwners: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const req of delivered) {
    if (!couponToken(req.body)) continue;
    const body = req.body as { to?: unknown; replyToken?: unknown } | null;
    const user = req.kind === 'push' ? (typeof body?.to === 'string' ? body.to : null)
      : req.kind === 'reply' && typeof body?.replyToken === 'string' ? replyTokenOwners.get(body.replyToken) ?? null : null;
    if (!user) continue;
    counts.set(user, (counts.get(user) ?? 0) + 1);
  }
  return counts;
}

/** Retry keys that reached the platform (were accepted) more than once. */
export function repeatedRetryKeys(accepted: SeenRequest[]): string[] {
  const seen = new Map<string, number>();
  for (const req of accepted) if (req.retryKey) seen.set(req.retryKey, (seen.get(req.retryKey) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

/** One answer while the database was being killed and brought back; status 0: no answer at all. */
export interface PollSample {
  target: string;
  /** Milliseconds since the kill. */
  at: number;
  status: number;
  retryAfter: string | null;
}

export interface OutageVerdict {
  /** Answers per target and status, e.g. `{ healthz: { 200: 40, 503: 12 } }`. */
  counts: Record<string, Record<number, number>>;
  /** 5xx answers other than 503, and 503s without Retry-After (each must be none). */
  serverErrors: number;
  missingRetryAfter: number;
  /** Requests the service did not answer at all, or answered with a 4xx. */
  otherFailures: number;
  /** Whether the service noticed the outage (anything but 200 seen). */
  noticed: boolean;
  /** When `/healthz` answered 200 for good, ms after the kill; null when it never did. */
  recoveredAt: number | null;
}

/** Judges the polls taken while the database was down: 503 with Retry-After or 200, nothing else. */
export function judgeOutagePolls(samples: PollSample[], healthTarget = 'healthz'): OutageVerdict {
  const counts: Record<string, Record<number, number>> = {};
  let serverErrors = 0;
  let missingRetryAfter = 0;
  let otherFailures = 0;
  let noticed = false;
  for (const s of samples) {
    const perTarget = (counts[s.target] ??= {});
    perTarget[s.status] = (perTarget[s.status] ?? 0) + 1;
    if (s.status !== 200) noticed = true;
    if (s.status === 503) {
      if (!s.retryAfter) missingRetryAfter++;
    } else if (s.status >= 500) {
      serverErrors++;
    } else if (s.status !== 200) {
      otherFailures++;
    }
  }
  const health = samples.filter((s) => s.target === healthTarget).sort((a, b) => a.at - b.at);
  let recoveredAt: number | null = null;
  for (const s of health) {
    if (s.status !== 200) recoveredAt = null;
    else recoveredAt ??= s.at;
  }
  return { counts, serverErrors, missingRetryAfter, otherFailures, noticed, recoveredAt };
}

export function formatCounts(counts: Record<number, number> | undefined): string {
  return Object.entries(counts ?? {}).map(([status, n]) => `${n}×${status === '0' ? 'no answer' : status}`).join(', ') || 'none';
}

/** Which of `secrets` appear in `log`, and how often (values shorter than 8 characters are not looked for). */
export function findLeaks(log: string, secrets: Array<{ kind: string; value: string }>): Array<{ kind: string; value: string; count: number }> {
  const leaks: Array<{ kind: string; value: string; count: number }> = [];
  for (const { kind, value } of secrets) {
    if (value.length < 8) continue;
    const count = log.split(value).length - 1;
    if (count > 0) leaks.push({ kind, value, count });
  }
  return leaks;
}

export interface InboxRequest {
  body: unknown;
  deliveryId: string | null;
  /** performance.now() when it arrived. */
  at: number;
}

/** A stand-in for the seller inbox's callback URL: records each post and answers 200. */
export interface InboxStandin {
  url: string;
  requests: InboxRequest[];
  close(): Promise<void>;
}

export async function startInboxStandin(): Promise<InboxStandin> {
  const requests: InboxRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch { /* recorded as null */ }
      const id = req.headers['x-inbox-delivery-id'];
      requests.push({ body, deliveryId: typeof id === 'string' ? id : null, at: performance.now() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/inbox`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
