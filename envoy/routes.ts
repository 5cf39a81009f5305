// The WebSocket listener's routes, served live (RDS from the watched live directory): the upgrade
// route with the rate limits and its wait for a backend slot, the refusal of upgrades from origins
// not allowed, and the plain HTTP route on a pool of its own. A change here reaches Envoy without a
// restart and without touching an open WebSocket.
import type { EdgeConfig } from '../config/schema';
import type {
  AnyOf,
  envoy_config_route_v3_HeaderMatcher as HeaderMatcher,
  envoy_config_rbac_v3_Principal as Principal,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../imports/envoy-types';
import { ENVOY_NAMES, TYPE } from './names';
import { protoDuration } from './proto';
import { fleetWebsocketRateLimit } from './rate-limit';

type Envoy = EdgeConfig['envoy'];

export type RoutesInput = Pick<Envoy, 'rateLimit' | 'perClient' | 'streamIdleTimeout' | 'plainHttpTimeout' | 'allowedOrigins' | 'allowMissingOrigin'> & {
  readonly connections: Pick<Envoy['connections'], 'queueTimeout'>;
  readonly plainHttp: Pick<Envoy['plainHttp'], 'maxRequestBytes'>;
};

/** Plain requests use the backend's HIGH priority pool: circuit breakers of their own (envoy/clusters.ts). */
export const PLAIN_HTTP_PRIORITY = 'HIGH';

export function websocketRoutes(envoy: RoutesInput): RouteConfiguration {
  // An idle WebSocket is an open stream: the route's idle timeout, not a route timeout, bounds it.
  const idle_timeout = protoDuration(envoy.streamIdleTimeout);
  const originCheck = allowedOriginsRbac(envoy);
  return {
    name: ENVOY_NAMES.websocketRouteConfig,
    virtual_hosts: [
      {
        name: 'websocket_backend',
        domains: ['*'],
        routes: [
          {
            name: ENVOY_NAMES.websocketRoute,
            match: { prefix: '/', headers: [upgradeIsWebsocket()] },
            // For an upgrade the route timeout runs from the request until the backend's 101: it is the wait
            // for a backend slot (measured on 1.40.0: 504 after it, and an open WebSocket outlives it).
            // Answered 503 with retry-after by the listener's local reply mapper.
            route: { cluster: ENVOY_NAMES.backendCluster, timeout: protoDuration(envoy.connections.queueTimeout), idle_timeout },
            typed_per_filter_config: {
              // The RBAC filter runs before the rate limit: a refused origin spends no token.
              ...(originCheck ? { 'envoy.filters.http.rbac': originCheck } : {}),
              'envoy.filters.http.local_ratelimit': fleetWebsocketRateLimit(envoy.rateLimit, envoy.perClient),
            },
          },
          {
            name: ENVOY_NAMES.plainRoute,
            match: { prefix: '/' },
            // Bounds the whole request once it has arrived, a wait for a backend slot included; then 504.
            route: {
              cluster: ENVOY_NAMES.backendCluster,
              priority: PLAIN_HTTP_PRIORITY,
              timeout: protoDuration(envoy.plainHttpTimeout),
              idle_timeout,
            },
            typed_per_filter_config: {
              // Read the whole body before taking a backend connection: a slow upload holds none.
              'envoy.filters.http.buffer': {
                '@type': TYPE.bufferPerRoute,
                buffer: { max_request_bytes: envoy.plainHttp.maxRequestBytes },
              },
            },
          },
        ],
      },
    ],
  };
}

/**
 * Only upgrades from an allowed Origin pass (403 otherwise, `rbac_access_denied_matched_policy[none]`
 * in the access log). A browser always sends Origin on a WebSocket, which is what cross-site
 * WebSocket hijacking abuses; clients that are not browsers send none (admitted unless
 * allowMissingOrigin is false). Nothing to check for ["*"].
 */
function allowedOriginsRbac(envoy: RoutesInput): AnyOf<typeof TYPE.rbacPerRoute> | undefined {
  const origins = envoy.allowedOrigins;
  const anyOrigin = !origins || origins.includes('*');
  if (anyOrigin && envoy.allowMissingOrigin) return undefined;
  const present: Principal = { header: { name: 'origin', present_match: true } };
  const principals: Principal[] = [
    anyOrigin
      ? present
      : // Exact origins, case-insensitive as host names are.
        { header: { name: 'origin', string_match: { safe_regex: { regex: `(?i)^(${origins.map(escapeRegex).join('|')})$` } } } },
    ...(envoy.allowMissingOrigin ? [{ not_id: present }] : []),
  ];
  return {
    '@type': TYPE.rbacPerRoute,
    rbac: { rules: { action: 'ALLOW', policies: { [ENVOY_NAMES.allowedOriginsPolicy]: { permissions: [{ any: true }], principals } } } },
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function upgradeIsWebsocket(): HeaderMatcher {
  return { name: 'upgrade', string_match: { exact: 'websocket', ignore_case: true } };
}
