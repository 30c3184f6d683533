import type { Step } from '../types.ts';
import type { RunState } from '../scope.ts';
import { done, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type GotoStep = Extract<Step, { type: 'goto' }>;

export function goto(step: GotoStep, state: RunState, input: StepInput): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('goto', input.phase);
  return done(state, [], { kind: 'goto', flowId: step.flowId });
}
