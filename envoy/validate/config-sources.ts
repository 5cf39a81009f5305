// Which config field produced each value of the Envoy bootstrap, so a problem found in the
// bootstrap names the field a user edits. Read off the bootstrap builder in envoy/: keep in step with it
// (test/envoy-validator.test.ts fails when a pattern here matches nothing in the default bootstrap).

/** A bootstrap path pattern and the config field its value comes from. */
export interface EnvoyConfigSource {
  /** A path as the validator writes it; `[*]` stands for any list index. */
  readonly pattern: string;
  readonly configField: string;
}

const WEBSOCKET_HCM = 'static_resources.listeners[0].filter_chains[*].filters[*].typed_config';
const READY_LISTENER = 'static_resources.listeners[1]';
const RATE_LIMITED_ROUTE = `${WEBSOCKET_HCM}.route_config.virtual_hosts[*].routes[*].typed_per_filter_config["envoy.filters.http.local_ratelimit"]`;
const BACKEND_CLUSTER = 'static_resources.clusters[0]';
const BACKEND_ENDPOINT = `${BACKEND_CLUSTER}.load_assignment.endpoints[*].lb_endpoints[*].endpoint`;
const ADMIN_CLUSTER = 'static_resources.clusters[1]';
const PEERS_ENDPOINT = 'static_resources.clusters[2].load_assignment.endpoints[*].lb_endpoints[*].endpoint';
const UPGRADE_ROUTE = `${WEBSOCKET_HCM}.route_config.virtual_hosts[*].routes[0]`;
const PLAIN_HTTP_ROUTE = `${WEBSOCKET_HCM}.route_config.virtual_hosts[*].routes[1]`;

/**
 * Listener and cluster indexes follow the order of inlineEnvoyConfig: the live routes written into
 * the first listener, the live backend cluster first, then the static clusters.
 */
export const ENVOY_CONFIG_SOURCES: readonly EnvoyConfigSource[] = [
  { pattern: 'admin.address.socket_address.port_value', configField: 'envoy.adminPort' },
  { pattern: 'static_resources.listeners[0].address.socket_address.port_value', configField: 'envoy.listenerPort' },
  { pattern: `${READY_LISTENER}.address.socket_address.port_value`, configField: 'envoy.readyPort' },
  { pattern: `${WEBSOCKET_HCM}.route_config.virtual_hosts[*].routes[*].route.idle_timeout`, configField: 'envoy.streamIdleTimeout' },
  { pattern: `${UPGRADE_ROUTE}.route.timeout`, configField: 'envoy.connections.queueTimeout' },
  { pattern: `${WEBSOCKET_HCM}.common_http_protocol_options.idle_timeout`, configField: 'envoy.connectionIdleTimeout' },
  // The fleet bucket, as configured: Envoy shares it over the peers.
  { pattern: `${RATE_LIMITED_ROUTE}.token_bucket.max_tokens`, configField: 'envoy.rateLimit.maxTokens' },
  { pattern: `${RATE_LIMITED_ROUTE}.token_bucket.tokens_per_fill`, configField: 'envoy.rateLimit.tokensPerFill' },
  { pattern: `${RATE_LIMITED_ROUTE}.token_bucket.fill_interval`, configField: 'envoy.rateLimit.fillInterval' },
  { pattern: `${PLAIN_HTTP_ROUTE}.route.timeout`, configField: 'envoy.plainHttpTimeout' },
  { pattern: `${BACKEND_CLUSTER}.cluster_type.typed_config.dns_refresh_rate`, configField: 'envoy.dnsRefreshRate' },
  { pattern: `${BACKEND_ENDPOINT}.address.socket_address.address`, configField: 'backend.serviceName' },
  { pattern: `${BACKEND_ENDPOINT}.address.socket_address.port_value`, configField: 'backend.port' },
  { pattern: `${BACKEND_ENDPOINT}.health_check_config.port_value`, configField: 'backend.healthPort' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].timeout`, configField: 'envoy.healthCheck.timeout' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].interval`, configField: 'envoy.healthCheck.interval' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].no_traffic_interval`, configField: 'envoy.healthCheck.noTrafficInterval' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].healthy_threshold`, configField: 'envoy.healthCheck.healthyThreshold' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].unhealthy_threshold`, configField: 'envoy.healthCheck.unhealthyThreshold' },
  { pattern: `${BACKEND_CLUSTER}.health_checks[*].http_health_check.path`, configField: 'backend.healthPath' },
  { pattern: 'layered_runtime.layers[1].static_layer["circuit_breakers.websocket_backend.default.max_connections"]', configField: 'envoy.connections.maxTotal' },
  { pattern: 'layered_runtime.layers[1].static_layer["circuit_breakers.websocket_backend.default.max_requests"]', configField: 'envoy.connections.maxTotal' },
  // The queue holds the bucket plus what it refills within the queue timeout.
  { pattern: 'layered_runtime.layers[1].static_layer["circuit_breakers.websocket_backend.default.max_pending_requests"]', configField: 'envoy.rateLimit.maxTokens' },
  {
    pattern: `${BACKEND_CLUSTER}.circuit_breakers.per_host_thresholds[*].max_connections`,
    configField: 'envoy.connections.maxPerBackendPod',
  },
  {
    pattern: `${ADMIN_CLUSTER}.load_assignment.endpoints[*].lb_endpoints[*].endpoint.address.socket_address.port_value`,
    configField: 'envoy.adminPort',
  },
  { pattern: `${PEERS_ENDPOINT}.address.socket_address.address`, configField: 'envoy.namespace' },
  { pattern: `${PEERS_ENDPOINT}.address.socket_address.port_value`, configField: 'envoy.readyPort' },
  // The heap ceiling is a share of the memory limit.
  { pattern: 'overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes', configField: 'envoy.resources.memoryLimit' },
  {
    pattern: 'overload_manager.resource_monitors[1].typed_config.max_active_downstream_connections',
    configField: 'envoy.maxDownstreamConnections',
  },
];

const compiledPatterns = new WeakMap<readonly EnvoyConfigSource[], { regex: RegExp; configField: string }[]>();

/** The config field behind a bootstrap path, or undefined when the value is fixed by the builder. */
export function configFieldFor(
  path: string,
  sources: readonly EnvoyConfigSource[] = ENVOY_CONFIG_SOURCES,
): string | undefined {
  let compiled = compiledPatterns.get(sources);
  if (!compiled) {
    compiled = sources.map(({ pattern, configField }) => ({ regex: patternToRegex(pattern), configField }));
    compiledPatterns.set(sources, compiled);
  }
  return compiled.find(({ regex }) => regex.test(path))?.configField;
}

function patternToRegex(pattern: string): RegExp {
  const escaped = pattern
    .split('[*]')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\[\\d+\\]');
  return new RegExp(`^${escaped}$`);
}
