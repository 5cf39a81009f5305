// The Envoy bootstrap as plain data: a pure function of the config, in Envoy's v3 JSON shape
// (proto field names). The chart only serializes it into a ConfigMap.
import { EdgeConfig } from '../config/schema';

/** Names inside the bootstrap that other parts (tests, the validator, the chart) refer to. */
export const ENVOY_NAMES = {
  websocketListener: 'websocket_listener',
  readyListener: 'ready_listener',
  backendCluster: 'websocket_backend',
  adminCluster: 'admin_loopback',
  /** The Envoy replicas themselves: the local cluster the fleet rate limit shares its bucket over. */
  peersCluster: 'envoy_peers',
  websocketRoute: 'websocket_upgrade',
  readyPath: '/ready',
} as const;

/** The read-only admin pages the ready listener forwards to the loopback admin (GET only). */
export const READ_ONLY_ADMIN_PATHS = ['/stats', '/stats/prometheus', '/clusters', '/config_dump'] as const;

/** Share of the memory limit the overload manager treats as the heap ceiling; the rest is for non-heap memory. */
const HEAP_SHARE_OF_MEMORY_LIMIT = 0.8;

const TYPE = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  localRateLimit: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  healthCheck: 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
  stdoutLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  fixedHeap: 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig',
  downstreamConnections:
    'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
  dnsCluster: 'type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster',
  leastRequest: 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest',
} as const;

/**
 * How often each replica re-resolves its peers. A replica that joins or leaves changes the others'
 * share of the fleet bucket within this time (measured in the live suite; README "What clients see").
 */
export const PEERS_DNS_REFRESH_MS = 1000;

/**
 * Numbers each Envoy replica enforces so that the whole fleet enforces the configured totals. The
 * rate limit needs no split: Envoy shares the fleet bucket over the live peers itself.
 */
export interface PerReplicaLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerBackendPod: number;
  /**
   * Requests that may wait for a backend connection. Every upgrade waits here while its own
   * connection opens, so the queue holds every upgrade the bucket can admit within one queue
   * timeout (a replica alone may hold the whole bucket); plain HTTP queues here too.
   */
  readonly maxPendingRequests: number;
  readonly maxDownstreamConnections: number;
  /** Worker threads: one per whole CPU of the limit, at least one. */
  readonly concurrency: number;
  readonly maxHeapSizeBytes: number;
}

/** Splits the fleet-wide totals across replicas. The config schema has already refused uneven splits. */
export function perReplicaLimits(config: EdgeConfig): PerReplicaLimits {
  const { replicas, rateLimit, connections, resources } = config.envoy;
  return {
    maxConnections: connections.maxTotal / replicas,
    maxConnectionsPerBackendPod: connections.maxPerBackendPod / replicas,
    maxPendingRequests:
      rateLimit.maxTokens + Math.ceil(connections.queueTimeout / rateLimit.fillInterval) * rateLimit.tokensPerFill,
    // Rounded down, so the fleet never accepts more than the configured total.
    maxDownstreamConnections: Math.floor(config.envoy.maxDownstreamConnections / replicas),
    concurrency: Math.max(1, Math.floor(resources.cpuLimit.millicores / 1000)),
    maxHeapSizeBytes: Math.floor(resources.memoryLimit.bytes * HEAP_SHARE_OF_MEMORY_LIMIT),
  };
}

/** A proto3 JSON Duration ("5s", "0.250s"). */
export function protoDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

/** The backend's headless Service name as resolved from inside the cluster. */
export function backendDnsName(config: EdgeConfig): string {
  return `${config.backend.serviceName}.${config.backend.namespace}.svc.cluster.local`;
}

/** The headless Service over the ready Envoy pods, the members of the fleet rate limit. */
export const PEERS_SERVICE_NAME = 'envoy-proxy-peers';

export function peersDnsName(config: EdgeConfig): string {
  return `${PEERS_SERVICE_NAME}.${config.envoy.namespace}.svc.cluster.local`;
}

export type EnvoyBootstrap = Record<string, unknown>;

