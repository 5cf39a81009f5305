// The loop comes up as a user brings it up (docs/gitops.md): `npm run bootstrap` in Argo CD's cluster,
// which refuses while Argo CD lacks argocd/settings/, then applies argocd/; the ApplicationSet makes each
// environment's root, the roots make the children, and every Application syncs the seeded commit and
// turns Healthy. Runs first (sequencer.js): every other scenario starts from here.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Gitops, report, seconds, waitFor } from './harness';

const gitops = new Gitops({ firstSync: true });
const { facts, seed } = gitops.ctx;
const envs = Object.keys(gitops.ctx.environments);
const argocdEnv = facts.argocdEnvironment;
const allApps = envs.flatMap((e) => gitops.appsOf(e));
const short = seed.slice(0, 7);
/** The wait for the first sync: with --real-clock, the Ingress (wave 1) waits out the Deployment's minReadySeconds. */
const firstSyncMs = (gitops.ctx.realClock ? facts.minReadySeconds + 120 : 90) * 1000;
let bootstrappedAt = 0;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

test('GIVEN the seeded repository THEN the harness changed only the two URLs: none of the originals is left in argocd/ or dist/', () => {
  const originals = gitops.ctx.rewrites.map(([from]) => from);
  const left = ['argocd', 'dist']
    .flatMap((d) => filesUnder(path.join(gitops.ctx.worktree, d)))
    .filter((f) => originals.some((o) => readFileSync(f, 'utf8').includes(o)));
  const rewritten = gitops.ctx.rewrites.map(([, to]) => to);
  const pointing = filesUnder(path.join(gitops.ctx.worktree, 'argocd')).filter((f) => rewritten.some((r) => readFileSync(f, 'utf8').includes(r)));
  report(`seed ${short}: argocd/ files naming the local repositories: ${pointing.length}; original URLs left: ${left.length}`);
  expect(left).toEqual([]);
  expect(pointing.length).toBeGreaterThan(0);
});

test('GIVEN Argo CD without argocd/settings/ WHEN npm run bootstrap THEN it stops and applies nothing', () => {
  const run = gitops.npm(argocdEnv, 'bootstrap');
  const out = run.stdout + run.stderr;
  const projects = gitops.argocd('get', 'appprojects.argoproj.io', '-o', 'name').trim().split('\n').filter(Boolean);
  report(
    `bootstrap stops while Argo CD lacks argocd/settings/: exit ${run.status}: ${out.match(/application\.namespaces lacks[^.;]*/)?.[0] ?? out.slice(-300)}; AppProjects: ${projects.join(' ')}`,
  );
  expect(run.status).not.toBe(0);
  expect(out).toContain('application.namespaces lacks');
  expect(projects).toEqual(['appproject.argoproj.io/default']);
});

test('GIVEN argocd/settings/ merged into Argo CD WHEN npm run bootstrap THEN it applies argocd/ and says Argo CD has the rest of the settings', () => {
  // Setup, as the user does it (docs/gitops.md): server-side apply under a field manager of its own adds
  // our keys and keeps the harness's. The controller was started with the same application.namespaces.
  gitops.argocd('apply', '--server-side', '--field-manager', 'envoy-edge-settings', '-f', path.join(gitops.ctx.worktree, 'argocd', 'settings'));
  bootstrappedAt = performance.now();
  const run = gitops.npm(argocdEnv, 'bootstrap');
  const out = run.stdout + run.stderr;
  const said = out
    .split('\n')
    .filter((l) => /^ {3}argocd(-notifications)?-cm: in: /.test(l))
    .map((l) => l.trim());
  report(
    `bootstrap says Argo CD has the rest of argocd/settings/: npm run bootstrap (context ${gitops.ctx.argocdContext}) exit ${run.status}, ${out.match(/created|configured/g)?.length ?? 0} objects applied; ${said.join(' | ')}`,
  );
  expect(run.status).toBe(0);
  expect(said.map((l) => l.split(':')[0])).toEqual(['argocd-cm', 'argocd-notifications-cm']);
});

