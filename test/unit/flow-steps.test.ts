import { describe, expect, it } from '@jest/globals';
import { parseExpression } from '../../src/flows/expression.ts';
import { branchPath, nextPath, stepAt } from '../../src/flows/paths.ts';
import type { RunState, StepEnv } from '../../src/flows/scope.ts';
import { ask, validateAnswer } from '../../src/flows/steps/ask.ts';
import { coupon } from '../../src/flows/steps/coupon.ts';
import { goto } from '../../src/flows/steps/goto.ts';
import { handoff } from '../../src/flows/steps/handoff.ts';
import { ifStep } from '../../src/flows/steps/if.ts';
import { say } from '../../src/flows/steps/say.ts';
import { tag } from '../../src/flows/steps/tag.ts';
import { untag } from '../../src/flows/steps/untag.ts';
import { parseDuration, wait } from '../../src/flows/steps/wait.ts';
import { escapeFor, renderTemplate } from '../../src/flows/template.ts';
import type { Step } from '../../src/flows/types.ts';

const now = new Date('2026-07-15T10:00:00Z');
const env = (over: Partial<StepEnv> = {}): StepEnv => ({
  now, timeZone: 'Asia/Taipei', channel: 'line', locale: 'en',
  contact: { displayName: 'Mei', language: null, tags: ['vip'], attributes: { city: 'Taipei' } },
  ...over,
});
const state = (over: Partial<RunState> = {}): RunState => ({ vars: {}, ...over });
const enter = { phase: 'enter' } as const;

describe('say', () => {
  it('renders placeholders and keeps quick replies and image', () => {
    const out = say({ type: 'say', text: 'Hi {{contact.displayName}} from {{city}}: {{coupon.pageUrl}}', image: 'https://img.test/a.png', quickReplies: [{ label: 'Yes', payload: 'YES' }, { label: 'No' }] },
      state({ coupon: { name: 'W', pageUrl: 'http://c.test/c/tok', deadline: '2026-07-31 23:59 (Asia/Taipei)' } }), enter, env());
    expect(out.next).toEqual({ kind: 'advance' });
    expect(out.outcome).toBe('completed');
    expect(out.effects).toEqual([{ type: 'send', message: {
      type: 'text', text: 'Hi Mei from Taipei: http://c.test/c/tok', imageUrl: 'https://img.test/a.png',
      quickReplies: [{ label: 'Yes', payload: 'YES' }, { label: 'No' }],
    } }]);
  });

  it('strips control characters from values but keeps the text around them', () => {
    const out = say({ type: 'say', text: 'Hi {{contact.displayName}}\nbye' }, state(), enter, env({ contact: { displayName: 'M\u0000e\u001bi\u0007', language: null, tags: [], attributes: {} } }));
    expect(out.effects[0]).toEqual({ type: 'send', message: { type: 'text', text: 'Hi Mei\nbye' } });
  });

  it("cuts a text to the channel's limit with …, never between the halves of an emoji", () => {
    const x = (n: number) => 'x'.repeat(n);
    const cut = (channel: 'line' | 'messenger', value: string) => renderTemplate('{{v}}', channel, () => value);
    expect(cut('messenger', x(2000))).toBe(x(2000));
    expect(cut('messenger', `${x(1999)}ab`)).toBe(`${x(1999)}…`);
    // The emoji's two halves sit at 1998 and 1999: the cut goes before it, not between them.
    const emoji = cut('messenger', `${x(1998)}😀z`);
    expect(emoji).toBe(`${x(1998)}…`);
    expect(emoji.length).toBe(1999);
    expect(cut('line', `${x(1998)}😀z`)).toBe(`${x(1998)}😀z`);
    expect(cut('line', x(5001))).toBe(`${x(4999)}…`);
  });

  it('removes lone surrogates for the inbox (JSON)', () => {
    expect(escapeFor('inbox', 'a\ud800b😀')).toBe('ab😀');
    expect(escapeFor('line', 'a\tb')).toBe('a\tb');
  });
});

describe('coupon', () => {
  const step: Extract<Step, { type: 'coupon' }> = { type: 'coupon', campaign: 'welcome-10' };
  it('asks the runner to issue, then remembers the coupon for templates', () => {
    const first = coupon(step, state(), enter, env());
    expect(first.effects).toEqual([{ type: 'issueCoupon', campaign: 'welcome-10' }]);
    expect(first.next).toEqual({ kind: 'await', for: 'coupon' });
    const after = coupon(step, first.state, { phase: 'coupon', result: { ok: true, name: 'Welcome', pageUrl: 'http://c/1', deadline: 'D' } }, env());
    expect(after.state.coupon).toEqual({ name: 'Welcome', pageUrl: 'http://c/1', deadline: 'D' });
    expect(after.next).toEqual({ kind: 'advance' });
    expect(after.effects).toEqual([]);
  });

  it('branches to else when refused and the step has one', () => {
    const out = coupon({ ...step, else: [{ type: 'say', text: 'no' }] }, state(), { phase: 'coupon', result: { ok: false, code: 'sold_out', message: 'x', refusalText: null } }, env());
    expect(out.next).toEqual({ kind: 'branch', branch: 'else' });
    expect(out.outcome).toBe('refused');
    expect(out.effects).toEqual([]);
  });

  it("sends the campaign's refusal text, or a default per reason", () => {
    const own = coupon(step, state(), { phase: 'coupon', result: { ok: false, code: 'sold_out', message: 'x', refusalText: 'All gone, {{contact.displayName}}!' } }, env());
    expect(own.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'All gone, Mei!' } }]);
    const dflt = coupon(step, state(), { phase: 'coupon', result: { ok: false, code: 'limit_reached', message: 'x', refusalText: null } }, env());
    expect(dflt.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'You already have this coupon.' } }]);
    const unreachable = coupon(step, state(), { phase: 'coupon', result: { ok: false, code: 'chat_inactive', message: 'x', refusalText: 'x' } }, env());
    expect(unreachable.effects).toEqual([]);
  });
});

