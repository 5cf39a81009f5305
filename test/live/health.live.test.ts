// Active health checks of each backend pod, on the real Envoy: a pod leaves after exactly
// unhealthyThreshold failed checks (503 or no answer) and returns after healthyThreshold passes.

import type { HealthMode } from './harness/backend-pods';
import { closeAll, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { synthesizedEdge } from './harness/envoy-fleet';
import { report, s } from './harness/report';

// The shipped 5 s interval would take a minute; the thresholds and the timeout rule are the shipped ones.
const FAST_CHECKS = { envoy: { healthCheck: { interval: '1s', timeout: '500ms', noTrafficInterval: '1s' } } };

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

const CLUSTER = 'websocket_backend';

async function ejectAndRestore(mode: HealthMode) {
  edge = await Edge.start(synthesizedEdge(FAST_CHECKS));
  const { interval, timeout, unhealthyThreshold, healthyThreshold } = edge.config.envoy.healthCheck;
  const [replica] = edge.replicas;
  const pod = edge.pods[0];
  const isHealthy = async () => (await replica.hostHealth(CLUSTER)).get(pod.options.address);
  const failures = () => replica.stat(`cluster.${CLUSTER}.health_check.failure`);

  const failuresBefore = await failures();
  pod.health = mode;
  const ejectMs = await replica.waitUntil(async () => (await isHealthy()) === false, 10 * interval, 'ejects the failing pod');
  const failed = (await failures()) - failuresBefore;
  // While it is out, new upgrades go to the other pods only.
  const during = await Promise.all(Array.from({ length: 3 }, () => upgrade(edge!.target(0))));
  pod.health = 'ok';
  const restoreMs = await replica.waitUntil(async () => (await isHealthy()) === true, 10 * interval, 'restores the pod');
  report(
    `/health ${mode}: ejected after ${failed} failed checks (${s(ejectMs)}; threshold ${unhealthyThreshold}, interval ${s(interval)}), ` +
      `back after ${s(restoreMs)} (threshold ${healthyThreshold})`,
  );

  expect(failed).toBe(unhealthyThreshold);
  const perFailure = mode === 'hang' ? timeout : 0;
  expect(ejectMs).toBeGreaterThanOrEqual((unhealthyThreshold - 1) * interval + perFailure - 100);
  expect(ejectMs).toBeLessThan(unhealthyThreshold * interval + perFailure + 1000);
  expect(restoreMs).toBeGreaterThanOrEqual((healthyThreshold - 1) * interval - 100);
  expect(restoreMs).toBeLessThan(healthyThreshold * interval + 1000);
  expect(during.map((r) => r.status)).toEqual([101, 101, 101]);
  expect(during.map((r) => r.pod)).not.toContain(pod.name);
  await closeAll(during.map((r) => r.socket));
}

test('GIVEN a pod whose /health answers 503 THEN it leaves after exactly unhealthyThreshold checks, and returns after healthyThreshold passes', async () => {
  await ejectAndRestore('fail-503');
});

test('GIVEN a pod whose /health never answers THEN each check times out, it leaves after exactly unhealthyThreshold of them, and returns after healthyThreshold passes', async () => {
  await ejectAndRestore('hang');
});
