// The Envoy bootstrap checked against Envoy's own API definitions and validation rules.
// Each broken bootstrap is the real one with exactly one mutation; each test names the path and rule.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';

import { READ_ONLY_ADMIN_PATHS } from '../envoy/names';
import {
  assertValidEnvoyBootstrap,
  ENVOY_CONFIG_SOURCES,
  EnvoyBootstrapError,
  type EnvoyValidationOptions,
  envoyApiSource,
  formatEnvoyProblem,
  inspectEnvoyBootstrap,
  validateEnvoyBootstrap,
  valuesAt,
} from '../envoy/validate';
import { configWith, inlineBootstrapFor, PROJECT_ROOT } from './helpers';

const WEBSOCKET_HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const READY_HCM = 'static_resources.listeners[1].filter_chains[0].filters[1].typed_config';
const UPGRADE_ROUTE = `${WEBSOCKET_HCM}.route_config.virtual_hosts[0].routes[0]`;
const RATE_LIMIT = `${UPGRADE_ROUTE}.typed_per_filter_config["envoy.filters.http.local_ratelimit"]`;
const CATCH_ALL_READY_ROUTE_INDEX = READ_ONLY_ADMIN_PATHS.length;
const CATCH_ALL_READY_ROUTE = `${READY_HCM}.route_config.virtual_hosts[0].routes[${CATCH_ALL_READY_ROUTE_INDEX}]`;
const BACKEND_CLUSTER = 'static_resources.clusters[0]';

type Bootstrap = any;
const realBootstrap = (): Bootstrap => structuredClone(inlineBootstrapFor(configWith()));
const hcmIn = (listener: any) => listener.filter_chains[0].filters.find((f: any) => f.name === 'envoy.filters.network.http_connection_manager').typed_config;
const websocketHcm = (b: Bootstrap) => hcmIn(b.static_resources.listeners[0]);
const readyHcm = (b: Bootstrap) => hcmIn(b.static_resources.listeners[1]);
const upgradeRoute = (b: Bootstrap) => websocketHcm(b).route_config.virtual_hosts[0].routes[0];
const rateLimit = (b: Bootstrap) => upgradeRoute(b).typed_per_filter_config['envoy.filters.http.local_ratelimit'];
const catchAllReadyRoute = (b: Bootstrap) => readyHcm(b).route_config.virtual_hosts[0].routes[CATCH_ALL_READY_ROUTE_INDEX];
const backendCluster = (b: Bootstrap) => b.static_resources.clusters[0];

/** The real bootstrap with one mutation, validated; only path and rule, for exact comparison. */
function problemsAfter(mutate: (b: Bootstrap) => void, opts?: EnvoyValidationOptions) {
  const bootstrap = realBootstrap();
  mutate(bootstrap);
  return validateEnvoyBootstrap(bootstrap, opts);
}
const pathsAndRules = (problems: { path: string; rule: string }[]) => problems.map(({ path: p, rule }) => ({ path: p, rule }));

