import type { Step } from '../types.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { done, render, textMessage, UnexpectedInput, type StepInput, type StepOutput, type Effect } from './step.ts';

type HandoffStep = Extract<Step, { type: 'handoff' }>;

/** Tells the contact (when there is a text), marks the conversation for an agent, ends the run. */
export function handoff(step: HandoffStep, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  if (input.phase !== 'enter') throw new UnexpectedInput('handoff', input.phase);
  const effects: Effect[] = [];
  if (step.text) effects.push({ type: 'send', message: textMessage(render(step.text, env, state)) });
  effects.push({ type: 'handoff' });
  return done(state, effects, { kind: 'end', status: 'handoff' });
}
