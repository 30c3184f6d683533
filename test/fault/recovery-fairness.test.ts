import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { DeliveryResult } from '../../adapters/types.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { ensureContact } from '../../src/contacts/contacts.ts';
import { query } from '../../src/db/client.ts';
import { deliverChannel, type SendFn } from '../../src/delivery/delivery-worker.ts';
import { enqueueMessage, enqueueMessages } from '../../src/delivery/outbox.ts';
import { newId } from '../../src/lib/ids.ts';
import { startTestService, type TestService } from '../support/service.ts';

/**
 * When a platform comes back after an outage, customers chatting now must not wait behind a
 * broadcast's backlog. During the outage the chat messages are what the breaker's probes try
 * (they are claimed first), so they collect long backoffs, while most broadcast cards were tried
 * once or never and are due: the first claims after recovery must still be the chat messages.
 */
describe('LINE comes back after an outage (clock injected)', () => {
  let svc: TestService;
  let now = new Date();
  beforeAll(async () => {
    svc = await startTestService({ clock: () => now });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('the chat messages go in the first claims, before the waiting broadcast cards, each message once with its own retry key', async () => {
    const CARDS = 200;
    const broadcastId = newId('brd');
    const chats: string[] = [];
    const cards: string[] = [];
    await svc.ctx.db.transaction(async (tx) => {
      // The broadcast's cards were written first (a send that started before the outage) …
      const recipients = [];
      for (let i = 0; i < CARDS; i++) recipients.push(await ensureContact(tx, 'line', newLineUserId(), { profileFetchedAt: now }));
      const messages = recipients.map((c, i) => ({ id: newId('msg'), channel: 'line' as const, contactId: c.id, broadcastId,
        message: { type: 'text' as const, text: `broadcast card ${i}` } }));
      await enqueueMessages(tx, messages);
      cards.push(...messages.map((m) => m.id));
      // … then three customers chatting got replies.
      for (let i = 0; i < 3; i++) {
        const contact = await ensureContact(tx, 'line', newLineUserId(), { profileFetchedAt: now });
        chats.push(await enqueueMessage(tx, { channel: 'line', contactId: contact.id, message: { type: 'text', text: `chat reply ${i}` } }));
      }
    });

    let down = true;
    const keys = new Map<string, Set<string>>();
    const sent: string[] = [];
    const send: SendFn = async (delivery, row) => {
      keys.set(row.id, (keys.get(row.id) ?? new Set()).add(delivery.retryKey));
      if (down) return { outcome: 'retry', error: 'LINE 500' } satisfies DeliveryResult;
      sent.push(row.id);
      return { outcome: 'sent' };
    };

    // LINE answers 500 for 30 minutes; the loop runs every 15 s.
    const start = now.getTime();
    for (let t = 0; t <= 30 * 60_000; t += 15_000) {
      now = new Date(start + t);
      await deliverChannel(svc.ctx, 'line', send);
    }
    expect(svc.ctx.platforms.of('line').open).toBe(true);
    const tried = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM outbox WHERE id IN (${sql.join(chats.map((c) => sql`${c}`), sql`, `)})
      AND attempts > 1 AND next_attempt_at > ${now}`);
    // The probes went to the chat messages: they wait out backoffs that run past the recovery.
    expect((tried.rows[0] as { n: number }).n).toBeGreaterThan(0);

    // LINE is back; after the breaker's cool-down one pass of the loop, the clock standing still.
    down = false;
    now = new Date(now.getTime() + 30_000);
    await deliverChannel(svc.ctx, 'line', send);

    // The probe is one message, the next claim 50: every chat message is in them.
    const firstClaims = sent.slice(0, 51);
    for (const chat of chats) expect(firstClaims).toContain(chat);
    // The whole backlog went in that pass, each message once, with the retry key it was tried with.
    expect(sent).toHaveLength(CARDS + chats.length);
    expect(new Set(sent).size).toBe(CARDS + chats.length);
    expect(new Set([...cards, ...chats])).toEqual(new Set(sent));
    for (const id of sent) expect(keys.get(id)!.size).toBe(1);
    const left = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM outbox WHERE status <> 'sent'`);
    expect(left.rows[0]).toEqual({ n: 0 });
  });
});
