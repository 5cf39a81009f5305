// Self-heal: an object edited by hand in the cluster is put back as git has it (gitops.selfHeal).
import { createHash } from 'node:crypto';
import { EDGE_NAMES } from '../../k8s/names';
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const configMap = EDGE_NAMES.bootstrapConfigMap;
const bootstrapHash = () => {
  const text = gitops.kubectl(
    environment,
    '-n',
    env.envoyNamespace,
    'get',
    'configmap',
    configMap,
    '-o',
    `jsonpath={.data.${EDGE_NAMES.bootstrapFile.replace('.', '\\.')}}`,
  );
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
};

test(`GIVEN ${environment}'s bootstrap ConfigMap WHEN a person edits it with kubectl THEN Argo CD puts git's version back`, async () => {
  const original = bootstrapHash();
  const live = gitops.json(environment, '-n', env.envoyNamespace, 'get', 'configmap', configMap);
  const patch = JSON.stringify({ data: { [EDGE_NAMES.bootstrapFile]: `${live.data[EDGE_NAMES.bootstrapFile]}# edited by hand with kubectl\n` } });
  gitops.kubectl(environment, '-n', env.envoyNamespace, 'patch', 'configmap', configMap, '--type', 'merge', '-p', patch);
  const editedAt = performance.now();
  const edited = bootstrapHash();
  expect(edited).not.toBe(original);
  await waitFor('the ConfigMap put back', 60_000, () => (bootstrapHash() === original ? true : undefined));
  report(
    `self-heal: the bootstrap ConfigMap edited by hand in ${environment}'s cluster (${EDGE_NAMES.bootstrapFile} ${original} -> ${edited}) ` +
      `was put back by Argo CD ${((performance.now() - editedAt) / 1000).toFixed(1)} s later`,
  );
});
