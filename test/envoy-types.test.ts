// The generated Envoy types (imports/envoy-types.ts): tsc, run by npm test, must refuse a misspelt
// field anywhere in a bootstrap, typed configs (google.protobuf.Any) included. Each @ts-expect-error
// fails the type check if its line stops being an error.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildEnvoyBootstrap } from '../envoy/bootstrap';
import { websocketListener } from '../envoy/listeners';
import { fleetWebsocketRateLimit } from '../envoy/rate-limit';
import { envoyApiSource } from '../envoy/validate';
import type { AnyOf, Bootstrap } from '../imports/envoy-types';
import { configWith, PROJECT_ROOT } from './helpers';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const LOCAL_RATE_LIMIT = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

const routerFilter = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } } as const;
export const checked: Bootstrap[] = [
  {
    static_resources: {
      listeners: [
        {
          name: 'l',
          filter_chains: [
            {
              filters: [
                {
                  name: 'hcm',
                  typed_config: {
                    '@type': HCM,
                    stat_prefix: 'x',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'v',
                          domains: ['*'],
                          routes: [
                            {
                              match: { prefix: '/' },
                              // @ts-expect-error misspelt field in a list inside an Any
                              route: { cluster: 'c', timout: '0s' },
                              typed_per_filter_config: {
                                // @ts-expect-error misspelt field in an Any inside a map inside an Any
                                rl: { '@type': LOCAL_RATE_LIMIT, stat_prefix: 's', token_bucket: { max_token: 5, fill_interval: '1s' } },
                              },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      // @ts-expect-error a field of another message: "@type" picks the message the keys are checked against
                      { name: 'router', typed_config: { '@type': ROUTER, stat_prefix: 'x' } },
                      // @ts-expect-error unknown @type
                      { name: 'typo', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr' } },
                      routerFilter,
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      // @ts-expect-error unknown enum name
      clusters: [{ name: 'c', lb_policy: 'ROUND_ROBBIN' }],
    },
  },
  // 64-bit integers as strings or numbers, enum numbers, wrappers as bare scalars, Struct as any JSON.
  {
    overload_manager: {
      resource_monitors: [
        {
          name: 'h',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig', max_heap_size_bytes: '214748364' },
        },
      ],
    },
    static_resources: {
      clusters: [{ name: 'c', lb_policy: 1, per_connection_buffer_limit_bytes: 5, metadata: { filter_metadata: { a: { b: [1, 'x', null] } } } }],
    },
  },
];
export const router: AnyOf<typeof ROUTER> = { '@type': ROUTER, suppress_envoy_headers: true };

// The bootstrap builder is typed by these definitions: an edit that misspells a field in any of its
// pieces does not compile. Each line below is such an edit of the real builder's output.
const config = configWith();
const listener = websocketListener(config.envoy);
export const builderEdits: unknown[] = [
  // @ts-expect-error misspelt field of a Listener returned by the builder
  { ...listener, per_conection_buffer_limit_bytes: 1 } satisfies ReturnType<typeof websocketListener>,
  // @ts-expect-error misspelt field of the whole Bootstrap
  { ...buildEnvoyBootstrap(config), overload_manger: {} } satisfies ReturnType<typeof buildEnvoyBootstrap>,
  // @ts-expect-error a wrong shape inside the fleet rate limit (a bucket size as a string)
  { ...fleetWebsocketRateLimit(config.envoy.rateLimit, config.envoy.perClient), token_bucket: { max_tokens: '10' } } satisfies ReturnType<
    typeof fleetWebsocketRateLimit
  >,
];

test('GIVEN the typed builder THEN its output is a Bootstrap, and the edits above fail to compile (tsc in npm test)', () => {
  const bootstrap: Bootstrap = buildEnvoyBootstrap(config);
  expect(bootstrap.static_resources?.listeners?.[0]).toEqual(listener);
  expect(builderEdits).toHaveLength(3);
});

test('GIVEN the generated types THEN they come from the same import as the validator definitions', () => {
  const types = readFileSync(path.join(PROJECT_ROOT, 'imports', 'envoy-types.ts'), 'utf8');
  const commit = /envoyproxy\/envoy commit ([0-9a-f]{40})/.exec(envoyApiSource().envoyApi)?.[1];
  expect(commit).toBeDefined();
  expect(types.split('\n', 3)[1]).toContain(`Envoy API v1.40.0 (envoyproxy/envoy commit ${commit})`);
});