describe('the shipped bootstrap', () => {
  test('GIVEN the default config WHEN its bootstrap is validated THEN there is no problem and no notice (envoy --mode validate agrees: test/live/validate.live.test.ts)', () => {
    const report = inspectEnvoyBootstrap(inlineBootstrapFor(configWith()), {
      ports: { containerPorts: [8080, 9901], serviceTargetPorts: [8080] },
    });
    expect(report.problems).toEqual([]);
    expect(pathsAndRules(report.notices)).toEqual([]);
  });

  test('GIVEN non-default sizes and ports WHEN the bootstrap is validated THEN it still passes', () => {
    const config = configWith({
      envoy: {
        replicas: 4,
        listenerPort: 8443,
        readyPort: 9443,
        adminPort: 19443,
        connections: { maxTotal: 16, maxPerBackendPod: 4 },
        rateLimit: { maxTokens: 20 },
      },
    });
    expect(validateEnvoyBootstrap(inlineBootstrapFor(config), { ports: { containerPorts: [8443, 9443], serviceTargetPorts: [8443] } })).toEqual([]);
  });

  test('GIVEN the compiled definitions THEN they name the go-control-plane module and the Envoy API release they come from', () => {
    const source = envoyApiSource();
    expect(source.definitions).toMatch(/^github\.com\/envoyproxy\/go-control-plane\/envoy@v1\.40\.0 /);
    expect(source.envoyApi).toMatch(/^Envoy API v1\.40\.0 \(envoyproxy\/envoy commit [0-9a-f]{40}/);
  });
});

describe('strict parsing, as Envoy reads the bootstrap at start-up', () => {
  test('GIVEN a misspelled field WHEN validated THEN "unknown field" at that key, suggesting the real name', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).connect_timout = backendCluster(b).connect_timeout;
      delete backendCluster(b).connect_timeout;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.connect_timout`, rule: 'unknown field' }]);
    expect(problems[0].message).toBe('"connect_timout" is not a field of envoy.config.cluster.v3.Cluster; did you mean "connect_timeout"?');
  });

  test('GIVEN a real field placed in the wrong message WHEN validated THEN "unknown field" names the message it is not in', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).load_assignment.connect_timeout = backendCluster(b).connect_timeout;
      delete backendCluster(b).connect_timeout;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.load_assignment.connect_timeout`, rule: 'unknown field' }]);
    expect(problems[0].message).toContain('is not a field of envoy.config.endpoint.v3.ClusterLoadAssignment');
  });

  test('GIVEN a field removed from the v3 API WHEN validated THEN "unknown field" says it was removed', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).hosts = [];
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.hosts`, rule: 'unknown field' }]);
    expect(problems[0].message).toBe('"hosts" was removed from envoy.config.cluster.v3.Cluster (a reserved name)');
  });

  test('GIVEN a single string where a list is expected WHEN validated THEN "type: repeated"', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).route_config.virtual_hosts[0].domains = '*';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.route_config.virtual_hosts[0].domains`, rule: 'type: repeated' }]);
  });

  test('GIVEN a negative number for an unsigned field WHEN validated THEN "type: uint32"', () => {
    const problems = problemsAfter((b) => {
      b.static_resources.listeners[0].per_connection_buffer_limit_bytes = -1;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: 'static_resources.listeners[0].per_connection_buffer_limit_bytes', rule: 'type: uint32' }]);
    expect(problems[0].message).toBe('expected an unsigned 32-bit integer from 0 to 4294967295; got -1');
  });

  test('GIVEN a bool written as the string "true" WHEN validated THEN "type: bool"', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).use_remote_address = 'true';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.use_remote_address`, rule: 'type: bool' }]);
  });

  test('GIVEN a port as a decimal string WHEN validated THEN it is accepted, as proto3 JSON allows', () => {
    expect(
      problemsAfter((b) => {
        b.static_resources.listeners[0].address.socket_address.port_value = '8080';
      }),
    ).toEqual([]);
  });

  test('GIVEN a 64-bit integer as a string WHEN validated THEN it is accepted', () => {
    expect(
      problemsAfter((b) => {
        b.overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes = '214748364';
      }),
    ).toEqual([]);
  });

  test('GIVEN a misspelled enum name WHEN validated THEN "enum: unknown value" listing the allowed names', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).lb_policy = 'ROUND_ROBBIN';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.lb_policy`, rule: 'enum: unknown value' }]);
    expect(problems[0].message).toContain('allowed: ROUND_ROBIN, LEAST_REQUEST');
  });

  test('GIVEN an enum by number WHEN the number is defined THEN it is accepted', () => {
    expect(
      problemsAfter((b) => {
        backendCluster(b).lb_policy = 1;
      }),
    ).toEqual([]);
  });

  test('GIVEN a duration written in words WHEN validated THEN "type: Duration"', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).connect_timeout = '5 seconds';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.connect_timeout`, rule: 'type: Duration' }]);
  });

  test('GIVEN a route that both forwards and answers directly WHEN validated THEN "oneof: multiple members set" at the second member', () => {
    const problems = problemsAfter((b) => {
      catchAllReadyRoute(b).route = { cluster: 'admin_loopback' };
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${CATCH_ALL_READY_ROUTE}.direct_response`, rule: 'oneof: multiple members set' }]);
    expect(problems[0].message).toBe('route and direct_response are members of oneof "action" in envoy.config.route.v3.Route; set only one');
  });

  test('GIVEN a lowerCamel JSON name WHEN validated THEN "json name"; WHEN JSON names are allowed THEN it passes', () => {
    const camel = (b: Bootstrap) => {
      websocketHcm(b).statPrefix = websocketHcm(b).stat_prefix;
      delete websocketHcm(b).stat_prefix;
    };
    expect(pathsAndRules(problemsAfter(camel))).toEqual([{ path: `${WEBSOCKET_HCM}.statPrefix`, rule: 'json name' }]);
    expect(problemsAfter(camel, { allowJsonNames: true })).toEqual([]);
  });
});

