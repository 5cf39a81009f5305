// Behaviour of the Envoy bootstrap, one test per behaviour the edge promises.

import { perReplicaLimits } from '../envoy/limits';
import { configWith, inlineBootstrapFor } from './helpers';

const bootstrap = inlineBootstrapFor(configWith()) as any;
const listeners: any[] = bootstrap.static_resources.listeners;
const clusters: any[] = bootstrap.static_resources.clusters;
const hcmOf = (listener: any) => listener.filter_chains[0].filters.find((f: any) => f.name === 'envoy.filters.network.http_connection_manager').typed_config;
const websocketHcm = hcmOf(listeners.find((l) => l.address.socket_address.port_value === 8080));
const readyHcm = hcmOf(listeners.find((l) => l.address.socket_address.port_value === 9901));
const backend = clusters.find((c) => c.name === 'websocket_backend');
const websocketRoutes: any[] = websocketHcm.route_config.virtual_hosts.flatMap((vh: any) => vh.routes);
const upgradeRoute = websocketRoutes.find((r) => r.match.headers?.some((h: any) => h.name === 'upgrade'));
const bucketOf = (b: any) =>
  b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].typed_per_filter_config[
    'envoy.filters.http.local_ratelimit'
  ].token_bucket;

describe('listener', () => {
  test('GIVEN the defaults THEN the public listener upgrades HTTP/1.1 connections to WebSocket', () => {
    expect(websocketHcm.upgrade_configs).toEqual([{ upgrade_type: 'websocket' }]);
  });

  test('GIVEN an upgrade THEN its route timeout is the queue timeout, which ends at the 101 (live: a socket idle past it still echoes)', () => {
    expect(upgradeRoute.route.timeout).toBe('5s');
  });

  test("GIVEN idle timeouts in the config THEN each route's idle timeout is streamIdleTimeout and the connection idle timeout is connectionIdleTimeout", () => {
    const custom = inlineBootstrapFor(configWith({ envoy: { streamIdleTimeout: '2h', connectionIdleTimeout: '90m' } })) as any;
    const hcm = hcmOf(custom.static_resources.listeners[0]);
    expect(hcm.route_config.virtual_hosts[0].routes.map((r: any) => r.route.idle_timeout)).toEqual(['7200s', '7200s']);
    expect(hcm.common_http_protocol_options.idle_timeout).toBe('5400s');
  });

  test("GIVEN any config THEN the listener's own timeouts are constants, so no config value puts the listener (whose change drains every socket) in play", () => {
    const other = hcmOf(
      (inlineBootstrapFor(configWith({ envoy: { streamIdleTimeout: '2h', connections: { queueTimeout: '60s' }, plainHttpTimeout: '1h' } })) as any)
        .static_resources.listeners[0],
    );
    for (const field of ['stream_idle_timeout', 'request_timeout', 'request_headers_timeout', 'delayed_close_timeout']) {
      expect({ field, value: other[field] }).toEqual({ field, value: websocketHcm[field] });
    }
    // request_timeout also runs while an upgrade waits, so it must outlast the longest queue timeout allowed (60 s).
    expect(Number(websocketHcm.request_timeout.replace(/s$/, ''))).toBeGreaterThan(60);
  });

  test('GIVEN the ALB in front THEN the client address is taken from X-Forwarded-For with the ALB as the one trusted hop', () => {
    expect(websocketHcm.use_remote_address).toBe(true);
    expect(websocketHcm.xff_num_trusted_hops).toBe(1);
  });

  test('GIVEN any request THEN one JSON access log line goes to stdout with the fields operators search by', () => {
    expect(websocketHcm.access_log).toHaveLength(1);
    const log = websocketHcm.access_log[0];
    expect(log.name).toBe('envoy.access_loggers.stdout');
    const fields = log.typed_config.log_format.json_format;
    expect(fields).toMatchObject({
      start_time: '%START_TIME%',
      method: '%REQ(:METHOD)%',
      response_code: '%RESPONSE_CODE%',
      response_flags: '%RESPONSE_FLAGS%',
      upstream_host: '%UPSTREAM_HOST%',
      duration_ms: '%DURATION%',
      bytes_received: '%BYTES_RECEIVED%',
      bytes_sent: '%BYTES_SENT%',
      upgrade: '%REQ(UPGRADE)%',
    });
    expect(fields.path).toContain('PATH');
  });
});

