import { api } from '../shared/api.ts';
import type { FlowJson, FlowsJson } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { num } from '../shared/format.ts';

/**
 * The flows view, for a marketer: each flow's trigger and steps in words (what it says, which
 * coupon it gives, where it waits), how many contacts reached each step as a funnel, and files the
 * service refused, said as what to do about them.
 */
type StepJson = FlowJson['steps'][number];
type Problem = FlowsJson['problems'][number];
type Trigger = NonNullable<FlowJson['trigger']>;

let campaigns: Record<string, string> = {};
/** Channel names as people read them (`LINE`), from the service's channel plug-ins. */
let channelLabels: Record<string, string> = {};

export function setupFlows(): void {
  byId('flows-refresh').addEventListener('click', () => void loadFlows());
  byId('flows-reload').addEventListener('click', () => void loadFlows(true));
}

export async function loadFlows(reload = false): Promise<void> {
  const line = byId('flows-error');
  line.textContent = '';
  byId('flows-reloaded').textContent = '';
  const button = byId<HTMLButtonElement>('flows-reload');
  button.disabled = true;
  const r = await api<FlowsJson>(reload ? '/api/v1/flows/reload' : '/api/v1/flows', reload ? { method: 'POST' } : {});
  button.disabled = false;
  const box = byId('flows');
  const errors = byId('flows-errors');
  const errorList = errors.querySelector('ul')!;
  if (!r.ok) {
    line.textContent = r.error.code === 'unavailable'
      ? 'The flows are not running in this service, so there is nothing to show. Check the service’s start-up lines.'
      : `${reload ? 'The flow files could not be read again' : 'The flows could not be shown'}: ${r.error.message}`;
    return;
  }
  box.textContent = '';
  errorList.textContent = '';
  campaigns = r.body.campaigns;
  channelLabels = r.body.channelLabels;
  if (!r.body.flows.length) box.append(el('p', 'No flows yet: the flows folder has no flow files.', 'muted'));
  for (const f of r.body.flows) box.append(flowBlock(f, r.body.problems.filter((p) => p.file === f.file)));
  // Files refused as a whole (no flow could be read from them) are listed below the flows.
  const shown = new Set(r.body.flows.map((f) => f.file));
  for (const p of r.body.problems.filter((x) => !shown.has(x.file))) errorList.append(el('li', problemText(p)));
  show(errors, errorList.children.length > 0);
  if (reload) byId('flows-reloaded').textContent = 'The flow files were read again.';
}

/** A refused file's reason, said as what to do. */
export function problemText(p: Problem): string {
  const where = `${p.file}, line ${p.line}`;
  if (p.missingCampaign) {
    return `${where}: the campaign “${p.missingCampaign}” does not exist yet. Create a campaign with the slug “${p.missingCampaign}” (New campaign), then press “Read files again”.`;
  }
  return `${where}, column ${p.col}: ${p.message}.`.replace(/\.\.$/, '.');
}

function quote(s: string): string {
  return `“${s}”`;
}

function list(items: readonly string[], last = 'or'): string {
  const q = items.map(quote);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} ${last} ${q[q.length - 1]}`;
}

function campaignWords(slug: string): string {
  const name = campaigns[slug];
  return name ? `${quote(name)} (${slug})` : `${quote(slug)} (no such campaign yet)`;
}

const couponEvents: Record<string, string> = {
  redeemed: 'is redeemed',
  expiring: 'is about to expire (the campaign’s reminder time)',
  expired: 'expires',
};

export function triggerText(t: Trigger | null): string {
  if (!t) return 'Not running: the file could not be read.';
  if ('follow' in t) return 'Starts when someone adds the account as a friend (or opens an inbox chat).';
  if ('keyword' in t) return `Starts when someone sends ${list(t.keyword)}.`;
  if ('pattern' in t) return `Starts when a message matches the pattern ${quote(t.pattern)}.`;
  if ('postback' in t) return `Starts when someone taps a button that sends ${quote(t.postback)}.`;
  if ('ref' in t) return `Starts when someone comes through a link tagged ${quote(t.ref)}.`;
  const c = t.coupon;
  return `Starts when a coupon of ${campaignWords(c.campaign)} ${couponEvents[c.event] ?? c.event}.`;
}

function channelsText(channels: readonly string[] | undefined): string {
  if (!channels) return 'On every channel.';
  return `Only on ${channels.map((c) => channelLabels[c] ?? c).join(', ')}.`;
}

/** `7200000` as "2 hours". */
export function durationText(ms: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${num(n)} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${num(ms / 1000)} seconds`;
}

function expectText(d: { expect: string; min?: number; max?: number; choices?: string[] }): string {
  switch (d.expect) {
    case 'number':
      if (d.min !== undefined && d.max !== undefined) return `a number from ${num(d.min)} to ${num(d.max)}`;
      if (d.min !== undefined) return `a number of at least ${num(d.min)}`;
      if (d.max !== undefined) return `a number of at most ${num(d.max)}`;
      return 'a number';
    case 'email': return 'an email address';
    case 'phone': return 'a phone number';
    case 'choice': return `one of ${list(d.choices ?? [])}`;
    default: return 'any text';
  }
}

