import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { ChangeFeed } from '../db/changes.ts';
import { AppError } from '../lib/errors.ts';
import { safeEqual, sha256 } from '../lib/ids.ts';
import { actorOfApiToken } from '../people/people.ts';
import { adminTokenActor, posTokenActor, principals, type Actor, type Principal } from '../people/roles.ts';
import { actorOfSession, type NewSession } from '../people/sessions.ts';
import { readAdminTokenHash, storeAdminTokenHash } from '../people/admin-token.ts';

/** The caller of a request: who, and whether by bearer token or by a browser session. */
export interface RequestActor extends Actor {
  via: 'token' | 'session';
  sessionId?: string;
  csrfToken?: string;
}

export interface Auth {
  /** Who is calling (bearer token first, then the session cookie), or null. Cached per request. */
  identify(req: Request, res: Response): Promise<RequestActor | null>;
  config: Config;
  /** Who a token names (the sign-in page's token form). */
  actorOfToken(token: string): Promise<RequestActor | null>;
  /** Ties sessions opened with the ADMIN_TOKEN to the token in force. */
  adminKey: string;
  /** Set only on the start that generated the admin token: printed once, never stored in clear. */
  generatedAdminToken?: string;
  /**
   * Where the admin token came from on this start: `ADMIN_TOKEN`, generated now (first start or
   * `ADMIN_TOKEN_RESET`), or the one generated on an earlier start (only its hash is stored).
   */
  adminTokenFrom: 'env' | 'generated' | 'stored';
}

export const SESSION_COOKIE = 'cc_session';

/**
 * ADMIN_TOKEN from the environment wins. Without it a random token is generated on first start
 * (and again when ADMIN_TOKEN_RESET is set); only its SHA-256 is stored, so it is printed once and
 * cannot be read back. It acts as an owner (the bootstrap token); POS_TOKEN may only verify and void; people's tokens and sessions are in
 * the database.
 */
export async function loadAuth(ctx: AppContext, opts: { changes?: ChangeFeed } = {}): Promise<Auth> {
  const { config, db } = ctx;
  let adminHash: string;
  let generated: string | undefined;
  if (config.ADMIN_TOKEN) {
    adminHash = sha256(config.ADMIN_TOKEN);
  } else {
    const candidate = crypto.randomBytes(24).toString('base64url');
    const stored = await storeAdminTokenHash(db, sha256(candidate), Boolean(config.ADMIN_TOKEN_RESET));
    if (stored.generated) generated = candidate;
    adminHash = stored.hash;
    // Another instance started with ADMIN_TOKEN_RESET: the old token stops working here too.
    opts.changes?.on('admin-token', () => {
      readAdminTokenHash(db).then((h) => {
        adminHash = h;
      }, (err: unknown) => ctx.log.error({ err }, 'could not re-read the admin token'));
    });
    if (generated && config.ADMIN_TOKEN_RESET) await opts.changes?.publish('admin-token');
  }
  const posHash = config.POS_TOKEN ? sha256(config.POS_TOKEN) : null;

  async function byToken(token: string): Promise<RequestActor | null> {
    const h = sha256(token);
    if (safeEqual(h, adminHash)) return { ...adminTokenActor, via: 'token' };
    if (posHash && safeEqual(h, posHash)) return { ...posTokenActor, via: 'token' };
    const person = await actorOfApiToken(ctx, token);
    return person ? { ...person, via: 'token' } : null;
  }

  return {
    config,
    get adminKey() {
      return sha256(adminHash);
    },
    actorOfToken: byToken,
    async identify(req, res) {
      if (res.locals.actor !== undefined) return res.locals.actor as RequestActor | null;
      let actor: RequestActor | null = null;
      const token = bearerToken(req);
      if (token) {
        actor = await byToken(token);
      } else {
        const cookie = cookieValue(req, SESSION_COOKIE);
        const s = cookie ? await actorOfSession(ctx, cookie, sha256(adminHash)) : null;
        if (s) actor = { ...s, via: 'session' };
      }
      res.locals.actor = actor;
      if (actor) res.locals.role = actor.role;
      return actor;
    },
    ...(generated ? { generatedAdminToken: generated } : {}),
    adminTokenFrom: config.ADMIN_TOKEN ? 'env' : generated ? 'generated' : 'stored',
  };
}

export function bearerToken(req: Request): string | null {
  const header = req.get('authorization');
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? m[1]! : null;
}

/** One cookie's value from the Cookie header (no dependency for this one job). */
export function cookieValue(req: Request, name: string): string | null {
  const header = req.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

function cookieAttributes(config: Config, maxAgeSeconds: number): string {
  const secure = config.PUBLIC_BASE_URL.startsWith('https:') || config.SESSION_COOKIE_SAMESITE === 'none';
  const sameSite = { lax: 'Lax', strict: 'Strict', none: 'None' }[config.SESSION_COOKIE_SAMESITE];
  // None (embedding beside an inbox on another site) needs Secure; Partitioned keeps it working
  // where third-party cookies are blocked.
  return `Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}${config.SESSION_COOKIE_SAMESITE === 'none' ? '; Partitioned' : ''}`;
}

export function setSessionCookie(res: Response, config: Config, session: NewSession, now: Date): void {
  const maxAge = Math.max(0, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000));
  res.append('Set-Cookie', `${SESSION_COOKIE}=${session.token}; ${cookieAttributes(config, maxAge)}`);
}

