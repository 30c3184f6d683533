import fs from 'node:fs';
import type { EmbeddedDatabase } from '../../src/db/embedded.ts';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__chatcouponTestDb as { server: EmbeddedDatabase; dir: string } | undefined;
  if (!state) return;
  await state.server.stop();
  fs.rmSync(state.dir, { recursive: true, force: true });
}
