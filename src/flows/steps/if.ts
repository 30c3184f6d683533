import { evaluate, truthy } from '../expression.ts';
import type { Step } from '../types.ts';
import { resolveName, type RunState, type StepEnv } from '../scope.ts';
import { done, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type IfStep = Extract<Step, { type: 'if' }>;

export function ifStep(step: IfStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('if', input.phase);
  const yes = truthy(evaluate(step.expr, (name) => resolveName(name, env, state)));
  return done(state, [], { kind: 'branch', branch: yes ? 'then' : 'else' });
}
