import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ASSET_PREFIX, CLIENT_DIR, loadClientAssets } from '../../src/pages/client-assets.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('GET /assets/…', () => {
  it('serves a client module as JavaScript with its types stripped, revalidated by ETag', async () => {
    const res = await request(svc.url).get('/assets/shared/api.ts');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-cache');
    const source = fs.readFileSync(path.join(CLIENT_DIR, 'shared/api.ts'), 'utf8');
    expect(source).toContain('export async function api<T>(path: string, opts: CallOptions = {}): Promise<Answer<T>>');
    expect(res.text).toContain('export async function api');
    expect(res.text).not.toContain('Promise<Answer<T>>');
    expect(res.text).not.toMatch(/^import type/m);
    // Lines stay where they were, so the browser's stack traces point at the source.
    expect(res.text.split('\n')).toHaveLength(source.split('\n').length);

    const again = await request(svc.url).get('/assets/shared/api.ts').set('If-None-Match', res.headers.etag as string);
    expect(again.status).toBe(304);
  });

  it('answers 404 for anything that is not a client module', async () => {
    for (const url of ['/assets/nope.ts', '/assets/../src/config.ts', '/assets/%2e%2e/config.ts', '/assets/', '/assets/admin/']) {
      const res = await request(svc.url).get(url);
      expect({ url, status: res.status }).toEqual({ url, status: 404 });
    }
  });

  it('serves every module another module imports: the browser can load each page whole', async () => {
    const assets = loadClientAssets();
    expect([...assets.keys()]).toEqual(expect.arrayContaining(['/assets/admin/main.ts', '/assets/workbench/main.ts', '/assets/pages/coupon.ts']));
    for (const [url, asset] of assets) {
      for (const m of asset.body.toString('utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const target = new URL(m[1]!, `http://x${url}`).pathname;
        expect({ from: url, import: m[1], served: target.startsWith(ASSET_PREFIX) && assets.has(target) }).toEqual({ from: url, import: m[1], served: true });
      }
    }
  });
});

describe('loadClientAssets', () => {
  it('refuses, at start-up, a module whose TypeScript cannot simply be stripped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-assets-'));
    try {
      fs.writeFileSync(path.join(dir, 'ok.ts'), 'export const n: number = 1;\n');
      expect(loadClientAssets(dir).get('/assets/ok.ts')!.body.toString()).toBe('export const n         = 1;\n');
      fs.writeFileSync(path.join(dir, 'enum.ts'), 'export enum Colour { Red }\n');
      expect(() => loadClientAssets(dir)).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