describe('ask', () => {
  const step: Extract<Step, { type: 'ask' }> = { type: 'ask', ask: 'Month?', expect: 'number', min: 1, max: 12, save: 'birthMonth', retries: 1, retry: 'A number 1-12 please' };

  it('sends the question and waits', () => {
    const out = ask(step, state(), enter, env());
    expect(out.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'Month?' } }]);
    expect(out.next).toEqual({ kind: 'await', for: 'answer' });
    expect(out.state.askTries).toBe(0);
  });

  it('saves a valid answer (full-width digits too)', () => {
    const out = ask(step, state({ askTries: 1 }), { phase: 'answer', text: '７' }, env());
    expect(out.effects).toEqual([{ type: 'save', name: 'birthMonth', value: 7 }]);
    expect(out.state).toEqual({ vars: { birthMonth: 7 } });
    expect(out.next).toEqual({ kind: 'advance' });
  });

  it('retries, then gives up to else (or goes on)', () => {
    const first = ask(step, state({ askTries: 0 }), { phase: 'answer', text: '13' }, env());
    expect(first.outcome).toBe('retry');
    expect(first.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'A number 1-12 please' } }]);
    expect(first.state.askTries).toBe(1);
    const second = ask(step, first.state, { phase: 'answer', text: 'july' }, env());
    expect(second.outcome).toBe('exhausted');
    expect(second.next).toEqual({ kind: 'advance' });
    expect(second.state.askTries).toBeUndefined();
    const withElse = ask({ ...step, else: [{ type: 'say', text: 'bye' }] }, first.state, { phase: 'answer', text: null }, env());
    expect(withElse.next).toEqual({ kind: 'branch', branch: 'else' });
  });

  it('offers choices as quick replies and matches them loosely', () => {
    const choice: Extract<Step, { type: 'ask' }> = { type: 'ask', ask: 'Size?', expect: 'choice', choices: ['Small', 'Large'], save: 'size', retries: 2 };
    expect(ask(choice, state(), enter, env()).effects[0]).toEqual({ type: 'send', message: { type: 'text', text: 'Size?', quickReplies: [{ label: 'Small' }, { label: 'Large' }] } });
    expect(ask(choice, state(), { phase: 'answer', text: ' ＬＡＲＧＥ ' }, env()).effects).toEqual([{ type: 'save', name: 'size', value: 'Large' }]);
  });

  it.each([
    ['text', 'hello', 'hello'], ['text', '   ', null],
    ['email', 'Mei@Example.com', 'mei@example.com'], ['email', 'mei@', null],
    ['phone', '+886 912-345-678', '+886912345678'], ['phone', '12ab', null],
    ['number', '1,000', 1000], ['number', '1e3', null],
  ] as const)('validates %s %j', (expect_, raw, value) => {
    expect(validateAnswer({ expect: expect_ }, raw)).toBe(value);
  });
});

describe('if', () => {
  const step = (src: string): Extract<Step, { type: 'if' }> => ({ type: 'if', source: src, expr: parseExpression(src), then: [], else: [] });
  it('branches on saved values, tags and the clock passed in', () => {
    expect(ifStep(step("'vip' in tags"), state(), enter, env()).next).toEqual({ kind: 'branch', branch: 'then' });
    expect(ifStep(step('birthMonth == now.month'), state({ vars: { birthMonth: 7 } }), enter, env()).next).toEqual({ kind: 'branch', branch: 'then' });
    expect(ifStep(step('birthMonth == now.month'), state({ vars: { birthMonth: 7 } }), enter, env({ now: new Date('2026-07-31T17:00:00Z') })).next)
      .toEqual({ kind: 'branch', branch: 'else' }); // already August 1st in Taipei
    expect(ifStep(step("city == 'Taipei' and contact.city == 'Taipei'"), state(), enter, env()).next).toEqual({ kind: 'branch', branch: 'then' });
  });

  it('branches on the contact\'s language, named as one of ours when it maps to one', () => {
    const withLanguage = (language: string | null) => env({ contact: { displayName: 'Mei', language, tags: [], attributes: {} } });
    const branch = (src: string, language: string | null) => ifStep(step(src), state(), enter, withLanguage(language)).next;
    expect(branch('contact.language == "zh-TW"', 'zh-Hant')).toEqual({ kind: 'branch', branch: 'then' });
    expect(branch('contact.language == "ja"', 'ja-JP')).toEqual({ kind: 'branch', branch: 'then' });
    expect(branch('contact.language == "ja"', 'th')).toEqual({ kind: 'branch', branch: 'else' });
    expect(branch('contact.language == "ko"', 'ko')).toEqual({ kind: 'branch', branch: 'then' });
    expect(branch('contact.language == ""', null)).toEqual({ kind: 'branch', branch: 'then' });
  });
});

