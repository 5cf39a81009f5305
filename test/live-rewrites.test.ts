// The live suite runs the real Envoy on the synthesized bootstrap with a few local rewrites (each
// replica's own loopback address, the DNS stand-in). Nothing else may change, or the suite would
// prove something other than what is deployed.
import { buildEnvoyBootstrap, buildEnvoyConfig } from '../envoy/bootstrap';
import { liveDiscoveryFiles } from '../envoy/live';
import { configWith } from './helpers';
import { applyLocalRewrites, applyLocalRewritesToLiveFiles } from './live/harness/local-rewrites';

/** Every leaf of a JSON value, keyed by its path. */
function leaves(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value))
      for (const [p, leaf] of leaves(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k)) out.set(p, leaf);
  } else out.set(path, value);
  return out;
}

const target = {
  bindAddress: '127.9.0.10',
  dnsResolver: { address: '127.0.0.1', port: 5353 },
  liveDir: { from: '/etc/envoy-live', to: '/tmp/replica-0/live' },
};

test("GIVEN the shipped live files WHEN rewritten for loopback THEN only the backend cluster's DNS resolver changes", () => {
  const files = liveDiscoveryFiles(buildEnvoyConfig(configWith()).live) as Record<string, any>;
  const byName = Object.fromEntries(Object.entries(files).map(([k, v]) => [`${k}.yaml`, v]));
  const { files: rewritten, rewrites } = applyLocalRewritesToLiveFiles(byName, target);
  expect(rewrites.map((r) => r.path)).toEqual(['clusters.yaml:resources[0].cluster_type.typed_config.typed_dns_resolver_config']);
  const before = leaves(byName);
  const after = leaves(rewritten);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
  expect(changed.length).toBeGreaterThan(0);
  for (const p of changed) expect(p).toMatch(/^clusters\.yaml\.resources\[0\]\.cluster_type\.typed_config\.typed_dns_resolver_config/);
});

test('GIVEN the shipped bootstrap WHEN rewritten for loopback THEN only the listed paths change: bind addresses and the DNS resolver', () => {
  const original = buildEnvoyBootstrap(configWith()) as Record<string, any>;
  const { bootstrap, rewrites } = applyLocalRewrites(original, target);
  const before = leaves(original);
  const after = leaves(bootstrap);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
  const listed = rewrites.map((r) => r.path);
  // Each changed leaf lies under exactly one listed rewrite, and each rewrite changed something.
  for (const p of changed) expect({ leaf: p, under: listed.filter((l) => p === l || p.startsWith(`${l}.`)).length }).toEqual({ leaf: p, under: 1 });
  for (const l of listed) expect(changed.some((p) => p === l || p.startsWith(`${l}.`))).toBe(true);
  const hcm = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
  expect(listed.sort()).toEqual([
    'admin.address.socket_address.address',
    'dynamic_resources.cds_config.path_config_source.path',
    'dynamic_resources.cds_config.path_config_source.watched_directory.path',
    'layered_runtime.layers[1].rtds_layer.rtds_config.path_config_source.path',
    'layered_runtime.layers[1].rtds_layer.rtds_config.path_config_source.watched_directory.path',
    'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
    'static_resources.clusters[1].cluster_type.typed_config.typed_dns_resolver_config',
    'static_resources.listeners[0].address.socket_address.address',
    `${hcm}.rds.config_source.path_config_source.path`,
    `${hcm}.rds.config_source.path_config_source.watched_directory.path`,
    'static_resources.listeners[1].address.socket_address.address',
  ]);
  for (const r of rewrites.filter((r) => r.path.endsWith('.path'))) expect(String(r.to).startsWith('/tmp/replica-0/live')).toBe(true);
  expect(original).toEqual(buildEnvoyBootstrap(configWith()));
});
