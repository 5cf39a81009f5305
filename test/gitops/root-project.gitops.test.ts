// A git writer cannot become Argo CD's admin: the root Application's project may create only
// Applications in Argo CD's namespace, so a ConfigMap such as argocd-rbac-cm committed under
// dist/<env>/ is refused before anything is applied (docs/security.md).
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const ns = gitops.ctx.argocdNamespace;

test(`GIVEN ${environment}'s root Application WHEN a commit adds argocd-rbac-cm (making everyone an admin) under dist/${environment}/ THEN Argo CD refuses it and the live one is untouched`, async () => {
  const rbacBefore = gitops.argocd('get', 'configmap', 'argocd-rbac-cm', '-o', 'jsonpath={.metadata.resourceVersion} {.data.policy\\.default}');
  const file = `dist/${environment}/escalate.k8s.yaml`;
  gitops.write(
    file,
    ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: argocd-rbac-cm', `  namespace: ${ns}`, 'data:', '  policy.default: role:admin', ''].join('\n'),
  );
  const pushed = gitops.push(`${environment}: a ConfigMap into Argo CD's namespace (must be refused)`);
  gitops.refresh(env.rootApp);
  const refusal = await waitFor('the root Application refuses the commit', 60_000, () => {
    const message = gitops.app(env.rootApp, '{.status.operationState.message} {.status.conditions[*].message}');
    const revision = gitops.app(env.rootApp, '{.status.operationState.syncResult.revision}');
    return revision === pushed.sha && /not permitted|is not permitted in project/i.test(message) ? message : undefined;
  });
  const refusedMs = performance.now() - pushed.at;
  const rbacAfter = gitops.argocd('get', 'configmap', 'argocd-rbac-cm', '-o', 'jsonpath={.metadata.resourceVersion} {.data.policy\\.default}');
  report(
    `escalation: argocd-rbac-cm committed under dist/${environment}/ refused ${(refusedMs / 1000).toFixed(1)} s after the push: ` +
      `"${refusal.trim().slice(0, 160)}"; argocd-rbac-cm before "${rbacBefore}", after "${rbacAfter}"`,
  );
  expect(rbacAfter).toBe(rbacBefore);
  expect(rbacAfter).not.toContain('role:admin');

  // The fix: the file removed; the root syncs again.
  gitops.remove(file);
  const fixed = gitops.push(`${environment}: the refused ConfigMap removed`);
  gitops.refresh(env.rootApp);
  // Until the retry has synced it: no operation is left running for the next scenario or destroy.
  await waitFor('the root Application synced at the fix', 120_000, () =>
    gitops.app(env.rootApp, '{.status.operationState.phase} {.status.operationState.syncResult.revision} {.status.sync.status}') ===
    `Succeeded ${fixed.sha} Synced`
      ? true
      : undefined,
  );
});
