// What the alerts and the dashboard select on: the labels the Prometheus Operator puts on every
// series it scrapes through our PodMonitor (namespace), and the labels Envoy itself gives its stats.
import type { EdgeConfig } from '../config/schema';
import { ENVOY_NAMES } from '../envoy/names';

/** A PromQL label matcher list, such as {namespace="envoy-proxy",envoy_cluster_name="websocket_backend"}. */
export function matchers(config: { readonly envoy: Pick<EdgeConfig['envoy'], 'namespace'> }, extra: Record<string, string> = {}): string {
  const labels = { namespace: config.envoy.namespace, ...extra };
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

export const backendCluster = { envoy_cluster_name: ENVOY_NAMES.backendCluster };
export const websocketListener = { envoy_http_conn_manager_prefix: ENVOY_NAMES.websocketStatPrefix };
export const upgradeRateLimit = { envoy_local_http_ratelimit_prefix: ENVOY_NAMES.rateLimitStatPrefix };

/** Every Envoy metric name a PromQL expression uses (histogram series named by their family). */
export function metricNames(expression: string): string[] {
  return [...new Set([...expression.matchAll(/\benvoy_[a-z0-9_]+(?=\{)/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))].sort();
}
