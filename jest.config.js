/** Tests run TypeScript through swc (no type checking here: `npm test` runs tsc first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The live suite runs real Envoy processes: `npm run test:live`, with its own config.
  testPathIgnorePatterns: ['/node_modules/', '/test/live/', '/test/gitops/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Jest's default on a 2-core machine is one worker (cores - 1): two take 9 s instead of 13 (measured).
  maxWorkers: 2,
};
