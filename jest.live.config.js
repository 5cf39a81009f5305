/** The live suite (`npm run test:live`): the real Envoy on the synthesized bootstrap. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/live'],
  testMatch: ['**/*.live.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 60_000,
  // Files run side by side, each on loopback addresses of its own; the tests are I/O-bound.
  maxWorkers: 2,
};