describe('rate limit on new WebSockets (its behaviour is proven in test/live/rate-limit.live.test.ts)', () => {
  test('GIVEN a fleet bucket of 10 refilled at 1 per second THEN the bucket holds the fleet totals, shared over the peers', () => {
    const limit = upgradeRoute.typed_per_filter_config['envoy.filters.http.local_ratelimit'];
    expect(bucketOf(bootstrap)).toEqual({ max_tokens: 10, tokens_per_fill: 1, fill_interval: '1s' });
    expect(limit.local_cluster_rate_limit).toEqual({});
    expect(bootstrap.cluster_manager.local_cluster_name).toBe('envoy_peers');
  });

  test.each([1, 2, 5])('GIVEN %i replicas THEN the bucket is the same: the replica count never enters it', (replicas) => {
    const connections = { maxTotal: 10 * replicas, maxPerBackendPod: 2 * replicas };
    expect(bucketOf(inlineBootstrapFor(configWith({ envoy: { replicas, connections } })))).toEqual(bucketOf(bootstrap));
  });

  test('GIVEN the peers THEN they are the ready Envoy pods, found through their headless Service and re-resolved every second', () => {
    const peers = clusters.find((c) => c.name === 'envoy_peers');
    expect(peers.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({
      address: 'envoy-proxy-peers.envoy-proxy.svc.cluster.local',
      port_value: 9901,
    });
    expect(peers.cluster_type.typed_config).toMatchObject({ dns_refresh_rate: '1s', respect_dns_ttl: false });
  });

  test('GIVEN an upgrade request THEN it passes the rate limit, and a request without Upgrade does not spend a token', () => {
    expect(upgradeRoute.match.headers).toEqual([{ name: 'upgrade', string_match: { exact: 'websocket', ignore_case: true } }]);
    expect(upgradeRoute.typed_per_filter_config['envoy.filters.http.local_ratelimit']).toBeDefined();
    const plainRoutes = websocketRoutes.filter((r) => r !== upgradeRoute);
    for (const route of plainRoutes) expect(route.typed_per_filter_config?.['envoy.filters.http.local_ratelimit']).toBeUndefined();
    // The upgrade route must come first, or the catch-all would swallow upgrades.
    expect(websocketRoutes.indexOf(upgradeRoute)).toBe(0);
  });

  test('GIVEN the bucket is empty THEN the upgrade is refused with 429, X-RateLimit headers and a Retry-After Envoy computes', () => {
    const limit = upgradeRoute.typed_per_filter_config['envoy.filters.http.local_ratelimit'];
    expect(limit.status).toEqual({ code: 'TooManyRequests' });
    expect(limit.filter_enabled.default_value).toEqual({ numerator: 100, denominator: 'HUNDRED' });
    expect(limit.filter_enforced.default_value).toEqual({ numerator: 100, denominator: 'HUNDRED' });
    expect(limit.enable_x_ratelimit_headers).toBe('DRAFT_VERSION_03');
    expect(limit.enable_retry_after_header).toBe(true);
    const filterNames = websocketHcm.http_filters.map((f: any) => f.name);
    expect(filterNames.indexOf('envoy.filters.http.local_ratelimit')).toBeLessThan(filterNames.indexOf('envoy.filters.http.router'));
  });
});

describe('connection cap (its behaviour is proven in test/live/connection-cap.live.test.ts)', () => {
  const runtime = bootstrap.layered_runtime.layers.find((l: any) => l.name === 'live').static_layer;
  const capKey = (threshold: string) => `circuit_breakers.websocket_backend.default.${threshold}`;

  test('GIVEN 8 connections in total and 2 per pod over 2 replicas THEN each replica allows 4 in total (live runtime keys) and 1 per pod', () => {
    expect(runtime[capKey('max_connections')]).toBe(4);
    expect(runtime[capKey('max_requests')]).toBe(4);
    expect(backend.circuit_breakers.per_host_thresholds).toEqual([{ priority: 'DEFAULT', max_connections: 1 }]);
  });

  test("GIVEN the runtime layer is missing THEN the cluster's own thresholds fail closed (0), never Envoy's default of 1024", () => {
    const [thresholds] = backend.circuit_breakers.thresholds;
    expect([thresholds.max_connections, thresholds.max_requests, thresholds.max_pending_requests]).toEqual([0, 0, 0]);
  });

  test.each([1, 2])('GIVEN %i replicas THEN the per-replica caps add up to the fleet totals 8 and 2', (replicas) => {
    const limits = perReplicaLimits(configWith({ envoy: { replicas } }));
    expect(limits.maxConnections * replicas).toBe(8);
    expect(limits.maxConnectionsPerBackendPod * replicas).toBe(2);
  });

  test('GIVEN the cap is reached THEN an upgrade that timed out waiting (flag UT) is answered 503 with retry-after, not 504', () => {
    const mapper = websocketHcm.local_reply_config.mappers[0];
    expect(mapper.filter.and_filter.filters).toEqual([
      { response_flag_filter: { flags: ['UT'] } },
      { header_filter: { header: { name: 'upgrade', string_match: { exact: 'websocket', ignore_case: true } } } },
    ]);
    expect(mapper.status_code).toBe(503);
  });

  test('GIVEN a burst of 10 and 1 token per second THEN the wait queue holds every upgrade the bucket admits within the 5 s queue timeout (10 + 5)', () => {
    expect(runtime[capKey('max_pending_requests')]).toBe(15);
    const slower = inlineBootstrapFor(configWith({ envoy: { rateLimit: { maxTokens: 20, tokensPerFill: 2, fillInterval: '500ms' } } })) as any;
    expect(slower.layered_runtime.layers[1].static_layer[capKey('max_pending_requests')]).toBe(20 + 10 * 2);
  });

  test('GIVEN a plain HTTP request THEN its route is bounded by envoy.plainHttpTimeout, a wait for a slot included', () => {
    const plain = websocketRoutes.find((r) => r !== upgradeRoute);
    expect(plain.route.timeout).toBe('15s');
    const custom = inlineBootstrapFor(configWith({ envoy: { plainHttpTimeout: '3s' } })) as any;
    expect(hcmOf(custom.static_resources.listeners[0]).route_config.virtual_hosts[0].routes[1].route.timeout).toBe('3s');
  });
});

describe('backend cluster', () => {
  test('GIVEN the headless Service THEN Envoy resolves every backend pod by DNS and sends each upgrade to the pod with the fewest open ones, over HTTP/1.1', () => {
    expect(backend.cluster_type).toEqual({
      name: 'envoy.clusters.dns',
      typed_config: expect.objectContaining({ dns_refresh_rate: '5s', respect_dns_ttl: false, dns_lookup_family: 'V4_ONLY' }),
    });
    expect(backend.type).toBeUndefined();
    expect(backend.load_balancing_policy.policies[0].typed_extension_config.typed_config.selection_method).toBe('FULL_SCAN');
    expect(bootstrap.layered_runtime.layers[0].static_layer['envoy.reloadable_features.least_request_lb_count_pending_requests']).toBe(true);
    const address = backend.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address).toEqual({ address: 'envoy-poc-app-server-service.default.svc.cluster.local', port_value: 8080 });
    expect(backend.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config).toEqual({
      http_protocol_options: {},
    });
  });

  test('GIVEN backend pods THEN each is health-checked with GET /health on port 8081 on an explicit schedule, and every failing status counts towards the threshold', () => {
    const endpoint = backend.load_assignment.endpoints[0].lb_endpoints[0].endpoint;
    expect(endpoint.health_check_config).toEqual({ port_value: 8081 });
    expect(backend.health_checks).toEqual([
      {
        timeout: '2s',
        interval: '5s',
        no_traffic_interval: '10s',
        healthy_threshold: 2,
        unhealthy_threshold: 3,
        http_health_check: {
          path: '/health',
          expected_statuses: [{ start: 200, end: 400 }],
          retriable_statuses: [
            { start: 100, end: 200 },
            { start: 400, end: 600 },
          ],
        },
      },
    ]);
  });
});

