// A git writer cannot widen a child Application's project: the children live in the environment's
// child namespace (<project>-apps), where Argo CD lets an Application name only a project that lists
// that namespace in its sourceNamespaces. A committed child naming `default` (any repository, any
// destination, any kind) or another environment's project is refused, and nothing it carries is
// applied (docs/security.md).
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const names = Object.keys(gitops.ctx.environments);
const environment = dailyLoopEnvironment(gitops.ctx);
const other = names.find((e) => e !== environment) ?? environment;
const env = gitops.ctx.environments[environment];
const PAYLOAD_DIR = 'escalation';
const BINDING = 'verify-escalated';

/** A child Application under dist/<environment>/ that asks for cluster-admin through the project it names. */
function escalatingChild(project: string): string {
  const repoURL = gitops.ctx.rewrites[0][1];
  return [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: Application',
    'metadata:',
    '  name: verify-escalate',
    `  namespace: ${env.appsNamespace}`,
    'spec:',
    `  project: ${project}`,
    `  source: {repoURL: "${repoURL}", targetRevision: main, path: ${PAYLOAD_DIR}}`,
    '  destination: {server: "https://kubernetes.default.svc", namespace: kube-system}',
    '  syncPolicy: {automated: {prune: false, selfHeal: false}}',
    '',
  ].join('\n');
}

const binding = [
  'apiVersion: rbac.authorization.k8s.io/v1',
  'kind: ClusterRoleBinding',
  `metadata: {name: ${BINDING}}`,
  'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}',
  'subjects: [{kind: ServiceAccount, name: default, namespace: kube-system}]',
  '',
].join('\n');

const childFile = `dist/${environment}/verify-escalate.k8s.yaml`;
const bindingExists = () => gitops.argocdCluster('get', 'clusterrolebinding', '--ignore-not-found', '-o', 'name', BINDING).trim() !== '';

test.each([
  ['default', "Argo CD's default project (any repository, destination and kind)"],
  ['<other>', "another environment's controller project (cluster-wide kinds)"],
])(
  `GIVEN ${environment}'s root WHEN a commit adds a child Application naming project %s, %s, THEN Argo CD refuses to reconcile it and no cluster-admin binding appears`,
  async (which) => {
    const project = which === '<other>' ? gitops.ctx.environments[other].lbControllerProject : which;
    gitops.write(`${PAYLOAD_DIR}/binding.yaml`, binding);
    gitops.write(childFile, escalatingChild(project));
    const pushed = gitops.push(`${environment}: a child Application naming project ${project} (must be refused)`);
    gitops.refresh(env.rootApp);
    // The root may create the Application (its project admits Applications in the child namespace) ...
    await waitFor(`the root Application synced at ${pushed.sha.slice(0, 7)}`, 90_000, () =>
      gitops.app(env.rootApp, '{.status.operationState.phase} {.status.operationState.syncResult.revision}') === `Succeeded ${pushed.sha}` ? true : undefined,
    );
    const child = `${env.appsNamespace}/verify-escalate`;
    // ... but Argo CD will not reconcile it under that project.
    const refusal = await waitFor('the child Application refused its project', 60_000, () => {
      const conditions = gitops.app(child, '{.status.conditions[*].message}');
      return conditions.includes(`is not permitted to use project '${project}'`) ? conditions : undefined;
    });
    const refusedMs = performance.now() - pushed.at;
    const synced = gitops.app(child, '{.status.sync.status} {.status.operationState.phase}');
    const exists = bindingExists();
    report(
      `child project: an Application in ${env.appsNamespace} naming project ${project} refused ${(refusedMs / 1000).toFixed(1)} s after the push: ` +
        `"${refusal.trim().slice(0, 160)}"; its sync "${synced.trim()}"; ClusterRoleBinding ${BINDING} ${exists ? 'EXISTS' : 'absent'}`,
    );
    expect(exists).toBe(false);
    expect(synced).not.toContain('Succeeded');
  },
);

// The fix, also after a failed check, so the next scenario starts clean: both files removed, the root
// synced again. Whether the root prunes the child depends on gitops.prune; it is deleted either way.
afterEach(async () => {
  if (!gitops.exists(childFile)) return;
  gitops.remove(childFile);
  gitops.remove(`${PAYLOAD_DIR}/binding.yaml`);
  const fixed = gitops.push(`${environment}: the refused child Application removed`);
  gitops.refresh(env.rootApp);
  await waitFor('the root Application synced at the fix', 90_000, () =>
    gitops.app(env.rootApp, '{.status.operationState.phase} {.status.operationState.syncResult.revision}') === `Succeeded ${fixed.sha}` ? true : undefined,
  );
  gitops.argocdCluster('-n', env.appsNamespace, 'delete', 'applications.argoproj.io', 'verify-escalate', '--ignore-not-found', '--wait=false');
});
