// Server-side dry run of every object we ship, before anything else is applied: each environment's
// dist/<env>/edge/ in its own cluster, its dist/<env>/ (the Applications) and argocd/ in Argo CD's. The
// server refuses namespaced objects whose namespace does not exist (NamespaceLifecycle), so our
// Namespaces go in for real first (dry-run, then applied).
import { Cluster, report } from './harness';

const cluster = new Cluster();

test('GIVEN fresh API servers with only our Namespaces WHEN every environment and argocd/ are applied with --dry-run=server THEN the servers accept every object', () => {
  const namespaces = cluster.allNamespaceFiles().map(({ context, path }) => {
    const dry = cluster.applyTo(context, '--dry-run=server', '-f', path);
    const real = cluster.applyTo(context, '-f', path);
    return { dry, real };
  });
  expect(namespaces.map((n) => n.real)).toEqual(namespaces.map((n) => n.dry));
  const targets = [
    ...cluster.environments.flatMap((env) => [
      { what: `dist/${env}/edge/ in ${env}'s cluster`, context: cluster.contextOf(env), dir: cluster.path('dist', env, 'edge') },
      { what: `dist/${env}/ in Argo CD's`, context: cluster.argocdContext, dir: cluster.path('dist', env) },
    ]),
    { what: "argocd/ in Argo CD's", context: cluster.argocdContext, dir: cluster.path('argocd') },
  ];
  const accepted = targets.map(({ what, context, dir }) => ({
    what,
    objects: cluster.objects(dir).length,
    // Throws with the server's answer when it refuses one.
    accepted: cluster.applyTo(context, '--dry-run=server', '-f', dir).length,
  }));
  expect(accepted.map((a) => a.accepted)).toEqual(accepted.map((a) => a.objects));
  expect(accepted.every((a) => a.objects > 0)).toBe(true);
  report(
    `kubectl apply --dry-run=server accepts every object: ${accepted.map((a) => `${a.what} ${a.accepted}/${a.objects}`).join(', ')} ` +
      `(after ${namespaces.reduce((n, x) => n + x.real.length, 0)} Namespaces applied for real)`,
  );
});
