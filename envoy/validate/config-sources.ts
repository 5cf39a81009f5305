// Which config field produced each value of the Envoy bootstrap, so a problem found in the
// bootstrap names the field a user edits. Patterns address list elements by their `name` (a
// listener, cluster, filter, route, runtime layer), not by position, so reordering the bootstrap
// cannot silently misattribute a problem. Read off the bootstrap builder in envoy/: keep in step
// with it (test/envoy-validator.test.ts fails when a pattern here matches nothing in the default
// bootstrap, or when a reordered bootstrap names other fields).
import { ENVOY_NAMES } from '../names';

/** A bootstrap path pattern and the config field its value comes from. */
export interface EnvoyConfigSource {
  /**
   * A path as the validator writes it, with list elements that have a name written `[that-name]`
   * (see namedPath); `[*]` stands for any element.
   */
  readonly pattern: string;
  readonly configField: string;
}

const HCM = '[envoy.filters.network.http_connection_manager].typed_config';
const WEBSOCKET_HCM = `static_resources.listeners[${ENVOY_NAMES.websocketListener}].filter_chains[*].filters${HCM}`;
const READY_LISTENER = `static_resources.listeners[${ENVOY_NAMES.readyListener}]`;
const ROUTES = `${WEBSOCKET_HCM}.route_config.virtual_hosts[*].routes`;
const UPGRADE_ROUTE = `${ROUTES}[${ENVOY_NAMES.websocketRoute}]`;
const PLAIN_HTTP_ROUTE = `${ROUTES}[${ENVOY_NAMES.plainRoute}]`;
const RATE_LIMIT = `${UPGRADE_ROUTE}.typed_per_filter_config["envoy.filters.http.local_ratelimit"]`;
const BACKEND_CLUSTER = `static_resources.clusters[${ENVOY_NAMES.backendCluster}]`;
const BACKEND_ENDPOINT = `${BACKEND_CLUSTER}.load_assignment.endpoints[*].lb_endpoints[*].endpoint`;
const ADMIN_CLUSTER = `static_resources.clusters[${ENVOY_NAMES.adminCluster}]`;
const PEERS_ENDPOINT = `static_resources.clusters[${ENVOY_NAMES.peersCluster}].load_assignment.endpoints[*].lb_endpoints[*].endpoint`;
const CAP = (priority: string, threshold: string) =>
  `layered_runtime.layers[${ENVOY_NAMES.liveRuntimeLayer}].static_layer["circuit_breakers.${ENVOY_NAMES.backendCluster}.${priority}.${threshold}"]`;

/** For the bootstrap as validated: the live resources written back inline (envoy/bootstrap.ts, inlineEnvoyConfig). */
export const ENVOY_CONFIG_SOURCES: readonly EnvoyConfigSource[] = [
  { pattern: 'admin.address.socket_address.port_value', configField: 'envoy.adminPort' },
  { pattern: `static_resources.listeners[${ENVOY_NAMES.websocketListener}].address.socket_address.port_value`, configField: 'envoy.listenerPort' },
  { pattern: `${READY_LISTENER}.address.socket_address.port_value`, configField: 'envoy.readyPort' },
  {
    pattern: `${READY_LISTENER}.filter_chains[*].filters[envoy.filters.network.connection_limit].typed_config.max_connections`,
    configField: 'envoy.readyMaxConnections',
  },
  { pattern: `${ROUTES}[*].route.idle_timeout`, configField: 'envoy.streamIdleTimeout' },
  { pattern: `${UPGRADE_ROUTE}.route.timeout`, configField: 'envoy.connections.queueTimeout' },
  { pattern: `${WEBSOCKET_HCM}.common_http_protocol_options.idle_timeout`, configField: 'envoy.connectionIdleTimeout' },
  // The fleet bucket, as configured: Envoy shares it over the peers.
  { pattern: `${RATE_LIMIT}.token_bucket.max_tokens`, configField: 'envoy.rateLimit.maxTokens' },
  { pattern: `${RATE_LIMIT}.token_bucket.tokens_per_fill`, configField: 'envoy.rateLimit.tokensPerFill' },
  { pattern: `${RATE_LIMIT}.token_bucket.fill_interval`, configField: 'envoy.rateLimit.fillInterval' },
  { pattern: `${RATE_LIMIT}.descriptors[*].token_bucket.max_tokens`, configField: 'envoy.perClient.maxTokens' },
  { pattern: `${RATE_LIMIT}.descriptors[*].token_bucket.tokens_per_fill`, configField: 'envoy.perClient.tokensPerFill' },
  { pattern: `${RATE_LIMIT}.descriptors[*].token_bucket.fill_interval`, configField: 'envoy.perClient.fillInterval' },
  { pattern: `${RATE_LIMIT}.max_dynamic_descriptors`, configField: 'envoy.perClient.maxClients' },
  { pattern: `${PLAIN_HTTP_ROUTE}.route.timeout`, configField: 'envoy.plainHttpTimeout' },
  {
    pattern: `${PLAIN_HTTP_ROUTE}.typed_per_filter_config["envoy.filters.http.buffer"].buffer.max_request_bytes`,
    configField: 'envoy.plainHttp.maxRequestBytes',
  },
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
  { pattern: `${BACKEND_CLUSTER}.circuit_breakers.per_host_thresholds[*].max_connections`, configField: 'envoy.connections.maxPerBackendPod' },
  { pattern: CAP('default', 'max_connections'), configField: 'envoy.connections.maxTotal' },
  { pattern: CAP('default', 'max_requests'), configField: 'envoy.connections.maxTotal' },
  // The queue holds the bucket plus what it refills within the queue timeout.
  { pattern: CAP('default', 'max_pending_requests'), configField: 'envoy.rateLimit.maxTokens' },
  { pattern: CAP('high', 'max_connections'), configField: 'envoy.plainHttp.maxConnections' },
  { pattern: CAP('high', 'max_requests'), configField: 'envoy.plainHttp.maxConnections' },
  { pattern: CAP('high', 'max_pending_requests'), configField: 'envoy.plainHttp.maxConnections' },
  { pattern: `${ADMIN_CLUSTER}.load_assignment.endpoints[*].lb_endpoints[*].endpoint.address.socket_address.port_value`, configField: 'envoy.adminPort' },
  { pattern: `${PEERS_ENDPOINT}.address.socket_address.address`, configField: 'envoy.namespace' },
  { pattern: `${PEERS_ENDPOINT}.address.socket_address.port_value`, configField: 'envoy.readyPort' },
  // The heap ceiling is a share of the memory limit.
  {
    pattern: 'overload_manager.resource_monitors[envoy.resource_monitors.fixed_heap].typed_config.max_heap_size_bytes',
    configField: 'envoy.resources.memoryLimit',
  },
  {
    pattern: 'overload_manager.resource_monitors[envoy.resource_monitors.global_downstream_max_connections].typed_config.max_active_downstream_connections',
    configField: 'envoy.maxDownstreamConnections',
  },
];

