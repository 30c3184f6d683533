import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Delivery } from '../../adapters/types.ts';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { enqueueMessage } from '../../src/delivery/outbox.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
const now = new Date('2026-11-20T10:00:00Z');
beforeAll(async () => {
  // LINE on (its reply holds five messages); the tests send through their own functions.
  svc = await startTestService({ clock: () => now, env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'token', LINE_API_BASE_URL: 'http://127.0.0.1:9' } });
});
afterAll(async () => {
  await svc.stop();
});

async function queueReply(userId: string, replyTokenExpiresAt: Date): Promise<string> {
  return await svc.ctx.db.transaction(async (tx) => {
    const contact = await ensureContact(tx, 'line', userId, { at: now });
    const conversation = await ensureConversation(tx, contact, userId, { inboundAt: now });
    return await enqueueMessage(tx, {
      channel: 'line', contactId: contact.id, conversationId: conversation.id,
      message: { type: 'text', text: 'hello' }, replyToken: 'reply-token-1', replyTokenExpiresAt,
    });
  });
}

/** A reply to the contact's message, then more messages to them without a token, in order. */
async function queueConversation(userId: string, texts: string[]): Promise<string[]> {
  return await svc.ctx.db.transaction(async (tx) => {
    const contact = await ensureContact(tx, 'line', userId, { at: now });
    const conversation = await ensureConversation(tx, contact, userId, { inboundAt: now });
    const ids: string[] = [];
    for (const [i, text] of texts.entries()) {
      ids.push(await enqueueMessage(tx, {
        channel: 'line', contactId: contact.id, conversationId: conversation.id, message: { type: 'text', text },
        ...(i === 0 ? { replyToken: 'reply-token-ride', replyTokenExpiresAt: new Date(now.getTime() + 30_000) } : {}),
      }));
    }
    return ids;
  });
}

describe('reply tokens', () => {
  it('answers with the reply token on the first attempt while it is fresh, then pushes with the retry key', async () => {
    const id = await queueReply('U-reply-1', new Date(now.getTime() + 30_000));
    const seen: Delivery[] = [];
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return seen.length === 1 ? { outcome: 'retry', error: 'LINE answered 500' } : { outcome: 'sent' };
    });
    await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE id = ${id}`);
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return { outcome: 'sent' };
    });
    expect(seen.map((d) => d.replyToken ?? null)).toEqual(['reply-token-1', null]);
    expect(seen[0]!.retryKey).toBe(seen[1]!.retryKey);
  });

  it('messages queued right behind a fresh reply ride in it, as many as a LINE reply holds', async () => {
    expect(svc.ctx.channels.line?.delivery.replyCapacity?.max).toBe(5);
    const ids = await queueConversation('U-reply-ride', ['first', 'second', 'third', 'fourth', 'fifth', 'sixth']);
    const seen: Delivery[] = [];
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return { outcome: 'sent' };
    });
    // Five LINE messages in the reply; the sixth goes as a push of its own.
    expect(seen.map((d) => [d.replyToken ?? null, d.message.type === 'text' ? d.message.text : null, (d.more ?? []).map((m) => (m.type === 'text' ? m.text : null))]))
      .toEqual([['reply-token-ride', 'first', ['second', 'third', 'fourth', 'fifth']], [null, 'sixth', []]]);
    const statuses = await query(svc.ctx.db, sql`SELECT status FROM outbox WHERE id = ANY(${sql.param(ids)}::text[])`);
    expect((statuses.rows as Array<{ status: string }>).map((r) => r.status)).toEqual(ids.map(() => 'sent'));
  });

  it('when the reply is refused, the messages that were to ride in it go on their own, each once', async () => {
    const ids = await queueConversation('U-reply-refused', ['first', 'second']);
    const seen: Delivery[] = [];
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return { outcome: 'retry', error: 'LINE 400: Invalid reply token', retryAfterMs: 0 };
    });
    await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE id = ANY(${sql.param(ids)}::text[])`);
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return { outcome: 'sent' };
    });
    expect(seen.map((d) => [d.replyToken ?? null, d.message.type === 'text' ? d.message.text : null, d.more?.length ?? 0]))
      .toEqual([['reply-token-ride', 'first', 1], [null, 'first', 0], [null, 'second', 0]]);
    const statuses = await query(svc.ctx.db, sql`SELECT status FROM outbox WHERE id = ANY(${sql.param(ids)}::text[])`);
    expect((statuses.rows as Array<{ status: string }>).map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it('a stale reply token is never used', async () => {
    await queueReply('U-reply-2', new Date(now.getTime() - 1));
    const seen: Delivery[] = [];
    await deliverDue(svc.ctx, async (d) => {
      seen.push(d);
      return { outcome: 'sent' };
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.replyToken).toBeUndefined();
  });

  it('a reply whose outcome was never recorded (the process died while sending) is not sent again', async () => {
    const id = await queueReply('U-reply-3', new Date(now.getTime() + 30_000));
    // The state a crash leaves: the first attempt claimed with the reply token, nothing recorded.
    await query(svc.ctx.db, sql`UPDATE outbox SET attempts = 1, reply_used = true, next_attempt_at = now() WHERE id = ${id}`);
    let calls = 0;
    await deliverDue(svc.ctx, async () => {
      calls++;
      return { outcome: 'sent' };
    });
    expect(calls).toBe(0);
    const row = await query(svc.ctx.db, sql`SELECT status, platform_response FROM outbox WHERE id = ${id}`);
    expect(row.rows[0]).toMatchObject({ status: 'sent', platform_response: { unconfirmed: expect.any(String) } });
  });
});
