import type { Step } from '../types.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { done, render, textMessage, UnexpectedInput, type StepInput, type StepOutput } from './step.ts';

type SayStep = Extract<Step, { type: 'say' }>;

export function say(step: SayStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('say', input.phase);
  const quickReplies = step.quickReplies?.map((q) => ({ label: q.label, ...(q.payload !== undefined ? { payload: q.payload } : {}) }));
  return done(state, [{ type: 'send', message: textMessage(render(step.text, env, state), quickReplies, step.image) }]);
}
