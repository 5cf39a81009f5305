// Staged delivery (gitops.stage, docs/gitops.md "Promotion"): a push to main reaches stage 1 only; a
// later stage follows a branch of its own that `npm run promote` moves to a commit only once every
// Application of the stage before runs it Synced and Healthy. A push that breaks stage 1 stops there,
// notifies once (the real argocd-notifications, to a webhook receiver here), and a fix lets it go on.
import { spawnSync } from 'node:child_process';
import { parseDocument } from 'yaml';
import { lbControllerApplicationName } from '../../delivery/names';
import { EDGE_NAMES } from '../../k8s/names';
import { Gitops, report, waitFor, webhookReceiver } from './harness';

const gitops = new Gitops();
const envs = gitops.ctx.environments;
const names = Object.keys(envs);
/** The last stage, and the stage just before it. */
const later = names.reduce((a, b) => (envs[b].stage > envs[a].stage ? b : a));
const first = names.find((e) => envs[e].stage === envs[later].stage - 1) as string;
const APPS = 'applications.argoproj.io';

interface AppState {
  revision: string;
  sync: string;
  health: string;
}
const appState = (ref: string): AppState => {
  const [ns, name] = ref.includes('/') ? ref.split('/') : [gitops.ctx.argocdNamespace, ref];
  const [revision, sync, health] = gitops
    .argocdCluster('-n', ns, 'get', APPS, name, '-o', 'jsonpath={.status.sync.revision} {.status.sync.status} {.status.health.status}')
    .split(' ');
  return { revision, sync, health };
};
const lbApp = (env: string) => `${envs[env].appsNamespace}/${lbControllerApplicationName({ project: envs[env].project })}`;
const fine = (s: AppState) => s.sync === 'Synced' && s.health === 'Healthy';
/** The environment's three Applications Synced and Healthy, the two that follow git at `sha`. */
const runs = (env: string, sha: string) =>
  [envs[env].rootApp, envs[env].edgeApp].every((a) => {
    const s = appState(a);
    return s.revision === sha && fine(s);
  }) && fine(appState(lbApp(env)));
const edgeRevision = (env: string) => appState(envs[env].edgeApp).revision;
const tellArgo = (env: string) => {
  gitops.refresh(envs[env].rootApp);
  gitops.refresh(envs[env].edgeApp);
};
const branchAt = (branch: string) =>
  spawnSync('git', ['-C', gitops.ctx.worktree, 'ls-remote', 'origin', `refs/heads/${branch}`], { encoding: 'utf8' }).stdout.split(/\s+/)[0];
const idle = () => Number(parseDocument(gitops.read('config/base.yaml')).getIn(['alb', 'idleTimeoutSeconds']) ?? 3600);
const setBaseIdle = (value: number) => {
  const doc = parseDocument(gitops.read('config/base.yaml'));
  doc.setIn(['alb', 'idleTimeoutSeconds'], value);
  gitops.write('config/base.yaml', doc.toString());
};
const secs = (ms: number) => (ms / 1000).toFixed(1);
/** promote's --wait, in seconds, for a wait that may span a rollout (--real-clock). */
const waitSeconds = (seconds: number) => String(gitops.allowingRollout(seconds * 1000) / 1000);
/** Each test waits on a few such rollouts at most; jest's own limit is 180 s (jest.gitops.config.js). */
const TEST_MS = gitops.allowingRollout(gitops.allowingRollout(gitops.allowingRollout(180_000)));
/**
 * The later stage running its branch's head, before a test: the other scenarios push to its branch too
 * and tell Argo CD about the stage they change only, so it may still show an older commit.
 */
const settle = async (env: string): Promise<string> => {
  const head = branchAt(envs[env].branch);
  tellArgo(env);
  await waitFor(`${env} Synced and Healthy at its branch's head ${head.slice(0, 7)}`, gitops.allowingRollout(60_000), () =>
    runs(env, head) ? true : undefined,
  );
  return head;
};

const receiver = webhookReceiver(gitops);

beforeAll(() => receiver.ready);

