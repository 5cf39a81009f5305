// The live suite runs the real Envoy on the synthesized bootstrap with a few local rewrites (each
// replica's own loopback address, the DNS stand-in). Nothing else may change, or the suite would
// prove something other than what is deployed.
import { buildEnvoyBootstrap } from '../envoy/bootstrap';
import { applyLocalRewrites } from './live/harness/local-rewrites';
import { configWith } from './helpers';

/** Every leaf of a JSON value, keyed by its path. */
function leaves(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k)) out.set(p, leaf);
  } else out.set(path, value);
  return out;
}

test('GIVEN the shipped bootstrap WHEN rewritten for loopback THEN only the listed paths change: bind addresses and the DNS resolver', () => {
  const original = buildEnvoyBootstrap(configWith()) as Record<string, any>;
  const { bootstrap, rewrites } = applyLocalRewrites(original, {
    bindAddress: '127.9.0.10',
    dnsResolver: { address: '127.0.0.1', port: 5353 },
  });
  const before = leaves(original);
  const after = leaves(bootstrap);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
  const listed = rewrites.map((r) => r.path);
  // Each changed leaf lies under exactly one listed rewrite, and each rewrite changed something.
  for (const p of changed) expect({ leaf: p, under: listed.filter((l) => p === l || p.startsWith(`${l}.`)).length }).toEqual({ leaf: p, under: 1 });
  for (const l of listed) expect(changed.some((p) => p === l || p.startsWith(`${l}.`))).toBe(true);
  expect(listed.sort()).toEqual([
    'admin.address.socket_address.address',
    'static_resources.clusters[0].cluster_type.typed_config.typed_dns_resolver_config',
    'static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
    'static_resources.clusters[2].cluster_type.typed_config.typed_dns_resolver_config',
    'static_resources.listeners[0].address.socket_address.address',
    'static_resources.listeners[1].address.socket_address.address',
  ]);
  expect(original).toEqual(buildEnvoyBootstrap(configWith()));
});
