// The controller's Application runs the real chart (test/fixtures/charts, served by the local Helm
// repository) with our values. The chart makes a new webhook CA and TLS Secret at every render; our
// ignoreDifferences with RespectIgnoreDifferences keep the live pair through hard refreshes and syncs
// (docs/lb-controller.md). When the pair comes apart (one half deleted by hand), the Ingress validator
// fails with x509, and the recovery the docs give (delete all three in one command) brings back a pair.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dailyLoopEnvironment, Gitops, report, seconds, waitFor } from './harness';

const gitops = new Gitops();
const { facts } = gitops.ctx;
const envs = Object.keys(gitops.ctx.environments);
const { namespace: LB_NS } = facts.chart;
const WEBHOOK = facts.webhook.configuration;
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The controller Application of dist/<env>/lb-controller.k8s.yaml: its release name and values. */
function helmSource(env: string): { releaseName: string; valuesObject: Record<string, any> } {
  const app = gitops.distObjects(env, '').find((o) => o.kind === 'Application' && o.spec?.source?.chart === facts.chart.name);
  return app.spec.source.helm;
}

/** `helm template` of the chart with an environment's values, as the repo-server runs it. */
function render(env: string, ...extra: string[]): any[] {
  const { releaseName, valuesObject } = helmSource(env);
  const values = path.join(gitops.ctx.work, `lb-values-${env}.json`);
  writeFileSync(values, JSON.stringify(valuesObject));
  const out = spawnSync(gitops.ctx.helm, ['template', releaseName, gitops.ctx.chartDir, '-n', LB_NS, '-f', values, ...extra], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`helm template: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS())
    .filter(Boolean)
    .flatMap((d) => (d.kind === 'List' ? d.items : [d]));
}

/** The live caBundles of both webhook configurations against the TLS Secret's ca.crt. */
function pair(env: string): string {
  const bundles = (kind: string) => [...new Set(gitops.json(env, 'get', kind, WEBHOOK).webhooks.map((w: any) => w.clientConfig.caBundle as string))];
  const m = bundles('mutatingwebhookconfiguration');
  const v = bundles('validatingwebhookconfiguration');
  const secret = gitops.json(env, '-n', LB_NS, 'get', 'secret', facts.webhook.tlsSecret);
  const ca = secret.data['ca.crt'];
  if (m.length === 1 && v.length === 1 && m[0] === ca && v[0] === ca) return `ca=${hash(ca)} secret=${hash(JSON.stringify(secret.data))} matched`;
  return `mutating=${hash(m.join())} validating=${hash(v.join())} secret-ca=${hash(ca)} MISMATCH`;
}

/** A server-side dry run through the Ingress validator: its exit status and error. */
function probeIngress(env: string): { ok: boolean; error: string } {
  const out = gitops.tryKubectl(
    env,
    '-n',
    gitops.ctx.environments[env].envoyNamespace,
    'annotate',
    'ingress',
    facts.edge.ingress,
    'verify-gitops/probe=1',
    '--dry-run=server',
  );
  return { ok: out.status === 0, error: out.stderr.trim() };
}
const ingressValidations = (env: string) =>
  gitops.standinEvents(env).filter((e) => e.event === 'admission' && String(e.path).startsWith('/validate-networking-v1-ingress')).length;
const helmTemplateRuns = () => (readFileSync(path.join(gitops.ctx.logs, 'repo-server.log'), 'utf8').match(/helm template/g) ?? []).length;
const lbApp = (env: string) => gitops.ctx.environments[env].lbApp;
const startedAt = (env: string) => gitops.app(lbApp(env), '{.status.operationState.startedAt}');

test.each(envs)(`GIVEN %s's controller Application THEN what Argo CD synced is exactly the chart ${facts.chart.version} rendered with our values`, (env) => {
  const { releaseName, valuesObject } = helmSource(env);
  const rendered = render(env, '--include-crds')
    .map((d) => `${d.kind}/${d.metadata.name}`)
    .sort();
  const tracked = gitops.app(lbApp(env), '{range .status.resources[*]}{.kind}/{.name}{"\\n"}{end}').trim().split('\n').sort();
  const deployment = gitops.json(env, '-n', LB_NS, 'get', 'deployment', releaseName);
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  const hooks = gitops.json(env, 'get', 'mutatingwebhookconfiguration', WEBHOOK).webhooks.map((w: any) => w.name);
  const ingressClass = gitops.tryKubectl(env, 'get', 'ingressclass', 'alb', '-o', 'name').stdout.trim();
  report(
    `controller, ${env}: the chart ${facts.chart.version} rendered with our values is what Argo CD synced (${tracked.length} objects); Deployment ${deployment.spec.replicas} ` +
      `replicas, service account ${deployment.spec.template.spec.serviceAccountName}, ${JSON.stringify(args)}; mutating webhooks [${hooks.join(', ')}]; ${ingressClass}`,
  );
  expect(tracked).toEqual(rendered);
  expect(args).toContain(`--cluster-name=${valuesObject.clusterName}`);
  expect(valuesObject.clusterName).toBe(gitops.ctx.environments[env].eksCluster);
  expect(deployment.spec.replicas).toBe(valuesObject.replicaCount);
  expect(deployment.spec.template.spec.serviceAccountName).toBe(facts.chart.serviceAccount);
  // enableServiceMutatorWebhook: false, so no Service mutator.
  expect(hooks.filter((h: string) => h.includes('mservice'))).toEqual([]);
  expect(ingressClass).toBe('ingressclass.networking.k8s.io/alb');
});

