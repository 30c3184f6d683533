import crypto from 'node:crypto';
import fs from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import type { RouteModule } from '../http/app.ts';
import { publicRoute } from '../http/auth.ts';

/**
 * The browser code (src/client/, TypeScript) served as ES modules under /assets/. Types are
 * stripped once at start-up with Node's own type stripping — the same one that runs the server's
 * .ts files — so there is no build step, no build output to go stale, and nothing beyond Node that
 * `npm ci --omit=dev` would leave out. Stripping keeps every line and column where it was, so the
 * browser's stack traces point at the source. URLs keep the `.ts` names the modules import each
 * other by; the content type tells the browser it is JavaScript.
 */
export const CLIENT_DIR = fileURLToPath(new URL('../client/', import.meta.url));
export const ASSET_PREFIX = '/assets/';

export interface ClientAsset {
  body: Buffer;
  etag: string;
}

/** Node marks the stripping API experimental; its one-time warning says nothing a user can act on. */
function strip(source: string): string {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('stripTypeScriptTypes')) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every module under `dir`, stripped, keyed by its URL path (`/assets/admin/main.ts`). */
export function loadClientAssets(dir: string = CLIENT_DIR): Map<string, ClientAsset> {
  const assets = new Map<string, ClientAsset>();
  for (const file of walk(dir)) {
    const rel = path.relative(dir, file).split(path.sep).join('/');
    const body = Buffer.from(strip(fs.readFileSync(file, 'utf8')));
    assets.set(`${ASSET_PREFIX}${rel}`, { body, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

/** The URL of a client module for a page's module script tag; throws for a module that does not exist. */
export function assetUrl(rel: string): string {
  const url = `${ASSET_PREFIX}${rel}`;
  if (!clientAssets().has(url)) throw new Error(`no client module ${rel} under src/client/`);
  return url;
}

let loaded: Map<string, ClientAsset> | undefined;
function clientAssets(): Map<string, ClientAsset> {
  loaded ??= loadClientAssets();
  return loaded;
}

/** GET /assets/<module>.ts: the stripped module, revalidated by ETag. */
export const clientAssetRoutes: RouteModule = () => {
  const router = Router();
  const assets = clientAssets();
  router.get(`${ASSET_PREFIX}*module`, publicRoute('the browser code of public and signed-in pages alike'), (req, res, next) => {
    const asset = assets.get(req.path);
    if (!asset) return next();
    res.set({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ETag: asset.etag,
    });
    if (req.fresh) return res.status(304).end();
    res.send(asset.body);
  });
  return router;
};
