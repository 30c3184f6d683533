/**
 * Messages to one contact go out in order even when several processes deliver at once: while one
 * deliverer sends a contact's message, another passes over that contact's later messages and
 * takes everyone else's.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Delivery, DeliveryResult } from '../../adapters/types.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { ensureContact } from '../../src/contacts/contacts.ts';
import { query } from '../../src/db/client.ts';
import { deliverDue, type SendFn } from '../../src/delivery/delivery-worker.ts';
import { enqueueMessage } from '../../src/delivery/outbox.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'token', LINE_API_BASE_URL: 'http://127.0.0.1:9' } });
});

afterAll(async () => {
  await svc?.stop();
});

async function messages(userId: string, texts: string[]): Promise<void> {
  await svc.ctx.db.transaction(async (tx) => {
    const contact = await ensureContact(tx, 'line', userId, { at: new Date() });
    for (const text of texts) await enqueueMessage(tx, { channel: 'line', contactId: contact.id, message: { type: 'text', text } });
  });
}

const textOf = (d: Delivery) => (d.message as { text: string }).text;

it('holds a contact\'s later messages while an earlier one is in flight in another process', async () => {
  const x = newLineUserId();
  const y = newLineUserId();
  await messages(x, ['x1', 'x2', 'x3']);
  await messages(y, ['y1']);

  // Deliverer A takes one message (x1, the oldest) and hangs while sending it.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let sending!: () => void;
  const started = new Promise<void>((resolve) => (sending = resolve));
  const slow: SendFn = async (delivery) => {
    sending();
    await held;
    return { outcome: 'sent', response: { to: textOf(delivery) } } satisfies DeliveryResult;
  };
  const a = deliverDue(svc.ctx, slow, 1, 'line');
  await started;

  // Deliverer B, meanwhile: y1 goes; x2 and x3 wait for x1.
  const sentByB: string[] = [];
  const fast: SendFn = async (delivery) => {
    sentByB.push(textOf(delivery));
    return { outcome: 'sent' };
  };
  expect(await deliverDue(svc.ctx, fast, 10, 'line')).toBe(1);
  expect(sentByB).toEqual(['y1']);

  release();
  expect(await a).toBe(1);
  // x1 is sent: x2 and x3 go, in order, in one batch.
  expect(await deliverDue(svc.ctx, fast, 10, 'line')).toBe(2);
  expect(sentByB).toEqual(['y1', 'x2', 'x3']);
  const left = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM outbox WHERE status <> 'sent' OR leased_until IS NOT NULL`);
  expect((left.rows[0] as { n: number }).n).toBe(0);
});

it('lets the later messages go once the lease of a process that died runs out', async () => {
  const x = newLineUserId();
  await messages(x, ['a1', 'a2']);
  // A process claimed a1 and died: its lease still runs.
  await query(svc.ctx.db, sql`UPDATE outbox SET attempts = 1, next_attempt_at = now() + interval '60 seconds', leased_until = now() + interval '60 seconds'
    WHERE message->>'text' = 'a1'`);
  const sent: string[] = [];
  const send: SendFn = async (delivery) => {
    sent.push(textOf(delivery));
    return { outcome: 'sent' };
  };
  expect(await deliverDue(svc.ctx, send, 10, 'line')).toBe(0);
  // The lease ran out: a1 is tried again, then a2, in order.
  await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now() - interval '1 second', leased_until = now() - interval '1 second'
    WHERE message->>'text' = 'a1'`);
  expect(await deliverDue(svc.ctx, send, 10, 'line')).toBe(2);
  expect(sent).toEqual(['a1', 'a2']);
});
