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

/** With N peers, each replica admits 1/N of the bucket: an upgrade costs it N tokens. */
export function fleetWebsocketRateLimit(rateLimit: EdgeConfig['envoy']['rateLimit']): AnyOf<typeof TYPE.localRateLimit> {
  return {
    '@type': TYPE.localRateLimit,
    stat_prefix: ENVOY_NAMES.rateLimitStatPrefix,
    status: { code: 'TooManyRequests' },
    token_bucket: {
      max_tokens: rateLimit.maxTokens,
      tokens_per_fill: rateLimit.tokensPerFill,
      fill_interval: protoDuration(rateLimit.fillInterval),
    },
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
export function peersCluster(config: Pick<EdgeConfig, 'envoy'>): Cluster {
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
