// `npm run destroy` (docs/day2.md) takes an environment out of the loop: the other environments first,
// then the one whose cluster Argo CD runs in. Afterwards nothing of it is left in Argo CD (Applications,
// projects, the child namespace, its ApplicationSet element) or in its cluster, but the chart's CRDs:
// Argo CD never deletes a CRD with an Application, as `helm uninstall` never does. The Ingress goes
// first, while Envoy still serves; the environments still there are untouched. Runs last (sequencer.js).
import { Gitops, report, seconds } from './harness';

const gitops = new Gitops();
const { facts } = gitops.ctx;
const envs = Object.keys(gitops.ctx.environments);
const order = [...envs.filter((e) => e !== facts.argocdEnvironment), facts.argocdEnvironment];

/** "step title (1.2 s)" for every step destroy timed at a second or more. */
function slowSteps(output: string): string[] {
  const lines = output.split('\n');
  return lines.flatMap((line, i) => {
    const time = line.match(/^ {3}\(([\d.]+) s\)$/)?.[1];
    const title = lines
      .slice(Math.max(0, i - 2), i)
      .reverse()
      .find((l) => /^\d+\. /.test(l));
    return time && title ? [`${title.replace(/[,;(].*$/, '').trim()} (${time} s)`] : [];
  });
}

test.each(order)('WHEN npm run destroy -- --env %s THEN nothing of it is left but the chart CRDs, and the other environments are untouched', (env) => {
  const e = gitops.ctx.environments[env];
  const rest = envs.filter((o) => o !== env && gitops.tryApp(gitops.ctx.environments[o].rootApp, '{.metadata.name}') !== '');
  const chartObjects = gitops
    .app(e.lbApp, '{range .status.resources[*]}{.kind}|{.namespace}|{.name}{"\\n"}{end}')
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
  const restBefore = rest.map((o) => gitops.snapshot(o));

  const t0 = performance.now();
  const run = gitops.npm(env, 'destroy', '--', '--env', env, '--confirm', env);
  const took = seconds(performance.now() - t0);
  if (run.status !== 0) throw new Error(`npm run destroy -- --env ${env} exited ${run.status} after ${took}:\n${(run.stdout + run.stderr).slice(-2000)}`);
  report(`npm run destroy -- --env ${env} --confirm ${env}: done in ${took}; steps of a second or more: ${slowSteps(run.stdout + run.stderr).join('; ')}`);

  const apps = gitops
    .argocdCluster('get', 'applications.argoproj.io', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}')
    .split('\n')
    .filter((a) => [`${gitops.ctx.argocdNamespace}/${e.rootApp}`, e.edgeApp, e.lbApp].includes(a));
  const projects = gitops
    .argocd('get', 'appprojects.argoproj.io', '-o', 'jsonpath={.items[*].metadata.name}')
    .split(' ')
    .filter((p) => [e.project, e.rootProject, e.lbControllerProject].includes(p));
  // Deleted without waiting: gone, or Terminating, is enough.
  const ns = gitops.tryKubectl(facts.argocdEnvironment, 'get', 'namespace', e.appsNamespace, '-o', 'json');
  const nsLeft = ns.status === 0 && !JSON.parse(ns.stdout).metadata.deletionTimestamp;
  const elements = gitops
    .argocd('get', 'applicationsets.argoproj.io', facts.applicationSet, '-o', 'jsonpath={.spec.generators[0].list.elements[*].environment}')
    .split(' ')
    .filter(Boolean);
  const left = gitops.snapshot(env);
  const crds = chartObjects.filter(([kind]) => kind === 'CustomResourceDefinition');
  const crdsKept = crds.filter(([, , name]) => gitops.tryKubectl(env, 'get', 'crd', name, '-o', 'name').status === 0);
  const chartLeft = chartObjects
    .filter(([kind]) => kind !== 'CustomResourceDefinition')
    .flatMap(([kind, namespace, name]) => {
      const got = gitops.tryKubectl(env, ...(namespace ? ['-n', namespace] : []), 'get', kind, name, '-o', 'name');
      if (got.status === 0) return [`${kind}/${name}`];
      return got.stderr.includes('NotFound') ? [] : [`${kind}/${name} (unreadable: ${got.stderr.trim().slice(0, 200)})`];
    });
  const released = gitops
    .standinEvents(env)
    .filter((ev) => ev.event === 'alb-deleted-finalizer-released')
    .pop();
  report(
    `destroy ${env}: Applications left [${apps.join(' ')}], projects left [${projects.join(' ')}], child namespace ${nsLeft ? 'LEFT' : 'gone or terminating'}, ` +
      `ApplicationSet lists [${elements.join(' ')}]; objects of dist/${env}/edge/ left: ${left.length}; of the chart's ${chartObjects.length - crds.length} other objects left: ${chartLeft.length}; ` +
      `its ${crdsKept.length} of ${crds.length} CRDs kept, as helm uninstall keeps them; the stand-in released the Ingress finalizer while Deployments [${released?.deploymentsStillInNamespace}] were still there`,
  );
  expect({ apps, projects, nsLeft, left, chartLeft }).toEqual({ apps: [], projects: [], nsLeft: false, left: [], chartLeft: [] });
  expect(elements).not.toContain(env);
  expect(crds.length).toBeGreaterThan(0);
  expect(crdsKept).toHaveLength(crds.length);
  expect(released?.deploymentsStillInNamespace).toContain(facts.edge.deployment);

  rest.forEach((o, i) => {
    const after = gitops.snapshot(o);
    const states = gitops.appsOf(o).map((a) => `${a} ${gitops.app(a, '{.status.sync.status}/{.status.health.status}')}`);
    report(
      `destroy ${env} left ${o} untouched: ${after.length} objects, ${after.filter((x) => !restBefore[i].includes(x)).length} changed or new; ${states.join(', ')}`,
    );
    expect(after).toEqual(restBefore[i]);
    for (const s of states) expect(s).toMatch(/ Synced\/Healthy$/);
  });
});