describe('admin and readiness', () => {
  test('GIVEN the admin interface THEN it listens on loopback only', () => {
    expect(bootstrap.admin.address.socket_address.address).toBe('127.0.0.1');
    for (const listener of listeners) expect(listener.address.socket_address.port_value).not.toBe(bootstrap.admin.address.socket_address.port_value);
  });

  test('GIVEN the client connection cap is reached THEN the ready listener is exempt from it', () => {
    expect(listeners.find((l) => l.name === 'ready_listener').ignore_global_conn_limit).toBe(true);
    expect(listeners.find((l) => l.name === 'websocket_listener').ignore_global_conn_limit).toBeUndefined();
  });

  test('GIVEN GET /ready on 9901 THEN Envoy answers it itself: 200 while live, 503 once draining', () => {
    const healthCheck = readyHcm.http_filters.find((f: any) => f.name === 'envoy.filters.http.health_check');
    expect(healthCheck.typed_config.pass_through_mode).toBe(false);
    expect(healthCheck.typed_config.headers).toEqual([{ name: ':path', string_match: { exact: '/ready' } }]);
  });

  test('GIVEN port 9901 THEN only GET on the read-only pages reaches admin, and every other path gets 404', () => {
    const routes: any[] = readyHcm.route_config.virtual_hosts[0].routes;
    const toAdmin = routes.filter((r) => r.route);
    expect(toAdmin.map((r) => r.match.path).sort()).toEqual(['/clusters', '/config_dump', '/stats', '/stats/prometheus']);
    for (const route of toAdmin) expect(route.match.headers).toEqual([{ name: ':method', string_match: { exact: 'GET' } }]);
    expect(routes[routes.length - 1]).toEqual({ match: { prefix: '/' }, direct_response: { status: 404 } });
    const dangerous = ['/quitquitquit', '/drain_listeners', '/healthcheck/fail', '/logging', '/runtime_modify', '/reset_counters'];
    for (const path of dangerous) expect(routes.some((r) => r.route && (r.match.path === path || path.startsWith(r.match.prefix ?? '\0')))).toBe(false);
  });
});