describe('typed configs (google.protobuf.Any)', () => {
  test('GIVEN a typed_config without @type WHEN validated THEN "any: missing @type"', () => {
    const problems = problemsAfter((b) => {
      delete websocketHcm(b).http_filters[1].typed_config['@type'];
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.http_filters[1].typed_config`, rule: 'any: missing @type' }]);
  });

  test('GIVEN the removed v2 connection manager as @type WHEN validated THEN "any: unknown @type", suggesting the v3 one', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b)['@type'] = 'type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.@type`, rule: 'any: unknown @type' }]);
    expect(problems[0].message).toContain('did you mean envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager?');
  });

  test('GIVEN a per-route filter config (a map of Any) without @type WHEN validated THEN "any: missing @type" at the map entry', () => {
    const problems = problemsAfter((b) => {
      delete rateLimit(b)['@type'];
    });
    expect(pathsAndRules(problems)).toEqual([{ path: RATE_LIMIT, rule: 'any: missing @type' }]);
  });

  test('GIVEN a TypedStruct carrying the router config with a wrong value WHEN validated THEN the carried config is checked too', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).http_filters[1].typed_config = {
        '@type': 'type.googleapis.com/xds.type.v3.TypedStruct',
        type_url: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
        value: { suppress_envoy_headers: 'yes' },
      };
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.http_filters[1].typed_config.value.suppress_envoy_headers`, rule: 'type: bool' }]);
  });

  test('GIVEN the OpenTelemetry access logger (it imports OpenTelemetry protos, bundled since the v1.40 import) WHEN a field is misspelled THEN its content is checked', () => {
    const bootstrap = realBootstrap();
    websocketHcm(bootstrap).access_log[0].typed_config = {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig',
      log_nme: 'websocket',
    };
    const report = inspectEnvoyBootstrap(bootstrap);
    expect(pathsAndRules(report.problems)).toEqual([{ path: `${WEBSOCKET_HCM}.access_log[0].typed_config.log_nme`, rule: 'unknown field' }]);
    expect(report.notices.filter((n) => n.rule === 'skipped: any @type not bundled')).toEqual([]);
  });
});

describe('protoc-gen-validate rules carried on the fields', () => {
  test('GIVEN a token bucket refilled with zero tokens WHEN validated THEN "uint32.gt" naming envoy.rateLimit.tokensPerFill', () => {
    // (max_tokens 0 no longer fails: Envoy API v1.40 relaxed TokenBucket.max_tokens from gt 0 to gte 0.)
    const problems = problemsAfter((b) => {
      rateLimit(b).token_bucket.tokens_per_fill = 0;
    });
    expect(problems).toEqual([
      {
        path: `${RATE_LIMIT}.token_bucket.tokens_per_fill`,
        rule: 'uint32.gt',
        message: 'must be greater than 0; got 0',
        configField: 'envoy.rateLimit.tokensPerFill',
      },
    ]);
  });

  test('GIVEN a route without its required match WHEN validated THEN "message.required"', () => {
    const problems = problemsAfter((b) => {
      delete upgradeRoute(b).match;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${UPGRADE_ROUTE}.match`, rule: 'message.required' }]);
  });

  test('GIVEN a route with no action at all WHEN validated THEN "oneof.required" on the route', () => {
    const problems = problemsAfter((b) => {
      delete catchAllReadyRoute(b).direct_response;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: CATCH_ALL_READY_ROUTE, rule: 'oneof.required' }]);
  });

  test('GIVEN a health check without its required healthy threshold (a UInt32Value) WHEN validated THEN "message.required" naming the config field', () => {
    const problems = problemsAfter((b) => {
      delete backendCluster(b).health_checks[0].healthy_threshold;
    });
    expect(problems).toEqual([
      expect.objectContaining({
        path: `${BACKEND_CLUSTER}.health_checks[0].healthy_threshold`,
        rule: 'message.required',
        configField: 'envoy.healthCheck.healthyThreshold',
      }),
    ]);
  });

  test('GIVEN an empty stat_prefix WHEN validated THEN "string.min_len"', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).stat_prefix = '';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.stat_prefix`, rule: 'string.min_len' }]);
  });

  test('GIVEN a load assignment without cluster_name (unset means "") WHEN validated THEN "string.min_len", as PGV checks unset scalars', () => {
    const problems = problemsAfter((b) => {
      delete b.static_resources.clusters[1].load_assignment.cluster_name;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: 'static_resources.clusters[1].load_assignment.cluster_name', rule: 'string.min_len' }]);
  });

  test('GIVEN a virtual host with no domains WHEN validated THEN "repeated.min_items"', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).route_config.virtual_hosts[0].domains = [];
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${WEBSOCKET_HCM}.route_config.virtual_hosts[0].domains`, rule: 'repeated.min_items' }]);
  });

  test('GIVEN an overload manager with no resource monitor WHEN validated THEN "repeated.min_items"', () => {
    const problems = problemsAfter((b) => {
      b.overload_manager.resource_monitors = [];
      b.overload_manager.actions = [];
    });
    expect(pathsAndRules(problems)).toEqual([{ path: 'overload_manager.resource_monitors', rule: 'repeated.min_items' }]);
  });

  test('GIVEN an undefined enum number WHEN validated THEN "enum.defined_only"', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).lb_policy = 42;
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${BACKEND_CLUSTER}.lb_policy`, rule: 'enum.defined_only' }]);
  });

  test('GIVEN the rate-limit status code "Empty" (0) WHEN validated THEN "enum.not_in"', () => {
    const problems = problemsAfter((b) => {
      rateLimit(b).status.code = 'Empty';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${RATE_LIMIT}.status.code`, rule: 'enum.not_in' }]);
  });

  test('GIVEN a negative request_headers_timeout WHEN validated THEN "duration.gte" (the bound is gte 0s)', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).request_headers_timeout = '-1s';
    });
    expect(problems).toEqual([{ path: `${WEBSOCKET_HCM}.request_headers_timeout`, rule: 'duration.gte', message: 'must be at least 0s; got -1s' }]);
  });

  test('GIVEN a stats flush interval under 1 ms WHEN validated THEN "duration.gte" with the proto bound 0.001s', () => {
    const problems = problemsAfter((b) => {
      b.stats_flush_interval = '0.0005s';
    });
    expect(problems).toEqual([{ path: 'stats_flush_interval', rule: 'duration.gte', message: 'must be at least 0.001s; got 0.0005s' }]);
  });

  test('GIVEN a zero health-check interval WHEN validated THEN "duration.gt" naming envoy.healthCheck.interval', () => {
    const problems = problemsAfter((b) => {
      backendCluster(b).health_checks[0].interval = '0s';
    });
    expect(problems).toEqual([
      expect.objectContaining({ path: `${BACKEND_CLUSTER}.health_checks[0].interval`, rule: 'duration.gt', configField: 'envoy.healthCheck.interval' }),
    ]);
  });

  test('GIVEN a header name with a line break WHEN validated THEN "string.well_known_regex"', () => {
    const problems = problemsAfter((b) => {
      websocketHcm(b).local_reply_config.mappers[0].headers_to_add[0].header.key = 'retry-after\r\nx-injected';
    });
    expect(pathsAndRules(problems)).toEqual([
      { path: `${WEBSOCKET_HCM}.local_reply_config.mappers[0].headers_to_add[0].header.key`, rule: 'string.well_known_regex' },
    ]);
  });

  test('GIVEN a fill interval of 10 ms WHEN validated THEN no problem: Envoy refuses it below 50 ms in C++, not in the proto rules', () => {
    expect(
      problemsAfter((b) => {
        rateLimit(b).token_bucket.fill_interval = '0.010s';
      }),
    ).toEqual([]);
  });

  test('GIVEN a deprecated field WHEN validated THEN no problem but a "deprecated" notice', () => {
    const bootstrap = realBootstrap();
    // dns_refresh_rate is deprecated too since Envoy API v1.40 (its notice is tested above): out of the way.
    delete backendCluster(bootstrap).dns_refresh_rate;
    backendCluster(bootstrap).http2_protocol_options = {};
    const report = inspectEnvoyBootstrap(bootstrap);
    expect(report.problems).toEqual([]);
    expect(pathsAndRules(report.notices)).toEqual([{ path: `${BACKEND_CLUSTER}.http2_protocol_options`, rule: 'deprecated' }]);
  });
});

