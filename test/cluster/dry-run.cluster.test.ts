// Server-side dry run of every object we ship, before anything else is applied: each environment's
// dist/<env>/edge/ in its own cluster, its dist/<env>/ (the Applications) and argocd/ in Argo CD's. The
// server refuses namespaced objects whose namespace does not exist (NamespaceLifecycle), so our
// Namespaces go in for real first (dry-run, then applied).
import { Cluster, report } from './harness';

const cluster = new Cluster();

test('GIVEN fresh API servers with only our Namespaces WHEN every environment and argocd/ are applied with --dry-run=server THEN the servers accept every object', async () => {
  const namespaces = await Promise.all(
    cluster.allNamespaceFiles().map(async ({ context, path }) => {
      const dry = await cluster.applyAsync(context, '--dry-run=server', '-f', path);
      const real = await cluster.applyAsync(context, '-f', path);
      return { dry, real };
    }),
  );
  expect(namespaces.map((n) => n.real)).toEqual(namespaces.map((n) => n.dry));
  const accepted = await Promise.all(
    cluster.targets().map(async ({ what, context, dir }) => ({
      what,
      objects: cluster.objects(dir).length,
      // Throws with the server's answer when it refuses one.
      accepted: (await cluster.applyAsync(context, '--dry-run=server', '-f', dir)).length,
    })),
  );
  expect(accepted.map((a) => a.accepted)).toEqual(accepted.map((a) => a.objects));
  expect(accepted.every((a) => a.objects > 0)).toBe(true);
  report(
    `kubectl apply --dry-run=server accepts every object: ${accepted.map((a) => `${a.what} ${a.accepted}/${a.objects}`).join(', ')} ` +
      `(after ${namespaces.reduce((n, x) => n + x.real.length, 0)} Namespaces applied for real)`,
  );
});
