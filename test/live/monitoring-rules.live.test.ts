// The alert rules, checked by the real promtool (Debian's prometheus package): `promtool check
// rules` accepts the generated file, and `promtool test rules` shows each alert firing at its
// threshold (once its `for` has passed) and staying silent below it. Thresholds and durations come
// from the environment's config. promtool compares rendered annotations too; the unit tests strip
// them (check rules validates their templates, and the live Prometheus test shows them rendered).
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadEnvironment } from '../../config/load';
import type { EdgeConfig } from '../../config/schema';
import { ruleFile } from '../../monitoring/alerts';
import { ensurePrometheusTools, promtoolCheckRules, promtoolTestRules } from './harness/prometheus';
import { report } from './harness/report';

const { config } = loadEnvironment('staging', path.join(__dirname, '..', '..', 'config'));

beforeAll(() => ensurePrometheusTools((line) => report(line)));

type Series = { series: string; values: string };
interface Case {
  readonly alert: string;
  /** Series that meet the alert's threshold exactly, and the labels the alert then carries. */
  readonly at: { readonly series: Series[]; readonly labels: Record<string, string> };
  /** Series just below the threshold. */
  readonly below: Series[];
  readonly forMs: number;
}

const minutes = (ms: number) => Math.round(ms / 60_000);
const selector = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** Every alert's test case, from the config: what meets its threshold and what falls just short. */
function cases(c: EdgeConfig): Case[] {
  const ns = { namespace: c.envoy.namespace };
  const upgrades = { ...ns, envoy_local_http_ratelimit_prefix: 'websocket_upgrades', pod: 'envoy-a' };
  const backend = { ...ns, envoy_cluster_name: 'websocket_backend' };
  const a = c.monitoring.alerts;
  const counter = (name: string, labels: Record<string, string>, perMinute: number): Series => ({
    series: `${name}${selector(labels)}`,
    values: `0+${perMinute}x180`,
  });
  const gauge = (name: string, labels: Record<string, string>, value: number): Series => ({
    series: `${name}${selector(labels)}`,
    values: `${value}x180`,
  });
  const attempts = 100;
  const live = (pods: number, revision = (_i: number) => 'r1') =>
    Array.from({ length: pods }, (_, i) => gauge('envoy_server_live', { ...ns, pod: `envoy-${i}`, config_revision: revision(i) }, 1));
  return [
    {
      alert: 'EnvoyUpgradesRateLimited',
      at: {
        series: [
          counter('envoy_http_local_rate_limit_enabled', upgrades, attempts),
          counter('envoy_http_local_rate_limit_rate_limited', upgrades, attempts * a.rateLimitedRatio),
        ],
        labels: { severity: 'warning' },
      },
      below: [
        counter('envoy_http_local_rate_limit_enabled', upgrades, attempts),
        counter('envoy_http_local_rate_limit_rate_limited', upgrades, attempts * a.rateLimitedRatio - 1),
      ],
      forMs: a.for,
    },
    {
      alert: 'EnvoyUpgradesRefused',
      at: {
        series: [
          counter('envoy_cluster_upstream_rq_timeout', { ...backend, pod: 'envoy-a' }, a.refusedPerMinute / 2),
          counter('envoy_cluster_upstream_rq_pending_overflow', { ...backend, pod: 'envoy-a' }, a.refusedPerMinute / 2),
        ],
        labels: { severity: 'warning' },
      },
      below: [
        counter('envoy_cluster_upstream_rq_timeout', { ...backend, pod: 'envoy-a' }, a.refusedPerMinute / 4),
        counter('envoy_cluster_upstream_rq_pending_overflow', { ...backend, pod: 'envoy-a' }, a.refusedPerMinute / 4),
      ],
      forMs: a.for,
    },
    {
      alert: 'EnvoyBackendConnectionsSaturated',
      at: {
        series: [0, 1].map((i) => gauge('envoy_cluster_upstream_rq_active', { ...backend, pod: `envoy-${i}` }, c.envoy.connections.maxTotal / 2)),
        labels: { severity: 'warning' },
      },
      below: [0, 1].map((i) => gauge('envoy_cluster_upstream_rq_active', { ...backend, pod: `envoy-${i}` }, c.envoy.connections.maxTotal / 2 - i)),
      forMs: a.saturatedFor,
    },
    {
      alert: 'EnvoyBackendPodsUnhealthy',
      at: {
        series: [
          gauge('envoy_cluster_membership_healthy', { ...backend, pod: 'envoy-a' }, 3),
          gauge('envoy_cluster_membership_total', { ...backend, pod: 'envoy-a' }, 4),
        ],
        labels: { severity: 'warning', ...backend, pod: 'envoy-a' },
      },
      below: [
        gauge('envoy_cluster_membership_healthy', { ...backend, pod: 'envoy-a' }, 4),
        gauge('envoy_cluster_membership_total', { ...backend, pod: 'envoy-a' }, 4),
      ],
      forMs: a.for,
    },
    {
      alert: 'EnvoyReplicasMissing',
      at: { series: live(c.envoy.replicas - 1), labels: { severity: 'critical' } },
      below: live(c.envoy.replicas),
      forMs: a.for,
    },
    {
      alert: 'EnvoyOverloadActionActive',
      at: {
        series: [gauge('envoy_overload_envoy_overload_actions_stop_accepting_requests_active', { ...ns, pod: 'envoy-a' }, 1)],
        labels: { severity: 'critical', ...ns, pod: 'envoy-a' },
      },
      below: [
        gauge('envoy_overload_envoy_overload_actions_stop_accepting_requests_active', { ...ns, pod: 'envoy-a' }, 0),
        gauge('envoy_overload_envoy_overload_actions_shrink_heap_active', { ...ns, pod: 'envoy-a' }, 0),
      ],
      forMs: a.for,
    },
    {
      alert: 'EnvoyConfigSkew',
      at: { series: live(c.envoy.replicas, (i) => `r${i}`), labels: { severity: 'warning' } },
      below: live(c.envoy.replicas),
      forMs: a.configSkewFor,
    },
    {
      alert: 'EnvoyConfigSkew',
      // Same bootstrap, but one replica serves another version of the live routes.
      at: {
        series: [
          ...live(c.envoy.replicas),
          ...Array.from({ length: c.envoy.replicas }, (_, i) => gauge('envoy_http_rds_version', { ...ns, pod: `envoy-${i}` }, 1000 + i)),
        ],
        labels: { severity: 'warning' },
      },
      below: [
        ...live(c.envoy.replicas),
        ...Array.from({ length: c.envoy.replicas }, (_, i) => gauge('envoy_http_rds_version', { ...ns, pod: `envoy-${i}` }, 1000)),
      ],
      forMs: a.configSkewFor,
    },
    {
      alert: 'EnvoyLiveConfigRejected',
      // One rejected clusters file on one replica; the other replica took it.
      at: {
        series: [
          { series: `envoy_cluster_manager_cds_update_rejected${selector({ ...ns, pod: 'envoy-a' })}`, values: '0 0 1x178' },
          gauge('envoy_cluster_manager_cds_update_rejected', { ...ns, pod: 'envoy-b' }, 0),
        ],
        labels: { severity: 'warning', ...ns, pod: 'envoy-a' },
      },
      below: [0, 1].map((i) => gauge('envoy_cluster_manager_cds_update_rejected', { ...ns, pod: `envoy-${i}` }, 0)),
      forMs: 0,
    },
  ];
}

