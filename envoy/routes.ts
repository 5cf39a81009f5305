// The WebSocket listener's routes, served live (RDS from the watched live directory): the upgrade
// route with the fleet rate limit and its wait for a backend slot, and the plain HTTP route. A
// change here reaches Envoy without a restart and without touching an open WebSocket.
import type { EdgeConfig } from '../config/schema';
import type {
  envoy_config_route_v3_HeaderMatcher as HeaderMatcher,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../imports/envoy-types';
import { ENVOY_NAMES } from './names';
import { protoDuration } from './proto';
import { fleetWebsocketRateLimit } from './rate-limit';

export type RoutesInput = Pick<EdgeConfig['envoy'], 'rateLimit' | 'connections' | 'streamIdleTimeout' | 'plainHttpTimeout'>;

export function websocketRoutes(envoy: RoutesInput): RouteConfiguration {
  // An idle WebSocket is an open stream: the route's idle timeout, not a route timeout, bounds it.
  const idle_timeout = protoDuration(envoy.streamIdleTimeout);
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
            typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': fleetWebsocketRateLimit(envoy.rateLimit) },
          },
          {
            name: ENVOY_NAMES.plainRoute,
            match: { prefix: '/' },
            // Bounds the whole request once it has arrived, a wait for a backend slot included; then 504.
            route: { cluster: ENVOY_NAMES.backendCluster, timeout: protoDuration(envoy.plainHttpTimeout), idle_timeout },
          },
        ],
      },
    ],
  };
}

export function upgradeIsWebsocket(): HeaderMatcher {
  return { name: 'upgrade', string_match: { exact: 'websocket', ignore_case: true } };
}
