/**
 * The GitOps scenarios on the real Argo CD: run by scripts/verify-gitops.sh (npm run verify:gitops)
 * once it has started the clusters and Argo CD, never on their own.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/gitops'],
  testMatch: ['**/*.gitops.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 180_000,
  // Scenarios change one shared repository and clusters: one at a time, by name, no-key-in-git last (test/gitops/sequencer.js).
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/gitops/sequencer.js',
};
