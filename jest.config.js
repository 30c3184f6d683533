/** Jest runs the TypeScript sources as ES modules; @swc/jest only strips types. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2023', keepClassNames: true },
      module: { type: 'es6' },
    }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A test's hang guard, not a speed limit: tests wait on events, and a loaded machine is several
  // times slower than an idle one (see test/support/patience.ts, PATIENCE_MS, which this doubles).
  testTimeout: 2 * Number(process.env.TEST_PATIENCE_MS ?? 300000),
  maxWorkers: 2,
  // Jest force-exits a worker that has not exited 500 ms after it was told to end, and warns of a
  // leaked handle. On a busy machine a worker with nothing left open can take longer than that
  // just to be scheduled; measured here: workers that exited within 0.3 s of receiving the end
  // message still drew the warning. A real leak (an open server, socket or timer) still shows,
  // after this longer wait.
  workerGracefulExitTimeout: 5000,
};
