import { describe, expect, it } from '@jest/globals';
import { formatError, parseFlowFile } from '../../src/flows/loader.ts';
import { validateFiles } from '../../src/flows/registry.ts';
import type { Flow } from '../../src/flows/types.ts';

const errorsOf = (text: string, file = 'f.yaml') => parseFlowFile(`flows/${file}`, file, text).errors.map(formatError);

describe('flow files: errors carry file:line:column', () => {
  it('accepts the smallest flow of the contract', () => {
    const parsed = parseFlowFile('flows/welcome.yaml', 'welcome.yaml', [
      'id: welcome',
      'trigger: { follow: true }',
      'steps:',
      '  - say: "Welcome! Here is a gift."',
      '  - coupon: welcome-10      # a campaign slug: issue it and send its card',
      '',
    ].join('\n'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.flows).toEqual([{
      id: 'welcome', channels: null, trigger: { type: 'follow' }, file: 'welcome.yaml',
      steps: [{ type: 'say', text: 'Welcome! Here is a gift.' }, { type: 'coupon', campaign: 'welcome-10' }],
    }]);
    expect(parsed.slugs).toEqual([{ value: 'welcome-10', line: 5, col: 13 }]);
  });

  it('reports bad YAML where the parser stopped', () => {
    expect(errorsOf('id: a\ntrigger: { follow: true\nsteps:\n')).toEqual([
      'flows/f.yaml:3:1: YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    expect(errorsOf('id: a\nid: b\n')).toEqual(['flows/f.yaml:2:1: YAML: Map keys must be unique']);
  });

  it('points at an unknown step, an unknown key, a bad value', () => {
    expect(errorsOf([
      'id: a',                        // 1
      'trigger: { keyword: hi }',     // 2
      'steps:',                       // 3
      '  - say: hi',                  // 4
      '  - shout: hi',                // 5
      '  - ask: Month?',              // 6
      '    expect: number',           // 7
      '    save: month',              // 8
      '    colour: red',              // 9
      '  - wait: 5 years',            // 10
      '  - tag: ""',                  // 11
      'extra: 1',                     // 12
    ].join('\n'))).toEqual([
      'flows/f.yaml:5:5: unknown step "shout": expected one of say, coupon, ask, if, wait, tag, untag, handoff, goto',
      'flows/f.yaml:9:5: unknown key "colour" in an ask step',
      'flows/f.yaml:10:11: wait: must be a duration such as 30s, 10m, 2h or 3d',
      'flows/f.yaml:11:10: tag: must not be empty',
      'flows/f.yaml:12:1: unknown key "extra" in a flow',
    ]);
  });

  it('checks triggers: exactly one, regexes that compile', () => {
    expect(errorsOf('id: a\ntrigger: { follow: true, keyword: hi }\nsteps: [{ say: x }]\n'))
      .toEqual(['flows/f.yaml:2:10: trigger: give only one of follow, keyword']);
    expect(errorsOf('id: a\ntrigger:\n  pattern: "(unclosed"\nsteps: [{ say: x }]\n'))
      .toEqual(['flows/f.yaml:3:12: pattern: the regex does not compile: Invalid regular expression: /(unclosed/iu: Unterminated group']);
  });

  it('limits quick replies to 13 and labels to 20 characters', () => {
    const many = Array.from({ length: 14 }, (_, i) => `q${i}`).join(', ');
    expect(errorsOf(`id: a\ntrigger: { follow: true }\nsteps:\n  - say:\n      text: hi\n      quickReplies: [${many}]\n`))
      .toEqual(['flows/f.yaml:6:21: quickReplies: at most 13 quick replies']);
    expect(errorsOf('id: a\ntrigger: { follow: true }\nsteps:\n  - say:\n      text: hi\n      quickReplies:\n        - label: "this label is far too long"\n'))
      .toEqual(['flows/f.yaml:7:18: label: must be at most 20 characters (LINE\'s quick reply limit)']);
  });

  it('takes only https images (LINE and Messenger refuse others)', () => {
    expect(errorsOf('id: a\ntrigger: { follow: true }\nsteps:\n  - say:\n      text: hi\n      image: http://cdn.example/banner.png\n'))
      .toEqual(['flows/f.yaml:6:14: image: must be an https:// URL (LINE and Messenger show only https images)']);
    expect(errorsOf('id: a\ntrigger: { follow: true }\nsteps:\n  - say:\n      text: hi\n      image: https://cdn.example/banner.png\n')).toEqual([]);
  });

  it('points inside a one-line if expression', () => {
    expect(errorsOf('id: a\ntrigger: { follow: true }\nsteps:\n  - if: "birthMonth === 7"\n    then: [{ say: x }]\n'))
      .toEqual(['flows/f.yaml:4:21: if: use "==" instead of "==="']);
  });

  it('finds errors in nested branches', () => {
    expect(errorsOf('id: a\ntrigger: { follow: true }\nsteps:\n  - if: "x == 1"\n    then:\n      - coupon: Not_A_Slug\n')).toEqual([
      'flows/f.yaml:6:17: coupon: must be a campaign slug: lowercase letters, digits and dashes',
    ]);
  });
});

describe('flow files checked together', () => {
  const file = (name: string, text: string) => parseFlowFile(`flows/${name}`, name, text);
  it('refuses a duplicate id, a goto to nowhere and an unknown campaign', () => {
    const a = file('a.yaml', 'id: hello\ntrigger: { keyword: hi }\nsteps:\n  - goto: later\n');
    const b = file('b.yaml', 'id: hello\ntrigger: { keyword: yo }\nsteps:\n  - coupon: nope\n  - goto: nowhere\n');
    const c = file('c.yaml', 'id: later\ntrigger: { keyword: later }\nsteps:\n  - coupon: welcome-10\n');
    const states = validateFiles([a, b, c], new Map(), new Set(['welcome-10']));
    expect(states.get('a.yaml')!.errors).toEqual([]);
    expect(states.get('c.yaml')!.errors).toEqual([]);
    expect(states.get('b.yaml')!.errors.map(formatError)).toEqual([
      'flows/b.yaml:1:5: id: "hello" is already used by a flow in a.yaml',
      'flows/b.yaml:4:13: campaign "nope" does not exist (create it first: POST /api/v1/campaigns with "slug": "nope")',
      'flows/b.yaml:5:11: goto: there is no flow with id "nowhere"',
    ]);
    expect(states.get('b.yaml')!.flows).toEqual([]);
  });

  it('keeps the last good version of a file that turns bad, and refuses the edited file on a clash', () => {
    const good = file('a.yaml', 'id: a\ntrigger: { keyword: hi }\nsteps: [{ say: one }]\n');
    const first = validateFiles([good], new Map(), null);
    const previous = new Map<string, Flow[]>([['a.yaml', first.get('a.yaml')!.flows]]);
    const bad = file('a.yaml', 'id: a\ntrigger: { keyword: hi }\nsteps: [{ sya: one }]\n');
    const second = validateFiles([bad], previous, null);
    expect(second.get('a.yaml')!.errors.length).toBe(1);
    expect(second.get('a.yaml')!.flows.map((f) => f.steps)).toEqual([[{ type: 'say', text: 'one' }]]);
    // z.yaml sorts after a.yaml, but an edit to a.yaml that takes z's id is the one refused.
    const z = file('z.yaml', 'id: zed\ntrigger: { keyword: z }\nsteps: [{ say: z }]\n');
    const withZ = new Map<string, Flow[]>([...previous, ['z.yaml', validateFiles([z], new Map(), null).get('z.yaml')!.flows]]);
    const clash = file('a.yaml', 'id: zed\ntrigger: { keyword: hi }\nsteps: [{ say: two }]\n');
    const third = validateFiles([clash, z], withZ, null);
    expect(third.get('a.yaml')!.errors.map(formatError)).toEqual(['flows/a.yaml:1:5: id: "zed" is already used by a flow in z.yaml']);
    expect(third.get('z.yaml')!.errors).toEqual([]);
  });
});