const ALERTS = ruleFile(config).groups[0].rules.map((r) => r.alert);

test("GIVEN the environment's alert rules THEN promtool check rules accepts them, annotations and all", () => {
  const result = promtoolCheckRules(toYaml(ruleFile(config)));
  report(`promtool check rules: ${result.stdout.trim().split('\n').pop()}`);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(`SUCCESS: ${ALERTS.length} rules found`);
});

test('GIVEN every alert THEN there is a unit test for it', () => {
  expect([...new Set(cases(config).map((c) => c.alert))].sort()).toEqual([...ALERTS].sort());
});

test.each(cases(config).map((c) => [c.alert, c] as const))(
  'GIVEN %s THEN it fires at its threshold once its `for` has passed, and stays silent before that and below the threshold',
  (_name, c) => {
    const rules = ruleFile(config);
    const stripped = { groups: rules.groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert === c.alert).map(({ annotations: _a, ...r }) => r) })) };
    const forMinutes = minutes(c.forMs);
    const late = `${forMinutes + 10}m`;
    const test = (series: Series[], checks: { eval_time: string; exp_alerts: unknown[] }[]) => ({
      interval: '1m',
      input_series: series,
      alert_rule_test: checks.map((check) => ({ ...check, alertname: c.alert })),
    });
    const tests = [
      test(c.at.series, [
        { eval_time: late, exp_alerts: [{ exp_labels: c.at.labels }] },
        // Before `for` has passed the alert is pending, which promtool lists as no alert.
        ...(forMinutes >= 2 ? [{ eval_time: `${forMinutes - 1}m`, exp_alerts: [] }] : []),
      ]),
      test(c.below, [{ eval_time: late, exp_alerts: [] }]),
    ];
    const result = promtoolTestRules(toYaml({ evaluation_interval: '1m', tests }), toYaml(stripped));
    report(`${c.alert}: at the threshold fires after ${forMinutes}m, below it silent: promtool ${result.status === 0 ? 'SUCCESS' : 'FAILED'}`);
    expect({ status: result.status, output: result.status === 0 ? '' : `${result.stdout}\n${result.stderr}` }).toEqual({ status: 0, output: '' });
  },
);
