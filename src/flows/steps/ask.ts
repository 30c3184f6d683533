import type { Locale } from '../../i18n/locales.ts';
import { messages } from '../../i18n/messages.ts';
import type { AskExpect, Step } from '../types.ts';
import type { Value } from '../expression.ts';
import { normaliseText } from '../normalise.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { done, render, textMessage, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type AskStep = Extract<Step, { type: 'ask' }>;

/** Our retry question when the flow has none, in the contact's language. */
function defaultRetry(locale: Locale, expect: AskExpect): string {
  const m = messages(locale);
  switch (expect) {
    case 'text': return m.askRetryText;
    case 'number': return m.askRetryNumber;
    case 'email': return m.askRetryEmail;
    case 'phone': return m.askRetryPhone;
    case 'choice': return m.askRetryChoice;
  }
}

/** Checks an answer against `expect`; the value to save, or null when it does not fit. */
export function validateAnswer(step: Pick<AskStep, 'expect' | 'choices' | 'min' | 'max'>, raw: string | null): Value {
  if (raw === null) return null;
  const text = raw.normalize('NFKC').trim();
  if (text === '') return null;
  switch (step.expect) {
    case 'text':
      return text.length <= 1000 ? text : null;
    case 'number': {
      const compact = text.replace(/[,\s]/g, '');
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(compact)) return null;
      const n = Number(compact);
      if (step.min !== undefined && n < step.min) return null;
      if (step.max !== undefined && n > step.max) return null;
      return n;
    }
    case 'email':
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text) && text.length <= 254 ? text.toLowerCase() : null;
    case 'phone': {
      const compact = text.replace(/[\s\-().]/g, '');
      return /^\+?[0-9]{6,15}$/.test(compact) ? compact : null;
    }
    case 'choice': {
      const wanted = normaliseText(text);
      return step.choices?.find((c) => normaliseText(c) === wanted) ?? null;
    }
  }
}

function question(step: AskStep, env: StepEnv, state: RunState, text: string) {
  const quickReplies = step.expect === 'choice' ? step.choices?.map((c) => ({ label: c })) : undefined;
  return textMessage(render(text, env, state), quickReplies);
}

/**
 * Enter: send the question and wait. Answer: save a valid one (on the contact and in the run);
 * else send the retry text and wait again, up to `retries` times, then take `else` (or go on).
 */
export function ask(step: AskStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase === 'enter') {
    return {
      next: { kind: 'await', for: 'answer' }, state: { ...state, askTries: 0 },
      effects: [{ type: 'send', message: question(step, env, state, step.ask) }], outcome: 'waiting',
    };
  }
  if (input.phase !== 'answer') throw new UnexpectedInput('ask', input.phase);
  const { askTries: _tries, ...rest } = state;
  const value = validateAnswer(step, input.text);
  if (value !== null) {
    return done({ ...rest, vars: { ...state.vars, [step.save]: value } }, [{ type: 'save', name: step.save, value }]);
  }
  const tries = (state.askTries ?? 0) + 1;
  if (tries <= step.retries) {
    return {
      next: { kind: 'await', for: 'answer' }, state: { ...state, askTries: tries },
      effects: [{ type: 'send', message: question(step, env, state, step.retry ?? defaultRetry(env.locale, step.expect)) }], outcome: 'retry',
    };
  }
  const next = step.else && step.else.length > 0 ? { kind: 'branch' as const, branch: 'else' as const } : { kind: 'advance' as const };
  return { next, state: rest, effects: [], outcome: 'exhausted' };
}
