import { describe, expect, it } from '@jest/globals';
import {
  chaosSettings, couponCardsPerUser, couponToken, findLeaks, formatCheck, judgeOutagePolls, repeatedRetryKeys, type PollSample,
} from '../../scripts/support/chaos.ts';

describe('npm run chaos: settings', () => {
  it('defaults to a 30-second hang and a 60-second outage, and takes shorter ones for a quick try', () => {
    expect(chaosSettings({})).toEqual({ hangSeconds: 30, outageSeconds: 60, newcomers: 20, outageCustomers: 10 });
    expect(chaosSettings({ CHAOS_HANG_SECONDS: '5', CHAOS_OUTAGE_SECONDS: '600', CHAOS_CUSTOMERS: ' ' }))
      .toEqual({ hangSeconds: 5, outageSeconds: 600, newcomers: 20, outageCustomers: 10 });
  });

  it('refuses a value that is not a whole number above 0, naming it', () => {
    expect(() => chaosSettings({ CHAOS_OUTAGE_SECONDS: '10m' })).toThrow('CHAOS_OUTAGE_SECONDS must be a whole number above 0, not "10m"');
    expect(() => chaosSettings({ CHAOS_HANG_SECONDS: '0' })).toThrow('CHAOS_HANG_SECONDS');
  });

  it('prints one line per check', () => {
    expect(formatCheck({ name: 'x', pass: true, figure: '1.0 s' })).toBe('PASS  x: 1.0 s');
    expect(formatCheck({ name: 'y', pass: false, figure: '2' })).toBe('FAIL  y: 2');
  });
});

describe('npm run chaos: coupon cards counted at the LINE stand-in', () => {
  const card = (token: string) => ({ messages: [{ type: 'flex', contents: { action: { uri: `http://shop.test/c/${token}` } } }] });

  it('finds the coupon token in a card and none in a text', () => {
    expect(couponToken(card('AbCdEfGh12345678'))).toBe('AbCdEfGh12345678');
    expect(couponToken({ messages: [{ type: 'text', text: 'hello' }] })).toBeNull();
  });

  it('counts a card sent as a reply and again as a push twice, texts not at all', () => {
    const owners = new Map([['reply-1', 'U1'], ['reply-2', 'U2']]);
    const counts = couponCardsPerUser([
      { kind: 'reply', body: { replyToken: 'reply-1', ...card('tokenAAAAAAAA') } },
      { kind: 'push', body: { to: 'U1', ...card('tokenAAAAAAAA') }, retryKey: 'k1' },
      { kind: 'reply', body: { replyToken: 'reply-2', messages: [{ type: 'text', text: 'hi' }] } },
      { kind: 'push', body: { to: 'U2', ...card('tokenBBBBBBBB') }, retryKey: 'k2' },
      { kind: 'reply', body: { replyToken: 'unknown', ...card('tokenCCCCCCCC') } },
    ], owners);
    expect([...counts]).toEqual([['U1', 2], ['U2', 1]]);
  });

  it('names retry keys accepted more than once', () => {
    expect(repeatedRetryKeys([{ kind: 'push', body: null, retryKey: 'a' }, { kind: 'push', body: null, retryKey: 'b' },
      { kind: 'push', body: null, retryKey: 'a' }, { kind: 'reply', body: null }])).toEqual(['a']);
  });
});

describe('npm run chaos: polls while the database is down', () => {
  const s = (target: string, at: number, status: number, retryAfter: string | null = status === 503 ? '5' : null): PollSample => ({ target, at, status, retryAfter });

  it('passes 503 with Retry-After and finds when /healthz answered 200 for good', () => {
    const v = judgeOutagePolls([
      s('healthz', 0, 200), s('healthz', 100, 503), s('page', 120, 503), s('healthz', 200, 200), s('healthz', 300, 503),
      s('healthz', 400, 200), s('page', 420, 200), s('healthz', 500, 200),
    ]);
    expect(v).toMatchObject({ serverErrors: 0, missingRetryAfter: 0, otherFailures: 0, noticed: true, recoveredAt: 400 });
    expect(v.counts).toEqual({ healthz: { 200: 4, 503: 2 }, page: { 503: 1, 200: 1 } });
  });

  it('counts a 500, a 503 without Retry-After, and a request not answered at all', () => {
    const v = judgeOutagePolls([s('webhook', 10, 500), s('healthz', 20, 503, null), s('page', 30, 0), s('healthz', 40, 503)]);
    expect(v).toMatchObject({ serverErrors: 1, missingRetryAfter: 1, otherFailures: 1, noticed: true, recoveredAt: null });
  });

  it('says when the outage was never noticed', () => {
    expect(judgeOutagePolls([s('healthz', 0, 200)])).toMatchObject({ noticed: false, recoveredAt: 0 });
  });
});

describe('npm run chaos: the log scan', () => {
  it('finds every occurrence of a value and skips values too short to mean anything', () => {
    const log = '{"msg":"sent","url":"/c/AbCdEfGh12345678"}\n{"msg":"x","text":"hello chaos 1f2e"}\n{"url":"/c/AbCdEfGh12345678"}\n';
    expect(findLeaks(log, [
      { kind: 'coupon token', value: 'AbCdEfGh12345678' }, { kind: 'message text', value: 'hello chaos 1f2e' },
      { kind: 'reply token', value: 'ffffffffffffffff' }, { kind: 'short', value: 'sent' },
    ])).toEqual([
      { kind: 'coupon token', value: 'AbCdEfGh12345678', count: 2 }, { kind: 'message text', value: 'hello chaos 1f2e', count: 1 },
    ]);
  });
});
