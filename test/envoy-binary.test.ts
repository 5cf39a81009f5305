// The real Envoy's own check of every committed bootstrap, in `npm test` whenever the binary of the
// image's release is in the cache. CI always runs it (test/live/validate.live.test.ts, which
// installs the binary); `npm test` stays runnable without Python or the binary.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cachedEnvoyBinary, envoyVersionOfImage, validateWithEnvoy } from './live/harness/envoy-binary';
import { committedEdges, inlineBootstrap } from './live/harness/envoy-fleet';

const edges = committedEdges();
const [edge] = edges.values();
const version = envoyVersionOfImage(edge.image);
const binary = version ? cachedEnvoyBinary(version) : undefined;

if (binary) {
  test.each([...edges.keys()])(
    `GIVEN the cached Envoy ${version} WHEN it validates environment %s's committed bootstrap THEN it accepts it with no warning`,
    (environment) => {
      const edge = edges.get(environment)!;
      expect(envoyVersionOfImage(edge.image)).toBe(version);
      expect(validateWithEnvoy(binary, inlineBootstrap(edge))).toEqual({ status: 0, warnings: [] });
    },
  );
} else {
  test(`GIVEN Envoy ${version} is not cached THEN the live suite, which installs it, makes this check`, () => {
    const liveCheck = readFileSync(path.join(__dirname, 'live', 'validate.live.test.ts'), 'utf8');
    expect(liveCheck).toContain('validateWithEnvoy(envoyBinaryFor(edge), inlineBootstrap(edge))');
    expect(liveCheck).toContain('committedEdges()');
  });
}