describe('texts the service writes itself', () => {
  it('speaks the contact\'s language in refusals and retries; the marketer\'s texts stay as written', () => {
    const ja = env({ locale: 'ja' });
    const refused = coupon({ type: 'coupon', campaign: 'x' }, state(), { phase: 'coupon', result: { ok: false, code: 'sold_out', message: 'sold out', refusalText: null } }, ja);
    expect(refused.effects).toEqual([{ type: 'send', message: { type: 'text', text: '申し訳ございません。このクーポンの配布は終了しました。' } }]);
    const byCampaign = coupon({ type: 'coupon', campaign: 'x' }, state(), { phase: 'coupon', result: { ok: false, code: 'limit_reached', message: 'x', refusalText: null, locale: 'th' } }, ja);
    expect(byCampaign.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'คุณได้รับคูปองนี้ไปแล้ว' } }]);
    const own = coupon({ type: 'coupon', campaign: 'x' }, state(), { phase: 'coupon', result: { ok: false, code: 'sold_out', message: 'x', refusalText: 'All gone!' } }, ja);
    expect(own.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'All gone!' } }]);
    const retry = ask({ type: 'ask', ask: '何月ですか？', expect: 'number', save: 'm', retries: 1 }, state(), { phase: 'answer', text: 'abc' }, env({ locale: 'zh-TW' }));
    expect(retry.effects).toEqual([{ type: 'send', message: { type: 'text', text: '請輸入數字。' } }]);
  });
});

describe('wait', () => {
  it('schedules its wake-up from the clock passed in, then goes on', () => {
    const out = wait({ type: 'wait', source: '2h', ms: parseDuration('2h')! }, state(), enter, env());
    expect(out.effects).toEqual([{ type: 'resumeAt', at: new Date('2026-07-15T12:00:00Z') }]);
    expect(out.next).toEqual({ kind: 'await', for: 'resume' });
    expect(wait({ type: 'wait', source: '2h', ms: 7_200_000 }, state(), { phase: 'resume' }, env()).next).toEqual({ kind: 'advance' });
  });

  it('parses durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('3d')).toBe(259_200_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('0m')).toBeNull();
    expect(parseDuration('1w')).toBeNull();
  });
});

describe('tag, untag, handoff, goto', () => {
  it('produce their effects and next', () => {
    expect(tag({ type: 'tag', tags: ['a', 'b'] }, state(), enter).effects).toEqual([{ type: 'tag', tags: ['a', 'b'] }]);
    expect(untag({ type: 'untag', tags: ['a'] }, state(), enter).effects).toEqual([{ type: 'untag', tags: ['a'] }]);
    const h = handoff({ type: 'handoff', text: 'An agent will help, {{contact.displayName}}' }, state(), enter, env());
    expect(h.effects).toEqual([{ type: 'send', message: { type: 'text', text: 'An agent will help, Mei' } }, { type: 'handoff' }]);
    expect(h.next).toEqual({ kind: 'end', status: 'handoff' });
    expect(handoff({ type: 'handoff' }, state(), enter, env()).effects).toEqual([{ type: 'handoff' }]);
    expect(goto({ type: 'goto', flowId: 'other' }, state(), enter).next).toEqual({ kind: 'goto', flowId: 'other' });
  });
});

describe('step paths', () => {
  const steps: Step[] = [
    { type: 'say', text: '0' },
    { type: 'if', source: 'x', expr: parseExpression('x'), then: [{ type: 'say', text: '1.then.0' }, { type: 'say', text: '1.then.1' }], else: [] },
    { type: 'coupon', campaign: 'c', else: [{ type: 'say', text: '2.else.0' }] },
  ];
  it('walks into branches and back out', () => {
    expect(stepAt(steps, '1.then.1')).toEqual({ type: 'say', text: '1.then.1' });
    expect(nextPath(steps, '0')).toBe('1');
    expect(nextPath(steps, '1.then.0')).toBe('1.then.1');
    expect(nextPath(steps, '1.then.1')).toBe('2');
    expect(nextPath(steps, '2.else.0')).toBeNull();
    expect(branchPath(steps, '1', 'else')).toBe('2');
    expect(branchPath(steps, '2', 'else')).toBe('2.else.0');
    expect(stepAt(steps, '9')).toBeNull();
  });
});
