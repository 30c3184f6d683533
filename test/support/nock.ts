import type { ReplyFnResult } from 'nock';

/**
 * A nock reply that never comes, for timeout tests: the request stays open until the client gives
 * up. Unlike `.delay(ms)` it leaves no timer behind that would keep the test worker alive.
 */
export function neverAnswered(_uri: string, _body: unknown, _callback: (err: NodeJS.ErrnoException | null, result: ReplyFnResult) => void): void {
  // The callback is dropped on purpose: the client's own timeout ends the request.
}
