// Names inside the Envoy bootstrap that other parts (charts, tests, the validator's config-field
// table, dashboards) refer to, and the type URLs of the extensions it uses.
import type { EdgeConfig } from '../config/schema';
import type { TypeUrl } from '../imports/envoy-types';
import { EDGE_NAMES } from '../k8s/names';

export const ENVOY_NAMES = {
  websocketListener: 'websocket_listener',
  readyListener: 'ready_listener',
  backendCluster: 'websocket_backend',
  adminCluster: 'admin_loopback',
  /** The Envoy replicas themselves: the local cluster the fleet rate limit shares its bucket over. */
  peersCluster: 'envoy_peers',
  websocketRouteConfig: 'websocket_routes',
  websocketRoute: 'websocket_upgrade',
  plainRoute: 'plain_http',
  /** The RBAC policy on the upgrade route that admits only the allowed origins. */
  allowedOriginsPolicy: 'allowed_origins',
  readyPath: '/ready',
  /** The RTDS layer that holds the backend cluster's live connection caps. */
  liveRuntimeLayer: 'live',
  /** stat_prefix of the WebSocket listener's connection manager and of its rate limit. */
  websocketStatPrefix: 'websocket',
  rateLimitStatPrefix: 'websocket_upgrades',
} as const;

/** The read-only admin pages the ready listener forwards to the loopback admin (GET only). */
export const READ_ONLY_ADMIN_PATHS = ['/stats', '/stats/prometheus', '/clusters', '/config_dump'] as const;

/** Type URLs of the extensions the bootstrap uses; `satisfies` makes tsc refuse a misspelt one. */
export const TYPE = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  localRateLimit: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  healthCheck: 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
  stdoutLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  fixedHeap: 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig',
  downstreamConnections: 'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
  dnsCluster: 'type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster',
  leastRequest: 'type.googleapis.com/envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest',
  buffer: 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer',
  rbac: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  rbacPerRoute: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute',
  bufferPerRoute: 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute',
  connectionLimit: 'type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit',
} as const satisfies Record<string, TypeUrl>;

/** The backend's headless Service name as resolved from inside the cluster. */
export function backendDnsName(config: { readonly backend: Pick<EdgeConfig['backend'], 'serviceName' | 'namespace'> }): string {
  return `${config.backend.serviceName}.${config.backend.namespace}.svc.cluster.local`;
}

/** The peers Service (the ready Envoy pods) as resolved from inside the cluster. */
export function peersDnsName(config: { readonly envoy: Pick<EdgeConfig['envoy'], 'namespace'> }): string {
  return `${EDGE_NAMES.peersService}.${config.envoy.namespace}.svc.cluster.local`;
}
