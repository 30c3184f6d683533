import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import express, { Router, type Request } from 'express';
import { getCampaign } from '../coupons/campaigns.ts';
import { loadFixedSerial } from '../coupons/fixed-serials.ts';
import {
  createImport, fixedPoolConflict, getImport, hasFixedSerial, importsDir, MAX_CSV_BYTES, queueImport, runImport,
  SYNC_IMPORT_MAX_BYTES,
} from '../coupons/serial-import.ts';
import { AppError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';
import { recordAudit } from '../people/audit.ts';

/**
 * Streams the multipart field `file` of a request into `consume`. Other fields and files are
 * drained and ignored. `tooLarge` is set when the file reached `maxBytes` (busboy then stops
 * passing bytes on): the caller discards what it received and answers 413.
 */
export async function receiveFile<T>(req: Request, maxBytes: number, consume: (file: Readable) => Promise<T>): Promise<{ value: T; tooLarge: boolean }> {
  if (!req.is('multipart/form-data')) throw new AppError('bad_request', 'send the file as multipart/form-data, in the field "file"');
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { fileSize: maxBytes, files: 1, fields: 20, parts: 40 } });
  } catch (err) {
    throw new AppError('bad_request', `the multipart body cannot be read: ${(err as Error).message}`);
  }
  let result: Promise<T> | undefined;
  let tooLarge = false;
  bb.on('file', (name: string, stream: Readable) => {
    if (name !== 'file' || result) {
      stream.resume();
      return;
    }
    stream.on('limit', () => {
      tooLarge = true;
    });
    result = consume(stream);
    // A consumer that gave up must not stall the rest of the form.
    result.catch(() => stream.resume());
  });
  try {
    await pipeline(req, bb);
  } catch (err) {
    await result?.catch(() => undefined);
    throw new AppError('bad_request', `the multipart body cannot be read: ${(err as Error).message}`);
  }
  if (!result) throw new AppError('bad_request', 'the multipart field "file" is missing');
  return { value: await result, tooLarge };
}

const mb = (bytes: number) => `${bytes / (1024 * 1024)} MB (${bytes.toLocaleString('en')} bytes)`;

/** Serial pools: CSV packs of one-time serials, fixed serials, and the imports to poll. */
export const serialsRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const admin = requireRole(auth, 'marketer');

  router.post('/api/v1/campaigns/:id/serials', admin, express.json({ limit: '16kb' }), async (req, res) => {
    const campaignId = req.params.id as string;
    // loadFixedSerial reads the campaign itself (its barcode format).
    const audit = (details: Record<string, unknown>) => recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'serials.loaded', { type: 'campaign', id: campaignId }, details);
    if (req.is('application/json')) {
      const fixed = await loadFixedSerial(ctx, campaignId, req.body);
      await audit({ kind: 'fixed', ...fixed });
      res.json(fixed);
      return;
    }
    await getCampaign(ctx.db, campaignId);
    if (!req.is('multipart/form-data')) {
      throw new AppError('bad_request', 'send a CSV pack as multipart/form-data in the field "file", or JSON {"fixed":{"code":"…","quantity":N}}');
    }
    // Checked before the upload is read, and again under the pool's lock when it is loaded.
    if (await hasFixedSerial(ctx.db, campaignId)) throw fixedPoolConflict();

    const importId = newId('imp');
    const dir = importsDir(ctx);
    await fs.promises.mkdir(dir, { recursive: true });
    const spool = path.join(dir, `${importId}.csv`);
    let upload: { value: number; tooLarge: boolean };
    try {
      upload = await receiveFile(req, MAX_CSV_BYTES, async (file) => {
        let bytes = 0;
        file.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        await pipeline(file, fs.createWriteStream(spool));
        return bytes;
      });
    } catch (err) {
      await fs.promises.rm(spool, { force: true });
      throw err;
    }
    if (upload.tooLarge) {
      await fs.promises.rm(spool, { force: true });
      throw new AppError('payload_too_large', `the file is too large: a CSV pack must be under ${mb(MAX_CSV_BYTES)}; nothing was loaded`);
    }

    await createImport(ctx, campaignId, spool, importId);
    if (upload.value <= SYNC_IMPORT_MAX_BYTES) {
      const done = await runImport(ctx, importId);
      await audit({ kind: 'pack', importId, loaded: done.loaded, rejectedCount: done.rejectedCount });
      res.json({ importId, loaded: done.loaded, rejected: done.rejected, rejectedCount: done.rejectedCount, read: done.read });
      return;
    }
    await queueImport(ctx, importId, spool);
    await audit({ kind: 'pack', importId, bytes: upload.value, background: true });
    res.status(202).location(`/api/v1/imports/${importId}`).json(await getImport(ctx, importId));
  });

  router.get('/api/v1/imports/:id', admin, async (req, res) => {
    res.json(await getImport(ctx, req.params.id as string));
  });

  return router;
};
