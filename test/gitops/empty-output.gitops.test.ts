// An emptied dist/<env>/edge/ pushed by mistake deletes nothing: the Applications never sync an empty
// folder (allowEmpty: false), and Argo CD says why (docs/gitops.md, "The loop").
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { dailyLoopEnvironment, Gitops, report, waitFor } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const dir = `dist/${environment}/edge`;

test(`GIVEN ${environment}'s edge WHEN a push empties every file of ${dir}/ THEN nothing is deleted and the edge Application refuses the sync, saying why`, async () => {
  const objects = gitops.objectsOf(environment);
  const before = gitops.snapshot(environment, objects);
  const lastOperation = gitops.app(env.edgeApp, '{.status.operationState.startedAt}');
  const files = readdirSync(path.join(gitops.ctx.worktree, dir)).filter((f) => f.endsWith('.yaml'));
  for (const f of files) gitops.write(`${dir}/${f}`, '');
  const pushed = gitops.push(`${environment}: ${dir}/ emptied by mistake`);
  gitops.refresh(env.edgeApp);
  const refusal = await waitFor('the edge Application refuses to sync an empty folder', 30_000, () => {
    const message = gitops.app(env.edgeApp, '{.status.conditions[?(@.type=="SyncError")].message}');
    return message.includes('auto-sync will wipe out all resources') && message.includes(pushed.sha) ? message : undefined;
  });
  // The refusal names the pushed commit (waited for above): Argo CD decided on it, and it does not
  // retry an automated sync of a commit it skipped. No operation started after the push either.
  const after = gitops.snapshot(environment, objects);
  const status = gitops.app(env.edgeApp, '{.status.sync.status} {.status.sync.revision}');
  report(
    `empty output: with ${dir}/ emptied (${files.length} empty files), ${after.length} of ${before.length} objects still there, ` +
      `resourceVersions ${JSON.stringify(after) === JSON.stringify(before) ? 'unchanged' : 'CHANGED'}, ` +
      `${((performance.now() - pushed.at) / 1000).toFixed(1)} s after the push; ${env.edgeApp} is ${status.split(' ')[0]} and says: "${refusal.trim()}"`,
  );
  expect(after).toEqual(before);
  expect(status).toBe(`OutOfSync ${pushed.sha}`);
  expect(gitops.app(env.edgeApp, '{.status.operationState.startedAt}')).toBe(lastOperation);
}, 120_000);

afterAll(async () => {
  gitops.restoreFromParent(dir);
  const restored = gitops.push(`${environment}: ${dir}/ restored`);
  gitops.refresh(env.edgeApp);
  await waitFor(`${env.edgeApp} Synced at the restore`, 60_000, () =>
    gitops.app(env.edgeApp, '{.status.sync.status} {.status.sync.revision}') === `Synced ${restored.sha}` ? true : undefined,
  );
});
