// The alerts on what clients feel, as data: a pure function of the config (thresholds in
// config.monitoring.alerts). Each has a summary and a runbook section in docs/monitoring.md.

import { formatMs } from '../config/kinds';
import { browsableFile } from '../config/repository';
import type { EdgeConfig } from '../config/schema';
import { backendCluster, matchers, upgradeRateLimit } from './selectors';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: 'warning' | 'critical' };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url?: string };
}

/** The gauges that hold a hash of the version_info of each live file Envoy serves (routes, clusters, runtime). */
const LIVE_VERSION_METRICS = ['envoy_http_rds_version', 'envoy_cluster_manager_cds_version', 'envoy_runtime_version'];
/** Counters of live updates Envoy refused (it then keeps serving the last good version). */
const LIVE_REJECTED_METRICS = ['envoy_http_rds_update_rejected', 'envoy_cluster_manager_cds_update_rejected', 'envoy_runtime_update_rejected'];
/** Envoy does not retry a rejected file until it changes again, so the alert looks back this far. */
const LIVE_REJECTION_WINDOW = '1h';

/** The section of docs/monitoring.md for each alert; its anchor is the alert's name, lower case. */
export const RUNBOOK = 'docs/monitoring.md';

type Envoy = EdgeConfig['envoy'];

export interface AlertsInput {
  readonly monitoring: Pick<EdgeConfig['monitoring'], 'alerts'>;
  readonly envoy: Pick<Envoy, 'namespace' | 'replicas' | 'rateLimit' | 'connections'> & {
    readonly healthCheck: Pick<Envoy['healthCheck'], 'unhealthyThreshold'>;
    readonly resources: Pick<Envoy['resources'], 'memoryLimit'>;
  };
  readonly backend: Pick<EdgeConfig['backend'], 'healthPath'>;
  readonly gitops: RunbookInput['gitops'];
}

