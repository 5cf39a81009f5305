// The Grafana dashboard, generated from the config: upgrades by response code, held WebSockets
// against the cap, the rate-limit bucket, backend health and latency. Plain Grafana JSON (schema
// version 39), loaded by Grafana's dashboard sidecar from a labelled ConfigMap.
import { createHash } from 'node:crypto';
import type { EdgeConfig } from '../config/schema';
import { backendCluster, matchers, upgradeRateLimit, websocketListener } from './selectors';

export interface Panel {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly { readonly expr: string; readonly legendFormat: string }[];
}

type Envoy = EdgeConfig['envoy'];

export interface DashboardPanelsInput {
  readonly envoy: Pick<Envoy, 'namespace' | 'rateLimit'> & { readonly connections: Pick<Envoy['connections'], 'maxTotal'> };
}

export function dashboardPanels(config: DashboardPanelsInput): Panel[] {
  const m = (extra: Record<string, string> = {}) => matchers(config, extra);
  const { maxTotal } = config.envoy.connections;
  return [
    {
      title: 'WebSocket upgrades',
      description: 'Accepted (101), rate-limited (429) and refused for want of a backend slot (503), per second.',
      unit: 'reqps',
      targets: [
        // downstream_cx_upgrades_total counts attempts (a refused upgrade too): the 101s are the 1xx responses.
        { expr: `sum(rate(envoy_http_downstream_rq_xx${m({ ...websocketListener, envoy_response_code_class: '1' })}[5m]))`, legendFormat: '101 accepted' },
        { expr: `sum(rate(envoy_http_local_rate_limit_rate_limited${m(upgradeRateLimit)}[5m]))`, legendFormat: '429 rate-limited' },
        {
          expr: `sum(rate(envoy_http_downstream_rq_timeout${m(websocketListener)}[5m])) + sum(rate(envoy_cluster_upstream_rq_pending_overflow${m(backendCluster)}[5m]))`,
          legendFormat: '503 no backend slot',
        },
      ],
    },
    {
      title: 'Responses by class',
      description: 'Every response of the WebSocket listener, upgrades and plain HTTP, by status class.',
      unit: 'reqps',
      targets: [
        {
          expr: `sum by (envoy_response_code_class) (rate(envoy_http_downstream_rq_xx${m(websocketListener)}[5m]))`,
          legendFormat: '{{envoy_response_code_class}}xx',
        },
      ],
    },
    {
      title: 'Open WebSockets against the cap',
      description: `WebSockets held through the fleet; each holds one backend connection, at most ${maxTotal} in all.`,
      unit: 'short',
      targets: [
        { expr: `sum(envoy_http_downstream_cx_upgrades_active${m(websocketListener)})`, legendFormat: 'open WebSockets' },
        { expr: `sum(envoy_cluster_upstream_cx_active${m(backendCluster)})`, legendFormat: 'backend connections' },
        { expr: `vector(${maxTotal})`, legendFormat: 'cap' },
      ],
    },
    {
      title: 'Rate-limit bucket',
      description: `Upgrades the fleet bucket let through and refused (${config.envoy.rateLimit.maxTokens} at once, then ${config.envoy.rateLimit.tokensPerFill} every ${config.envoy.rateLimit.fillInterval / 1000} s).`,
      unit: 'reqps',
      targets: [
        { expr: `sum(rate(envoy_http_local_rate_limit_ok${m(upgradeRateLimit)}[1m]))`, legendFormat: 'admitted' },
        { expr: `sum(rate(envoy_http_local_rate_limit_rate_limited${m(upgradeRateLimit)}[1m]))`, legendFormat: 'refused' },
      ],
    },
    {
      title: 'Backend pods',
      description: 'Healthy backend pods against all the pods each Envoy replica knows.',
      unit: 'short',
      targets: [
        { expr: `min(envoy_cluster_membership_healthy${m(backendCluster)})`, legendFormat: 'healthy (fewest any replica sees)' },
        { expr: `max(envoy_cluster_membership_total${m(backendCluster)})`, legendFormat: 'known' },
      ],
    },
    {
      title: 'Latency',
      description: 'p99 of connecting to a backend pod, and of plain HTTP requests through Envoy.',
      unit: 'ms',
      targets: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_cx_connect_ms_bucket${m(backendCluster)}[5m])))`,
          legendFormat: 'backend connect p99',
        },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(envoy_http_downstream_rq_time_bucket${m(websocketListener)}[5m])))`, legendFormat: 'request p99' },
      ],
    },
    {
      title: 'Memory against the overload manager',
      description: "Heap use as a share of the overload manager's ceiling (80% of the memory limit); it acts at 95%.",
      unit: 'percentunit',
      targets: [{ expr: `max by (pod) (envoy_overload_envoy_resource_monitors_fixed_heap_pressure${m()})`, legendFormat: '{{pod}}' }],
    },
  ];
}

/** Grafana's dashboard JSON. Its uid is derived from the Argo CD project, so each environment has its own. */
export function grafanaDashboard(config: DashboardPanelsInput & { readonly gitops: Pick<EdgeConfig['gitops'], 'project'> }): Record<string, unknown> {
  const panels = dashboardPanels(config).map((p, i) => ({
    id: i + 1,
    type: 'timeseries',
    title: p.title,
    description: p.description,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's datasource variable, resolved on import
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), expr: t.expr, legendFormat: t.legendFormat })),
  }));
  return {
    uid: dashboardUid(config),
    title: `Envoy WebSocket edge (${config.gitops.project})`,
    tags: ['envoy', 'websocket'],
    timezone: 'browser',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    panels,
  };
}

/** Where the dashboard ConfigMap goes: where Grafana's sidecar looks, or else beside Envoy. */
export function dashboardNamespace(config: {
  readonly monitoring: Pick<EdgeConfig['monitoring'], 'dashboardNamespace'>;
  readonly envoy: Pick<EdgeConfig['envoy'], 'namespace'>;
}): string {
  return config.monitoring.dashboardNamespace ?? config.envoy.namespace;
}

/** Grafana uids are at most 40 characters. */
function dashboardUid(config: { readonly gitops: Pick<EdgeConfig['gitops'], 'project'> }): string {
  const project = config.gitops.project;
  return project.length <= 40 ? project : `${project.slice(0, 31)}-${createHash('sha256').update(project).digest('hex').slice(0, 8)}`;
}
