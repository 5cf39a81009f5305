// Prune: an object removed from dist/<env>/edge/ is deleted from the environment's cluster; put back,
// it is re-created (docs/gitops.md, "The loop").
import { EDGE_NAMES } from '../../k8s/names';
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const file = `dist/${environment}/edge/envoy-edge.k8s.yaml`;
const pdb = () =>
  gitops.kubectl(environment, '-n', env.envoyNamespace, 'get', 'poddisruptionbudget', EDGE_NAMES.pdb, '--ignore-not-found', '-o', 'name').trim();
const syncedAt = (sha: string) => (gitops.app(env.edgeApp, '{.status.sync.status} {.status.sync.revision}') === `Synced ${sha}` ? true : undefined);

test(`GIVEN ${environment}'s PodDisruptionBudget WHEN a push removes it from ${file} THEN Argo CD deletes it from the cluster, and re-creates it when it is pushed back`, async () => {
  expect(pdb()).not.toBe('');
  const text = gitops.read(file);
  const docs = text.split('\n---\n');
  const kept = docs.filter((d) => !`\n${d}\n`.includes('\nkind: PodDisruptionBudget\n'));
  expect(kept).toHaveLength(docs.length - 1);
  gitops.write(file, kept.join('\n---\n'));
  const pushed = gitops.push(`${environment}: the PodDisruptionBudget removed from dist/`);
  gitops.refresh(env.edgeApp);
  await waitFor('the PodDisruptionBudget deleted', 60_000, () => (pdb() === '' ? true : undefined));
  const goneMs = performance.now() - pushed.at;
  await waitFor(`${env.edgeApp} Synced at the push`, 30_000, () => syncedAt(pushed.sha));

  gitops.restoreFromParent(file);
  const back = gitops.push(`${environment}: the PodDisruptionBudget back`);
  gitops.refresh(env.edgeApp);
  await waitFor('the PodDisruptionBudget re-created', 60_000, () => (pdb() !== '' ? true : undefined));
  const backMs = performance.now() - back.at;
  await waitFor(`${env.edgeApp} Synced at the restore`, 30_000, () => syncedAt(back.sha));
  report(
    `prune: the PodDisruptionBudget removed from dist/${environment}/edge/ was deleted from ${environment}'s cluster ` +
      `${(goneMs / 1000).toFixed(1)} s after the push, and re-created ${(backMs / 1000).toFixed(1)} s after it was pushed back`,
  );
});
