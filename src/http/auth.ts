import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';
import { safeEqual, sha256 } from '../lib/ids.ts';

export type Role = 'admin' | 'pos';

export interface Auth {
  /** The role a bearer token grants, or null. */
  roleOf(token: string): Role | null;
  /** Set only on the start that generated the admin token: printed once, never stored in clear. */
  generatedAdminToken?: string;
}

/**
 * ADMIN_TOKEN from the environment wins. Without it a random token is generated on first start;
 * only its SHA-256 is stored, so it is printed once and cannot be read back.
 */
export async function loadAuth(db: Db, config: Config): Promise<Auth> {
  let adminHash: string;
  let generated: string | undefined;
  if (config.ADMIN_TOKEN) {
    adminHash = sha256(config.ADMIN_TOKEN);
  } else {
    const candidate = crypto.randomBytes(24).toString('base64url');
    const inserted = await db.execute(sql`
      INSERT INTO app_settings (key, value) VALUES ('admin_token_sha256', ${sha256(candidate)})
      ON CONFLICT (key) DO NOTHING RETURNING value`);
    if (inserted.rows.length > 0) generated = candidate;
    const stored = await db.execute(sql`SELECT value FROM app_settings WHERE key = 'admin_token_sha256'`);
    adminHash = (stored.rows[0] as { value: string }).value;
  }
  const posHash = config.POS_TOKEN ? sha256(config.POS_TOKEN) : null;
  return {
    roleOf(token) {
      const h = sha256(token);
      if (safeEqual(h, adminHash)) return 'admin';
      if (posHash && safeEqual(h, posHash)) return 'pos';
      return null;
    },
    ...(generated ? { generatedAdminToken: generated } : {}),
  };
}

export function bearerToken(req: Request): string | null {
  const header = req.get('authorization');
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m ? m[1]! : null;
}

/** Middleware: the request must carry a bearer token of one of these roles. */
export function requireRole(auth: Auth, ...roles: Role[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = bearerToken(req);
    if (!token) throw new AppError('unauthorized', 'a bearer token is required (Authorization: Bearer <token>)');
    const role = auth.roleOf(token);
    if (!role) throw new AppError('unauthorized', 'the bearer token is not valid');
    if (!roles.includes(role)) throw new AppError('forbidden', `this route is not open to the ${role} token`);
    res.locals.role = role;
    next();
  };
}
