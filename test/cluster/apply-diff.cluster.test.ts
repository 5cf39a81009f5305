// A real apply of everything we ship, after which `kubectl diff` (what `npm run diff` runs) shows
// nothing: the server's defaulting and our objects agree, so a diff means a change.
import { Cluster, report } from './harness';

const cluster = new Cluster();

test('GIVEN the servers WHEN argocd/ and every environment are applied for real THEN kubectl applies every object', async () => {
  const applied = await cluster.applyAll();
  expect(applied.map((a) => a.applied)).toEqual(applied.map((a) => a.objects));
  report(`kubectl apply: ${applied.map((a) => `${a.what} ${a.applied}/${a.objects}`).join(', ')}`);
});

test('GIVEN every environment applied WHEN kubectl diff compares the servers with the files THEN it exits 0 for every environment (both folders)', async () => {
  await cluster.applied();
  const diffs = await Promise.all(
    cluster.environments.map(async (env) => {
      const [edge, apps] = await Promise.all([
        cluster.runAsync(cluster.contextOf(env), ['diff', '-f', cluster.path('dist', env, 'edge')]),
        cluster.runAsync(cluster.argocdContext, ['diff', '-f', cluster.path('dist', env)]),
      ]);
      return {
        env,
        exits: `${edge.status}/${apps.status}`,
        shown: `${edge.stdout}${edge.stderr}${apps.stdout}${apps.stderr}`.split('\n').slice(0, 40).join('\n'),
      };
    }),
  );
  expect(diffs).toEqual(cluster.environments.map((env) => ({ env, exits: '0/0', shown: '' })));
  report(
    `kubectl diff right after apply exits ${diffs.map((d) => `${d.env}:${d.exits}`).join(' ')} (dist/<env>/edge/ in its cluster / dist/<env>/ in Argo CD's)`,
  );
});
