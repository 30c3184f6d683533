import type { Locale } from '../../i18n/locales.ts';
import { messages } from '../../i18n/messages.ts';
import type { Step } from '../types.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { done, render, textMessage, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type CouponStep = Extract<Step, { type: 'coupon' }>;

/** What a contact reads when a coupon is refused and neither the flow nor the campaign says more. */
export function defaultRefusalText(locale: Locale, code: string): string {
  const m = messages(locale);
  switch (code) {
    case 'sold_out': return m.refusedSoldOut;
    case 'limit_reached': return m.refusedLimitReached;
    case 'outside_sending_period': case 'campaign_paused': return m.refusedOutsidePeriod;
    default: return m.refusedOther;
  }
}

/**
 * Enter: ask the runner to issue the coupon (its card goes out with it). Then, with the outcome:
 * remember the coupon for `{{coupon.…}}`, or branch to `else`, or send the campaign's refusal text.
 */
export function coupon(step: CouponStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase === 'enter') {
    return { next: { kind: 'await', for: 'coupon' }, state, effects: [{ type: 'issueCoupon', campaign: step.campaign }], outcome: 'waiting' };
  }
  if (input.phase !== 'coupon') throw new UnexpectedInput('coupon', input.phase);
  const r = input.result;
  if (r.ok) return done({ ...state, coupon: { name: r.name, pageUrl: r.pageUrl, deadline: r.deadline } });
  if (step.else && step.else.length > 0) return { next: { kind: 'branch', branch: 'else' }, state, effects: [], outcome: 'refused' };
  // The campaign's own text is the marketer's and shown as written; ours is in the contact's language.
  const text = r.refusalText ?? defaultRefusalText(r.locale ?? env.locale, r.code);
  // A contact who cannot be reached (or is outside Messenger's window) cannot be told either.
  const reachable = r.code !== 'contact_unreachable' && r.code !== 'chat_inactive';
  return {
    next: { kind: 'advance' }, state,
    effects: reachable ? [{ type: 'send', message: textMessage(render(text, env, state)) }] : [],
    outcome: 'refused',
  };
}