describe('cross-references the protos cannot express', () => {
  test('GIVEN a route to a cluster that does not exist WHEN validated THEN "cluster: not defined"', () => {
    const problems = problemsAfter((b) => {
      upgradeRoute(b).route.cluster = 'websocket_backnd';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${UPGRADE_ROUTE}.route.cluster`, rule: 'cluster: not defined' }]);
    expect(problems[0].message).toBe(
      '"websocket_backnd" is not one of static_resources.clusters (defined: "websocket_backend", "admin_loopback", "envoy_peers")',
    );
  });

  test('GIVEN weighted clusters naming a missing cluster WHEN validated THEN "cluster: not defined" at that weight', () => {
    const problems = problemsAfter((b) => {
      upgradeRoute(b).route = {
        weighted_clusters: {
          clusters: [
            { name: 'websocket_backend', weight: 1 },
            { name: 'canary', weight: 1 },
          ],
        },
        timeout: '0s',
      };
    });
    expect(pathsAndRules(problems)).toEqual([{ path: `${UPGRADE_ROUTE}.route.weighted_clusters.clusters[1].name`, rule: 'cluster: not defined' }]);
  });

  test('GIVEN two clusters with one name WHEN validated THEN "cluster: duplicate name"', () => {
    const problems = problemsAfter((b) => {
      b.static_resources.clusters.push(structuredClone(b.static_resources.clusters[1]));
    });
    expect(pathsAndRules(problems)).toEqual([{ path: 'static_resources.clusters[3].name', rule: 'cluster: duplicate name' }]);
  });

  test('GIVEN the ready listener on the WebSocket port WHEN validated THEN "port: duplicate" naming envoy.readyPort', () => {
    const problems = problemsAfter((b) => {
      b.static_resources.listeners[1].address.socket_address.port_value = 8080;
    });
    expect(problems).toEqual([
      {
        path: 'static_resources.listeners[1].address.socket_address.port_value',
        rule: 'port: duplicate',
        message: 'listener "ready_listener" binds port 8080, which listener "websocket_listener" already binds',
        configField: 'envoy.readyPort',
      },
    ]);
  });

  test('GIVEN admin bound to 0.0.0.0 WHEN validated THEN "admin: not loopback"', () => {
    const problems = problemsAfter((b) => {
      b.admin.address.socket_address.address = '0.0.0.0';
    });
    expect(pathsAndRules(problems)).toEqual([{ path: 'admin.address.socket_address.address', rule: 'admin: not loopback' }]);
  });

  test('GIVEN admin bound to ::1 WHEN validated THEN it is accepted', () => {
    expect(
      problemsAfter((b) => {
        b.admin.address.socket_address.address = '::1';
      }),
    ).toEqual([]);
  });

  test('GIVEN the ready listener moved off the container port WHEN validated with the pod ports THEN both sides of the mismatch are reported', () => {
    const problems = problemsAfter(
      (b) => {
        b.static_resources.listeners[1].address.socket_address.port_value = 9902;
      },
      { ports: { containerPorts: [8080, 9901], serviceTargetPorts: [8080] } },
    );
    expect(pathsAndRules(problems)).toEqual([
      { path: 'static_resources.listeners[1].address.socket_address.port_value', rule: 'port: not a container port' },
      { path: 'static_resources.listeners', rule: 'port: container port without listener' },
    ]);
  });

  test('GIVEN a Service targeting a port no listener binds WHEN validated THEN "port: Service target port without listener"', () => {
    const problems = validateEnvoyBootstrap(realBootstrap(), { ports: { containerPorts: [8080, 9901], serviceTargetPorts: [8081] } });
    expect(pathsAndRules(problems)).toEqual([{ path: 'static_resources.listeners', rule: 'port: Service target port without listener' }]);
  });
});

describe('reporting', () => {
  test('GIVEN every config-source pattern WHEN applied to the default bootstrap THEN each names a value that exists', () => {
    const bootstrap = realBootstrap();
    for (const { pattern } of ENVOY_CONFIG_SOURCES) {
      expect({ pattern, found: valuesAt(bootstrap, pattern).length > 0 }).toEqual({ pattern, found: true });
    }
  });

  test('GIVEN the listeners, clusters, routes and runtime layers in another order THEN every problem still names the same config field', () => {
    const broken = (reorder: boolean) => {
      const bootstrap = realBootstrap() as any;
      const routes = websocketHcm(bootstrap).route_config.virtual_hosts[0].routes;
      // Three values from three config fields, each refused by Envoy's rules.
      routes[0].typed_per_filter_config['envoy.filters.http.local_ratelimit'].token_bucket.fill_interval = '0s';
      backendCluster(bootstrap).health_checks[0].interval = '0s';
      bootstrap.static_resources.listeners[1].address.socket_address.port_value = 70000;
      if (reorder) {
        bootstrap.static_resources.listeners.reverse();
        bootstrap.static_resources.clusters.reverse();
        routes.reverse();
        bootstrap.layered_runtime.layers.reverse();
      }
      return validateEnvoyBootstrap(bootstrap)
        .map((p) => `${p.rule} → ${p.configField}`)
        .sort();
    };
    const inOrder = broken(false);
    expect(inOrder).toEqual(['duration.gt → envoy.healthCheck.interval', 'duration.gt → envoy.rateLimit.fillInterval', 'uint32.lte → envoy.readyPort']);
    expect(broken(true)).toEqual(inOrder);
  });

  test('GIVEN a problem WHEN formatted THEN it reads "path: rule: message (config: field)"', () => {
    expect(formatEnvoyProblem({ path: 'a.b', rule: 'uint32.gt', message: 'must be greater than 0; got 0', configField: 'envoy.x' })).toBe(
      'a.b: uint32.gt: must be greater than 0; got 0 (config: envoy.x)',
    );
  });

  test('GIVEN a broken bootstrap WHEN asserted THEN EnvoyBootstrapError carries every problem', () => {
    const bootstrap = realBootstrap();
    bootstrap.admin.address.socket_address.address = '0.0.0.0';
    expect(() => assertValidEnvoyBootstrap(bootstrap)).toThrow(EnvoyBootstrapError);
    expect(() => assertValidEnvoyBootstrap(realBootstrap())).not.toThrow();
  });
});

describe('the validate:envoy command', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-validator-'));
  const run = (file: string) => {
    try {
      // The way `npm run validate:envoy` runs it (tsx's CommonJS hook: the fastest start).
      const stdout = execFileSync(process.execPath, ['--require', 'tsx/cjs', 'cli/validate-envoy.ts', file], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { status: 0, stdout };
    } catch (err) {
      const failed = err as { status: number; stdout: string };
      return { status: failed.status, stdout: failed.stdout };
    }
  };

  test('GIVEN the default bootstrap as YAML THEN it prints one "ok" line and exits 0', () => {
    const file = path.join(dir, 'good.yaml');
    writeFileSync(file, toYaml(inlineBootstrapFor(configWith())));
    const result = run(file);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(/^ok: /);
  }, 30_000);

  test('GIVEN a broken bootstrap as JSON THEN it prints "path: rule: message (config: field)" and exits 1', () => {
    const bootstrap = realBootstrap();
    rateLimit(bootstrap).token_bucket.tokens_per_fill = 0;
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(bootstrap));
    const result = run(file);
    expect(result.status).toBe(1);
    expect(result.stdout.trim()).toBe(
      `${RATE_LIMIT}.token_bucket.tokens_per_fill: uint32.gt: must be greater than 0; got 0 (config: envoy.rateLimit.tokensPerFill)`,
    );
  }, 30_000);

  test('GIVEN a file that is not YAML THEN it exits 2', () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'static_resources: [\n');
    expect(run(file).status).toBe(2);
  }, 30_000);
});

/** The value at a validator path (`a.b[0]["k"].c`) in plain data, or undefined. */
