// Envoy's AppProject refuses a kind it does not list and a namespace outside its destinations, before
// anything is applied; and a fix pushed while Argo CD retries the refused commit is taken by that retry
// (retry.refresh: true), not held back for the whole backoff (docs/gitops.md, "Sync order").
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
/** Argo CD's own environment (the daily-loop scenarios change the other one). */
const names = Object.keys(gitops.ctx.environments);
const environment = names.find((e) => gitops.ctx.environments[e].context === gitops.ctx.argocdContext) ?? dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const file = `dist/${environment}/edge/verify-not-permitted.yaml`;
const refused = () =>
  [
    gitops.kubectl(environment, '-n', env.envoyNamespace, 'get', 'secret', 'verify-not-permitted', '--ignore-not-found', '-o', 'name'),
    gitops.kubectl(environment, '-n', 'kube-public', 'get', 'configmap', 'verify-outside-destinations', '--ignore-not-found', '-o', 'name'),
  ]
    .join('')
    .trim();

test(`GIVEN ${environment}'s edge WHEN a commit adds a Secret and a ConfigMap in kube-public THEN the project refuses both and applies nothing, and a fix pushed during the retries is taken by the retry`, async () => {
  const before = gitops.snapshot(environment);
  gitops.write(
    file,
    [
      'apiVersion: v1',
      'kind: Secret',
      `metadata: {name: verify-not-permitted, namespace: ${env.envoyNamespace}}`,
      'stringData: {note: a kind the project does not allow}',
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: verify-outside-destinations, namespace: kube-public}',
      "data: {note: a namespace outside the project's destinations}",
      '',
    ].join('\n'),
  );
  const bad = gitops.push(`${environment}: a Secret and an object in kube-public added to dist/`);
  gitops.refresh(env.edgeApp);
  const STATUS =
    '{range .status.conditions[*]}{.message}{"\\n"}{end}{.status.operationState.message}{"\\n"}{range .status.operationState.syncResult.resources[*]}{.kind}/{.name}: {.message}{"\\n"}{end}';
  const messages = await waitFor('both objects refused', 60_000, () => {
    if (gitops.app(env.edgeApp, '{.status.sync.revision}') !== bad.sha) return undefined;
    const text = gitops.app(env.edgeApp, STATUS);
    return /Secret.*not permitted/.test(text) && /kube-public.*not permitted/.test(text) ? text : undefined;
  });
  const badOperation = gitops.app(env.edgeApp, '{.status.operationState.startedAt}');
  const after = gitops.snapshot(environment);
  const refusedLines = [...new Set(messages.split('\n').filter((l) => /not permitted/i.test(l)))];
  report(
    `project: a Secret (kind not allowed) and a ConfigMap in kube-public (not a destination) added to dist/${environment}/edge/ were refused; ` +
      `applied: ${refused() || 'nothing'}; objects changed: ${after.filter((l) => !before.includes(l)).length}. Argo CD says: ${refusedLines.join(' | ')}`,
  );
  expect(refused()).toBe('');
  expect(after).toEqual(before);

  gitops.remove(file);
  const fix = gitops.push(`${environment}: the objects the project refuses removed`);
  gitops.refresh(env.edgeApp);
  // Without retry.refresh the retried operation keeps the refused commit through a backoff of 10 s,
  // doubling, for 10 attempts: far beyond this wait.
  await waitFor('the fix synced', 150_000, () =>
    gitops.app(env.edgeApp, '{.status.operationState.phase} {.status.operationState.syncResult.revision}') === `Succeeded ${fix.sha}` ? true : undefined,
  );
  const syncedMs = performance.now() - fix.at;
  const [startedAt, retries] = gitops.app(env.edgeApp, '{.status.operationState.startedAt} {.status.operationState.retryCount}').split(' ');
  const how =
    startedAt === badOperation
      ? `by retry attempt ${retries} of the operation that had started on the refused commit`
      : 'by a new operation (the refused one had ended)';
  report(
    `retry.refresh: the fix pushed while the refused commit was being retried was synced ${(syncedMs / 1000).toFixed(1)} s after its push, ${how}; ` +
      `the refused objects were never created (${refused() || 'none'})`,
  );
  expect(refused()).toBe('');
  expect(gitops.liveDiff(environment)).toEqual([0, 0]);
}, 240_000);

afterAll(async () => {
  if (!gitops.exists(file)) return;
  gitops.remove(file);
  gitops.push(`${environment}: the objects the project refuses removed (cleanup)`);
  gitops.refresh(env.edgeApp);
});
