// Monitoring as code, with monitoring.enabled: the PodMonitor that has Prometheus scrape every
// Envoy pod's /stats/prometheus on the ready port, the PrometheusRule with the alerts, and the
// Grafana dashboard in a ConfigMap for Grafana's sidecar (docs/monitoring.md).
import { Chart, type ChartProps } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { formatMs } from '../config/kinds';
import type { EdgeConfig } from '../config/schema';
import { ENVOY_POD_LABELS } from '../envoy/pod';
import { PodMonitor, PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { EDGE_NAMES } from '../k8s/names';
import { ruleFile } from '../monitoring/alerts';
import { dashboardNamespace, grafanaDashboard } from '../monitoring/dashboard';

export interface MonitoringChartProps extends ChartProps {
  readonly config: EdgeConfig;
}

export class MonitoringChart extends Chart {
  constructor(scope: Construct, id: string, props: MonitoringChartProps) {
    super(scope, id, props);
    const { config } = props;
    const { monitoring, envoy } = config;
    const labels = { 'app.kubernetes.io/part-of': 'envoy-edge', ...monitoring.labels };

    new PodMonitor(this, 'pod-monitor', {
      metadata: { name: EDGE_NAMES.podMonitor, namespace: envoy.namespace, labels },
      spec: {
        selector: { matchLabels: ENVOY_POD_LABELS },
        namespaceSelector: { matchNames: [envoy.namespace] },
        podMetricsEndpoints: [
          {
            // The ready listener serves the read-only /stats/prometheus; admin stays on loopback.
            port: 'ready',
            path: '/stats/prometheus',
            interval: formatMs(monitoring.scrapeInterval),
          },
        ],
      },
    });

    new PrometheusRule(this, 'prometheus-rule', {
      metadata: { name: EDGE_NAMES.prometheusRule, namespace: envoy.namespace, labels },
      spec: {
        groups: ruleFile(config).groups.map((group) => ({
          name: group.name,
          rules: group.rules.map((rule) => ({
            alert: rule.alert,
            expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr),
            for: rule.for,
            labels: rule.labels,
            annotations: rule.annotations,
          })),
        })),
      },
    });

    new k8s.KubeConfigMap(this, 'dashboard', {
      metadata: {
        name: EDGE_NAMES.dashboardConfigMap,
        namespace: dashboardNamespace(config),
        labels: { 'app.kubernetes.io/part-of': 'envoy-edge', ...monitoring.dashboardLabels },
      },
      data: { 'envoy-edge.json': `${JSON.stringify(grafanaDashboard(config), null, 2)}\n` },
    });
  }
}
