// The Envoy bootstrap as plain data: a pure function of the config, in Envoy's v3 JSON shape
// (proto field names). The chart only serializes it into a ConfigMap.
import { EdgeConfig } from '../config/schema';

/** Names inside the bootstrap that other parts (tests, the validator, the chart) refer to. */
export const ENVOY_NAMES = {
  websocketListener: 'websocket_listener',
  readyListener: 'ready_listener',
  backendCluster: 'websocket_backend',
  adminCluster: 'admin_loopback',
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
} as const;

/** Numbers each Envoy replica enforces so that the whole fleet enforces the configured totals. */
export interface PerReplicaLimits {
  /** Token bucket size of one replica: the fleet's burst split evenly. */
  readonly rateLimitMaxTokens: number;
  readonly rateLimitTokensPerFill: number;
  /** One replica refills every (fleet interval × replicas), so the fleet refills at the configured rate. */
  readonly rateLimitFillIntervalMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerBackendPod: number;
  readonly maxDownstreamConnections: number;
  /** Worker threads: one per whole CPU of the limit, at least one. */
  readonly concurrency: number;
  readonly maxHeapSizeBytes: number;
}

/** Splits the fleet-wide totals across replicas. The config schema has already refused uneven splits. */
export function perReplicaLimits(config: EdgeConfig): PerReplicaLimits {
  const { replicas, rateLimit, connections, resources } = config.envoy;
  return {
    rateLimitMaxTokens: rateLimit.maxTokens / replicas,
    rateLimitTokensPerFill: rateLimit.tokensPerFill,
    rateLimitFillIntervalMs: rateLimit.fillInterval * replicas,
    maxConnections: connections.maxTotal / replicas,
    maxConnectionsPerBackendPod: connections.maxPerBackendPod / replicas,
    maxDownstreamConnections: config.envoy.maxDownstreamConnections / replicas,
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

export type EnvoyBootstrap = Record<string, unknown>;

export function buildEnvoyBootstrap(config: EdgeConfig): EnvoyBootstrap {
  const limits = perReplicaLimits(config);
  return {
    node: { id: 'envoy-proxy', cluster: 'envoy-proxy' },
    admin: {
      // Admin can stop or drain Envoy: loopback only (DESIGN.md, "Admin stays inside the pod").
      address: socketAddress('127.0.0.1', config.envoy.adminPort),
    },
    static_resources: {
      listeners: [websocketListener(config, limits), readyListener(config)],
      clusters: [backendCluster(config, limits), adminCluster(config)],
    },
    overload_manager: overloadManager(limits),
  };
}

function socketAddress(address: string, port: number) {
  return { socket_address: { address, port_value: port } };
}

function websocketListener(config: EdgeConfig, limits: PerReplicaLimits) {
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
                        route: routeToBackend(),
                        typed_per_filter_config: {
                          'envoy.filters.http.local_ratelimit': newWebsocketRateLimit(limits),
                        },
                      },
                      { name: 'plain_http', match: { prefix: '/' }, route: routeToBackend() },
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

function routeToBackend() {
  // timeout 0s: RouteAction.timeout defaults to 15 s, which must never apply to a long-lived WebSocket.
  return { cluster: ENVOY_NAMES.backendCluster, timeout: '0s' };
}

/** Token bucket per replica; the fleet of replicas adds up to the configured totals. */
function newWebsocketRateLimit(limits: PerReplicaLimits) {
  const always = (runtimeKey: string) => ({
    runtime_key: runtimeKey,
    default_value: { numerator: 100, denominator: 'HUNDRED' },
  });
  return {
    '@type': TYPE.localRateLimit,
    stat_prefix: 'websocket_upgrades',
    status: { code: 'TooManyRequests' },
    token_bucket: {
      max_tokens: limits.rateLimitMaxTokens,
      tokens_per_fill: limits.rateLimitTokensPerFill,
      fill_interval: protoDuration(limits.rateLimitFillIntervalMs),
    },
    filter_enabled: always('websocket_upgrades.rate_limit_enabled'),
    filter_enforced: always('websocket_upgrades.rate_limit_enforced'),
    enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
    response_headers_to_add: [
      {
        header: { key: 'retry-after', value: String(Math.ceil(limits.rateLimitFillIntervalMs / 1000)) },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ],
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
    // STRICT_DNS on a headless Service: one host per backend pod, re-resolved every dnsRefreshRate.
    type: 'STRICT_DNS',
    dns_lookup_family: 'V4_ONLY',
    dns_refresh_rate: protoDuration(envoy.dnsRefreshRate),
    respect_dns_ttl: false,
    lb_policy: 'ROUND_ROBIN',
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
        http_health_check: { path: backend.healthPath },
      },
    ],
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: limits.maxConnections,
          max_requests: limits.maxConnections,
          // Upgrades waiting for a slot beyond this get 503 at once; those queued get 503 after queueTimeout.
          max_pending_requests: limits.maxConnections,
          max_retries: 1,
          track_remaining: true,
        },
      ],
      per_host_thresholds: [{ priority: 'DEFAULT', max_connections: limits.maxConnectionsPerBackendPod }],
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
