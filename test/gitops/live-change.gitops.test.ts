// A push that changes only a live field reaches the cluster as a ConfigMap update: the Deployment
// keeps its generation and its ReplicaSet, so no pod rolls and no WebSocket is cut. A push that
// changes a static field makes a new ReplicaSet (docs/behaviour.md, "Changing the edge").

import { EDGE_NAMES } from '../../k8s/names';
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const ns = env.envoyNamespace;

interface Rollout {
  readonly generation: number;
  readonly replicaSets: string[];
  readonly live: Record<string, string>;
}

function rollout(): Rollout {
  const deployment = gitops.json(environment, '-n', ns, 'get', 'deployment', EDGE_NAMES.deployment);
  const replicaSets = gitops.json(environment, '-n', ns, 'get', 'replicasets', '-l', `app=${EDGE_NAMES.app}`);
  const live = gitops.json(environment, '-n', ns, 'get', 'configmap', EDGE_NAMES.liveConfigMap);
  return {
    generation: deployment.metadata.generation,
    replicaSets: replicaSets.items.map((rs: any) => rs.metadata.name).sort(),
    live: live.data,
  };
}

test(`GIVEN ${environment}'s edge WHEN a push changes only envoy.rateLimit.maxTokens THEN the live ConfigMap is updated, and the Deployment keeps its generation and ReplicaSet`, async () => {
  const before = rollout();
  let maxTokens = 0;
  gitops.editConfig(environment, (doc) => {
    maxTokens = Number(doc.getIn(['envoy', 'rateLimit', 'maxTokens']) ?? 10) + 2;
    doc.setIn(['envoy', 'rateLimit', 'maxTokens'], maxTokens);
  });
  gitops.synthesize();
  const pushed = gitops.push(`${environment}: envoy.rateLimit.maxTokens ${maxTokens} (live)`);
  const changed = gitops.changedFiles();
  gitops.refresh(env.edgeApp);
  const after = await waitFor('the live ConfigMap updated', 60_000, () => {
    const now = rollout();
    return now.live['routes.yaml'] !== before.live['routes.yaml'] ? now : undefined;
  });
  const liveMs = performance.now() - pushed.at;
  // Argo CD has finished the sync: the Application is at the pushed commit.
  await waitFor('the edge Application synced at the push', 60_000, () =>
    gitops.app(env.edgeApp, '{.status.sync.status} {.status.sync.revision}') === `Synced ${pushed.sha}` ? true : undefined,
  );
  const settled = rollout();
  report(
    `live change: ${changed.join(', ')} pushed; the live ConfigMap updated ${(liveMs / 1000).toFixed(1)} s after the push; ` +
      `Deployment generation ${before.generation} → ${settled.generation}, ReplicaSets ${before.replicaSets.join(',')} → ${settled.replicaSets.join(',')}`,
  );
  expect(after.live['routes.yaml']).toContain(`max_tokens: ${maxTokens}`);
  expect(settled.generation).toBe(before.generation);
  expect(settled.replicaSets).toEqual(before.replicaSets);
  // Only this environment's edge changed in git (with monitoring on, the alerts' text names the bucket too).
  expect(changed.filter((f) => !f.startsWith('config/') && !f.startsWith(`dist/${environment}/edge/`))).toEqual([]);
});

test(`GIVEN ${environment}'s edge WHEN a push changes envoy.resources.memoryLimit (static) THEN the Deployment's pod template changes and a new ReplicaSet is made`, async () => {
  const before = rollout();
  gitops.editConfig(environment, (doc) => {
    doc.setIn(['envoy', 'resources', 'memoryLimit'], '320Mi');
  });
  gitops.synthesize();
  const pushed = gitops.push(`${environment}: envoy.resources.memoryLimit 320Mi (rolls the pods)`);
  gitops.refresh(env.edgeApp);
  // The Deployment is read before its ReplicaSets: wait for both, or a read between the two updates sees one only.
  const after = await waitFor('a new pod template and its ReplicaSet', 60_000, () => {
    const now = rollout();
    return now.generation > before.generation && now.replicaSets.some((rs) => !before.replicaSets.includes(rs)) ? now : undefined;
  });
  const rolledMs = performance.now() - pushed.at;
  report(
    `static change: envoy.resources.memoryLimit pushed; a new ReplicaSet ${(rolledMs / 1000).toFixed(1)} s after the push; ` +
      `Deployment generation ${before.generation} → ${after.generation}, ReplicaSets ${before.replicaSets.join(',')} → ${after.replicaSets.join(',')}`,
  );
  expect(after.generation).toBeGreaterThan(before.generation);
  expect(after.replicaSets.filter((rs) => !before.replicaSets.includes(rs))).toHaveLength(1);
});
