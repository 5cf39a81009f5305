// The deployed release, checked by the binary itself: the tested binary is the image's release, and
// `envoy --mode validate` accepts every synthesized bootstrap with no warning (deprecations included).

import { inspectEnvoyBootstrap } from '../../envoy/validate';
import { envoyBinaryFor } from './harness/edge';
import { envoyVersionLine, envoyVersionOfImage, validateWithEnvoy } from './harness/envoy-binary';
import { committedEdge, committedEdges, inlineBootstrap } from './harness/envoy-fleet';
import { report } from './harness/report';

test('GIVEN the committed Deployment THEN the binary under test is exactly the release its image runs', () => {
  const edge = committedEdge();
  const line = envoyVersionLine(envoyBinaryFor(edge));
  report(`image ${edge.image}; binary ${line}`);
  expect(line).toContain(`/${envoyVersionOfImage(edge.image)}/Clean/RELEASE/`);
});

test("GIVEN every environment's committed bootstrap, with its live files written back inline THEN envoy --mode validate accepts it and prints no warning", () => {
  const edges = committedEdges();
  expect(edges.size).toBeGreaterThanOrEqual(2);
  for (const [environment, edge] of edges) {
    const { status, warnings } = validateWithEnvoy(envoyBinaryFor(edge), inlineBootstrap(edge));
    report(`${environment}: envoy --mode validate: exit ${status}, ${warnings.length} warnings${warnings.length ? `: ${warnings.join(' | ')}` : ''}`);
    expect({ environment, status, warnings }).toEqual({ environment, status: 0, warnings: [] });
  }
});

test('GIVEN a bootstrap that uses a field the release deprecated THEN the binary and our validator flag exactly the same field', () => {
  const edge = committedEdge();
  const bootstrap = inlineBootstrap(edge);
  // The pre-1.33 way to configure a DNS cluster, deprecated in favour of the DNS cluster extension.
  const backend = bootstrap.static_resources.clusters[0];
  delete backend.cluster_type;
  Object.assign(backend, { type: 'STRICT_DNS', dns_refresh_rate: '5s', dns_lookup_family: 'V4_ONLY' });
  const { status, warnings } = validateWithEnvoy(envoyBinaryFor(edge), bootstrap);
  const binaryFlags = warnings.map((w) => /deprecated option '([^']+)'/.exec(w)?.[1]).filter(Boolean);
  const ours = inspectEnvoyBootstrap(bootstrap).notices.filter((n) => n.rule === 'deprecated');
  report(`binary: exit ${status}, deprecated ${binaryFlags.join(', ')}; our validator: ${ours.map((n) => n.path).join(', ')}`);
  expect(binaryFlags).toEqual(['envoy.config.cluster.v3.Cluster.dns_refresh_rate']);
  expect(ours.map((n) => n.path)).toEqual(['static_resources.clusters[0].dns_refresh_rate']);
});
