// The two listeners: the public WebSocket listener (upgrade, rate limit, JSON access log, bounded
// waits) and the ready listener (/ready and the read-only admin pages, for probes and the ALB).
import type { EdgeConfig } from '../config/schema';
import type {
  envoy_config_accesslog_v3_AccessLog as AccessLog,
  AnyOf,
  envoy_config_route_v3_HeaderMatcher as HeaderMatcher,
  envoy_config_listener_v3_Listener as Listener,
  envoy_extensions_filters_network_http_connection_manager_v3_ResponseMapper as ResponseMapper,
} from '../imports/envoy-types';
import { liveConfigSource } from './live';
import { ENVOY_NAMES, READ_ONLY_ADMIN_PATHS, TYPE } from './names';
import { protoDuration, socketAddress } from './proto';
import { rateLimitFilterDeclaration } from './rate-limit';
import { upgradeIsWebsocket } from './routes';

/** A fresh object each time, so no two listeners share one (a later edit of one must not change the other). */
const routerFilter = () => ({ name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.router } }) as const;

/**
 * Bounds the arrival of a whole request. It also runs while an upgrade waits for a backend slot, so it
 * sits above the longest `envoy.connections.queueTimeout` the config allows (60 s), which the upgrade
 * route enforces itself; a constant, so that no config value puts it in the static part.
 */
export const REQUEST_TIMEOUT = '65s';

/** The buffer filter's own limit; the plain route sets the one that applies (envoy.plainHttp.maxRequestBytes). */
const BUFFER_DECLARATION_BYTES = 65_536;

/** Envoy's edge best practice: bound each connection's buffers (its default is 1 MiB). */
export const PER_CONNECTION_BUFFER_BYTES = 32_768;

/** Before a route is chosen (the headers arrive within request_headers_timeout); each route sets its own after. */
const STREAM_IDLE_TIMEOUT_BEFORE_ROUTING = '300s';

export type WebsocketListenerInput = Pick<EdgeConfig['envoy'], 'listenerPort' | 'connectionIdleTimeout'>;

/**
 * The public listener. Static: a change to anything in a listener drains it, which closes every
 * WebSocket it carries, so its routes come from the live directory (RDS, envoy/routes.ts).
 */
export function websocketListener(envoy: WebsocketListenerInput): Listener {
  const connectionManager: AnyOf<typeof TYPE.hcm> = {
    '@type': TYPE.hcm,
    stat_prefix: ENVOY_NAMES.websocketStatPrefix,
    codec_type: 'HTTP1',
    // The ALB connects to the pod directly (target type ip) and appends the client to XFF.
    use_remote_address: true,
    xff_num_trusted_hops: 1,
    normalize_path: true,
    merge_slashes: true,
    upgrade_configs: [{ upgrade_type: 'websocket' }],
    stream_idle_timeout: STREAM_IDLE_TIMEOUT_BEFORE_ROUTING,
    request_timeout: REQUEST_TIMEOUT,
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
    rds: { route_config_name: ENVOY_NAMES.websocketRouteConfig, config_source: liveConfigSource('routes') },
    http_filters: [
      // No rules here: the upgrade route sets the allowed origins (envoy/routes.ts). Before the rate limit,
      // so a refused origin spends no token.
      { name: 'envoy.filters.http.rbac', typed_config: { '@type': TYPE.rbac } },
      { name: 'envoy.filters.http.local_ratelimit', typed_config: rateLimitFilterDeclaration() },
      // Off unless a route turns it on (the plain route does; an upgrade must never be buffered).
      { name: 'envoy.filters.http.buffer', typed_config: { '@type': TYPE.buffer, max_request_bytes: BUFFER_DECLARATION_BYTES }, disabled: true },
      routerFilter(),
    ],
  };
  return {
    name: ENVOY_NAMES.websocketListener,
    address: socketAddress('0.0.0.0', envoy.listenerPort),
    per_connection_buffer_limit_bytes: PER_CONNECTION_BUFFER_BYTES,
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: connectionManager }] }],
  };
}

/**
 * An upgrade that waited the whole queueTimeout for a backend slot (the upgrade route's timeout:
 * 504, flag UT) gets 503 with retry-after: the edge is full, not the backend slow.
 */
function queueTimeoutAsUnavailable(): ResponseMapper {
  return {
    filter: {
      and_filter: {
        filters: [{ response_flag_filter: { flags: ['UT'] } }, { header_filter: { header: upgradeIsWebsocket() } }],
      },
    },
    status_code: 503,
    headers_to_add: [{ header: { key: 'retry-after', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  };
}

function jsonStdoutAccessLog(): AccessLog {
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
          origin: '%REQ(ORIGIN)%',
          route_name: '%ROUTE_NAME%',
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

export type ReadyListenerInput = Pick<EdgeConfig['envoy'], 'readyPort' | 'readyMaxConnections'>;

export function readyListener(envoy: ReadyListenerInput): Listener {
  const getOnly: HeaderMatcher = { name: ':method', string_match: { exact: 'GET' } };
  const connectionManager: AnyOf<typeof TYPE.hcm> = {
    '@type': TYPE.hcm,
    stat_prefix: 'ready',
    codec_type: 'AUTO',
    // Probes, health checks and scrapes are short: an idle or slow connection is closed soon.
    request_headers_timeout: '5s',
    request_timeout: '10s',
    common_http_protocol_options: { idle_timeout: '60s', headers_with_underscores_action: 'REJECT_REQUEST' },
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
      routerFilter(),
    ],
  };
  return {
    name: ENVOY_NAMES.readyListener,
    address: socketAddress('0.0.0.0', envoy.readyPort),
    // Probes and the ALB health check must get through when the client connection cap is reached,
    // or a busy replica would be restarted (liveness) and cut every WebSocket on it.
    ignore_global_conn_limit: true,
    per_connection_buffer_limit_bytes: PER_CONNECTION_BUFFER_BYTES,
    filter_chains: [
      {
        filters: [
          {
            // So it has a cap of its own: past it, a new connection is closed at once.
            name: 'envoy.filters.network.connection_limit',
            typed_config: { '@type': TYPE.connectionLimit, stat_prefix: 'ready', max_connections: envoy.readyMaxConnections },
          },
          { name: 'envoy.filters.network.http_connection_manager', typed_config: connectionManager },
        ],
      },
    ],
  };
}
