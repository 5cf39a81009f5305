// The daily loop: a config change, synthesized with the real pipeline and pushed, goes live in the
// environment's cluster, exactly that change, within seconds of Argo CD being told (the refresh
// annotation a git webhook would set), and afterwards the clusters equal dist/ (docs/gitops.md).
import { EDGE_NAMES } from '../../k8s/names';
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const ATTRIBUTES = '{.metadata.annotations.alb\\.ingress\\.kubernetes\\.io/load-balancer-attributes}';
const attributes = () => gitops.kubectl(environment, '-n', env.envoyNamespace, 'get', 'ingress', EDGE_NAMES.ingress, '-o', `jsonpath=${ATTRIBUTES}`);

test(`GIVEN ${environment} WHEN a push changes its alb.idleTimeoutSeconds THEN exactly its Ingress changes, within seconds, and kubectl diff is empty afterwards`, async () => {
  const now = attributes();
  const idle = now.startsWith('idle_timeout.timeout_seconds=1800,') ? 1200 : 1800;
  const want = now.replace(/^idle_timeout\.timeout_seconds=\d+/, `idle_timeout.timeout_seconds=${idle}`);
  const environments = Object.keys(gitops.ctx.environments);
  const before = environments.flatMap((e) => gitops.snapshot(e).map((line) => `${e} ${line}`));

  gitops.editConfig(environment, (doc) => doc.setIn(['alb', 'idleTimeoutSeconds'], idle));
  gitops.synthesize();
  const pushed = gitops.push(`${environment}: alb.idleTimeoutSeconds ${idle}`);
  const numstat = gitops.lastCommitNumstat();
  gitops.refresh(env.edgeApp);
  await waitFor('the new idle timeout on the Ingress', 60_000, () => (attributes() === want ? true : undefined));
  const liveMs = performance.now() - pushed.at;
  await waitFor(`${env.edgeApp} Synced at the push`, 60_000, () =>
    gitops.app(env.edgeApp, '{.status.sync.status} {.status.sync.revision}') === `Synced ${pushed.sha}` ? true : undefined,
  );

  const after = environments.flatMap((e) => gitops.snapshot(e).map((line) => `${e} ${line}`));
  const moved = after.filter((line) => !before.includes(line)).map((line) => line.split(' ').slice(0, 2).join(' '));
  const diff = gitops.liveDiff(environment);
  report(
    `config change: ${environment}'s alb.idleTimeoutSeconds ${idle} live ${(liveMs / 1000).toFixed(1)} s after the push ` +
      `(refresh annotation on ${env.edgeApp}, not the 3-minute poll); the commit changes ${numstat.join(' ')}; in the clusters only ` +
      `${moved.join(', ')} changed; kubectl diff exits ${diff.join('/')}`,
  );
  expect(numstat).toEqual([
    expect.stringMatching(new RegExp(`^config/environments/${environment}\\.yaml\\(\\+\\d+-\\d+\\)$`)),
    `dist/${environment}/edge/envoy-edge.k8s.yaml(+1-1)`,
  ]);
  expect(moved).toEqual([`${environment} Ingress/${env.envoyNamespace}/${EDGE_NAMES.ingress}`]);
  expect(diff).toEqual([0, 0]);
});