afterAll(async () => {
  await receiver.close();
  if (!gitops.exists(carelessFile)) return;
  gitops.remove(carelessFile);
  gitops.push(`${first}: the objects the project refuses removed (cleanup)`);
  tellArgo(first);
});

test(
  `GIVEN a push to main that changes ${first} and ${later} THEN ${first} runs it first, and ${later} only after ${first} is Synced and Healthy at it (npm run promote)`,
  async () => {
    const oldLater = await settle(later);
    const value = idle() === 3000 ? 3200 : 3000;
    setBaseIdle(value);
    gitops.synthesize();
    const pushed = gitops.push(`base: alb.idleTimeoutSeconds ${value} (both environments)`, { mainOnly: true });
    tellArgo(first);
    const promotion = gitops.npmAsync(later, 'promote', '--', '--env', later, '--revision', pushed.sha, '--wait', waitSeconds(120));
    let firstAt: number | undefined;
    let laterEarly: string | undefined;
    await waitFor(`${later} Synced and Healthy at ${pushed.sha.slice(0, 7)}`, gitops.allowingRollout(150_000), () => {
      const firstRuns = runs(first, pushed.sha);
      const laterRev = edgeRevision(later);
      if (firstRuns && firstAt === undefined) firstAt = performance.now();
      if (firstAt === undefined && laterRev !== oldLater) laterEarly = laterRev;
      return runs(later, pushed.sha) ? true : undefined;
    });
    const laterAt = performance.now();
    const result = await promotion;
    report(
      `promotion: ${first} ran ${pushed.sha.slice(0, 7)} Synced and Healthy ${secs((firstAt ?? 0) - pushed.at)} s after the push; ` +
        `npm run promote moved ${envs[later].branch} then, and ${later} ran it ${secs(laterAt - pushed.at)} s after the push ` +
        `(${secs(laterAt - (firstAt ?? 0))} s after ${first}); ${later} ran ${oldLater.slice(0, 7)} until then`,
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`moved from ${oldLater.slice(0, 7)} to ${pushed.sha.slice(0, 7)}`);
    expect(laterEarly).toBeUndefined();
    expect(firstAt).toBeDefined();
    expect(laterAt).toBeGreaterThan(firstAt as number);
    expect(branchAt(envs[later].branch)).toBe(pushed.sha);
  },
  TEST_MS,
);

/** What the careless commit adds, which Envoy's project refuses: a kind it does not allow, and a namespace outside its destinations. */
const carelessFile = `dist/${first}/edge/verify-not-permitted.yaml`;
const careless = [
  'apiVersion: v1',
  'kind: Secret',
  `metadata: {name: verify-not-permitted, namespace: ${envs[first].envoyNamespace}}`,
  'stringData: {note: a kind the project does not allow}',
  '---',
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: {name: verify-outside-destinations, namespace: kube-public}',
  "data: {note: a namespace outside the project's destinations}",
  '',
].join('\n');
const refusedObjects = () =>
  [
    gitops.kubectl(first, '-n', envs[first].envoyNamespace, 'get', 'secret', 'verify-not-permitted', '--ignore-not-found', '-o', 'name'),
    gitops.kubectl(first, '-n', 'kube-public', 'get', 'configmap', 'verify-outside-destinations', '--ignore-not-found', '-o', 'name'),
  ]
    .join('')
    .trim();
const STATUS =
  '{range .status.conditions[*]}{.message}{"\\n"}{end}{.status.operationState.message}{"\\n"}{range .status.operationState.syncResult.resources[*]}{.kind}/{.name}: {.message}{"\\n"}{end}';

