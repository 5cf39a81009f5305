// The fleet rate limit on new WebSockets: one bucket holding the fleet totals, which Envoy's
// local-cluster rate limit shares over the live replicas (the peers), so the fleet keeps the
// configured burst and rate at any replica count (docs/behaviour.md, "Rate limit").
import type { EdgeConfig } from '../config/schema';
import type { AnyOf, envoy_config_cluster_v3_Cluster as Cluster } from '../imports/envoy-types';
import { dnsClusterType } from './clusters';
import { ENVOY_NAMES, peersDnsName, TYPE } from './names';
import { protoDuration, socketAddress } from './proto';

/**
 * How often each replica re-resolves its peers. A replica that joins or leaves changes the others'
 * share within this time (measured by the live suite).
 */
export const PEERS_DNS_REFRESH_MS = 1000;

const always = (runtimeKey: string) => ({
  runtime_key: runtimeKey,
  default_value: { numerator: 100, denominator: 'HUNDRED' as const },
});

/** The descriptor key each client's bucket is found by: the trusted client address. */
export const CLIENT_DESCRIPTOR_KEY = 'remote_address';

const bucket = (b: { maxTokens: number; tokensPerFill: number; fillInterval: number }) => ({
  max_tokens: b.maxTokens,
  tokens_per_fill: b.tokensPerFill,
  fill_interval: protoDuration(b.fillInterval),
});

/**
 * The fleet bucket (with N peers, each replica admits 1/N of it: an upgrade costs it N tokens) and,
 * beside it, one bucket per client address. Envoy checks the client's bucket first and takes a fleet
 * token only when the client's bucket admits the upgrade, so a refused client spends none.
 */
export function fleetWebsocketRateLimit(
  rateLimit: EdgeConfig['envoy']['rateLimit'],
  perClient: EdgeConfig['envoy']['perClient'],
): AnyOf<typeof TYPE.localRateLimit> {
  return {
    '@type': TYPE.localRateLimit,
    stat_prefix: ENVOY_NAMES.rateLimitStatPrefix,
    status: { code: 'TooManyRequests' },
    token_bucket: bucket(rateLimit),
    // The remote address is the client the ALB put in X-Forwarded-For (use_remote_address, one trusted hop).
    rate_limits: [{ actions: [{ remote_address: {} }] }],
    // An entry with no value is a wildcard: one bucket per distinct client address, at most maxClients (LRU).
    descriptors: [{ entries: [{ key: CLIENT_DESCRIPTOR_KEY, value: '' }], token_bucket: bucket(perClient) }],
    max_dynamic_descriptors: perClient.maxClients,
    always_consume_default_token_bucket: true,
    local_cluster_rate_limit: {},
    filter_enabled: always('websocket_upgrades.rate_limit_enabled'),
    filter_enforced: always('websocket_upgrades.rate_limit_enforced'),
    enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
    // Seconds until this replica's bucket has a token again, computed by Envoy.
    enable_retry_after_header: true,
  };
}

/** The filter's declaration in the chain; the bucket lives on the upgrade route only. */
export function rateLimitFilterDeclaration(): AnyOf<typeof TYPE.localRateLimit> {
  return { '@type': TYPE.localRateLimit, stat_prefix: ENVOY_NAMES.rateLimitStatPrefix };
}

/**
 * The ready Envoy pods, found through a headless Service. Envoy never connects to them: the
 * cluster exists to be counted by the fleet rate limit.
 */
export type PeersClusterInput = { readonly envoy: Pick<EdgeConfig['envoy'], 'namespace' | 'readyPort'> };

export function peersCluster(config: PeersClusterInput): Cluster {
  return {
    name: ENVOY_NAMES.peersCluster,
    cluster_type: dnsClusterType(PEERS_DNS_REFRESH_MS),
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: ENVOY_NAMES.peersCluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(peersDnsName(config), config.envoy.readyPort) } }] }],
    },
  };
}
