// Monitoring as code: what monitoring.enabled adds, what the NetworkPolicy and the AppProject then
// admit, and that every alert has its thresholds from the config and a runbook section.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AppProjectsChart } from '../charts/argocd-projects';
import { MonitoringChart } from '../charts/monitoring';
import { buildEnvoyBootstrap } from '../envoy/bootstrap';
import { alertRules } from '../monitoring/alerts';
import { dashboardPanels, grafanaDashboard } from '../monitoring/dashboard';
import { metricNames } from '../monitoring/selectors';
import { outputPaths, synthesizeProject } from '../synth/pipeline';
import { configWith, environmentWith, findObject, PROJECT_ROOT, snapshotTree, synthEnvoyEdge, synthObjects, tempProject } from './helpers';

const on = configWith({
  monitoring: { enabled: true, scraperNamespace: 'observability', scraperPodLabels: { app: 'prometheus' }, labels: { release: 'kps' } },
});
const objects = synthObjects((app) => new MonitoringChart(app, 'monitoring', { config: on }));

test("GIVEN monitoring off (the default) THEN an environment's output holds no monitoring object; on, it holds the three", () => {
  const { root, configDir } = tempProject({ prod: { monitoring: { enabled: false } } });
  synthesizeProject(root, configDir);
  const prod = Object.keys(snapshotTree(path.join(root, outputPaths('prod').edge)));
  const staging = Object.keys(snapshotTree(path.join(root, outputPaths('staging').edge)));
  expect(prod).toEqual(['envoy-edge.k8s.yaml']);
  expect(staging).toEqual(['envoy-edge.k8s.yaml', 'monitoring.k8s.yaml']);
  expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
    'PodMonitor/envoy-proxy',
    'PrometheusRule/envoy-proxy',
    'ConfigMap/envoy-proxy-dashboard',
  ]);
});

test('GIVEN the PodMonitor THEN Prometheus scrapes /stats/prometheus on the ready port of the Envoy pods, with the labels the config asks for', () => {
  const podMonitor = findObject(objects, 'PodMonitor');
  expect(podMonitor.metadata.labels).toMatchObject({ release: 'kps' });
  expect(podMonitor.spec).toEqual({
    selector: { matchLabels: { app: 'envoy-proxy' } },
    namespaceSelector: { matchNames: ['envoy-proxy'] },
    podMetricsEndpoints: [{ port: 'ready', path: '/stats/prometheus', interval: '30s' }],
  });
});

test("GIVEN monitoring on THEN the NetworkPolicy admits the scraper's pods to the ready port only; off, it admits no scraper", () => {
  const policy = (config = on) => findObject(synthEnvoyEdge(config), 'NetworkPolicy', 'envoy-proxy');
  expect(policy().spec.ingress).toContainEqual({
    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { app: 'prometheus' } } }],
    ports: [{ protocol: 'TCP', port: 9901 }],
  });
  // Off: the rules for the ALB (WebSocket port) and the ALB and nodes (ready port) only, no namespace selector.
  expect(policy(configWith()).spec.ingress.flatMap((rule: any) => rule.from.filter((f: any) => f.namespaceSelector))).toEqual([]);
  expect(policy().spec.ingress.flatMap((rule: any) => rule.from.filter((f: any) => f.namespaceSelector))).toHaveLength(1);
});

