// The only changes the live suite makes to a synthesized bootstrap before the real Envoy runs it.
// In a cluster each replica has its own pod IP and the cluster DNS resolves the Services; here all
// replicas share one host. Every rewrite is returned with its path and reason, logged by the
// suite, and test/live/local-rewrites.test.ts checks that nothing else changes.

export interface LocalRewrite {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
  readonly why: string;
}

export interface LocalTarget {
  /** The replica's own loopback address, standing for its pod IP. */
  readonly bindAddress: string;
  /** The DNS stand-in that answers for the cluster's Services. */
  readonly dnsResolver: { readonly address: string; readonly port: number };
  /** The replica's own copy of the live ConfigMap volume, standing for its mount at `from`. */
  readonly liveDir?: { readonly from: string; readonly to: string };
}

type Json = Record<string, any>;

const RESOLVER_TYPE = 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';
const DNS_CLUSTER_TYPE = 'type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster';

/** A rewritten deep copy of `bootstrap`, and the list of what was changed. */
export function applyLocalRewrites(bootstrap: Json, target: LocalTarget): { bootstrap: Json; rewrites: LocalRewrite[] } {
  const copy: Json = structuredClone(bootstrap);
  const rewrites: LocalRewrite[] = [];
  const set = (parent: Json, key: string, path: string, to: unknown, why: string) => {
    rewrites.push({ path, from: parent[key], to, why });
    parent[key] = to;
  };

  copy.static_resources.listeners.forEach((listener: Json, i: number) => {
    set(
      listener.address.socket_address,
      'address',
      `static_resources.listeners[${i}].address.socket_address.address`,
      target.bindAddress,
      'each replica binds its own address, as each pod has its own IP',
    );
  });
  if (copy.admin?.address?.socket_address) {
    set(
      copy.admin.address.socket_address,
      'address',
      'admin.address.socket_address.address',
      target.bindAddress,
      "replicas share this host's 127.0.0.1, so each admin moves to its replica's loopback address",
    );
  }
  copy.static_resources.clusters.forEach((cluster: Json, i: number) => {
    const base = `static_resources.clusters[${i}]`;
    if (cluster.type === 'STATIC') {
      for (const [l, locality] of (cluster.load_assignment.endpoints as Json[]).entries()) {
        for (const [e, lbEndpoint] of (locality.lb_endpoints as Json[]).entries()) {
          const socket = lbEndpoint.endpoint.address.socket_address;
          if (socket.address !== '127.0.0.1') continue;
          set(
            socket,
            'address',
            `${base}.load_assignment.endpoints[${l}].lb_endpoints[${e}].endpoint.address.socket_address.address`,
            target.bindAddress,
            'the admin moved to the replica address, so the cluster that reaches it follows',
          );
        }
      }
    }
    rewriteDnsResolver(cluster, base, target, set);
  });
  if (target.liveDir) rewriteLiveDir(copy, '', target.liveDir, set);
  return { bootstrap: copy, rewrites };
}

type Setter = (parent: Json, key: string, path: string, to: unknown, why: string) => void;

/** Points a DNS cluster at the suite's DNS stand-in. */
function rewriteDnsResolver(cluster: Json, base: string, target: LocalTarget, set: Setter): void {
  const resolver = {
    name: 'envoy.network.dns_resolver.cares',
    typed_config: {
      '@type': RESOLVER_TYPE,
      resolvers: [{ socket_address: { address: target.dnsResolver.address, port_value: target.dnsResolver.port } }],
      dns_resolver_options: { no_default_search_domain: true },
    },
  };
  const dnsTypedConfig = cluster.cluster_type?.typed_config;
  if (dnsTypedConfig?.['@type'] === DNS_CLUSTER_TYPE) {
    set(
      dnsTypedConfig,
      'typed_dns_resolver_config',
      `${base}.cluster_type.typed_config.typed_dns_resolver_config`,
      resolver,
      "the cluster DNS is replaced by the suite's DNS stand-in",
    );
  } else if (cluster.type === 'STRICT_DNS' || cluster.type === 'LOGICAL_DNS') {
    set(cluster, 'typed_dns_resolver_config', `${base}.typed_dns_resolver_config`, resolver, "the cluster DNS is replaced by the suite's DNS stand-in");
  }
}

/** Every path config source under the live mount moves to the replica's own copy of the volume. */
function rewriteLiveDir(value: unknown, path: string, liveDir: { from: string; to: string }, set: Setter): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Json)) {
    const childPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (key === 'path' && typeof child === 'string' && (child === liveDir.from || child.startsWith(`${liveDir.from}/`))) {
      set(
        value as Json,
        key,
        childPath,
        liveDir.to + child.slice(liveDir.from.length),
        'each replica has its own copy of the live ConfigMap volume, as each pod has its own mount',
      );
    } else {
      rewriteLiveDir(child, childPath, liveDir, set);
    }
  }
}

/**
 * The live files (DiscoveryResponses, by file name) rewritten for loopback: the backend cluster's
 * DNS goes to the stand-in. Returned with what was changed, like applyLocalRewrites.
 */
export function applyLocalRewritesToLiveFiles(files: Record<string, Json>, target: LocalTarget): { files: Record<string, Json>; rewrites: LocalRewrite[] } {
  const copy: Record<string, Json> = structuredClone(files);
  const rewrites: LocalRewrite[] = [];
  const set: Setter = (parent, key, path, to, why) => {
    rewrites.push({ path, from: parent[key], to, why });
    parent[key] = to;
  };
  for (const [file, response] of Object.entries(copy)) {
    (response.resources ?? []).forEach((resource: Json, i: number) => {
      if (resource['@type'] === 'type.googleapis.com/envoy.config.cluster.v3.Cluster') rewriteDnsResolver(resource, `${file}:resources[${i}]`, target, set);
    });
  }
  return { files: copy, rewrites };
}

export function formatRewrite(r: LocalRewrite): string {
  const show = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return `${r.path}: ${show(r.from)} -> ${show(r.to)} (${r.why})`;
}
