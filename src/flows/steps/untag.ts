import type { Step } from '../types.ts';
import type { RunState } from '../scope.ts';
import { done, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type UntagStep = Extract<Step, { type: 'untag' }>;

export function untag(step: UntagStep, state: RunState, input: StepInput): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('untag', input.phase);
  return done(state, [{ type: 'untag', tags: step.tags }]);
}
