/**
 * How long a test waits for something that must happen (a child service ready, a row written, a
 * page element shown) before calling it hung. Tests wait on the event itself, never on time; this
 * is only the hang guard, and it is long because a machine's speed must never decide a result:
 * a loaded 2-core machine runs the suite several times slower than an idle one.
 */
export const PATIENCE_MS = Number(process.env.TEST_PATIENCE_MS ?? 300_000);
