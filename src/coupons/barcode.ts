import bwipjs from 'bwip-js';
import QRCode from 'qrcode';
import { AppError } from '../lib/errors.ts';
import { unencodableReason, type BarcodeFormat } from './rules.ts';

/** Enough for every coupon shown in a busy hour; an SVG is a few kilobytes. */
const MAX_ENTRIES = 5000;
const cache = new Map<string, string>();

function remember(key: string, svg: string): string {
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, svg);
  return svg;
}

/**
 * The code as an inline SVG barcode in the campaign's format, rendered once per code and kept in
 * a bounded LRU map. A code the format cannot encode throws a validation error naming the reason.
 */
export async function barcodeSvg(format: BarcodeFormat, code: string): Promise<string> {
  const key = `${format}\u0000${code}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Map keeps insertion order: re-inserting moves the entry to the young end.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  if (code.length === 0) throw new AppError('validation_error', 'a barcode needs a non-empty code');
  const reason = unencodableReason(format, code);
  if (reason) throw new AppError('validation_error', `"${code}" is ${reason}`);
  switch (format) {
    case 'qr':
      return remember(key, await QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    case 'code39':
    case 'code128':
      try {
        return remember(key, bwipjs.toSVG({ bcid: format, text: code, includetext: true, textxalign: 'center', scale: 2, height: 14 }));
      } catch (err) {
        throw new AppError('validation_error', `"${code}" cannot be drawn as ${format === 'code39' ? 'CODE_39' : 'CODE_128'}: ${(err as Error).message}`);
      }
  }
}

/** For tests and diagnostics: how many barcodes are cached. */
export function barcodeCacheSize(): number {
  return cache.size;
}