export function buildEnvoyBootstrap(config: EdgeConfig): EnvoyBootstrap {
  const limits = perReplicaLimits(config);
  return {
    node: { id: 'envoy-proxy', cluster: 'envoy-proxy' },
    admin: {
      // Admin can stop or drain Envoy: loopback only (DESIGN.md, "Admin stays inside the pod").
      address: socketAddress('127.0.0.1', config.envoy.adminPort),
    },
    // The fleet rate limit divides its bucket by the number of hosts in this cluster.
    cluster_manager: { local_cluster_name: ENVOY_NAMES.peersCluster },
    layered_runtime: {
      layers: [
        {
          name: 'static',
          static_layer: {
            // Least request counts streams still waiting for their connection; without it, upgrades that
            // arrive together can all pick one idle pod and wait behind its per-pod limit (envoy#44989).
            'envoy.reloadable_features.least_request_lb_count_pending_requests': true,
          },
        },
      ],
    },
    static_resources: {
      listeners: [websocketListener(config), readyListener(config)],
      clusters: [backendCluster(config, limits), adminCluster(config), peersCluster(config)],
    },
    overload_manager: overloadManager(limits),
  };
}

function socketAddress(address: string, port: number) {
  return { socket_address: { address, port_value: port } };
}

function websocketListener(config: EdgeConfig) {
  const { envoy } = config;
  return {
    name: ENVOY_NAMES.websocketListener,
    address: socketAddress('0.0.0.0', envoy.listenerPort),
    // Envoy's edge best practice: bound per-connection buffers.
    per_connection_buffer_limit_bytes: 32768,
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': TYPE.hcm,
              stat_prefix: 'websocket',
              codec_type: 'HTTP1',
              // The ALB connects to the pod directly (target type ip) and appends the client to XFF.
              use_remote_address: true,
              xff_num_trusted_hops: 1,
              normalize_path: true,
              merge_slashes: true,
              upgrade_configs: [{ upgrade_type: 'websocket' }],
              // An idle WebSocket is an open stream: this, not the route timeout, bounds it.
              stream_idle_timeout: protoDuration(envoy.streamIdleTimeout),
              // Bounds how long an upgrade waits for a free backend slot; disarmed once the 101 starts.
              request_timeout: protoDuration(envoy.connections.queueTimeout),
              request_headers_timeout: '10s',
              // After Envoy answers or resets a stream (an idle timeout, say), it waits this long for the
              // client to close before closing the connection itself: Envoy's default, stated.
              delayed_close_timeout: '1s',
              common_http_protocol_options: {
                idle_timeout: protoDuration(envoy.connectionIdleTimeout),
                headers_with_underscores_action: 'REJECT_REQUEST',
              },
              access_log: [jsonStdoutAccessLog()],
              access_log_options: { flush_log_on_tunnel_successfully_established: true },
              local_reply_config: { mappers: [queueTimeoutAsUnavailable()] },
              route_config: {
                name: 'websocket_routes',
                virtual_hosts: [
                  {
                    name: 'websocket_backend',
                    domains: ['*'],
                    routes: [
                      {
                        name: ENVOY_NAMES.websocketRoute,
                        match: { prefix: '/', headers: [upgradeIsWebsocket()] },
                        route: upgradeToBackend(),
                        typed_per_filter_config: {
                          'envoy.filters.http.local_ratelimit': fleetWebsocketRateLimit(config),
                        },
                      },
                      {
                        name: 'plain_http',
                        match: { prefix: '/' },
                        // Bounds the whole request, a wait for a backend slot included (request_timeout stops
                        // once a plain request has arrived whole).
                        route: { cluster: ENVOY_NAMES.backendCluster, timeout: protoDuration(envoy.plainHttpTimeout) },
                      },
                    ],
                  },
                ],
              },
              http_filters: [
                {
                  // Declared here without a bucket; the bucket lives on the upgrade route only.
                  name: 'envoy.filters.http.local_ratelimit',
                  typed_config: { '@type': TYPE.localRateLimit, stat_prefix: 'websocket_upgrades' },
                },
                { name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.router } },
              ],
            },
          },
        ],
      },
    ],
  };
}

