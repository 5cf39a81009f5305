// What the GitOps loop is made of, read from the project's config and outputs once: the environments,
// their Applications and projects, the chart and the names our builders give. scripts/verify-gitops.sh
// reads it (run as a script, it prints shell assignments) to start the right clusters and seed the
// repository; the scenarios' harness (harness.ts) reads the same facts, so the two cannot disagree.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadEnvironments } from '../../config/load';
import {
  APPLICATIONSET_NAME,
  childApplicationsNamespace,
  edgeApplicationName,
  lbControllerApplicationName,
  lbControllerProjectName,
  rootApplicationName,
  rootProjectName,
} from '../../delivery/names';
import { EDGE_NAMES, EKS_CHARTS_REPO_URL, LB_CONTROLLER_CHART, LB_CONTROLLER_GENERATED_TLS, LB_CONTROLLER_NAMESPACE } from '../../k8s/names';

export interface EnvironmentFacts {
  /** gitops.stage, and the branch the environment follows (gitops.targetRevision). */
  readonly stage: number;
  readonly branch: string;
  /** gitops.destinationName: `in-cluster` is Argo CD's own cluster. */
  readonly destination: string;
  /** The EKS cluster, and the kube context `aws eks update-kubeconfig` gives it (its ARN, account 0). */
  readonly eksCluster: string;
  readonly context: string;
  readonly envoyNamespace: string;
  /** The environment's projects: Envoy's objects, the root's, the controller's. */
  readonly project: string;
  readonly rootProject: string;
  readonly lbControllerProject: string;
  /** The root Application (made by the ApplicationSet; it syncs dist/<environment>/), in Argo CD's namespace. */
  readonly rootApp: string;
  /** NAMESPACE/NAME: the children live in the environment's child namespace, not Argo CD's. */
  readonly edgeApp: string;
  readonly lbApp: string;
  /** The namespace of the environment's child Applications. */
  readonly appsNamespace: string;
}

export interface LoopFacts {
  /** gitops.repoURL, the same for every environment: one ApplicationSet. */
  readonly repoURL: string;
  readonly argocdNamespace: string;
  /** The environment whose cluster Argo CD runs in (gitops.destinationName in-cluster). */
  readonly argocdEnvironment: string;
  readonly applicationSet: string;
  readonly chart: { readonly name: string; readonly version: string; readonly repoURL: string; readonly namespace: string; readonly serviceAccount: string };
  /** The webhook configurations' and the TLS Secret's name, as the chart makes them. */
  readonly webhook: { readonly configuration: string; readonly tlsSecret: string };
  readonly edge: typeof EDGE_NAMES;
  /** The Envoy Deployment's minReadySeconds, the largest over the environments. */
  readonly minReadySeconds: number;
  /**
   * The longest a rollout of the Envoy Deployment can take on the true clock: its pods are replaced one
   * at a time (maxSurge 0), and each counts as available minReadySeconds after it is Ready.
   */
  readonly rolloutSeconds: number;
  /** application.namespaces as argocd/settings/ sets it: the controller reads it at start. */
  readonly applicationNamespaces: string;
  readonly environments: Readonly<Record<string, EnvironmentFacts>>;
}

function one<T>(what: string, values: T[]): T {
  const distinct = [...new Set(values)];
  if (distinct.length !== 1) throw new Error(`the GitOps loop expects one ${what} for every environment, the config has ${distinct.join(', ')}`);
  return distinct[0];
}

/** The facts of the project checked out at `root` (its config/, dist/ and argocd/settings/). */
export function loopFacts(root: string): LoopFacts {
  const { environments } = loadEnvironments(path.join(root, 'config'));
  const facts: Record<string, EnvironmentFacts> = {};
  for (const { name, config: c } of environments) {
    const g = c.gitops;
    const child = (app: string) => `${childApplicationsNamespace(g)}/${app}`;
    facts[name] = {
      stage: g.stage,
      branch: g.targetRevision,
      destination: g.destinationName,
      eksCluster: c.cluster.name,
      context: `arn:aws:eks:${c.cluster.region}:000000000000:cluster/${c.cluster.name}`,
      envoyNamespace: c.envoy.namespace,
      project: g.project,
      rootProject: rootProjectName(g),
      lbControllerProject: lbControllerProjectName(g),
      rootApp: rootApplicationName(g),
      edgeApp: child(edgeApplicationName(g)),
      lbApp: child(lbControllerApplicationName(g)),
      appsNamespace: childApplicationsNamespace(g),
    };
  }
  const configs = environments.map((e) => e.config);
  const argocdEnvironment = environments.find((e) => e.config.gitops.destinationName === 'in-cluster')?.name;
  if (!argocdEnvironment) throw new Error('no environment has gitops.destinationName in-cluster (Argo CD runs in its cluster)');
  const deployments = environments.flatMap((e) =>
    documents(path.join(root, 'dist', e.name, 'edge', 'envoy-edge.k8s.yaml')).filter((d) => d.kind === 'Deployment'),
  );
  const settings = parse(readFileSync(path.join(root, 'argocd', 'settings', 'argocd-cmd-params-cm.k8s.yaml'), 'utf8'));
  return {
    repoURL: one(
      'gitops.repoURL',
      configs.map((c) => c.gitops.repoURL),
    ),
    argocdNamespace: one(
      'gitops.argocdNamespace',
      configs.map((c) => c.gitops.argocdNamespace),
    ),
    argocdEnvironment,
    applicationSet: APPLICATIONSET_NAME,
    chart: {
      name: LB_CONTROLLER_CHART,
      version: one(
        'lbController.chartVersion',
        configs.map((c) => c.lbController.chartVersion),
      ),
      repoURL: EKS_CHARTS_REPO_URL,
      namespace: LB_CONTROLLER_NAMESPACE,
      serviceAccount: one(
        'lbController.serviceAccountName',
        configs.map((c) => c.lbController.serviceAccountName),
      ),
    },
    webhook: { configuration: LB_CONTROLLER_GENERATED_TLS.webhookConfiguration, tlsSecret: LB_CONTROLLER_GENERATED_TLS.tlsSecret },
    edge: EDGE_NAMES,
    minReadySeconds: Math.max(0, ...deployments.map((d) => d.spec?.minReadySeconds ?? 0)),
    rolloutSeconds: Math.max(0, ...deployments.map((d) => (d.spec?.replicas ?? 1) * (d.spec?.minReadySeconds ?? 0))),
    applicationNamespaces: settings.data['application.namespaces'],
    environments: facts,
  };
}

