// The real Envoy's own check of every committed bootstrap, in `npm test` whenever the binary of the
// image's release is in the cache. CI always runs it (test/live/validate.live.test.ts, which
// installs the binary); `npm test` stays runnable without Python or the binary.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cachedEnvoyBinary, envoyVersionOfImage, validateWithEnvoy } from './live/harness/envoy-binary';
import { committedEdge } from './live/harness/envoy-fleet';

const edge = committedEdge();
const version = envoyVersionOfImage(edge.image);
const binary = version ? cachedEnvoyBinary(version) : undefined;

if (binary) {
  test(`GIVEN the cached Envoy ${version} WHEN it validates the committed bootstrap THEN it accepts it with no warning`, () => {
    expect(validateWithEnvoy(binary, edge.bootstrap)).toEqual({ status: 0, warnings: [] });
  });
} else {
  test(`GIVEN Envoy ${version} is not cached THEN the live suite, which installs it, makes this check`, () => {
    const liveCheck = readFileSync(path.join(__dirname, 'live', 'validate.live.test.ts'), 'utf8');
    expect(liveCheck).toContain('validateWithEnvoy(envoyBinaryFor(edge), edge.bootstrap)');
  });
}
