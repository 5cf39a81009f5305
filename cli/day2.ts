// Day-2 commands around kubectl: bootstrap, status, diff, destroy. Each command is a plan of
// kubectl steps built from the config (so names never drift), printed as it runs.
// Usage: tsx cli/day2.ts <bootstrap|status|diff|destroy> [--dry-run] [--yes]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadConfig } from '../config/load';
import type { EdgeConfig } from '../config/schema';
import { EDGE_NAMES, lbControllerProjectName, rootApplicationName } from '../k8s/names';

export const COMMANDS = ['bootstrap', 'status', 'diff', 'destroy'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Step {
  readonly description: string;
  readonly argv: readonly string[];
  /** A missing object is not a failure (destroy is re-runnable). */
  readonly tolerateNotFound?: boolean;
  /** Deletes the namespace only if nothing but what Kubernetes itself puts there is left in it. */
  readonly onlyIfNamespaceEmpty?: string;
}

const APPLICATIONS = 'applications.argoproj.io';
const APP_PROJECTS = 'appprojects.argoproj.io';
/** Objects Kubernetes creates in every namespace: their presence does not make a namespace "ours to keep". */
const NAMESPACE_DEFAULTS = new Set(['configmap/kube-root-ca.crt', 'serviceaccount/default']);
const NAMESPACED_LISTABLE = 'all,configmaps,secrets,serviceaccounts,ingresses,networkpolicies,poddisruptionbudgets,roles,rolebindings';

export function bootstrapPlan(projectRoot: string): Step[] {
  return [
    {
      description: 'apply the AppProjects and the root Application (argocd/); Argo CD then syncs dist/',
      argv: ['kubectl', 'apply', '-f', path.join(projectRoot, 'argocd')],
    },
  ];
}

export function statusPlan(config: EdgeConfig): Step[] {
  const ns = config.envoy.namespace;
  return [
    {
      description: 'sync and health of the root and controller Applications',
      argv: ['kubectl', '-n', config.gitops.argocdNamespace, 'get', APPLICATIONS,
        rootApplicationName(config), config.lbController.releaseName,
        '-o', 'custom-columns=APPLICATION:.metadata.name,SYNC:.status.sync.status,HEALTH:.status.health.status,REVISION:.status.sync.revision'],
    },
    {
      description: 'Envoy pods',
      argv: ['kubectl', '-n', ns, 'get', 'pods', '-l', `app=${EDGE_NAMES.app}`, '-o', 'wide'],
    },
    {
      description: 'ALB hostname from the Ingress (empty until the controller has made the ALB)',
      argv: ['kubectl', '-n', ns, 'get', 'ingress', EDGE_NAMES.ingress,
        '-o', 'jsonpath={.status.loadBalancer.ingress[0].hostname}{"\\n"}'],
    },
  ];
}

export function diffPlan(projectRoot: string): Step[] {
  return [
    {
      description: 'compare dist/ with the live cluster (server-side dry run)',
      argv: ['kubectl', 'diff', '-f', path.join(projectRoot, 'dist')],
    },
  ];
}

/**
 * Teardown in the only safe order: stop Argo CD from re-creating things; delete the Ingress and wait
 * until the controller has deleted the ALB and released the Ingress finalizer; then Envoy; then the
 * controller (its Application's finalizer removes the chart); then the root and the projects.
 * If the controller went first, the Ingress would hang on its finalizer and the ALB would be left behind.
 */
export function destroyPlan(config: EdgeConfig): Step[] {
  const argocd = config.gitops.argocdNamespace;
  const ns = config.envoy.namespace;
  const deleteIn = (namespace: string, kind: string, names: string | string[], wait = '5m'): readonly string[] =>
    ['kubectl', '-n', namespace, 'delete', kind, ...[names].flat(), '--ignore-not-found', '--wait=true', `--timeout=${wait}`];
  return [
    {
      description: `pause automated sync of the root Application, so Argo CD does not re-create what we delete`,
      argv: ['kubectl', '-n', argocd, 'patch', APPLICATIONS, rootApplicationName(config), '--type', 'merge',
        '-p', '{"spec":{"syncPolicy":{"automated":null}}}'],
      tolerateNotFound: true,
    },
    {
      description: 'delete the Ingress and wait until the controller has deleted the ALB and removed its finalizer',
      argv: deleteIn(ns, 'ingress', EDGE_NAMES.ingress, '15m'),
    },
    { description: 'delete the Envoy Deployment', argv: deleteIn(ns, 'deployment', EDGE_NAMES.deployment) },
    {
      description: 'delete the Envoy Service and the peers Service',
      argv: deleteIn(ns, 'service', [EDGE_NAMES.service, EDGE_NAMES.peersService]),
    },
    { description: 'delete the PodDisruptionBudget', argv: deleteIn(ns, 'poddisruptionbudget', EDGE_NAMES.pdb) },
    { description: 'delete the NetworkPolicy', argv: deleteIn(ns, 'networkpolicy', EDGE_NAMES.networkPolicy) },
    { description: 'delete the bootstrap ConfigMap', argv: deleteIn(ns, 'configmap', EDGE_NAMES.bootstrapConfigMap) },
    { description: 'delete the Envoy ServiceAccount', argv: deleteIn(ns, 'serviceaccount', EDGE_NAMES.serviceAccount) },
    {
      description: 'delete the headless backend Service we created (not the backend itself)',
      argv: deleteIn(config.backend.namespace, 'service', config.backend.serviceName),
    },
    {
      description: `delete namespace ${ns}, only if nothing we did not create is left in it`,
      argv: ['kubectl', 'delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=5m'],
      onlyIfNamespaceEmpty: ns,
    },
    {
      description: 'delete the controller Application; its finalizer removes the chart from kube-system',
      argv: deleteIn(argocd, APPLICATIONS, config.lbController.releaseName, '10m'),
    },
    { description: 'delete the root Application', argv: deleteIn(argocd, APPLICATIONS, rootApplicationName(config), '10m') },
    {
      description: 'delete the two AppProjects',
      argv: ['kubectl', '-n', argocd, 'delete', APP_PROJECTS, config.gitops.project, lbControllerProjectName(config),
        '--ignore-not-found'],
    },
  ];
}

export interface ParsedArgs {
  readonly command: Command;
  readonly dryRun: boolean;
  readonly yes: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const usage = `usage: day2 <${COMMANDS.join('|')}> [--dry-run] [--yes]`;
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  const unknownFlag = flags.find((f) => !['--dry-run', '--yes'].includes(f));
  if (unknownFlag) throw new UsageError(`unknown option ${unknownFlag}; ${usage}`);
  if (words.length !== 1) throw new UsageError(`expected one command, got ${words.length ? words.join(' ') : 'none'}; ${usage}`);
  const command = words[0] as Command;
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${words[0]}"; ${usage}`);
  const yes = flags.includes('--yes');
  if (yes && command !== 'destroy') throw new UsageError(`--yes only applies to destroy; ${usage}`);
  return { command, dryRun: flags.includes('--dry-run'), yes };
}

export function planFor(command: Command, config: EdgeConfig, projectRoot: string): Step[] {
  switch (command) {
    case 'bootstrap': return bootstrapPlan(projectRoot);
    case 'status': return statusPlan(config);
    case 'diff': return diffPlan(projectRoot);
    case 'destroy': return destroyPlan(config);
  }
}

export const formatStep = (step: Step, index: number): string =>
  `${index + 1}. ${step.description}\n   $ ${step.argv.map((a) => (/[\s"{}$]/.test(a) ? `'${a}'` : a)).join(' ')}`;

// ------------------------------------------------------------------ running against a cluster

type Run = (argv: readonly string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };

const runKubectl: Run = (argv) => {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
};

/** Stops with one clear line when kubectl, the cluster or Argo CD is missing. */
export function preflight(command: Command, run: Run = runKubectl): string | undefined {
  const client = run(['kubectl', 'version', '--client']);
  if (client.error || client.status !== 0) return 'kubectl was not found on PATH: install kubectl and try again';
  const server = run(['kubectl', 'get', '--raw', '/readyz']);
  if (server.status !== 0) {
    return `the cluster is not reachable with the current kubeconfig: ${server.stderr.trim().split('\n').pop()}`;
  }
  if (command !== 'diff') {
    const argo = run(['kubectl', 'get', 'crd', APPLICATIONS]);
    if (argo.status !== 0) return `Argo CD is not installed in this cluster (no ${APPLICATIONS} CRD): install Argo CD first`;
  }
  return undefined;
}

/** Exit codes of `diff`, as kubectl diff defines them: 0 no change, 1 change, 2 error. */
export const DIFF_EXIT = { noChange: 0, change: 1, error: 2 } as const;

export function execute(args: ParsedArgs, steps: Step[], run: Run = runKubectl, log = console.log): number {
  if (args.command === 'destroy' && !args.yes && !args.dryRun) {
    log('destroy plan (nothing was deleted; run again with --yes to carry it out):');
    steps.forEach((s, i) => log(formatStep(s, i)));
    return 2;
  }
  if (args.dryRun) {
    steps.forEach((s, i) => log(formatStep(s, i)));
    return 0;
  }
  const problem = preflight(args.command, run);
  if (problem) {
    log(`error: ${problem}`);
    return 2;
  }
  for (const [i, step] of steps.entries()) {
    log(formatStep(step, i));
    if (step.onlyIfNamespaceEmpty) {
      const leftovers = foreignObjects(step.onlyIfNamespaceEmpty, run);
      if (leftovers.length) {
        log(`   skipped: namespace ${step.onlyIfNamespaceEmpty} still holds objects we did not create: ${leftovers.join(', ')}`);
        continue;
      }
    }
    const result = run(step.argv);
    if (result.stdout) log(result.stdout.trimEnd());
    if (args.command === 'diff') {
      if (result.status === 0) log('no change: the cluster matches dist/');
      else if (result.status === 1) log('change: applying dist/ would change the objects above');
      else log(`error: kubectl diff failed: ${result.stderr.trim()}`);
      return result.status === 0 ? DIFF_EXIT.noChange : result.status === 1 ? DIFF_EXIT.change : DIFF_EXIT.error;
    }
    if (result.status !== 0) {
      if (step.tolerateNotFound && /NotFound|not found/.test(result.stderr)) {
        log('   (not found: nothing to do)');
        continue;
      }
      log(`error: step ${i + 1} failed: ${result.stderr.trim()}`);
      return 2;
    }
  }
  if (args.command === 'destroy') {
    log('done. The IAM role is not touched: eksctl delete iamserviceaccount --config-file eksctl/cluster.yaml --approve');
  }
  return 0;
}

function foreignObjects(namespace: string, run: Run): string[] {
  const listed = run(['kubectl', '-n', namespace, 'get', NAMESPACED_LISTABLE, '-o', 'name', '--ignore-not-found']);
  return listed.stdout
    .split('\n')
    .map((line) => line.trim().replace(/^([a-z]+)(\.[a-z0-9.]+)?\//, '$1/'))
    .filter((line) => line && !NAMESPACE_DEFAULTS.has(line));
}

if (require.main === module) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const projectRoot = path.resolve(__dirname, '..');
    process.exit(execute(args, planFor(args.command, loadConfig(), projectRoot)));
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}
