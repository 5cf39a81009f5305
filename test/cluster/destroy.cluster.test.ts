// `npm run destroy` of one environment (cli/day2.ts, docs/operations.md), against the servers. The Ingress
// carries the LB controller's finalizer and the Applications Argo CD's; no controller runs here, so a
// stand-in for each releases its finalizer once the deletion has started, recording the order. Destroy
// must take the Ingress first, with Envoy still up (the ALB drains to it), then the controller's
// Application, then the edge Application; a ConfigMap we did not create keeps its namespace; the other
// environment is not touched. It ends the clusters' story: jest.cluster.config.js runs it last.
import { childApplicationsNamespace, ENVIRONMENT_LABEL, edgeApplicationName, lbControllerApplicationName } from '../../delivery/names';
import { Cluster, FinalizerStandIn, type K8sObject, type Release, type Run, report, seconds, waitFor } from './harness';

const cluster = new Cluster();
const home = cluster.ctx.argocdEnvironment;
const target = cluster.environments.find((e) => e !== home) ?? home;
const others = cluster.environments.filter((e) => e !== target);
const config = cluster.config.get(target)?.config;
if (!config) throw new Error(`no config for ${target}`);
const edgeObjects = cluster.objects(cluster.path('dist', target, 'edge'));
const ingress = edgeObjects.find((o) => o.kind === 'Ingress') as K8sObject;
const deployment = edgeObjects.find((o) => o.kind === 'Deployment') as K8sObject;
const envoyNamespace = config.envoy.namespace;
const children = childApplicationsNamespace(config.gitops);
const FOREIGN = 'owned-by-someone-else';

/** "Kind/namespace/name resourceVersion" of every object of an environment's files that exists, in its cluster and Argo CD's. */
function snapshot(env: string): string[] {
  return [...cluster.live(cluster.contextOf(env), cluster.path('dist', env, 'edge')), ...cluster.live(cluster.argocdContext, cluster.path('dist', env))]
    .map(([object, { resourceVersion }]) => `${object} ${resourceVersion}`)
    .sort();
}

let destroyed: Run & { ms: number };
const released: Release[] = [];
const before: Record<string, string[]> = {};

beforeAll(async () => {
  await cluster.applied();
  for (const env of others) before[env] = snapshot(env);
  // What the LB controller does to the Ingress it serves; and an object someone else put in Envoy's namespace.
  cluster.kubectl(
    target,
    '-n',
    envoyNamespace,
    'patch',
    'ingress',
    ingress.metadata.name,
    '--type',
    'merge',
    '-p',
    '{"metadata":{"finalizers":["ingress.k8s.aws/resources"]}}',
  );
  cluster.kubectl(target, '-n', envoyNamespace, 'create', 'configmap', FOREIGN, '--from-literal=note=not-ours');
  const envoyUp = () =>
    cluster.run(cluster.contextOf(target), ['-n', envoyNamespace, 'get', 'deployment', deployment.metadata.name, '-o', 'name']).status === 0
      ? 'envoy=present'
      : 'envoy=gone';
  const standIns = [
    new FinalizerStandIn(cluster, cluster.contextOf(target), 'ingress', envoyNamespace, ingress.metadata.name, released, envoyUp),
    new FinalizerStandIn(cluster, cluster.argocdContext, 'applications.argoproj.io', children, lbControllerApplicationName(config.gitops), released),
    new FinalizerStandIn(cluster, cluster.argocdContext, 'applications.argoproj.io', children, edgeApplicationName(config.gitops), released),
  ];
  try {
    await waitFor('the finalizer stand-ins watching', 30_000, () => (standIns.every((s) => s.watching) ? true : undefined));
    const t0 = performance.now();
    const out = await cluster.day2Async(target, 'destroy', '--env', target, '--confirm', target);
    destroyed = { ...out, ms: performance.now() - t0 };
  } finally {
    for (const s of standIns) s.stop();
  }
}, 300_000);

test(`GIVEN every environment applied WHEN npm run destroy -- --env ${target} --confirm ${target} runs THEN it completes (exit 0)`, () => {
  expect({ exit: destroyed.status, stderr: destroyed.stderr.trim() }).toEqual({ exit: 0, stderr: '' });
  report(
    `npm run destroy -- --env ${target} --confirm ${target}: exit 0 in ${seconds(destroyed.ms)}: ${destroyed.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('done:'))
      .join('')}`,
  );
});

