import type { ChannelName } from '../../adapters/types.ts';
import type { Expr } from './expression.ts';

export type CouponEventName = 'redeemed' | 'expiring' | 'expired';

export type Trigger =
  | { type: 'follow' }
  | { type: 'keyword'; keywords: string[]; /** The keywords as messages are compared with them (normaliseText). */ normalised: string[] }
  | { type: 'pattern'; pattern: string; regex: RegExp }
  | { type: 'postback'; payload: string }
  | { type: 'ref'; ref: string }
  | { type: 'coupon'; event: CouponEventName; campaign: string };

export interface SayQuickReply {
  label: string;
  payload?: string;
}

export type Step =
  | { type: 'say'; text: string; image?: string; quickReplies?: SayQuickReply[] }
  | { type: 'coupon'; campaign: string; else?: Step[] }
  | {
    type: 'ask'; ask: string; expect: AskExpect; choices?: string[]; save: string; retry?: string; retries: number;
    min?: number; max?: number; else?: Step[];
  }
  | { type: 'if'; source: string; expr: Expr; then: Step[]; else: Step[] }
  | { type: 'wait'; source: string; ms: number }
  | { type: 'tag'; tags: string[] }
  | { type: 'untag'; tags: string[] }
  | { type: 'handoff'; text?: string }
  | { type: 'goto'; flowId: string };

export type StepType = Step['type'];
export const stepTypes: readonly StepType[] = ['say', 'coupon', 'ask', 'if', 'wait', 'tag', 'untag', 'handoff', 'goto'];

export type AskExpect = 'text' | 'number' | 'email' | 'phone' | 'choice';

export interface Flow {
  id: string;
  name?: string;
  /** null: every channel. */
  channels: ChannelName[] | null;
  /** As written; undefined means the trigger type's default. */
  interrupt?: boolean;
  trigger: Trigger;
  steps: Step[];
  /** The file it came from, relative to the flows directory. */
  file: string;
}

/** Keyword, postback and ref triggers interrupt a running flow unless the flow says otherwise. */
export function interrupts(flow: Flow): boolean {
  if (flow.interrupt !== undefined) return flow.interrupt;
  return flow.trigger.type === 'keyword' || flow.trigger.type === 'postback' || flow.trigger.type === 'ref';
}
