// Monitoring on the real binaries: every metric the alerts and the dashboard use is in the real
// Envoy's /stats/prometheus output, and a real Prometheus with the generated rules, scraping a live
// fleet, fires exactly the alerts for what the clients meet: 429s, 503s, a full backend and an
// unhealthy pod. The `for` durations are shortened in this test's config (they are config); the
// expressions and thresholds are the shipped ones.

import { stringify as toYaml } from 'yaml';
import { ruleFile } from '../../monitoring/alerts';
import { dashboardPanels } from '../../monitoring/dashboard';
import { metricNames } from '../../monitoring/selectors';
import { closeAll, type UpgradeResult, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { synthesizedEdge } from './harness/envoy-fleet';
import { metricFamilies, PrometheusServer } from './harness/prometheus';
import { report, sleep } from './harness/report';

// A bucket of 20 leaves each replica tokens for the refused upgrades after holding its slots.
const MONITORED = {
  monitoring: { enabled: true, alerts: { for: '0s', saturatedFor: '0s' } },
  envoy: { healthCheck: { interval: '1s', timeout: '500ms', noTrafficInterval: '1s' }, rateLimit: { maxTokens: 20 } },
};
/**
 * The rules average over 5 minutes, so a burst of events in a short test counts as events / 5 per
 * minute; one more than the threshold needs keeps Prometheus' rate extrapolation from landing just below.
 */
const inFiveMinutes = (perMinute: number) => Math.ceil(perMinute * 5) + 1;

let edge: Edge | undefined;
let prometheus: PrometheusServer | undefined;
afterEach(async () => {
  await prometheus?.stop();
  await edge?.stop();
  prometheus = undefined;
  edge = undefined;
});

test("GIVEN the alerts and the dashboard THEN every Envoy metric they use is in the real Envoy's /stats/prometheus output", async () => {
  edge = await Edge.start(synthesizedEdge(MONITORED), { replicas: 1 });
  const { config } = edge;
  // Some families appear only once used: an upgrade and a plain request first.
  const used = await upgrade(edge.target(0));
  await closeAll([used.socket]);
  const [replica] = edge.replicas;
  await sleep(5500); // histograms reach /stats/prometheus on Envoy's 5 s stats flush
  const exposition = await (await fetch(`http://${replica.address}:${config.envoy.readyPort}/stats/prometheus`)).text();
  const families = metricFamilies(exposition);
  const expressions = [
    ...ruleFile(config).groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ...dashboardPanels(config).flatMap((p) => p.targets.map((t) => t.expr)),
  ];
  const names = [...new Set(expressions.flatMap(metricNames))].sort();
  const missing = names.filter((n) => !families.has(n));
  report(
    `${names.length} metric names in ${expressions.length} expressions; Envoy exports ${families.size} families; missing: ${missing.join(', ') || 'none'}`,
  );
  expect(names.length).toBeGreaterThan(10);
  expect(missing).toEqual([]);
});

test('GIVEN a real Prometheus with the generated rules scraping the live fleet WHEN clients meet 429s, 503s, a full backend and an unhealthy pod THEN exactly those alerts fire', async () => {
  edge = await Edge.start(synthesizedEdge(MONITORED));
  const { config } = edge;
  prometheus = await PrometheusServer.start({
    rules: toYaml(ruleFile(config)),
    // The labels the Prometheus Operator puts on a PodMonitor's targets.
    targets: edge.replicas.map((r, i) => ({
      job: `${config.envoy.namespace}/envoy-proxy`,
      address: `${r.address}:${config.envoy.readyPort}`,
      metricsPath: '/stats/prometheus',
      labels: { namespace: config.envoy.namespace, pod: `envoy-proxy-${i}` },
    })),
  });
  await prometheus.waitForScrapes(2);
  const quiet = await prometheus.alerts();
  report(`before any traffic: ${quiet.map((a) => `${a.name} ${a.state}`).join(', ') || 'no alert'}`);
  expect(quiet).toEqual([]);

  // A full backend: every slot of the fleet held.
  const { maxTotal } = config.envoy.connections;
  const held: UpgradeResult[] = await Promise.all(Array.from({ length: maxTotal }, (_, i) => upgrade(edge!.roundRobin(i))));
  expect(held.map((r) => r.status)).toEqual(Array(maxTotal).fill(101));
  const saturated = await prometheus.waitForAlert('EnvoyBackendConnectionsSaturated', 'firing');
  // 503s: more upgrades wait the queue timeout in vain, as many as the threshold needs over 5 minutes.
  const refusals = inFiveMinutes(config.monitoring.alerts.refusedPerMinute);
  const refused = await Promise.all(Array.from({ length: refusals }, () => upgrade(edge!.target(0))));
  expect(refused.map((r) => r.status)).toEqual(Array(refusals).fill(503));
  const refusedAlert = await prometheus.waitForAlert('EnvoyUpgradesRefused', 'firing');
  await closeAll(held.map((r) => r.socket));
  // 429s: a burst beyond what is left in the bucket.
  const burst = await Promise.all(
    Array.from({ length: 2 * config.envoy.rateLimit.maxTokens }, async (_, i) => {
      const r = await upgrade(edge!.roundRobin(i));
      r.socket?.close(1000);
      return r.status;
    }),
  );
  expect(burst.filter((s) => s === 429).length).toBeGreaterThan(burst.length * config.monitoring.alerts.rateLimitedRatio);
  const limited = await prometheus.waitForAlert('EnvoyUpgradesRateLimited', 'firing');
  // An unhealthy pod.
  edge.pods[0].health = 'fail-503';
  const unhealthy = await prometheus.waitForAlert('EnvoyBackendPodsUnhealthy', 'firing', 20_000);

  const alerts = await prometheus.alerts();
  const states = Object.fromEntries(alerts.map((a) => [a.name, a.state]));
  report(`alerts: ${alerts.map((a) => `${a.name} ${a.state} (${a.annotations.description})`).join(' | ')}`);
  report(
    `firing after: saturated ${(saturated.ms / 1000).toFixed(1)} s, refused ${(refusedAlert.ms / 1000).toFixed(1)} s, ` +
      `rate-limited ${(limited.ms / 1000).toFixed(1)} s, unhealthy pod ${(unhealthy.ms / 1000).toFixed(1)} s`,
  );
  expect(states).toMatchObject({
    EnvoyUpgradesRateLimited: 'firing',
    EnvoyUpgradesRefused: 'firing',
    EnvoyBackendPodsUnhealthy: 'firing',
  });
  for (const silent of ['EnvoyReplicasMissing', 'EnvoyOverloadActionActive', 'EnvoyConfigSkew', 'EnvoyLiveConfigRejected'])
    expect(states[silent]).toBeUndefined();
  // Every alert says what it is about: a rendered summary and description.
  for (const a of alerts) expect(a.annotations.description).not.toMatch(/\{\{|<no value>/);
});
