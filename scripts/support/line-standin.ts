/**
 * A stand-in for the LINE Messaging API on a local port, for the simulator, the benchmark and
 * the tests. It behaves like LINE where it matters to us: a push whose `X-Line-Retry-Key` was
 * already accepted answers 409 with `x-line-accepted-request-id`, a reply token works once,
 * and the profile API answers. Responses can be scripted, and requests held to stage a crash.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinRequest {
  method: string;
  path: string;
  /** `reply` or `push` for message requests. */
  kind: 'reply' | 'push' | 'other';
  retryKey?: string;
  authorization?: string;
  body: unknown;
  /** The status answered (0 while held). */
  status: number;
  /** LINE's request id given to this request. */
  requestId: string;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface LineStandin {
  url: string;
  port: number;
  /** Every reply/push request, in arrival order, whatever was answered. */
  requests: StandinRequest[];
  /** The reply/push requests LINE would have delivered to the user (each once). */
  delivered: StandinRequest[];
  /** User ids whose profile was asked for, in order. */
  profileRequests: string[];
  /** What `GET /v2/bot/followers/ids` lists (1,000 a page at most, as LINE does). */
  followers: string[];
  /** When set, `GET /v2/bot/followers/ids` answers this instead (e.g. LINE's 403 for accounts it does not allow). */
  followersRefusal: ScriptedResponse | null;
  /** The month's quota (`limit` null: none set) and use; each delivered push adds one to `used`, as LINE counts. */
  quota: { limit: number | null; used: number };
  /** The next message requests get these answers, in turn; then normal behaviour resumes. */
  script(...responses: ScriptedResponse[]): void;
  /**
   * Message requests from now on are accepted (delivered, their retry key taken) but never
   * answered, like a process that dies after LINE received its push. Returns a release function.
   */
  hold(): () => void;
  /**
   * An outage of the whole API (profiles and messages): `hang` never answers (nothing is
   * delivered; held requests get 503 when the outage ends), `error` answers 500; null ends it.
   */
  outage(mode: 'hang' | 'error' | null): void;
  /** Requests answered 500 or left hanging by an outage. */
  outageRequests: number;
  /** Called for each delivered reply/push (the simulator prints them). */
  onDelivered(listener: (req: StandinRequest) => void): void;
  /** Resolves once `predicate` holds (checked after every request); rejects after `timeoutMs`. */
  waitFor(predicate: (standin: LineStandin) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export interface LineStandinOptions {
  port?: number;
  /** When set, requests with another bearer token get 401. */
  accessToken?: string;
  /** Display name the profile API returns for a user id. */
  displayName?: (userId: string) => string;
  /** The profile's `language` for a user id (LINE's default answer: en); null leaves it out, as LINE does when the user shares none. */
  language?: (userId: string) => string | null;
}

export async function startLineStandin(opts: LineStandinOptions = {}): Promise<LineStandin> {
  const requests: StandinRequest[] = [];
  const delivered: StandinRequest[] = [];
  const profileRequests: string[] = [];
  const scripted: ScriptedResponse[] = [];
  const acceptedKeys = new Map<string, string>();
  const usedReplyTokens = new Set<string>();
  const deliveredListeners: Array<(req: StandinRequest) => void> = [];
  const waiters = new Set<() => void>();
  const heldResponses = new Set<http.ServerResponse>();
  let holding = false;
  let outage: 'hang' | 'error' | null = null;
  const hanging = new Set<http.ServerResponse>();

  const notify = () => {
    for (const check of [...waiters]) check();
  };
  const deliver = (req: StandinRequest) => {
    delivered.push(req);
    for (const listener of deliveredListeners) listener(req);
  };
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const requestId = crypto.randomUUID();
      const authorization = req.headers.authorization;
      if (opts.accessToken && authorization !== `Bearer ${opts.accessToken}`) {
        send(res, 401, { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' });
        return;
      }
      if (outage === 'hang') {
        standin.outageRequests++;
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (outage === 'error') {
        standin.outageRequests++;
        send(res, 500, { message: 'An error occurred in the server.' });
        return;
      }
      const profile = /^\/v2\/bot\/profile\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && profile) {
        const userId = decodeURIComponent(profile[1]!);
        profileRequests.push(userId);
        const language = opts.language ? opts.language(userId) : 'en';
        send(res, 200, { userId, displayName: opts.displayName?.(userId) ?? `User ${userId.slice(-4)}`, ...(language ? { language } : {}) });
        return;
      }
      if (req.method === 'GET' && path === '/v2/bot/followers/ids') {
        if (standin.followersRefusal) {
          send(res, standin.followersRefusal.status, standin.followersRefusal.body ?? { message: 'refused' }, standin.followersRefusal.headers);
          return;
        }
        const params = new URL(req.url ?? '/', 'http://standin').searchParams;
        const limit = Math.min(1000, Number(params.get('limit') ?? 300) || 300);
        const start = Number(params.get('start') ?? 0) || 0;
        const page = standin.followers.slice(start, start + limit);
        send(res, 200, { userIds: page, ...(start + limit < standin.followers.length ? { next: String(start + limit) } : {}) });
        return;
      }
      if (req.method === 'GET' && path === '/v2/bot/message/quota') {
        send(res, 200, standin.quota.limit === null ? { type: 'none' } : { type: 'limited', value: standin.quota.limit });
        return;
      }
      if (req.method === 'GET' && path === '/v2/bot/message/quota/consumption') {
        send(res, 200, { totalUsage: standin.quota.used });
        return;
      }
      const kind = path === '/v2/bot/message/reply' ? 'reply' : path === '/v2/bot/message/push' ? 'push' : 'other';
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        send(res, 400, { message: 'The request body has 1 error(s)' });
        return;
      }
      const retryKeyHeader = req.headers['x-line-retry-key'];
      const retryKey = typeof retryKeyHeader === 'string' ? retryKeyHeader : undefined;
      const record: StandinRequest = {
        method: req.method ?? 'GET', path, kind, body, status: 0, requestId,
        ...(retryKey ? { retryKey } : {}), ...(authorization ? { authorization } : {}),
      };
      if (kind === 'other') {
        send(res, 404, { message: 'Not found' });
        return;
      }
      requests.push(record);
      const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        send(res, status, payload, { 'x-line-request-id': requestId, ...headers });
        notify();
      };

      if (kind === 'push' && retryKey && acceptedKeys.has(retryKey)) {
        answer(409, { message: 'The retry key is already accepted' }, { 'x-line-accepted-request-id': acceptedKeys.get(retryKey)! });
        return;
      }
      const next = scripted.shift();
      if (next) {
        if (next.status >= 200 && next.status < 300) accept(record);
        answer(next.status, next.body ?? (next.status < 300 ? { sentMessages: [] } : { message: `scripted ${next.status}` }), next.headers);
        return;
      }
      if (kind === 'reply') {
        const token = (body as { replyToken?: unknown } | null)?.replyToken;
        if (typeof token !== 'string' || usedReplyTokens.has(token)) {
          answer(400, { message: 'Invalid reply token' });
          return;
        }
        usedReplyTokens.add(token);
      }
      accept(record);
      if (holding) {
        heldResponses.add(res);
        res.on('close', () => heldResponses.delete(res));
        notify();
        return;
      }
      const messages = ((body as { messages?: unknown[] } | null)?.messages ?? []);
      answer(200, { sentMessages: messages.map(() => ({ id: String(Date.now()), quoteToken: crypto.randomBytes(8).toString('hex') })) });
    });
  });

  function accept(record: StandinRequest) {
    if (record.retryKey) acceptedKeys.set(record.retryKey, record.requestId);
    if (record.kind === 'push') standin.quota.used++;
    deliver(record);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const standin: LineStandin = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    delivered,
    profileRequests,
    followers: [],
    followersRefusal: null,
    quota: { limit: null, used: 0 },
    script: (...responses) => {
      scripted.push(...responses);
    },
    hold: () => {
      holding = true;
      return () => {
        holding = false;
        for (const res of heldResponses) send(res, 200, { sentMessages: [] });
        heldResponses.clear();
      };
    },
    outage: (mode) => {
      outage = mode;
      if (mode === null) {
        for (const res of hanging) send(res, 503, { message: 'Service Unavailable' });
        hanging.clear();
      }
    },
    outageRequests: 0,
    onDelivered: (listener) => {
      deliveredListeners.push(listener);
    },
    waitFor: (predicate, timeoutMs = 15_000, what = 'the expected LINE requests') => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(standin)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${requests.length} request(s): ${JSON.stringify(requests.map((r) => [r.kind, r.status, r.retryKey]))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    }),
    close: () => new Promise<void>((resolve) => {
      for (const res of heldResponses) res.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  return standin;
}
