import type { ChannelEvent } from '../../adapters/types.ts';
import type { ContactRow, ConversationRow } from '../contacts/contacts.ts';
import { channelCapabilities } from '../channels.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';
import { localeOfText, matchLocale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { normaliseText } from './normalise.ts';
import { continueRun, endStale, interruptRun, isStale, lockContactRun, recordDropped, RunSession, startRun } from './runner.ts';
import { eventText, keywordClaimed, matchFlows } from './triggers.ts';
import { interrupts } from './types.ts';

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

/**
 * Called by the inbound worker for every stored event, inside the transaction that marks the
 * event processed: whatever it writes (outbox rows, run state, step records) commits with that
 * mark. Order: handoff silence → the answer a waiting `ask` expects (unless the message starts an
 * interrupting flow) → the most specific trigger → the built-in "my coupons" answer.
 */
export async function dispatchEvent(
  ctx: AppContext, tx: Tx, event: ChannelEvent, contact: ContactRow, conversation: ConversationRow,
): Promise<DispatchOutcome> {
  const registry = ctx.flows;
  if (event.standby || event.type === 'unfollow' || event.type === 'other') return 'ignored';
  if (conversation.handoffAt) return 'handoff';
  if (!registry) return 'ignored';

  const text = eventText(event);
  const myCoupons = isMyCoupons(ctx, text) && !keywordClaimed(registry.flows, text!, event.channel);
  // Only a keyword claims the built-in words: a loose `pattern` (or a catch-all) does not swallow them.
  const candidates = matchFlows(registry.flows, event).filter((f) => !(myCoupons && f.trigger.type === 'pattern'));
  // Cheap exit for the common "nothing to do" event: no query unless a run might be waiting.
  if (candidates.length === 0 && !myCoupons && event.type !== 'message' && event.type !== 'postback') return 'no-match';

  const eventAt = new Date(event.timestamp);
  // A reply token counts only on a channel that declares how long its tokens live.
  const replyTokenLifetimeMs = channelCapabilities(ctx, event.channel).replyTokenLifetimeMs;
  const session = new RunSession({
    ctx, tx, registry, contact, conversation,
    ...(event.replyToken && replyTokenLifetimeMs
      ? { replyToken: event.replyToken, replyTokenExpiresAt: new Date(eventAt.getTime() + replyTokenLifetimeMs) } : {}),
  });
  let running = await lockContactRun(tx, contact.id);
  if (running && isStale(registry, running)) {
    await endStale(session, running);
    running = null;
  }
  const best = candidates[0];
  let outcome: DispatchOutcome;

  if (running && running.waitingFor === 'answer' && (event.type === 'message' || event.type === 'postback') && !(best && interrupts(best))) {
    if (myCoupons) {
      // The question stays open: "my coupons" is answered and the contact can still reply.
      await answerMyCoupons(ctx, session, text!);
      outcome = 'my-coupons';
    } else {
      const answer = event.type === 'message' ? (event.text ?? null) : event.payload;
      await continueRun(session, running, { phase: 'answer', text: answer });
      outcome = 'answered';
    }
  } else if (best) {
    if (running && !interrupts(best)) {
      await recordDropped(session, best, running);
      outcome = 'dropped';
    } else {
      if (running) await interruptRun(session, running, best);
      await startRun(session, best);
      outcome = running ? 'interrupted' : 'started';
    }
  } else if (myCoupons) {
    await answerMyCoupons(ctx, session, text!);
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
async function answerMyCoupons(ctx: AppContext, session: RunSession, text: string): Promise<void> {
  const written = localeOfText(text);
  const locale = (written !== 'en' ? written : null) ?? matchLocale(session.contact.language) ?? written ?? ctx.config.DEFAULT_LOCALE;
  await session.send({ type: 'text', text: messages(locale).myCouponsReply({ url: myCouponsUrl(ctx, session.contact) }) });
}