function upgradeIsWebsocket() {
  return { name: 'upgrade', string_match: { exact: 'websocket', ignore_case: true } };
}

function upgradeToBackend() {
  // timeout 0s: RouteAction.timeout defaults to 15 s, which must never apply to a long-lived WebSocket.
  return { cluster: ENVOY_NAMES.backendCluster, timeout: '0s' };
}

/**
 * The fleet's token bucket, as configured. Envoy shares it over the live members of the local
 * cluster (the peers): with N members, each replica admits 1/N of it, and the shares follow the
 * members as they come and go.
 */
function fleetWebsocketRateLimit(config: EdgeConfig) {
  const { rateLimit } = config.envoy;
  const always = (runtimeKey: string) => ({
    runtime_key: runtimeKey,
    default_value: { numerator: 100, denominator: 'HUNDRED' },
  });
  return {
    '@type': TYPE.localRateLimit,
    stat_prefix: 'websocket_upgrades',
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

/** A client that waited queueTimeout for a backend slot gets 503 (capacity), not 408 (its own fault). */
function queueTimeoutAsUnavailable() {
  return {
    filter: {
      status_code_filter: {
        comparison: { op: 'EQ', value: { default_value: 408, runtime_key: 'websocket.queue_timeout_status' } },
      },
    },
    status_code: 503,
    headers_to_add: [{ header: { key: 'retry-after', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  };
}

function jsonStdoutAccessLog() {
  return {
    name: 'envoy.access_loggers.stdout',
    typed_config: {
      '@type': TYPE.stdoutLog,
      log_format: {
        json_format: {
          start_time: '%START_TIME%',
          method: '%REQ(:METHOD)%',
          path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
          protocol: '%PROTOCOL%',
          response_code: '%RESPONSE_CODE%',
          response_flags: '%RESPONSE_FLAGS%',
          upstream_host: '%UPSTREAM_HOST%',
          duration_ms: '%DURATION%',
          bytes_received: '%BYTES_RECEIVED%',
          bytes_sent: '%BYTES_SENT%',
          upgrade: '%REQ(UPGRADE)%',
          // Why Envoy answered as it did, e.g. request_overall_timeout for a 503 after the queue timeout.
          response_code_details: '%RESPONSE_CODE_DETAILS%',
          client_address: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
          request_id: '%REQ(X-REQUEST-ID)%',
          user_agent: '%REQ(USER-AGENT)%',
        },
      },
    },
  };
}

function readyListener(config: EdgeConfig) {
  const getOnly = { name: ':method', string_match: { exact: 'GET' } };
  return {
    name: ENVOY_NAMES.readyListener,
    address: socketAddress('0.0.0.0', config.envoy.readyPort),
    // Probes and the ALB health check must get through when the client connection cap is reached,
    // or a busy replica would be restarted (liveness) and cut every WebSocket on it.
    ignore_global_conn_limit: true,
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': TYPE.hcm,
              stat_prefix: 'ready',
              codec_type: 'AUTO',
              route_config: {
                name: 'ready_routes',
                virtual_hosts: [
                  {
                    name: 'ready',
                    domains: ['*'],
                    routes: [
                      ...READ_ONLY_ADMIN_PATHS.map((path) => ({
                        match: { path, headers: [getOnly] },
                        route: { cluster: ENVOY_NAMES.adminCluster },
                      })),
                      // Everything else, including every admin page that can change Envoy, is not here.
                      { match: { prefix: '/' }, direct_response: { status: 404 } },
                    ],
                  },
                ],
              },
              http_filters: [
                {
                  // Answers /ready itself: 200 while live, 503 once Envoy is draining or told to fail.
                  name: 'envoy.filters.http.health_check',
                  typed_config: {
                    '@type': TYPE.healthCheck,
                    pass_through_mode: false,
                    headers: [{ name: ':path', string_match: { exact: ENVOY_NAMES.readyPath } }],
                  },
                },
                { name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.router } },
              ],
            },
          },
        ],
      },
    ],
  };
}