describe('overload protection', () => {
  test('GIVEN a 256Mi memory limit THEN the heap ceiling is 80% of it and Envoy stops accepting requests near it', () => {
    const heap = bootstrap.overload_manager.resource_monitors.find((m: any) => m.name === 'envoy.resource_monitors.fixed_heap');
    expect(heap.typed_config.max_heap_size_bytes).toBe(Math.floor(256 * 1024 * 1024 * 0.8));
    const actions = bootstrap.overload_manager.actions.map((a: any) => a.name);
    expect(actions).toEqual(expect.arrayContaining(['envoy.overload_actions.shrink_heap', 'envoy.overload_actions.stop_accepting_requests']));
  });

  test('GIVEN a fleet cap of 10000 client connections over 2 replicas THEN each replica accepts at most 5000', () => {
    const monitor = bootstrap.overload_manager.resource_monitors.find((m: any) => m.name === 'envoy.resource_monitors.global_downstream_max_connections');
    expect(monitor.typed_config.max_active_downstream_connections).toBe(5000);
  });

  test('GIVEN a CPU limit of 250m THEN Envoy runs one worker thread; 2500m gives 2', () => {
    expect(perReplicaLimits(configWith()).concurrency).toBe(1);
    expect(perReplicaLimits(configWith({ envoy: { resources: { cpuLimit: '2500m', cpuRequest: '250m' } } })).concurrency).toBe(2);
  });
});

