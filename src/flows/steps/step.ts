import type { OutboundMessage, QuickReply } from '../../../adapters/types.ts';
import type { Locale } from '../../i18n/locales.ts';
import type { Value } from '../expression.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { resolveName } from '../scope.ts';
import { renderTemplate } from '../template.ts';

/** What a step is given: its first entry, an answer to an ask, a wait's wake-up, or a coupon's outcome. */
export type StepInput =
  | { phase: 'enter' }
  | { phase: 'answer'; text: string | null }
  | { phase: 'resume' }
  | { phase: 'coupon'; result: CouponOutcome };

export type CouponOutcome =
  | { ok: true; name: string; pageUrl: string; deadline: string }
  | { ok: false; code: string; message: string; refusalText: string | null; /** The language of our default refusal. */ locale?: Locale };

export type Next =
  | { kind: 'advance' }
  | { kind: 'branch'; branch: 'then' | 'else' }
  | { kind: 'await'; for: 'answer' | 'resume' | 'coupon' }
  | { kind: 'goto'; flowId: string }
  | { kind: 'end'; status: 'done' | 'handoff' };

/** What the runner does for a step: the step itself never touches the database or the network. */
export type Effect =
  | { type: 'send'; message: OutboundMessage }
  | { type: 'issueCoupon'; campaign: string }
  | { type: 'save'; name: string; value: Value }
  | { type: 'tag'; tags: string[] }
  | { type: 'untag'; tags: string[] }
  | { type: 'handoff' }
  | { type: 'resumeAt'; at: Date };

/** How the step run is recorded: `completed`, `refused` and `exhausted` moved on. */
export type StepOutcome = 'completed' | 'waiting' | 'retry' | 'refused' | 'exhausted';

export interface StepOutput {
  next: Next;
  state: RunState;
  effects: Effect[];
  outcome: StepOutcome;
}

export const done = (state: RunState, effects: Effect[] = [], next: Next = { kind: 'advance' }): StepOutput =>
  ({ next, state, effects, outcome: 'completed' });

export function render(text: string, env: StepEnv, state: RunState): string {
  return renderTemplate(text, env.text ?? env.channel, (name) => resolveName(name, env, state));
}

export function textMessage(text: string, quickReplies?: QuickReply[], imageUrl?: string): OutboundMessage {
  return {
    type: 'text', text,
    ...(imageUrl ? { imageUrl } : {}),
    ...(quickReplies && quickReplies.length > 0 ? { quickReplies } : {}),
  };
}

export class UnexpectedInput extends Error {
  constructor(step: string, phase: string) {
    super(`the ${step} step cannot take "${phase}"`);
  }
}