/** What a step does, in a sentence. */
export function stepText(s: StepJson): string {
  const d = s.detail as Record<string, unknown>;
  switch (s.type) {
    case 'say': {
      let t = `Says ${quote(String(d.text))}`;
      if (d.image) t += ', with a picture';
      if (Array.isArray(d.quickReplies)) t += `, offering the answers ${list(d.quickReplies as string[])}`;
      return `${t}.`;
    }
    case 'coupon':
      return `Gives a coupon of ${campaignWords(String(d.campaign))} and sends its card.`;
    case 'ask': {
      const retries = Number(d.retries);
      return `Asks ${quote(String(d.text))} and waits for the answer: ${expectText(d as { expect: string })}, kept as “${String(d.save)}”`
        + `${retries > 0 ? ` (${retries} more ${retries === 1 ? 'try' : 'tries'} after a wrong answer)` : ''}.`;
    }
    case 'if': return `Checks whether ${String(d.condition)}.`;
    case 'wait': return `Waits ${durationText(Number(d.ms))}, then goes on.`;
    case 'tag': return `Tags the contact ${list(d.tags as string[], 'and')}.`;
    case 'untag': return `Removes the tag${(d.tags as string[]).length === 1 ? '' : 's'} ${list(d.tags as string[], 'and')} from the contact.`;
    case 'handoff': return `Hands the chat to a person (the bot stays quiet until an agent releases it)${d.text ? ` and says ${quote(String(d.text))}` : ''}.`;
    case 'goto': return `Goes on with the flow ${quote(String(d.flowId))}.`;
    default: return s.type;
  }
}

/** Where a step holds contacts: what it waits for, if anything. */
function waitsFor(s: StepJson): string | null {
  if (s.type === 'ask') return 'waits for an answer';
  if (s.type === 'wait') return 'waits for time';
  if (s.type === 'handoff') return 'waits for an agent';
  return null;
}

/** The label of the branch a step opens (`2.then.0`: the "yes" side of step 2). */
function branchLabel(path: string, byPath: Map<string, StepJson>): string | null {
  const m = /^(.*)\.(then|else)\.0$/.exec(path);
  if (!m) return null;
  const parent = byPath.get(m[1]!);
  if (m[2] === 'then') return 'If so:';
  if (parent?.type === 'coupon') return 'If the coupon cannot be given:';
  if (parent?.type === 'ask') return 'If no valid answer comes:';
  return 'Otherwise:';
}

function flowBlock(f: FlowJson, problems: Problem[]): HTMLElement {
  const d = el('div', null, 'flow');
  d.dataset.flow = f.id;
  const h = el('h3', `${f.name ?? f.id} `);
  h.append(el('span', f.loaded ? 'running' : 'not running', `badge ${f.loaded ? 'badge-yes' : 'badge-no'}`));
  d.append(h);
  const trigger = el('p', triggerText(f.trigger), 'trigger');
  trigger.dataset.field = 'trigger';
  d.append(trigger);
  const meta = el('p', `${f.trigger ? `${channelsText(f.channels)} ` : ''}File ${f.file}, flow id `, 'muted');
  meta.append(el('code', f.id));
  d.append(meta);
  if (problems.length) {
    const box = el('div', null, 'errors');
    box.dataset.field = 'problems';
    box.append(el('strong', f.loaded
      ? 'The file was changed and the change was refused; the version before it keeps running:'
      : 'This flow is not running:'));
    const ul = el('ul');
    for (const p of problems) ul.append(el('li', problemText(p)));
    box.append(ul);
    d.append(box);
  }
  if (f.steps.length) d.append(stepFunnel(f.steps));
  return d;
}

/** The steps in reading order, each with its sentence and a bar of the contacts that reached it. */
function stepFunnel(steps: StepJson[]): HTMLElement {
  const byPath = new Map(steps.map((s) => [s.path, s]));
  const top = Math.max(1, ...steps.map((s) => s.entered));
  const ol = el('ol', null, 'steps');
  for (const s of steps) {
    const label = branchLabel(s.path, byPath);
    const depth = s.path.split('.').length >> 1;
    if (label) {
      const li = el('li', label, 'branch');
      li.style.setProperty('--depth', String(depth));
      ol.append(li);
    }
    const li = el('li', null, 'step');
    li.dataset.step = s.path;
    li.style.setProperty('--depth', String(depth));
    const words = el('div', null, 'step-words');
    words.append(el('span', `${stepNumber(s.path)} `, 'step-no'), el('span', stepText(s), 'step-text'));
    const waits = waitsFor(s);
    if (waits) words.append(el('span', waits, 'badge'));
    const bar = el('div', null, 'step-bar');
    const fill = el('div', null, 'fill');
    fill.style.width = `${(s.entered / top) * 100}%`;
    bar.append(fill);
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', `${s.entered} of ${top}`);
    const stopped = Math.max(0, s.entered - s.completed - s.waiting);
    const counts = el('div', null, 'step-counts muted');
    const count = (key: string, n: number, text: string) => {
      const span = el('span', `${num(n)} ${text}`);
      span.dataset.count = key;
      counts.append(span);
    };
    count('entered', s.entered, s.entered === 1 ? 'contact reached this step' : 'contacts reached this step');
    count('completed', s.completed, 'went on');
    if (s.waiting) count('waiting', s.waiting, 'waiting here now');
    count('stopped', stopped, 'stopped here');
    li.append(words, bar, counts);
    ol.append(li);
  }
  return ol;
}

/** Top-level steps numbered from 1 as a person counts them; steps inside a branch get a bullet. */
function stepNumber(path: string): string {
  return path.includes('.') ? '•' : String(Number(path) + 1);
}