describe('hostile clients (their behaviour is proven in test/live/edge-protection.live.test.ts)', () => {
  const limit = upgradeRoute.typed_per_filter_config['envoy.filters.http.local_ratelimit'];
  const rbacOf = (config = configWith()) =>
    (inlineBootstrapFor(config) as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0]
      .typed_per_filter_config['envoy.filters.http.rbac'];

  test('GIVEN the defaults THEN each client address gets a bucket of 5, 1 every 5 s, beside the fleet bucket, at most 10000 clients per replica', () => {
    expect(limit.rate_limits).toEqual([{ actions: [{ remote_address: {} }] }]);
    expect(limit.descriptors).toEqual([
      { entries: [{ key: 'remote_address', value: '' }], token_bucket: { max_tokens: 5, tokens_per_fill: 1, fill_interval: '5s' } },
    ]);
    expect(limit.max_dynamic_descriptors).toBe(10000);
    expect(limit.always_consume_default_token_bucket).toBe(true);
  });

  test('GIVEN allowed origins THEN the upgrade route admits only those (any case) or none at all, and the RBAC filter runs before the rate limit', () => {
    const policy = rbacOf().rbac.rules.policies.allowed_origins;
    expect(policy.principals).toEqual([
      { header: { name: 'origin', string_match: { safe_regex: { regex: '(?i)^(https://app\\.example\\.com)$' } } } },
      { not_id: { header: { name: 'origin', present_match: true } } },
    ]);
    const names = websocketHcm.http_filters.map((f: any) => f.name);
    expect(names.indexOf('envoy.filters.http.rbac')).toBeLessThan(names.indexOf('envoy.filters.http.local_ratelimit'));
  });

  test('GIVEN allowMissingOrigin false THEN an upgrade must carry an allowed Origin; GIVEN ["*"] THEN there is no check at all', () => {
    expect(rbacOf(configWith({ envoy: { allowMissingOrigin: false } })).rbac.rules.policies.allowed_origins.principals).toHaveLength(1);
    expect(rbacOf(configWith({ envoy: { allowedOrigins: ['*'] } }))).toBeUndefined();
  });

  test('GIVEN plain HTTP THEN it uses the HIGH priority pool of its own, read whole (64 KiB at most) before it takes a backend connection', () => {
    const plain = websocketRoutes.find((r) => r !== upgradeRoute);
    expect(plain.route.priority).toBe('HIGH');
    expect(plain.typed_per_filter_config['envoy.filters.http.buffer'].buffer).toEqual({ max_request_bytes: 65536 });
    const runtime = bootstrap.layered_runtime.layers[1].static_layer;
    expect(runtime['circuit_breakers.websocket_backend.high.max_connections']).toBe(2);
    expect(websocketHcm.http_filters.find((f: any) => f.name === 'envoy.filters.http.buffer').disabled).toBe(true);
  });

  test("GIVEN Envoy's edge guidance THEN listeners and the backend cluster buffer at most 32 KiB per connection, and the ready port has its own cap", () => {
    for (const listener of listeners) expect(listener.per_connection_buffer_limit_bytes).toBe(32768);
    expect(backend.per_connection_buffer_limit_bytes).toBe(32768);
    const ready = listeners.find((l) => l.address.socket_address.port_value === 9901);
    expect(ready.filter_chains[0].filters[0].typed_config).toMatchObject({ max_connections: 64 });
  });
});
