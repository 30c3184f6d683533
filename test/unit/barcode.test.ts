import { describe, expect, it } from '@jest/globals';
import { barcodeCacheSize, barcodeSvg } from '../../src/coupons/barcode.ts';
import { AppError } from '../../src/lib/errors.ts';

describe('barcodeSvg', () => {
  it('draws a QR code of any text as SVG', async () => {
    const svg = await barcodeSvg('qr', 'FNA@5841 ünïcode');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('<path');
  });

  it('draws CODE_39 and CODE_128 with bars', async () => {
    const c39 = await barcodeSvg('code39', 'ABC-123');
    const c128 = await barcodeSvg('code128', 'abc-123@x');
    for (const svg of [c39, c128]) {
      expect(svg).toMatch(/^<svg[^>]*viewBox="0 0 \d+ \d+"/);
      expect(svg).toContain('stroke="#000000"');
      expect(svg.trim().endsWith('</svg>')).toBe(true);
    }
    expect(c39).not.toBe(c128);
  });

  it('refuses a code the format cannot encode with a clear error', async () => {
    await expect(barcodeSvg('code39', 'abc@1')).rejects.toThrow(/not encodable in CODE_39 \(only A-Z, 0-9, space and -.\$\/\+% are allowed\)/);
    await expect(barcodeSvg('code128', 'café')).rejects.toThrow(/not encodable in CODE_128/);
    await expect(barcodeSvg('code39', 'abc')).rejects.toBeInstanceOf(AppError);
    await expect(barcodeSvg('qr', '')).rejects.toThrow(/non-empty/);
  });

  it('renders a code once and serves it from the cache after', async () => {
    const before = barcodeCacheSize();
    const a = await barcodeSvg('code128', 'CACHE-ME-1');
    expect(barcodeCacheSize()).toBe(before + 1);
    const b = await barcodeSvg('code128', 'CACHE-ME-1');
    expect(b).toBe(a);
    expect(barcodeCacheSize()).toBe(before + 1);
  });

  it('keeps the cache bounded', async () => {
    for (let i = 0; i < 5100; i++) await barcodeSvg('qr', `B${i}`);
    expect(barcodeCacheSize()).toBeLessThanOrEqual(5000);
  });
});