function backendCluster(config: EdgeConfig, limits: PerReplicaLimits) {
  const { backend, envoy } = config;
  const hc = envoy.healthCheck;
  return {
    name: ENVOY_NAMES.backendCluster,
    // A DNS cluster on a headless Service: one host per backend pod, re-resolved every dnsRefreshRate.
    cluster_type: dnsClusterType(envoy.dnsRefreshRate),
    // The pod with the fewest open requests (WebSockets), found by scanning all of them: round robin
    // and two-choice picks can choose a pod at its per-pod limit while another has a free slot.
    load_balancing_policy: {
      policies: [
        {
          typed_extension_config: {
            name: 'envoy.load_balancing_policies.least_request',
            typed_config: { '@type': TYPE.leastRequest, selection_method: 'FULL_SCAN' },
          },
        },
      ],
    },
    connect_timeout: '5s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': TYPE.httpProtocolOptions,
        explicit_http_config: { http_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: ENVOY_NAMES.backendCluster,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: socketAddress(backendDnsName(config), backend.port),
                health_check_config: { port_value: backend.healthPort },
              },
            },
          ],
        },
      ],
    },
    health_checks: [
      {
        timeout: protoDuration(hc.timeout),
        interval: protoDuration(hc.interval),
        no_traffic_interval: protoDuration(hc.noTrafficInterval),
        healthy_threshold: hc.healthyThreshold,
        unhealthy_threshold: hc.unhealthyThreshold,
        http_health_check: {
          path: backend.healthPath,
          // Healthy as Kubernetes probes count it (200-399).
          expected_statuses: [{ start: 200, end: 400 }],
          // Every other status counts towards unhealthy_threshold; otherwise Envoy ejects on the first one.
          retriable_statuses: [
            { start: 100, end: 200 },
            { start: 400, end: 600 },
          ],
        },
      },
    ],
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: limits.maxConnections,
          max_requests: limits.maxConnections,
          // Upgrades beyond this get 503 at once (flag UO); those queued get 503 after queueTimeout.
          max_pending_requests: limits.maxPendingRequests,
          max_retries: 1,
          track_remaining: true,
        },
      ],
      per_host_thresholds: [{ priority: 'DEFAULT', max_connections: limits.maxConnectionsPerBackendPod }],
    },
  };
}

/** Envoy's DNS cluster extension: the non-deprecated home of the DNS settings (envoy#36353). */
function dnsClusterType(refreshMs: number) {
  return {
    name: 'envoy.clusters.dns',
    typed_config: {
      '@type': TYPE.dnsCluster,
      dns_refresh_rate: protoDuration(refreshMs),
      // Kubernetes DNS answers with short TTLs; re-resolve on our own schedule instead.
      respect_dns_ttl: false,
      dns_lookup_family: 'V4_ONLY',
    },
  };
}

/**
 * The ready Envoy pods, found through a headless Service. Envoy never connects to them: the
 * cluster exists to be counted by the fleet rate limit.
 */
function peersCluster(config: EdgeConfig) {
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

function adminCluster(config: EdgeConfig) {
  return {
    name: ENVOY_NAMES.adminCluster,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: ENVOY_NAMES.adminCluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', config.envoy.adminPort) } }] }],
    },
  };
}

function overloadManager(limits: PerReplicaLimits) {
  const heapAbove = (value: number) => [{ name: 'envoy.resource_monitors.fixed_heap', threshold: { value } }];
  return {
    refresh_interval: '0.250s',
    resource_monitors: [
      {
        name: 'envoy.resource_monitors.fixed_heap',
        typed_config: { '@type': TYPE.fixedHeap, max_heap_size_bytes: limits.maxHeapSizeBytes },
      },
      {
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: {
          '@type': TYPE.downstreamConnections,
          max_active_downstream_connections: limits.maxDownstreamConnections,
        },
      },
    ],
    // Thresholds from Envoy's "edge proxy best practices".
    actions: [
      { name: 'envoy.overload_actions.shrink_heap', triggers: heapAbove(0.95) },
      { name: 'envoy.overload_actions.stop_accepting_requests', triggers: heapAbove(0.98) },
    ],
  };
}
