import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
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

/**
 * Third-party browser code, served from this origin as ES modules (CSP `script-src 'self'`).
 * The barcode decoder is @zxing/library's self-contained UMD build, run as a module: with a
 * `module` and `exports` in scope, the UMD wrapper puts the library on `exports`, which the module
 * exports as its default. Loaded only when the browser has no `BarcodeDetector` for our formats.
 */
export const VENDOR_ZXING = `${ASSET_PREFIX}vendor/zxing-library.js`;

function vendorAssets(): Map<string, ClientAsset> {
  const require = createRequire(import.meta.url);
  const umd = fs.readFileSync(require.resolve('@zxing/library/umd/index.min.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const body = Buffer.from(`const module = { exports: {} };\nconst exports = module.exports;\n${umd}\nexport default module.exports;\n`);
  return new Map([[VENDOR_ZXING, { body, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }]]);
}

let vendor: Map<string, ClientAsset> | undefined;

/** GET /assets/<module>.ts: the stripped module, revalidated by ETag. */
export const clientAssetRoutes: RouteModule = () => {
  const router = Router();
  const assets = clientAssets();
  vendor ??= vendorAssets();
  const served = new Map([...assets, ...vendor]);
  router.get(`${ASSET_PREFIX}*module`, publicRoute('the browser code of public and signed-in pages alike'), (req, res, next) => {
    const asset = served.get(req.path);
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