test('GIVEN the AppProject THEN it admits PodMonitor and PrometheusRule only in environments with monitoring on', () => {
  const projects = synthObjects(
    (app) =>
      new AppProjectsChart(app, 'p', {
        environments: [environmentWith('prod'), environmentWith('staging', { monitoring: { enabled: true }, gitops: { destinationName: 's' } })],
      }),
  );
  const kinds = (name: string) => findObject(projects, 'AppProject', name).spec.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`);
  expect(kinds('envoy-edge-staging')).toEqual(expect.arrayContaining(['monitoring.coreos.com/PodMonitor', 'monitoring.coreos.com/PrometheusRule']));
  expect(kinds('envoy-edge-prod').filter((k: string) => k.startsWith('monitoring.'))).toEqual([]);
});

test('GIVEN thresholds in the config THEN the alerts use exactly them', () => {
  const tuned = configWith({
    envoy: { replicas: 3, connections: { maxTotal: 9, maxPerBackendPod: 3 } },
    monitoring: { enabled: true, alerts: { rateLimitedRatio: 0.4, refusedPerMinute: 3, for: '2m', saturatedFor: '15m', configSkewFor: '1h' } },
  });
  const rules = Object.fromEntries(alertRules(tuned).map((r) => [r.alert, r]));
  expect(rules.EnvoyUpgradesRateLimited.expr).toMatch(/ >= 0\.4$/);
  expect(rules.EnvoyUpgradesRefused.expr).toMatch(/\* 60 >= 3$/);
  expect(rules.EnvoyReplicasMissing.expr).toMatch(/ < 3$/);
  expect([rules.EnvoyUpgradesRateLimited.for, rules.EnvoyBackendConnectionsSaturated.for, rules.EnvoyConfigSkew.for]).toEqual(['2m', '15m', '1h']);
});

test('GIVEN every alert THEN it has a severity, a summary, a description and a runbook section in docs/monitoring.md', () => {
  const runbook = readFileSync(path.join(PROJECT_ROOT, 'docs', 'monitoring.md'), 'utf8');
  for (const rule of alertRules(on)) {
    expect(rule.labels.severity).toMatch(/^(warning|critical)$/);
    expect(rule.annotations.summary.length).toBeGreaterThan(10);
    expect(rule.annotations.runbook_url).toBe(`https://github.com/example-org/envoy-websocket-edge/blob/main/docs/monitoring.md#${rule.alert.toLowerCase()}`);
    expect(runbook).toContain(`### ${rule.alert}\n`);
  }
});

test("GIVEN the dashboard THEN its ConfigMap is labelled for Grafana's sidecar and holds the dashboard, its uid named after the project", () => {
  const configMap = findObject(objects, 'ConfigMap', 'envoy-proxy-dashboard');
  expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
  const dashboard = JSON.parse(configMap.data['envoy-edge.json']);
  expect(dashboard).toEqual(grafanaDashboard(on));
  expect(dashboard.uid).toBe('envoy-edge');
  expect(dashboard.panels.map((p: any) => p.title)).toEqual(dashboardPanels(on).map((p) => p.title));
});

test("GIVEN no monitoring.dashboardNamespace THEN the dashboard ConfigMap sits beside Envoy; given one, it sits there (where Grafana's sidecar looks)", () => {
  const namespaceOf = (config = on) =>
    findObject(
      synthObjects((app) => new MonitoringChart(app, 'monitoring', { config })),
      'ConfigMap',
      'envoy-proxy-dashboard',
    ).metadata.namespace;
  expect(namespaceOf()).toBe('envoy-proxy');
  expect(namespaceOf(configWith({ monitoring: { enabled: true, dashboardNamespace: 'grafana' } }))).toBe('grafana');
});

test("GIVEN every expression THEN the metric names it uses are Envoy's (the live suite checks each against the real Envoy)", () => {
  const expressions = [...alertRules(on).map((r) => r.expr), ...dashboardPanels(on).flatMap((p) => p.targets.map((t) => t.expr))];
  expect(expressions.flatMap(metricNames).length).toBeGreaterThan(expressions.length);
  expect(metricNames('sum(rate(envoy_cluster_upstream_cx_connect_ms_bucket{envoy_cluster_name="x"}[5m]))')).toEqual(['envoy_cluster_upstream_cx_connect_ms']);
});

test('GIVEN any bootstrap THEN every Envoy metric carries config_revision, a hash of the rest of the bootstrap, which changes with it', () => {
  const tag = (config = configWith()) => (buildEnvoyBootstrap(config).stats_config?.stats_tags ?? [])[0];
  expect(tag()).toEqual({ tag_name: 'config_revision', fixed_value: expect.stringMatching(/^[0-9a-f]{12}$/) });
  expect(tag(configWith({ envoy: { connectionIdleTimeout: '2h' } }))!.fixed_value).not.toBe(tag()!.fixed_value);
  // A live field is not in the static bootstrap: replicas serving different live versions show through the version gauges.
  expect(tag(configWith({ envoy: { streamIdleTimeout: '2h' } }))!.fixed_value).toBe(tag()!.fixed_value);
  expect(tag(configWith())).toEqual(tag());
});
