import type { Step } from '../types.ts';
import type { RunState } from '../scope.ts';
import { done, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type TagStep = Extract<Step, { type: 'tag' }>;

export function tag(step: TagStep, state: RunState, input: StepInput): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('tag', input.phase);
  return done(state, [{ type: 'tag', tags: step.tags }]);
}