test(`GIVEN the finalizer stand-ins WHEN ${target} is destroyed THEN the Ingress goes first with Envoy still up, then the controller's Application, then the edge Application`, () => {
  expect(released.map((r) => `${r.object} ${r.note}`.trim())).toEqual([
    `ingress/${ingress.metadata.name} envoy=present`,
    `applications.argoproj.io/${lbControllerApplicationName(config.gitops)}`,
    `applications.argoproj.io/${edgeApplicationName(config.gitops)}`,
  ]);
  const t0 = released[0].at;
  report(`destroy order: ${released.map((r) => `${r.object}${r.note ? ` (${r.note})` : ''} at +${seconds(r.at - t0)}`).join(', then ')}`);
});

test(`GIVEN ${target} destroyed THEN none of its objects or Argo CD entries are left, its child namespace is Terminating, and Envoy's namespace stays for the object we did not create`, () => {
  const edgeLeft = [
    ...cluster
      .live(
        cluster.contextOf(target),
        cluster.writeObjects(
          'destroyed-edge',
          edgeObjects.filter((o) => o.kind !== 'Namespace'),
        ),
      )
      .keys(),
  ];
  const inEnvoyNamespace = cluster
    .kubectl(target, '-n', envoyNamespace, 'get', 'deployment,service,configmap,networkpolicy,poddisruptionbudget,serviceaccount,ingress', '-o', 'name')
    .trim()
    .split('\n');
  // Argo CD's side: the environment's Applications (dist/<env>/) and what argocd/ labels as its own.
  const argocdOwn = [
    ...cluster.objects(cluster.path('dist', target)),
    ...cluster.objects(cluster.path('argocd')).filter((o) => (o.metadata as { labels?: Record<string, string> }).labels?.[ENVIRONMENT_LABEL] === target),
  ];
  // Gone, or being deleted (a Namespace stays Terminating: no namespace controller here).
  const argocdLeft = [...cluster.live(cluster.argocdContext, cluster.writeObjects('destroyed-argocd', argocdOwn))]
    .filter(([object, { deletionTimestamp }]) => !(object.startsWith('Namespace/') && deletionTimestamp))
    .map(([object]) => object);
  const byName = cluster
    .argocd('get', '-A', 'applications.argoproj.io,appprojects.argoproj.io', '-o', 'name')
    .split('\n')
    .filter((n) => n.includes(target));
  const elements = cluster
    .argocd(
      '-n',
      config.gitops.argocdNamespace,
      'get',
      'applicationsets.argoproj.io',
      '-o',
      'jsonpath={.items[*].spec.generators[0].list.elements[*].environment}',
    )
    .trim();
  const childNamespace = cluster.argocd('get', 'namespace', children, '-o', 'jsonpath={.metadata.deletionTimestamp}').trim();
  expect({
    edgeLeft,
    inEnvoyNamespace,
    envoyNamespace: cluster.kubectl(target, 'get', 'namespace', envoyNamespace, '-o', 'name').trim(),
    argocdLeft,
    byName,
    childNamespaceTerminating: childNamespace !== '',
    elements: elements.split(' ').sort(),
  }).toEqual({
    edgeLeft: [],
    inEnvoyNamespace: [`configmap/${FOREIGN}`],
    envoyNamespace: `namespace/${envoyNamespace}`,
    argocdLeft: [],
    byName: [],
    childNamespaceTerminating: true,
    elements: others,
  });
  report(
    `destroy removed ${edgeObjects.length - 1} objects of dist/${target}/edge/ and ${argocdOwn.length} Argo CD entries of ${target} ` +
      `(child namespace ${children} Terminating since ${childNamespace}: no namespace controller here); namespace ${envoyNamespace} kept, holding only configmap/${FOREIGN}; ` +
      `the ApplicationSet lists [${elements}]`,
  );
});

test(`GIVEN ${target} destroyed THEN ${others.join(', ')} is untouched: every object of its files unchanged (same resourceVersion)`, () => {
  for (const env of others) {
    const after = snapshot(env);
    expect(after).toEqual(before[env]);
    expect(after.filter((l) => l.endsWith(' missing'))).toEqual([]);
  }
  report(`${others.map((env) => `${env}: ${before[env].length} objects unchanged`).join('; ')} after ${target}'s destroy`);
});
