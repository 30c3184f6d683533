import type { Step } from '../types.ts';
import type { RunState, StepEnv } from '../scope.ts';
import { ask } from './ask.ts';
import { coupon } from './coupon.ts';
import { goto } from './goto.ts';
import { handoff } from './handoff.ts';
import { ifStep } from './if.ts';
import { say } from './say.ts';
import type { StepInput, StepOutput } from './step.ts';
import { tag } from './tag.ts';
import { untag } from './untag.ts';
import { wait } from './wait.ts';

/** The one dispatcher: a step is a pure function of (step, state, input, env). */
export function executeStep(step: Step, state: RunState, input: StepInput, env: StepEnv): StepOutput {
  switch (step.type) {
    case 'say': return say(step, state, input, env);
    case 'coupon': return coupon(step, state, input, env);
    case 'ask': return ask(step, state, input, env);
    case 'if': return ifStep(step, state, input, env);
    case 'wait': return wait(step, state, input, env);
    case 'tag': return tag(step, state, input);
    case 'untag': return untag(step, state, input);
    case 'handoff': return handoff(step, state, input, env);
    case 'goto': return goto(step, state, input);
  }
}
