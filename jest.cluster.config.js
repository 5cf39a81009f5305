/**
 * The cluster scenarios on real kube-apiservers: run by scripts/verify-cluster.sh (npm run verify:cluster)
 * once it has built the tools and started one API server per environment, never on their own.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.cluster.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 120_000,
  // Scenarios share the servers and build on each other: one at a time, in the order test/cluster/sequencer.js gives.
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/cluster/sequencer.js',
};
