/** Tests run TypeScript through swc (no type checking here: `npm test` runs tsc first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The live suite runs real Envoy processes (`npm run test:live`), the GitOps and cluster scenarios real servers
  // (`npm run verify:gitops`, `npm run verify:cluster`): each with its own config.
  testPathIgnorePatterns: ['/node_modules/', '/test/live/', '/test/gitops/', '/test/cluster/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Jest's default on a 2-core machine is one worker (cores - 1): two take 9 s instead of 13 (measured).
  maxWorkers: 2,
};
