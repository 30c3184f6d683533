import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RawRequest } from './types.ts';

/** One header of a raw request, whatever its case (the first value of a repeated one). */
export function headerValue(req: RawRequest, name: string): string | undefined {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : req.headers[key];
  return Array.isArray(value) ? value[0] : value;
}

export function hmacSha256(secret: string, body: string | Buffer, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', secret).update(body).digest(encoding);
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the secret.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** `sha256=<hex HMAC of the body>`: the signature Meta (`x-hub-signature-256`) and the inbox send. */
export function signSha256Body(secret: string, body: string | Buffer): string {
  return `sha256=${hmacSha256(secret, body, 'hex')}`;
}

/** Constant-time check of a `sha256=<hex>` signature against the raw bytes (the hex in any case). */
export function sha256SignatureMatches(secret: string, body: string | Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  return safeEqual(signature.trim().toLowerCase(), signSha256Body(secret, body));
}