test('GIVEN a chart that makes a new webhook CA at every render WHEN both controller Applications are hard-refreshed twice THEN they stay Synced with no new sync, and the live pair is kept', async () => {
  const caOf = () => hash(render(facts.argocdEnvironment).find((d) => d.kind === 'MutatingWebhookConfiguration').webhooks[0].clientConfig.caBundle);
  const [r1, r2] = [caOf(), caOf()];
  const before = Object.fromEntries(envs.map((e) => [e, { pair: pair(e), op: startedAt(e) }]));
  const renders0 = helmTemplateRuns();
  for (let i = 1; i <= 2; i++) {
    for (const e of envs) gitops.refresh(lbApp(e), 'hard');
    for (const e of envs) {
      await waitFor(`${e}'s hard refresh ${i} done`, 30_000, () =>
        gitops.app(lbApp(e), '{.metadata.annotations.argocd\\.argoproj\\.io/refresh}') === '' ? true : undefined,
      );
      expect(`${e} after hard refresh ${i}: ${gitops.app(lbApp(e), '{.status.sync.status} {.status.operationState.startedAt}')} ${pair(e)}`).toBe(
        `${e} after hard refresh ${i}: Synced ${before[e].op} ${before[e].pair}`,
      );
    }
  }
  const renders = helmTemplateRuns() - renders0;
  report(
    `controller: the chart makes a new webhook CA at every render (two helm template runs: caBundle ${r1}, then ${r2}); after two hard refreshes (the repo-server ran helm template ${renders} times meanwhile) ` +
      `both controller Applications stay Synced with no new sync, and the live pair is kept: ${envs.map((e) => `${e} ${before[e].pair}`).join('; ')}`,
  );
  expect(r1).not.toBe(r2);
  expect(renders).toBeGreaterThan(0);
  for (const e of envs) expect(before[e].pair).toMatch(/ matched$/);
});

