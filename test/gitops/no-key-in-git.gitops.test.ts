// The controller's webhook key never enters git: Argo CD renders the chart in the cluster, so the
// key the chart generates lives only in the cluster's TLS Secret (docs/lb-controller.md). Checked
// against every commit the loop has pushed by the time this runs, and the Secrets as they are then
// (the webhook checks replace staging's pair before the scenarios run).
import { spawnSync } from 'node:child_process';
import { LB_CONTROLLER_GENERATED_TLS, LB_CONTROLLER_NAMESPACE } from '../../k8s/names';
import { Gitops, report } from './harness';

const gitops = new Gitops();
const git = (...args: string[]) => {
  const out = spawnSync('git', ['-C', gitops.ctx.worktree, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`git ${args.join(' ')}: ${out.stderr.trim()}`);
  return out.stdout;
};

test("GIVEN every commit pushed to the loop's repository THEN no live webhook key, certificate or CA, and no PEM block or caBundle in any version of the outputs", () => {
  git('fetch', '--quiet', 'origin');
  const history = git('log', '--all', '-p', '--format=commit %H');
  const outputs = git('log', '--all', '-p', '--format=commit %H', '--', 'dist', 'argocd', 'eksctl');
  const found: string[] = [];
  for (const environment of Object.keys(gitops.ctx.environments)) {
    const data = gitops.json(environment, '-n', LB_CONTROLLER_NAMESPACE, 'get', 'secret', LB_CONTROLLER_GENERATED_TLS.tlsSecret).data as Record<string, string>;
    for (const field of ['tls.key', 'tls.crt', 'ca.crt']) {
      expect(data[field]?.length ?? 0).toBeGreaterThan(64);
      if (history.includes(data[field].slice(0, 64))) found.push(`${environment}'s ${field}`);
    }
  }
  const pem = outputs.split('\n').filter((line) => /PRIVATE KEY|BEGIN CERTIFICATE|LS0tLS1CRUdJTi|caBundle: [A-Za-z0-9]/.test(line));
  const commits = history.split('\n').filter((line) => line.startsWith('commit ')).length;
  report(
    `no webhook key in git: the live TLS Secrets' tls.key, tls.crt and ca.crt of ${Object.keys(gitops.ctx.environments).length} clusters ` +
      `appear ${found.length ? `in git: ${found.join(', ')}` : 'nowhere'} in the ${commits} commits of the loop's repository; ` +
      `PEM blocks or caBundle values in dist/, argocd/, eksctl/: ${pem.length}`,
  );
  expect(found).toEqual([]);
  expect(pem).toEqual([]);
});
