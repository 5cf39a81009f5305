// The upstream clusters: the WebSocket backend (every pod found by DNS, health-checked, capped)
// and the loopback admin behind the ready listener.
import type { EdgeConfig } from '../config/schema';
import type { envoy_config_cluster_v3_Cluster as Cluster, envoy_config_cluster_v3_Cluster_CustomClusterType as ClusterType } from '../imports/envoy-types';
import type { BackendLimits } from './limits';
import { backendDnsName, ENVOY_NAMES, TYPE } from './names';
import { protoDuration, socketAddress } from './proto';

export interface BackendClusterInput {
  readonly backend: Pick<EdgeConfig['backend'], 'serviceName' | 'namespace' | 'port' | 'healthPort' | 'healthPath'>;
  readonly envoy: Pick<EdgeConfig['envoy'], 'healthCheck' | 'dnsRefreshRate'>;
}

export function backendCluster(config: BackendClusterInput, limits: Pick<BackendLimits, 'maxConnectionsPerBackendPod'>): Cluster {
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
    // Envoy's edge best practice: bound each upstream connection's buffers (its default is 1 MiB).
    per_connection_buffer_limit_bytes: 32_768,
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
        // The real caps are runtime keys (backendCapsRuntime): a change to them keeps this cluster, and with
        // it Envoy's count of open connections. These only apply if the runtime layer is missing: fail closed.
        // DEFAULT is the WebSockets' pool; HIGH is plain HTTP's own (the plain route's priority).
        ...(['DEFAULT', 'HIGH'] as const).map((priority) => ({
          priority,
          max_connections: 0,
          max_requests: 0,
          max_pending_requests: 0,
          max_retries: 1,
          track_remaining: true,
        })),
      ],
      // Envoy has no runtime key for the per-host cap (measured on 1.40.0), so it stays in the cluster: a change
      // replaces the cluster and its counts start afresh (docs/behaviour.md, "Changing the edge").
      per_host_thresholds: [{ priority: 'DEFAULT', max_connections: limits.maxConnectionsPerBackendPod }],
    },
  };
}

/**
 * The backend's connection caps, as runtime keys of the live RTDS layer
 * (`circuit_breakers.<cluster>.<priority>.<threshold>`, Envoy's circuit-breaker runtime). A runtime
 * update keeps the cluster object, so connections already open keep counting against the new caps
 * (measured on 1.40.0: with 2 open and the cap raised to 3, exactly one more was admitted).
 */
export function backendCapsRuntime(
  limits: Pick<BackendLimits, 'maxConnections' | 'maxPendingRequests' | 'plainMaxConnections' | 'plainMaxPendingRequests'>,
): Record<string, number> {
  const key = (priority: string, threshold: string) => `circuit_breakers.${ENVOY_NAMES.backendCluster}.${priority}.${threshold}`;
  return {
    [key('default', 'max_connections')]: limits.maxConnections,
    // Each upgrade is a request: max_requests caps WebSockets too, so it moves with max_connections.
    [key('default', 'max_requests')]: limits.maxConnections,
    // Upgrades beyond this get 503 at once (flag UO); those queued get 503 after queueTimeout.
    [key('default', 'max_pending_requests')]: limits.maxPendingRequests,
    // Plain HTTP's own pool: a few connections, each reused for request after request.
    [key('high', 'max_connections')]: limits.plainMaxConnections,
    // max_requests counts the waiting requests too (measured on 1.40.0: at max_connections a request got 503 at once).
    [key('high', 'max_requests')]: limits.plainMaxConnections + limits.plainMaxPendingRequests,
    [key('high', 'max_pending_requests')]: limits.plainMaxPendingRequests,
  };
}

/** Envoy's DNS cluster extension: the non-deprecated home of the DNS settings (Cluster.dns_refresh_rate is deprecated). */
export function dnsClusterType(refreshMs: number): ClusterType {
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

export type AdminClusterInput = Pick<EdgeConfig['envoy'], 'adminPort'>;

/** The admin interface on loopback, reached only through the ready listener's read-only routes. */
export function adminCluster(envoy: AdminClusterInput): Cluster {
  return {
    name: ENVOY_NAMES.adminCluster,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: ENVOY_NAMES.adminCluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', envoy.adminPort) } }] }],
    },
  };
}
