import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { campaigns } from '../db/schema.ts';
import { AppError } from '../lib/errors.ts';
import { campaignImageUrl, type CampaignRow } from './campaigns.ts';
import { query } from '../db/client.ts';

/** A campaign image must be under 1 MiB: busboy reports the limit once a file reaches this size. */
export const MAX_IMAGE_BYTES = 1024 * 1024;
export const RECOMMENDED_IMAGE_SIZE = 640;
/** LINE draws a card's image (a flex image) up to 1024×1024 pixels; bigger ones are refused there. */
export const MAX_IMAGE_SIDE = 1024;
/** Stored image names: random, so a URL never changes meaning and can be cached for good. */
export const IMAGE_FILE_PATTERN = /^[0-9a-f]{32}\.(jpg|png)$/;

export type ImageKind = 'png' | 'jpeg';
export interface ImageInfo { kind: ImageKind; width: number; height: number }

const mimeOf: Record<ImageKind, string> = { png: 'image/png', jpeg: 'image/jpeg' };
const extOf: Record<ImageKind, string> = { png: 'png', jpeg: 'jpg' };

export function imageContentType(file: string): string {
  return file.endsWith('.png') ? mimeOf.png : mimeOf.jpeg;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the bytes are, by their content only: "png", "jpeg", or null for anything else. */
export function sniffImage(buf: Buffer): ImageKind | null {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  return null;
}

/** Width and height from a PNG's IHDR chunk, which must come first. */
function pngSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 24 || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Width and height from a JPEG's start-of-frame segment (any SOF0–SOF15 except DHT, JPG, DAC). */
function jpegSize(buf: Buffer): { width: number; height: number } | null {
  let i = 2;
  while (i + 3 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    // Markers without a length: TEM, RST0–7, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null;
    const length = buf.readUInt16BE(i + 2);
    if (length < 2) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > buf.length) return null;
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return null;
}

/** Recognises a PNG or JPEG by its bytes and reads its size; refuses anything else (415). */
export function inspectImage(buf: Buffer): ImageInfo {
  const kind = sniffImage(buf);
  if (!kind) throw new AppError('unsupported_media_type', 'the file is not a JPEG or PNG image (checked by its content, not its name)');
  const size = kind === 'png' ? pngSize(buf) : jpegSize(buf);
  if (!size || size.width === 0 || size.height === 0) {
    throw new AppError('unsupported_media_type', `the file starts like a ${kind === 'png' ? 'PNG' : 'JPEG'} but its size cannot be read: it looks damaged`);
  }
  if (size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE) {
    const message = `the image is ${size.width}×${size.height} pixels; chat cards show images up to ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE}: resize it (${RECOMMENDED_IMAGE_SIZE}×${RECOMMENDED_IMAGE_SIZE} is recommended)`;
    throw new AppError('validation_error', `file: ${message}`, { fields: [{ field: 'file', message }] });
  }
  return { kind, ...size };
}

export function imagesDir(ctx: AppContext): string {
  return path.join(ctx.config.dataDir, 'images');
}

export interface CampaignImage {
  imageUrl: string;
  width: number;
  height: number;
  type: string;
  bytes: number;
  /** Set when the image is not the recommended square. */
  warning?: string;
}

/**
 * Stores a campaign's image under a new random name (written to a temporary file, then renamed,
 * so a reader never sees half a file), points the campaign at it and deletes the old one.
 */
export async function setCampaignImage(ctx: AppContext, campaignId: string, bytes: Buffer): Promise<CampaignImage> {
  const info = inspectImage(bytes);
  const dir = imagesDir(ctx);
  await fs.promises.mkdir(dir, { recursive: true });
  const file = `${crypto.randomBytes(16).toString('hex')}.${extOf[info.kind]}`;
  const tmp = path.join(dir, `.${file}.tmp`);
  await fs.promises.writeFile(tmp, bytes);
  await fs.promises.rename(tmp, path.join(dir, file));
  let updated: { row: CampaignRow; oldFile: string | null } | null;
  try {
    updated = await ctx.db.transaction(async (tx) => {
      const before = await query(tx, sql`SELECT image_file FROM campaigns WHERE id = ${campaignId} FOR UPDATE`);
      if (before.rows.length === 0) return null;
      const [row] = await tx.update(campaigns).set({ imageFile: file, imageType: mimeOf[info.kind], updatedAt: ctx.clock() })
        .where(sql`id = ${campaignId}`).returning();
      return { row: row!, oldFile: (before.rows[0] as { image_file: string | null }).image_file };
    });
  } catch (err) {
    await fs.promises.rm(path.join(dir, file), { force: true });
    throw err;
  }
  if (!updated) {
    await fs.promises.rm(path.join(dir, file), { force: true });
    throw new AppError('not_found', `campaign ${campaignId} does not exist`);
  }
  const { row, oldFile } = updated;
  if (oldFile && oldFile !== file && IMAGE_FILE_PATTERN.test(oldFile)) await fs.promises.rm(path.join(dir, oldFile), { force: true });
  const square = info.width === info.height;
  return {
    imageUrl: campaignImageUrl(ctx, row)!,
    width: info.width,
    height: info.height,
    type: mimeOf[info.kind],
    bytes: bytes.length,
    ...(square ? {} : { warning: `the image is ${info.width}×${info.height}; a square image of ${RECOMMENDED_IMAGE_SIZE}×${RECOMMENDED_IMAGE_SIZE} is recommended` }),
  };
}

/** Gives a campaign its own copy of another campaign's image file (a duplicated campaign). */
export async function copyCampaignImage(ctx: AppContext, from: CampaignRow, toCampaignId: string): Promise<void> {
  if (!from.imageFile || !IMAGE_FILE_PATTERN.test(from.imageFile)) return;
  const bytes = await fs.promises.readFile(path.join(imagesDir(ctx), from.imageFile)).catch(() => null);
  if (bytes) await setCampaignImage(ctx, toCampaignId, bytes);
}