test(
  `GIVEN a push that breaks ${first} (objects its project refuses) THEN nothing is applied, ${later} stays at its revision and Healthy, the failure notifies once, and a fix pushed during the retries is taken and lets the rollout go on`,
  async () => {
    const oldLater = await settle(later);
    const seen = receiver.messages.length;
    const before = gitops.snapshot(first);
    // A careless commit: hand-written objects in dist/ that Envoy's project refuses, with a real change to both environments.
    const value = idle() === 3000 ? 3200 : 3000;
    setBaseIdle(value);
    gitops.synthesize();
    gitops.write(carelessFile, careless);
    const bad = gitops.push(`base: alb.idleTimeoutSeconds ${value}, and a Secret and an object in kube-public in dist/${first}/edge/`, { mainOnly: true });
    tellArgo(first);

    const refused = gitops.npm(later, 'promote', '--', '--env', later, '--revision', bad.sha, '--wait', waitSeconds(60));
    const refusedAt = performance.now();
    const edge = envs[first].edgeApp;
    const messages = await waitFor('both objects refused', gitops.allowingRollout(60_000), () => {
      if (gitops.app(edge, '{.status.sync.revision}') !== bad.sha) return undefined;
      const text = gitops.app(edge, STATUS);
      return /Secret.*not permitted/.test(text) && /kube-public.*not permitted/.test(text) ? text : undefined;
    });
    const badOperation = gitops.app(edge, '{.status.operationState.startedAt}');
    const after = gitops.snapshot(first);
    report(
      `project: a Secret (kind not allowed) and a ConfigMap in kube-public (not a destination) added to dist/${first}/edge/ were refused; ` +
        `applied: ${refusedObjects() || 'nothing'}; objects changed: ${after.filter((l) => !before.includes(l)).length}. Argo CD says: ` +
        [...new Set(messages.split('\n').filter((l) => /not permitted/i.test(l)))].join(' | '),
    );
    expect(refusedObjects()).toBe('');
    expect(after).toEqual(before);
    const message = await waitFor(`a sync-failed message for ${first} at ${bad.sha.slice(0, 7)}`, 60_000, () =>
      receiver.messages.slice(seen).find((m) => m.event === 'sync-failed' && m.environment === first && m.revision === bad.sha),
    );
    const notifiedAt = performance.now();
    /** While the fix goes through stage 1 and promote: the later stage must keep its commit, Healthy, until promote moves it. */
    let heldUntil = performance.now();
    let laterHeld = true;
    const watchLater = () => {
      const s = appState(envs[later].edgeApp);
      if (s.revision === oldLater) {
        laterHeld &&= s.health === 'Healthy';
        heldUntil = performance.now();
      }
      return s;
    };

    // The fix: the refused objects go; the base change stays.
    gitops.remove(carelessFile);
    const fix = gitops.push(`${first}: the objects the project refuses removed`, { mainOnly: true });
    tellArgo(first);
    const promotion = gitops.npmAsync(later, 'promote', '--', '--env', later, '--revision', fix.sha, '--wait', waitSeconds(120));
    let firstFixedAt: number | undefined;
    await waitFor(`${later} Synced and Healthy at the fix`, gitops.allowingRollout(150_000), () => {
      const s = watchLater();
      if (firstFixedAt === undefined && runs(first, fix.sha)) firstFixedAt = performance.now();
      if (s.revision !== oldLater && s.revision !== fix.sha) laterHeld = false;
      return runs(later, fix.sha) ? true : undefined;
    });
    const promoted = await promotion;
    const heldFor = heldUntil - bad.at;
    // Without retry.refresh the retried operation keeps the refused commit through a backoff of 10 s,
    // doubling, for 10 attempts: far beyond this wait.
    const [startedAt, retries] = gitops.app(edge, '{.status.operationState.startedAt} {.status.operationState.retryCount}').split(' ');
    report(
      `retry.refresh: the fix pushed while the refused commit was being retried ran in ${first} ${secs((firstFixedAt ?? 0) - fix.at)} s after its push, ` +
        `${startedAt === badOperation ? `by retry attempt ${retries} of the operation that had started on the refused commit` : 'by a new operation (the refused one had ended)'}; ` +
        `the refused objects were never created (${refusedObjects() || 'none'})`,
    );
    const doneAt = performance.now();
    const failures = receiver.messages.slice(seen);
    report(
      `broken push: npm run promote refused ${secs(refusedAt - bad.at)} s after it (exit ${refused.status}: ${refused.stderr.trim().slice(0, 160)}); ` +
        `one message ${secs(notifiedAt - bad.at)} s after it: ${message.text}; ${later} stayed at ${oldLater.slice(0, 7)} and Healthy ` +
        `for ${secs(heldFor)} s, until the fix ran in ${first} (${secs((firstFixedAt ?? 0) - fix.at)} s after its push, by Argo CD's retry) ` +
        `and promote moved it; the fix ran in ${later} ${secs(doneAt - fix.at)} s after its push; messages in all: ${failures.length}`,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`its sync of ${bad.sha.slice(0, 7)} failed`);
    expect(laterHeld).toBe(true);
    expect(message).toMatchObject({
      environment: first,
      application: envs[first].edgeApp,
      revision: bad.sha,
      runbook: expect.stringMatching(/docs\/gitops\.md#a-sync-failed$/),
      rollout: expect.stringContaining(`${later} keeps its revision`),
    });
    expect(message.text).toContain(bad.sha.slice(0, 7));
    // One message per failure: none for the fix, none for the root (its sync did not fail), none for the later stage.
    expect(failures.map((m) => `${m.event} ${m.application} ${m.revision?.slice(0, 7)}`)).toEqual([
      `sync-failed ${envs[first].edgeApp} ${bad.sha.slice(0, 7)}`,
    ]);
    expect(promoted.status).toBe(0);
    expect(promoted.stdout).toContain(`moved from ${oldLater.slice(0, 7)} to ${fix.sha.slice(0, 7)}`);
    expect(heldUntil).toBeLessThanOrEqual(doneAt);
    expect(firstFixedAt).toBeDefined();
    expect(branchAt(envs[later].branch)).toBe(fix.sha);
    expect(refusedObjects()).toBe('');
    expect(gitops.liveDiff(first)).toEqual([0, 0]);
  },
  TEST_MS,
);

test(
  `GIVEN a push that changes only ${later}'s own file THEN promote moves it as soon as ${first} has looked at the commit, with nothing to sync there`,
  async () => {
    const doc = parseDocument(gitops.read(`config/environments/${later}.yaml`));
    const value = doc.getIn(['alb', 'idleTimeoutSeconds']) === 2400 ? 2700 : 2400;
    doc.setIn(['alb', 'idleTimeoutSeconds'], value);
    gitops.write(`config/environments/${later}.yaml`, doc.toString());
    gitops.synthesize();
    const pushed = gitops.push(`${later}: alb.idleTimeoutSeconds ${value}`, { mainOnly: true });
    const changed = gitops.changedFiles();
    const lastSync = () =>
      gitops.argocdCluster(
        '-n',
        envs[first].appsNamespace,
        'get',
        APPS,
        envs[first].edgeApp.split('/')[1],
        '-o',
        'jsonpath={.status.operationState.startedAt}',
      );
    const firstSyncBefore = lastSync();
    tellArgo(first);
    const result = gitops.npm(later, 'promote', '--', '--env', later, '--revision', pushed.sha, '--wait', waitSeconds(60));
    const promotedAt = performance.now();
    await waitFor(`${later}'s Ingress with idle timeout ${value}`, gitops.allowingRollout(60_000), () =>
      gitops
        .kubectl(later, '-n', envs[later].envoyNamespace, 'get', 'ingress', EDGE_NAMES.ingress, '-o', 'jsonpath={.metadata.annotations}')
        .includes(`idle_timeout.timeout_seconds=${value}`)
        ? true
        : undefined,
    );
    const liveAt = performance.now();
    report(
      `${later}-only change: the commit touches ${changed.join(', ')}; npm run promote passed ${secs(promotedAt - pushed.at)} s after the push ` +
        `(${first} Synced at it with nothing to apply), live in ${later} ${secs(liveAt - pushed.at)} s after the push`,
    );
    expect(changed.every((f) => !f.startsWith(`dist/${first}/`))).toBe(true);
    expect(result.status).toBe(0);
    // No sync in the stage before: its Applications only looked at the commit.
    expect(lastSync()).toBe(firstSyncBefore);
  },
  TEST_MS,
);