/** A validator path split into its steps: `.field`, `[index]`, `["map key"]`. */
function steps(path: string): string[] {
  return path.match(/\["(?:[^"\\]|\\.)*"\]|\[\d+\]|[^.[\]]+/g) ?? [];
}

/**
 * The path with each list index whose element has a string `name` written as that name:
 * `static_resources.clusters[0].connect_timeout` → `static_resources.clusters[websocket_backend].connect_timeout`.
 */
export function namedPath(path: string, bootstrap: unknown): string {
  let current: unknown = bootstrap;
  let out = '';
  for (const step of steps(path)) {
    if (/^\[\d+\]$/.test(step)) {
      const element = Array.isArray(current) ? current[Number(step.slice(1, -1))] : undefined;
      const name = (element as { name?: unknown } | undefined)?.name;
      out += typeof name === 'string' && name && !/[\]"]/.test(name) ? `[${name}]` : step;
      current = element;
    } else if (step.startsWith('["')) {
      out += step;
      current = (current as Record<string, unknown> | undefined)?.[JSON.parse(step.slice(1, -1))];
    } else {
      out += out ? `.${step}` : step;
      current = (current as Record<string, unknown> | undefined)?.[step];
    }
  }
  return out;
}

/** Every value a pattern names in `bootstrap` (`[*]` any element, `[name]` the element of that name). */
export function valuesAt(bootstrap: unknown, pattern: string): unknown[] {
  let current: unknown[] = [bootstrap];
  for (const step of pattern.match(/\["(?:[^"\\]|\\.)*"\]|\[[^\]]+\]|[^.[\]]+/g) ?? []) {
    current = current
      .flatMap((value): unknown[] => {
        if (value === null || typeof value !== 'object') return [];
        if (step === '[*]') return Array.isArray(value) ? value : [];
        if (step.startsWith('["')) return [(value as Record<string, unknown>)[JSON.parse(step.slice(1, -1))]];
        if (step.startsWith('[')) {
          const key = step.slice(1, -1);
          if (!Array.isArray(value)) return [];
          return /^\d+$/.test(key) ? [value[Number(key)]] : value.filter((e) => (e as { name?: unknown })?.name === key);
        }
        return [(value as Record<string, unknown>)[step]];
      })
      .filter((v) => v !== undefined);
  }
  return current;
}

const compiledPatterns = new WeakMap<readonly EnvoyConfigSource[], { regex: RegExp; configField: string }[]>();

/** The config field behind a bootstrap path (in `bootstrap`), or undefined when the value is fixed by the builder. */
export function configFieldFor(path: string, bootstrap: unknown, sources: readonly EnvoyConfigSource[] = ENVOY_CONFIG_SOURCES): string | undefined {
  let compiled = compiledPatterns.get(sources);
  if (!compiled) {
    compiled = sources.map(({ pattern, configField }) => ({ regex: patternToRegex(pattern), configField }));
    compiledPatterns.set(sources, compiled);
  }
  const named = namedPath(path, bootstrap);
  return compiled.find(({ regex }) => regex.test(named))?.configField;
}

function patternToRegex(pattern: string): RegExp {
  const escaped = pattern
    .split('[*]')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\[[^\\]]+\\]');
  return new RegExp(`^${escaped}$`);
}
