import type { Step } from '../types.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { done, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type WaitStep = Extract<Step, { type: 'wait' }>;

/** `10s`, `10m`, `2h`, `3d` in milliseconds, or null. */
export function parseDuration(text: string): number | null {
  const m = /^([1-9][0-9]{0,5})\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Enter: ask the runner to wake the run later. Resume: go on. */
export function wait(step: WaitStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase === 'enter') {
    return {
      next: { kind: 'await', for: 'resume' }, state,
      effects: [{ type: 'resumeAt', at: new Date(env.now.getTime() + step.ms) }], outcome: 'waiting',
    };
  }
  if (input.phase !== 'resume') throw new UnexpectedInput('wait', input.phase);
  return done(state);
}
