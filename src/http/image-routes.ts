import { Router } from 'express';
import { IMAGE_FILE_PATTERN, imageContentType, imagesDir, MAX_IMAGE_BYTES, setCampaignImage } from '../coupons/images.ts';
import { getCampaign } from '../coupons/campaigns.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { publicRoute, requireRole } from './auth.ts';
import { receiveFile } from './serials-routes.ts';

/** Campaign images: upload (admin) and serve (public: chat cards link to them). */
export const imageRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();

  router.put('/api/v1/campaigns/:id/image', requireRole(auth, 'marketer'), async (req, res) => {
    const campaignId = req.params.id as string;
    await getCampaign(ctx.db, campaignId);
    const upload = await receiveFile(req, MAX_IMAGE_BYTES, async (file) => {
      const chunks: Buffer[] = [];
      for await (const chunk of file) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
    if (upload.tooLarge) {
      throw new AppError('payload_too_large', `the image is too large: it must be under 1 MB (${MAX_IMAGE_BYTES.toLocaleString('en')} bytes)`);
    }
    res.json(await setCampaignImage(ctx, campaignId, upload.value));
  });

  router.get('/images/:file', publicRoute('chat cards link to campaign images'), (req, res, next) => {
    const file = req.params.file;
    if (!IMAGE_FILE_PATTERN.test(file)) {
      next(new AppError('not_found', 'no such image'));
      return;
    }
    // Names are random and never reused, so a cached copy is good for good.
    res.sendFile(file, {
      root: imagesDir(ctx),
      dotfiles: 'deny',
      maxAge: 365 * 24 * 3600 * 1000,
      immutable: true,
      headers: { 'Content-Type': imageContentType(file), 'X-Content-Type-Options': 'nosniff' },
    }, (err?: Error & { code?: string; status?: number }) => {
      if (!err) return;
      if (err.code === 'ENOENT' || err.status === 404) next(new AppError('not_found', 'no such image'));
      else next(err);
    });
  });

  return router;
};
