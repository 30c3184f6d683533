import type { Step } from './types.ts';

/**
 * A step's address inside its flow: indexes joined by the branch taken, e.g. `2`, `2.then.0`,
 * `1.else.3`. Stored on the run as its pointer and on every step record.
 */
type Branch = 'then' | 'else';

function parse(path: string): Array<number | Branch> {
  return path.split('.').map((s) => (s === 'then' || s === 'else' ? s : Number(s)));
}

function children(step: Step, branch: Branch): Step[] | undefined {
  if (branch === 'then') return step.type === 'if' ? step.then : undefined;
  return step.type === 'if' || step.type === 'coupon' || step.type === 'ask' ? step.else : undefined;
}

export function stepAt(steps: Step[], path: string): Step | null {
  const segs = parse(path);
  let list: Step[] | undefined = steps;
  let step: Step | null = null;
  for (let i = 0; i < segs.length; i += 2) {
    const idx = segs[i];
    if (typeof idx !== 'number' || !list || !Number.isInteger(idx)) return null;
    step = list[idx] ?? null;
    if (!step) return null;
    const branch = segs[i + 1];
    if (branch === undefined) break;
    if (typeof branch !== 'string') return null;
    list = children(step, branch);
  }
  return step;
}

/** The step after `path` in reading order (leaving branches as they end), or null at the end. */
export function nextPath(steps: Step[], path: string): string | null {
  const segs = path.split('.');
  for (;;) {
    const last = Number(segs[segs.length - 1]);
    const candidate = [...segs.slice(0, -1), String(last + 1)].join('.');
    if (stepAt(steps, candidate)) return candidate;
    if (segs.length === 1) return null;
    segs.splice(-2, 2);
  }
}

/** The first step of a branch, or (an empty branch) the step after `path`. */
export function branchPath(steps: Step[], path: string, branch: Branch): string | null {
  const first = `${path}.${branch}.0`;
  return stepAt(steps, first) ? first : nextPath(steps, path);
}

/** Every step of a flow in reading order. */
export function allSteps(steps: Step[], prefix = ''): Array<{ path: string; step: Step }> {
  const out: Array<{ path: string; step: Step }> = [];
  steps.forEach((step, i) => {
    const path = `${prefix}${i}`;
    out.push({ path, step });
    for (const branch of ['then', 'else'] as const) {
      const sub = children(step, branch);
      if (sub) out.push(...allSteps(sub, `${path}.${branch}.`));
    }
  });
  return out;
}
