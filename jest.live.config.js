/** The live suite (`npm run test:live`): the real Envoy on the synthesized bootstrap. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/live'],
  testMatch: ['**/*.live.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 60_000,
  // Files run side by side, each on loopback addresses of its own (test/live/harness/edge.ts: 40
  // fleets per worker). The tests wait on Envoy's timers, not the CPU: the whole of .ci/run averages
  // 0.6 of the 2 cores. Three files at a time: 61-65 s in three runs in a row, against 91-94 s for
  // two, with the same figures (fleet bursts, ejection times, 504 timings).
  maxWorkers: 3,
};