test(
  `WHEN the ApplicationSet makes the roots THEN all ${allApps.length} Applications are Synced: the git ones at the seed, the chart at its version`,
  async () => {
    const fixed = new Set<string>();
    await waitFor(`every Application Synced at ${short}`, firstSyncMs, () => {
      fixWebhookCollision(fixed);
      return envs.every((e) => {
        const [root, edge, lb] = gitops.appsOf(e);
        return (
          gitops.tryApp(root, '{.status.sync.status} {.status.sync.revision}') === `Synced ${seed}` &&
          gitops.tryApp(edge, '{.status.sync.status} {.status.sync.revision}') === `Synced ${seed}` &&
          gitops.tryApp(lb, '{.status.sync.status} {.status.sync.revision}') === `Synced ${facts.chart.version}`
        );
      })
        ? true
        : undefined;
    }).catch((err) => {
      throw new Error(`${err.message}:\n${allApps.map((a) => gitops.appLine(a)).join('\n')}`);
    });
    report(
      `all ${allApps.length} Applications Synced ${seconds(performance.now() - bootstrappedAt)} after bootstrap: ${allApps.join(' ')} (git ones at ${short}, the chart at ${facts.chart.version})`,
    );
  },
  firstSyncMs + 30_000,
);

test('THEN every Application turns Healthy: Envoy available, the controller running, the Ingress with its ALB hostname', async () => {
  // Argo CD sets no tracking annotation on CRDs, so the controller Application can stay Progressing
  // until the next poll once its CRDs are Established (scripts/gitops/clusters.sh): refresh it once.
  for (const e of envs) gitops.refresh(gitops.ctx.environments[e].lbApp);
  await waitFor('every Application Healthy', 60_000, () =>
    allApps.every((a) => gitops.tryApp(a, '{.status.health.status}') === 'Healthy') ? true : undefined,
  ).catch((err) => {
    throw new Error(`${err.message}:\n${allApps.map((a) => gitops.appLine(a)).join('\n')}`);
  });
  const available = envs.map((e) => {
    const ns = gitops.ctx.environments[e].envoyNamespace;
    const d = gitops.json(e, '-n', ns, 'get', 'deployment', facts.edge.deployment);
    const host = gitops.kubectl(e, '-n', ns, 'get', 'ingress', facts.edge.ingress, '-o', 'jsonpath={.status.loadBalancer.ingress[0].hostname}');
    return { e, available: d.status.availableReplicas, replicas: d.spec.replicas, host };
  });
  report(
    `every Application Healthy ${seconds(performance.now() - bootstrappedAt)} after bootstrap (Envoy available: ${available.map((a) => `${a.e} ${a.available}/${a.replicas}`).join(', ')}; ALB hostnames: ${available.map((a) => a.host).join(', ')})`,
  );
  for (const a of available) {
    expect(a.available).toBe(a.replicas);
    expect(a.host).toMatch(/\.alb\.invalid$/);
  }
  gitops.markFirstSyncPassed();
});

/**
 * Setup, logged: both API servers hand out ClusterIPs from 10.0.0.0/24 (scripts/cluster/apiserver.sh)
 * and the stand-ins serve on one loopback. Should two webhook Services get the same address, the
 * stand-in says so, and the later Service is deleted once, so that Argo CD's self-heal re-creates it
 * with another address. The Service carries no TLS material. About 1 run in 240.
 */
function fixWebhookCollision(fixed: Set<string>): void {
  for (const e of envs) {
    if (fixed.has(e) || !gitops.standinEvents(e).some((ev) => ev.event === 'webhook-address-unavailable')) continue;
    fixed.add(e);
    report(`setup: ${e}'s webhook Service got the address of another cluster's; deleting it once so that Argo CD re-creates it with another`);
    gitops.tryKubectl(e, '-n', facts.chart.namespace, 'delete', 'service', `${facts.webhook.configuration}-service`, '--wait=false');
  }
}
