// The deployed release, checked by the binary itself: the tested binary is the image's release, and
// `envoy --mode validate` accepts every synthesized bootstrap with no warning (deprecations included).
import { envoyBinaryFor } from './harness/edge';
import { envoyVersionLine, envoyVersionOfImage, validateWithEnvoy } from './harness/envoy-binary';
import { committedEdge } from './harness/envoy-fleet';
import { report } from './harness/report';

test('GIVEN the committed Deployment THEN the binary under test is exactly the release its image runs', () => {
  const edge = committedEdge();
  const line = envoyVersionLine(envoyBinaryFor(edge));
  report(`image ${edge.image}; binary ${line}`);
  expect(line).toContain(`/${envoyVersionOfImage(edge.image)}/Clean/RELEASE/`);
});

test('GIVEN every committed bootstrap THEN envoy --mode validate accepts it and prints no warning', () => {
  const edge = committedEdge();
  const { status, warnings } = validateWithEnvoy(envoyBinaryFor(edge), edge.bootstrap);
  report(`envoy --mode validate: exit ${status}, ${warnings.length} warnings${warnings.length ? `: ${warnings.join(' | ')}` : ''}`);
  expect(status).toBe(0);
  expect(warnings).toEqual([]);
});
