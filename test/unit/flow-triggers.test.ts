import { describe, expect, it } from '@jest/globals';
import type { ChannelEvent } from '../../adapters/types.ts';
import { parseFlowFile } from '../../src/flows/loader.ts';
import { normaliseText } from '../../src/flows/normalise.ts';
import { eventRef, keywordClaimed, matchFlows } from '../../src/flows/triggers.ts';
import { interrupts, type Flow } from '../../src/flows/types.ts';

const flow = (file: string, yaml: string): Flow => {
  const p = parseFlowFile(file, file, yaml);
  if (p.errors.length) throw new Error(JSON.stringify(p.errors));
  return p.flows[0]!;
};
const base = { channel: 'line' as const, userId: 'U1', conversationId: 'U1', timestamp: '2026-01-01T00:00:00Z' };
const text = (t: string, extra: Partial<ChannelEvent> = {}): ChannelEvent => ({ ...base, eventId: 'e', type: 'message', kind: 'text', text: t, ...extra } as ChannelEvent);

describe('keyword normalisation', () => {
  it('folds width, case and spaces', () => {
    expect(normaliseText('ＭＹ　ＣＯＵＰＯＮＳ')).toBe('my coupons');
    expect(normaliseText('  My   Coupons \n')).toBe('my coupons');
    expect(normaliseText('我的優惠券')).toBe('我的優惠券');
    expect(normaliseText('ｂｉｒｔｈｄａｙ１２')).toBe('birthday12');
  });

  it('matches the whole message only', () => {
    const f = flow('k.yaml', 'id: k\ntrigger: { keyword: [Birthday] }\nsteps: [{ say: x }]\n');
    expect(matchFlows([f], text('ＢＩＲＴＨＤＡＹ')).map((x) => x.id)).toEqual(['k']);
    expect(matchFlows([f], text(' birthday ')).map((x) => x.id)).toEqual(['k']);
    expect(matchFlows([f], text('my birthday'))).toEqual([]);
    expect(keywordClaimed([f], 'birthday', 'line')).toBe(true);
    expect(keywordClaimed([f], 'birthday', 'messenger')).toBe(true);
  });
});

describe('specificity', () => {
  const flows = [
    flow('z-follow.yaml', 'id: follow\ntrigger: { follow: true }\nsteps: [{ say: x }]\n'),
    flow('b.yaml', 'id: pattern\ntrigger: { pattern: "^coupon" }\nsteps: [{ say: x }]\n'),
    flow('c.yaml', 'id: keyword-c\ntrigger: { keyword: coupon }\nsteps: [{ say: x }]\n'),
    flow('a.yaml', 'id: keyword-a\ntrigger: { keyword: [coupon, COUPON] }\nsteps: [{ say: x }]\n'),
    flow('p.yaml', 'id: postback\ntrigger: { postback: coupon }\nsteps: [{ say: x }]\n'),
    flow('r.yaml', 'id: ref\ntrigger: { ref: coupon }\nsteps: [{ say: x }]\n'),
    flow('m.yaml', 'id: messenger-only\nchannels: [messenger]\ntrigger: { keyword: coupon }\nsteps: [{ say: x }]\n'),
  ];

  it('orders postback/ref > keyword > pattern > follow, ties by file then id', () => {
    expect(matchFlows(flows, text('coupon', { quickReplyPayload: 'coupon' } as Partial<ChannelEvent>)).map((f) => f.id))
      .toEqual(['postback', 'keyword-a', 'keyword-c', 'pattern']);
    expect(matchFlows(flows, text('Coupons please')).map((f) => f.id)).toEqual(['pattern']);
    expect(matchFlows(flows, { ...base, eventId: 'f', type: 'follow', ref: 'coupon' }).map((f) => f.id)).toEqual(['ref', 'follow']);
    expect(matchFlows(flows, { ...base, channel: 'messenger', eventId: 'r', type: 'referral', ref: 'coupon' }).map((f) => f.id)).toEqual(['ref']);
    expect(matchFlows(flows, { ...base, channel: 'messenger', eventId: 'm', type: 'message', kind: 'text', text: 'coupon' }).map((f) => f.id))
      .toEqual(['keyword-a', 'keyword-c', 'messenger-only', 'pattern']);
  });

  it('lets keyword, postback and ref interrupt by default, not follow or pattern', () => {
    expect(flows.map((f) => [f.id, interrupts(f)])).toEqual([
      ['follow', false], ['pattern', false], ['keyword-c', true], ['keyword-a', true], ['postback', true], ['ref', true], ['messenger-only', true],
    ]);
    expect(interrupts(flow('x.yaml', 'id: x\ninterrupt: true\ntrigger: { follow: true }\nsteps: [{ say: x }]\n'))).toBe(true);
    expect(interrupts(flow('x.yaml', 'id: x\ninterrupt: false\ntrigger: { keyword: a }\nsteps: [{ say: x }]\n'))).toBe(false);
  });
});

describe('ref', () => {
  it('comes from a Messenger referral, or on LINE from a pre-filled "ref=…" message or postback', () => {
    const f = flow('r.yaml', 'id: r\ntrigger: { ref: friend-2026 }\nsteps: [{ say: x }]\n');
    expect(eventRef({ ...base, channel: 'messenger', eventId: 'r', type: 'referral', ref: 'friend-2026' })).toBe('friend-2026');
    expect(eventRef(text(' ref=friend-2026\n'))).toBe('friend-2026');
    expect(eventRef({ ...base, eventId: 'p', type: 'postback', payload: 'ref=friend-2026' })).toBe('friend-2026');
    expect(eventRef(text('my ref=friend-2026'))).toBeNull();
    expect(eventRef({ ...base, eventId: 'f', type: 'follow' })).toBeNull();
    expect(matchFlows([f], text('ref=friend-2026')).map((x) => x.id)).toEqual(['r']);
    expect(matchFlows([f], text('ref=Friend-2026'))).toEqual([]);
  });
});