export function clearSessionCookie(res: Response, config: Config): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; ${cookieAttributes(config, 0)}`);
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF for requests carried by the session cookie: the session's token in the `x-csrf-token`
 * header or a form's `_csrf` field, or else a browser's own word that the request comes from our
 * origin (`Origin`, or `Sec-Fetch-Site: same-origin`). Bearer-token calls carry no ambient
 * credential and need none of this.
 */
export function csrfOk(req: Request, actor: RequestActor, config: Config): boolean {
  if (actor.via !== 'session' || safeMethods.has(req.method)) return true;
  const sent = req.get('x-csrf-token') ?? (typeof req.body?._csrf === 'string' ? req.body._csrf as string : undefined);
  if (sent && actor.csrfToken) return safeEqual(sent, actor.csrfToken);
  return sameOrigin(req, config) === true;
}

/**
 * The browser's word on where a request comes from: `Sec-Fetch-Site` (which pages cannot set),
 * else `Origin` (sent as "null" under our no-referrer policy, so it only counts when real). Null
 * when the request carries neither: not a browser.
 */
export function sameOrigin(req: Request, config: Config): boolean | null {
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin && origin !== 'null') return origin === ownOrigin(req) || origin === new URL(config.PUBLIC_BASE_URL).origin;
  return origin === 'null' ? false : null;
}

function ownOrigin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? ''}`;
}

/** Who a route admits: roles, or `public` (customers, platforms' signed webhooks, sign-in). */
export type Admits = readonly Principal[] | 'public';
const admitsKey = Symbol('admits');
/**
 * A gate's type leaves the route's own parameter types to the route (`any` here does not widen
 * them: TypeScript infers them from the path).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Gate = RequestHandler<any>;
type Declared = Gate & { [admitsKey]?: Admits };

/** The roles a gate admits (the route-roles test reads them from the router). */
export function admitsOf(handler: unknown): Admits | undefined {
  return (handler as Declared | null)?.[admitsKey];
}

/** `admin` in older route modules: the marketers' routes. */
export type RoleName = Principal | 'admin';

function expand(names: RoleName[]): Principal[] {
  const set = new Set<Principal>(['owner']);
  for (const n of names) set.add(n === 'admin' ? 'marketer' : n);
  return principals.filter((p) => set.has(p));
}

/**
 * Middleware: the caller must be one of these roles (the owner always is). 401 `unauthorized`
 * without valid credentials, 403 `forbidden` for another role, 403 `csrf_failed` for a cookie
 * request that is not from our own pages.
 */
export function requireRole(auth: Auth, ...names: RoleName[]): Gate {
  const admitted = expand(names);
  const gate = (async (req: Request, res: Response, next: NextFunction) => {
    const actor = await auth.identify(req, res);
    if (!actor) {
      throw new AppError('unauthorized', bearerToken(req)
        ? 'the bearer token is not valid'
        : 'sign in, or send a bearer token (Authorization: Bearer <token>)');
    }
    if (!admitted.includes(actor.role)) throw new AppError('forbidden', `this is not open to the ${actor.role} role (open to: ${admitted.join(', ')})`);
    if (!csrfOk(req, actor, auth.config)) {
      throw new AppError('csrf_failed', 'this request did not come from our own page: reload the page and try again');
    }
    next();
  }) as Declared;
  gate[admitsKey] = admitted;
  return gate;
}

/** Declares a route open to everyone (why goes in the name, for the reader). */
export function publicRoute(_why: string): Gate {
  const marker = ((_req: Request, _res: Response, next: NextFunction) => next()) as Declared;
  marker[admitsKey] = 'public';
  return marker;
}

/**
 * What a verification records as its verifier: `pos` and `admin` for the two configured tokens
 * (as before people existed), the person's id otherwise.
 */
export function verifierOf(res: Response): string {
  const actor = res.locals.actor as RequestActor | null | undefined;
  if (!actor) return 'unknown';
  if (actor.id === posTokenActor.id) return 'pos';
  if (actor.id === adminTokenActor.id) return 'admin';
  return actor.id;
}

/** Gives a handler the same declaration as `inner` (a page gate wrapping requireRole). */
export function sameAdmits<T extends Gate>(handler: T, inner: Gate): T {
  (handler as Declared)[admitsKey] = admitsOf(inner);
  return handler;
}

/** Where a person starts after signing in. */
export function homeOf(role: Principal): string {
  return { owner: '/admin', marketer: '/admin', agent: '/workbench', staff: '/staff', pos: '/login' }[role];
}