function documents(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split(/^---$/m)
    .map((d) => parse(d))
    .filter(Boolean);
}

/** The facts scripts/verify-gitops.sh needs to start and seed the loop, as shell assignments. */
function shellAssignments(f: LoopFacts): string {
  const q = (s: string | number) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const out = [
    `REPO_URL=${q(f.repoURL)}`,
    `EKS_CHARTS_URL=${q(f.chart.repoURL)}`,
    `ARGOCD_NS=${q(f.argocdNamespace)}`,
    `PROD=${q(f.argocdEnvironment)}`,
    `LB_NS=${q(f.chart.namespace)}`,
    `LB_SA=${q(f.chart.serviceAccount)}`,
    `MIN_READY=${q(f.minReadySeconds)}`,
    `GITOPS_APPLICATION_NAMESPACES=${q(f.applicationNamespaces)}`,
    'ENVS=() OTHERS=()',
  ];
  for (const [name, e] of Object.entries(f.environments)) {
    out.push(`ENVS+=(${q(name)})`);
    if (name !== f.argocdEnvironment) out.push(`OTHERS+=(${q(name)})`);
    for (const [key, value] of [
      ['STAGE', e.stage],
      ['BRANCH', e.branch],
      ['DEST', e.destination],
      ['CTX', e.context],
    ] as const)
      out.push(`${key}[${name}]=${q(value)}`);
  }
  return out.join('\n');
}

/**
 * The only change the harness makes to our outputs: in every file under `dir`, a URL of `rewrites` at the
 * end of a line (quoted or not) becomes the local one: gitops.repoURL the git daemon's, the eks-charts
 * URL the local Helm repository's. Calls `changed` with each line changed; returns how many.
 */
export function rewriteUrls(
  dir: string,
  rewrites: readonly (readonly [string, string])[],
  changed: (file: string, line: number, from: string, to: string) => void = () => {},
): number {
  let count = 0;
  const files = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const file of files(dir)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let touched = false;
    lines.forEach((line, i) => {
      const rewritten = rewrites.reduce((l, [from, to]) => l.replace(new RegExp(`${escapeRegExp(from)}(?=["']?\\s*$)`), to), line);
      if (rewritten === line) return;
      changed(file, i + 1, line.trim(), rewritten.trim());
      lines[i] = rewritten;
      touched = true;
      count++;
    });
    if (touched) writeFileSync(file, lines.join('\n'));
  }
  return count;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// As a script, for scripts/verify-gitops.sh:
//   facts.ts shell ROOT                      the facts it needs, as shell assignments
//   facts.ts rewrite ROOT FROM TO [FROM TO]  rewriteUrls on ROOT/argocd and ROOT/dist; logs each line, prints the count
if (require.main === module) {
  const [command, root, ...pairs] = process.argv.slice(2);
  if (command === 'shell') process.stdout.write(`${shellAssignments(loopFacts(root))}\n`);
  else if (command === 'rewrite') {
    const rewrites = pairs.flatMap((p, i) => (i % 2 === 0 ? [[p, pairs[i + 1]] as const] : []));
    const log = (file: string, line: number, from: string, to: string) =>
      process.stderr.write(`[rewrite] ${path.relative(root, file)}:${line}: ${from}  =>  ${to}\n`);
    const count = ['argocd', 'dist'].reduce((n, d) => n + rewriteUrls(path.join(root, d), rewrites, log), 0);
    process.stdout.write(`${count}\n`);
  } else {
    process.stderr.write('usage: facts.ts shell ROOT | facts.ts rewrite ROOT FROM TO [FROM TO ...]\n');
    process.exit(2);
  }
}