export function alertRules(config: AlertsInput): AlertRule[] {
  const a = config.monitoring.alerts;
  const m = (extra: Record<string, string> = {}) => matchers(config, extra);
  const { maxTotal } = config.envoy.connections;
  const rule = (alert: string, expr: string, forMs: number, severity: 'warning' | 'critical', summary: string, description: string): AlertRule => ({
    alert,
    expr,
    for: formatMs(forMs),
    labels: { severity },
    annotations: { summary, description, ...runbook(config, alert) },
  });
  return [
    rule(
      'EnvoyUpgradesRateLimited',
      `sum(rate(envoy_http_local_rate_limit_rate_limited${m(upgradeRateLimit)}[5m])) / sum(rate(envoy_http_local_rate_limit_enabled${m(upgradeRateLimit)}[5m])) >= ${a.rateLimitedRatio}`,
      a.for,
      'warning',
      'WebSocket upgrades are rate-limited (429)',
      `{{ $value | humanizePercentage }} of new WebSockets got 429 over 5 minutes (alert at ${a.rateLimitedRatio * 100}%); the fleet admits ${config.envoy.rateLimit.maxTokens} at once, then ${config.envoy.rateLimit.tokensPerFill} every ${formatMs(config.envoy.rateLimit.fillInterval)}.`,
    ),
    rule(
      'EnvoyUpgradesRefused',
      // The wait for a slot is the upgrade route's timeout (a plain request's route timeout counts here too).
      `(sum(rate(envoy_cluster_upstream_rq_timeout${m(backendCluster)}[5m])) + sum(rate(envoy_cluster_upstream_rq_pending_overflow${m(backendCluster)}[5m]))) * 60 >= ${a.refusedPerMinute}`,
      a.for,
      'warning',
      'WebSocket upgrades are refused with 503: no backend slot',
      `{{ $value | humanize }} upgrades per minute got 503 after waiting ${formatMs(config.envoy.connections.queueTimeout)} for a backend slot, or at once with a full wait queue (alert at ${a.refusedPerMinute}).`,
    ),
    rule(
      'EnvoyBackendConnectionsSaturated',
      // Open requests (each WebSocket is one): the remaining_cx gauge ignores the runtime caps and is shared
      // across a cluster update (measured on 1.40.0), so it cannot say how full the backend is.
      `sum(envoy_cluster_upstream_rq_active${m(backendCluster)}) >= ${maxTotal}`,
      a.saturatedFor,
      'warning',
      'Every backend connection of the fleet is in use',
      `All ${maxTotal} backend connections (${config.envoy.connections.maxPerBackendPod} per pod) have been in use for ${formatMs(a.saturatedFor)}: new WebSockets wait, then get 503.`,
    ),
    rule(
      'EnvoyBackendPodsUnhealthy',
      `envoy_cluster_membership_healthy${m(backendCluster)} < envoy_cluster_membership_total${m(backendCluster)}`,
      a.for,
      'warning',
      'Backend pods fail their health checks',
      `Envoy {{ $labels.pod }} sees {{ $value }} healthy backend pods, fewer than it knows; the others failed ${config.envoy.healthCheck.unhealthyThreshold} checks of ${config.backend.healthPath} in a row.`,
    ),
    rule(
      'EnvoyReplicasMissing',
      `(count(envoy_server_live${m()} == 1) or vector(0)) < ${config.envoy.replicas}`,
      a.for,
      'critical',
      'Fewer Envoy replicas are live than configured',
      `{{ $value }} Envoy replicas are live, of ${config.envoy.replicas}: the others are missing, not ready, or not scraped.`,
    ),
    rule(
      'EnvoyOverloadActionActive',
      `(envoy_overload_envoy_overload_actions_stop_accepting_requests_active${m()} > 0) or (envoy_overload_envoy_overload_actions_shrink_heap_active${m()} > 0)`,
      a.for,
      'critical',
      "Envoy's overload manager is acting: memory is near the limit",
      `Envoy {{ $labels.pod }} is shrinking its heap or refusing requests: its heap is near ${config.envoy.resources.memoryLimit.text} × 80%.`,
    ),
    rule(
      'EnvoyConfigSkew',
      // The static bootstrap by its config_revision tag; each live file by the version gauge Envoy keeps for it
      // (a hash of the version_info it last accepted).
      [
        `count(count by (config_revision) (envoy_server_live${m()})) > 1`,
        ...LIVE_VERSION_METRICS.map((metric) => `count(count_values("version", ${metric}${m()})) > 1`),
      ].join(' or '),
      a.configSkewFor,
      'warning',
      'Envoy replicas run different configs for longer than a rollout or a live update',
      `Replicas have served different bootstraps or live files for ${formatMs(a.configSkewFor)}: a rollout is stuck, or a replica did not take a live update (npm run status shows which).`,
    ),
    rule(
      'EnvoyLiveConfigRejected',
      LIVE_REJECTED_METRICS.map((metric) => `sum by (namespace, pod) (increase(${metric}${m()}[${LIVE_REJECTION_WINDOW}])) > 0`).join(' or '),
      0,
      'warning',
      'An Envoy replica rejected a live config update',
      `Envoy {{ $labels.pod }} rejected an update of its live files within the last ${LIVE_REJECTION_WINDOW} and serves its last good config: the change did not take effect there.`,
    ),
  ];
}

/** The rules as a Prometheus rule file (what the PrometheusRule's spec holds), for promtool and Prometheus. */
export function ruleFile(config: AlertsInput): { groups: { name: string; rules: AlertRule[] }[] } {
  return { groups: [{ name: RULE_GROUP, rules: alertRules(config) }] };
}

export const RULE_GROUP = 'envoy-edge';

/** A link to the alert's runbook section, when the repository URL says where it is browsable. */
type RunbookInput = { readonly gitops: Pick<EdgeConfig['gitops'], 'repoURL' | 'targetRevision'> };

function runbook(config: RunbookInput, alert: string): { runbook_url?: string } {
  const file = browsableFile(config.gitops.repoURL, config.gitops.targetRevision, RUNBOOK);
  return file ? { runbook_url: `${file}#${alert.toLowerCase()}` } : {};
}