test('WHEN both controller Applications are synced again (as after a chart upgrade) THEN RespectIgnoreDifferences keeps the pair, and the Ingress validator answers through it', async () => {
  const before = Object.fromEntries(envs.map((e) => [e, { pair: pair(e), op: startedAt(e) }]));
  // The operation argocd-server makes for a Sync with no options given: the Application's own syncOptions.
  for (const e of envs) {
    const syncOptions = JSON.parse(gitops.app(lbApp(e), '{.spec.syncPolicy.syncOptions}') || '[]');
    const operation = { initiatedBy: { username: 'verify-gitops' }, sync: { revision: facts.chart.version, prune: true, syncOptions } };
    gitops.argocdCluster('patch', 'applications.argoproj.io', ...gitops.appArgs(lbApp(e)), '--type', 'merge', '-p', JSON.stringify({ operation }));
  }
  const figures: string[] = [];
  for (const e of envs) {
    await waitFor(`${e}'s controller synced again`, 60_000, () =>
      gitops.app(lbApp(e), '{.status.operationState.phase} {.status.sync.status}') === 'Succeeded Synced' && startedAt(e) !== before[e].op ? true : undefined,
    );
    const calls = ingressValidations(e);
    const probe = probeIngress(e);
    const answered = ingressValidations(e) - calls;
    figures.push(
      `${e}: ${pair(e) === before[e].pair ? 'pair kept' : `pair CHANGED (${pair(e)})`}, the Ingress validator answered ${answered} call(s)${probe.ok ? '' : `, error: ${probe.error}`}`,
    );
    expect(pair(e)).toBe(before[e].pair);
    expect(probe).toEqual({ ok: true, error: '' });
    expect(answered).toBeGreaterThan(0);
  }
  report(
    `controller: a forced sync of both controller Applications (${gitops.app(lbApp(envs[0]), '{.spec.syncPolicy.syncOptions}')}) applied the chart again: ${figures.join('; ')}`,
  );
});

const henv = dailyLoopEnvironment(gitops.ctx);
test(`GIVEN ${henv} WHEN one half of the webhook pair is deleted THEN self-heal re-creates it from a new render and the validator fails (x509); deleting all three in one command brings back a matching pair`, async () => {
  const allHalves = () =>
    gitops.tryKubectl(henv, 'get', 'validatingwebhookconfiguration', WEBHOOK, '-o', 'name').status === 0 &&
    gitops.tryKubectl(henv, 'get', 'mutatingwebhookconfiguration', WEBHOOK, '-o', 'name').status === 0 &&
    gitops.tryKubectl(henv, '-n', LB_NS, 'get', 'secret', facts.webhook.tlsSecret, '-o', 'name').status === 0;
  gitops.kubectl(henv, 'delete', 'validatingwebhookconfiguration', WEBHOOK);
  let t0 = performance.now();
  await waitFor('the deleted half re-created', 60_000, () => (allHalves() ? true : undefined));
  const apart = await waitFor('the pair apart', 10_000, () => (pair(henv).endsWith('MISMATCH') ? pair(henv) : undefined));
  const apartAfter = seconds(performance.now() - t0);
  const refused = probeIngress(henv);
  expect(refused.ok).toBe(false);
  expect(refused.error).toContain('x509');

  gitops.kubectl(
    henv,
    '-n',
    LB_NS,
    'delete',
    `secret/${facts.webhook.tlsSecret}`,
    `validatingwebhookconfiguration/${WEBHOOK}`,
    `mutatingwebhookconfiguration/${WEBHOOK}`,
  );
  t0 = performance.now();
  await waitFor('all three re-created', 60_000, () => (allHalves() ? true : undefined));
  const matched = await waitFor('the pair matched again', 20_000, () => (pair(henv).endsWith('matched') ? pair(henv) : undefined));
  await waitFor('the Ingress validator answering', 20_000, () => (probeIngress(henv).ok ? true : undefined));
  report(
    `controller, ${henv}: one half deleted: re-created in ${apartAfter} with a new CA (${apart}), and the Ingress validator refuses: ${refused.error.match(/x509: [^(]*/)?.[0]}; ` +
      `all three deleted in one command: re-created from one render, matched and the validator answering ${seconds(performance.now() - t0)} later (${matched})`,
  );
});

test("THEN, after all this, every environment's objects still equal the pushed dist/ (kubectl diff exits 0 in its cluster and in Argo CD's)", () => {
  const diffs = envs.map((e) => [e, gitops.liveDiff(e)] as const);
  report(`after the controller checks, kubectl diff (edge objects / Applications): ${diffs.map(([e, [a, b]]) => `${e} ${a}/${b}`).join(', ')}`);
  for (const [, d] of diffs) expect(d).toEqual([0, 0]);
});
