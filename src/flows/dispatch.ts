import type { ChannelEvent } from '../../adapters/types.ts';
import type { ContactRow, ConversationRow } from '../contacts/contacts.ts';
import type { InboundItem } from '../contacts/inbound-hooks.ts';
import { channelCapabilities } from '../channels.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';
import { localeOfText, matchLocale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { normaliseText } from './normalise.ts';
import { continueRun, endStale, interruptRun, isStale, lockContactRun, lockContactRuns, recordDropped, RunSession, startRun, type RunRow } from './runner.ts';
import { eventText, keywordClaimed, matchFlows } from './triggers.ts';
import { FlowBatch } from './writes.ts';
import { interrupts, type Flow } from './types.ts';

export type DispatchOutcome =
  | 'ignored' | 'handoff' | 'answered' | 'started' | 'interrupted' | 'dropped' | 'my-coupons' | 'no-match';

/** The link to the contact's "my coupons" page. */
export function myCouponsUrl(ctx: AppContext, contact: Pick<ContactRow, 'meToken'>): string {
  return `${ctx.config.PUBLIC_BASE_URL}/me/${contact.meToken}`;
}

function isMyCoupons(ctx: AppContext, text: string | null): boolean {
  if (text === null) return false;
  const n = normaliseText(text);
  return ctx.config.MY_COUPONS_KEYWORDS.some((k) => normaliseText(k) === n);
}

/** An event that may answer or start a run: what dispatching it needs once the contact's run is read. */
interface Pending {
  event: ChannelEvent;
  contact: ContactRow;
  conversation: ConversationRow;
  text: string | null;
  myCoupons: boolean;
  candidates: Flow[];
}

/**
 * What can be decided without the database: handoff silence, events flows ignore, and the
 * common "nothing to do" event (no query unless a run might be waiting).
 */
function prepare(ctx: AppContext, event: ChannelEvent, contact: ContactRow, conversation: ConversationRow): Pending | DispatchOutcome {
  const registry = ctx.flows;
  if (event.standby || event.type === 'unfollow' || event.type === 'other') return 'ignored';
  if (conversation.handoffAt) return 'handoff';
  if (!registry) return 'ignored';
  const text = eventText(event);
  const myCoupons = isMyCoupons(ctx, text) && !keywordClaimed(registry.flows, text!, event.channel);
  // Only a keyword claims the built-in words: a loose `pattern` (or a catch-all) does not swallow them.
  const candidates = matchFlows(registry.flows, event).filter((f) => !(myCoupons && f.trigger.type === 'pattern'));
  if (candidates.length === 0 && !myCoupons && event.type !== 'message' && event.type !== 'postback') return 'no-match';
  return { event, contact, conversation, text, myCoupons, candidates };
}

/**
 * Called by the inbound worker for every stored event, inside the transaction that marks the
 * event processed: whatever it writes (outbox rows, run state, step records) commits with that
 * mark. Order: handoff silence → the answer a waiting `ask` expects (unless the message starts an
 * interrupting flow) → the most specific trigger → the built-in "my coupons" answer.
 */
export async function dispatchEvent(
  ctx: AppContext, tx: Tx, event: ChannelEvent, contact: ContactRow, conversation: ConversationRow,
): Promise<DispatchOutcome> {
  const pending = prepare(ctx, event, contact, conversation);
  if (typeof pending === 'string') return pending;
  return await dispatchPending(ctx, tx, pending, await lockContactRun(tx, contact.id));
}

/**
 * `dispatchEvent` for a batch of events, in order per contact. The events of different contacts
 * run side by side in the transaction: their runs are locked and read in one statement, their
 * coupons issued together (IssueQueue) and their writes written together (FlowWrites). A contact
 * named twice has its later event in a later wave, which writes what the earlier wave did and
 * reads the contact's run again.
 */
export async function dispatchEvents(ctx: AppContext, tx: Tx, items: InboundItem[]): Promise<DispatchOutcome[]> {
  const prepared = items.map((item) => prepare(ctx, item.event, item.contact, item.conversation));
  const outcomes: DispatchOutcome[] = prepared.map((p) => (typeof p === 'string' ? p : 'no-match'));
  const waves: Array<Array<{ index: number; pending: Pending }>> = [];
  const seen = new Map<string, number>();
  prepared.forEach((p, index) => {
    if (typeof p === 'string') return;
    const wave = seen.get(p.contact.id) ?? 0;
    seen.set(p.contact.id, wave + 1);
    (waves[wave] ??= []).push({ index, pending: p });
  });
  const batch = new FlowBatch(ctx, tx);
  for (const wave of waves) {
    // What the earlier wave wrote is read by this one (its contacts' runs).
    await batch.writes.write(ctx, tx);
    const runs = await lockContactRuns(tx, wave.map((w) => w.pending.contact.id));
    const settled = await Promise.allSettled(wave.map(async (w) => {
      outcomes[w.index] = await dispatchPending(ctx, tx, w.pending, runs.get(w.pending.contact.id) ?? null, batch);
    }));
    // Every session has stopped using the transaction before a failure rolls it back.
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  await batch.writes.write(ctx, tx);
  return outcomes;
}

async function dispatchPending(ctx: AppContext, tx: Tx, p: Pending, locked: RunRow | null, batch?: FlowBatch): Promise<DispatchOutcome> {
  const registry = ctx.flows!;
  const { event, contact, conversation, text, myCoupons, candidates } = p;
  const eventAt = new Date(event.timestamp);
  // A reply token counts only on a channel that declares how long its tokens live.
  const replyTokenLifetimeMs = channelCapabilities(ctx, event.channel).replyTokenLifetimeMs;
  const session = new RunSession({
    ctx, tx, registry, contact, conversation, ...(batch ? { batch } : {}),
    ...(event.replyToken && replyTokenLifetimeMs
      ? { replyToken: event.replyToken, replyTokenExpiresAt: new Date(eventAt.getTime() + replyTokenLifetimeMs) } : {}),
  });
  let running = locked;
  if (running && isStale(registry, running)) {
    await endStale(session, running);
    running = null;
  }
  const best = candidates[0];
  let outcome: DispatchOutcome;

  if (running && running.waitingFor === 'answer' && (event.type === 'message' || event.type === 'postback') && !(best && interrupts(best))) {
    if (myCoupons) {
      // The question stays open: "my coupons" is answered and the contact can still reply.
      answerMyCoupons(ctx, session, text!);
      outcome = 'my-coupons';
    } else {
      const answer = event.type === 'message' ? (event.text ?? null) : event.payload;
      await continueRun(session, running, { phase: 'answer', text: answer });
      outcome = 'answered';
    }
  } else if (best) {
    if (running && !interrupts(best)) {
      recordDropped(session, best, running);
      outcome = 'dropped';
    } else {
      if (running) await interruptRun(session, running, best);
      await startRun(session, best);
      outcome = running ? 'interrupted' : 'started';
    }
  } else if (myCoupons) {
    answerMyCoupons(ctx, session, text!);
    outcome = 'my-coupons';
  } else {
    outcome = 'no-match';
  }
  await session.flush();
  return outcome;
}

/**
 * In the language the customer wrote the words in when its script says it plainly (Thai,
 * Japanese, Chinese), else the contact's language, else English for latin words (a rich menu's
 * fixed "my coupons" is latin whatever the reader's language, so it does not outrank the contact's).
 */
function answerMyCoupons(ctx: AppContext, session: RunSession, text: string): void {
  const written = localeOfText(text);
  const locale = (written !== 'en' ? written : null) ?? matchLocale(session.contact.language) ?? written ?? ctx.config.DEFAULT_LOCALE;
  session.send({ type: 'text', text: messages(locale).myCouponsReply({ url: myCouponsUrl(ctx, session.contact) }) });
}
