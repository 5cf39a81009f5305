// Day-2 commands for one environment: bootstrap, status, diff, destroy. Each is a plan of kubectl
// steps built from the config (so names never drift), every step pinned to a kube context with
// --context, printed as it runs. A command acts only when the current kube context is the
// environment's cluster (cli/kube-context.ts).
// Usage: tsx cli/day2.ts <bootstrap|status|diff|destroy> --env <name> [--dry-run] [--confirm <name>]
// Exit codes: 0 ok, 1 diff found, 2 error, 3 not confirmed.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs as parseCommandLine } from 'node:util';
import { ConfigError } from '../config/errors';
import { type Environment, loadEnvironments } from '../config/load';
import {
  APPLICATIONSET_NAME,
  childApplicationsNamespace,
  edgeApplicationName,
  lbControllerApplicationName,
  lbControllerProjectName,
  rootApplicationName,
  rootProjectName,
} from '../delivery/names';
import { EDGE_NAMES } from '../k8s/names';
import { isRequired, missingSettings, SETTING_PURPOSES, SETTINGS_DIR, settingsAdvice, wantedSettings } from './argocd-settings';
import { ContextError, contextsOf, resolveContexts } from './kube-context';
import { formatLiveVersions, type LiveVersions, liveVersionsInGit, parseLiveVersions, podStatsPath } from './live-versions';

export const COMMANDS = ['bootstrap', 'status', 'diff', 'destroy'] as const;
export type Command = (typeof COMMANDS)[number];

export const EXIT = { ok: 0, changed: 1, error: 2, notConfirmed: 3 } as const;

/** The kube contexts a plan acts in: the environment's cluster, and the cluster Argo CD runs in. */
export interface Contexts {
  readonly environment: string;
  readonly argocd: string;
}

export interface Step {
  readonly description: string;
  readonly argv: readonly string[];
  /** A missing object is not a failure (destroy is re-runnable). */
  readonly tolerateNotFound?: boolean;
  /** Run only if nothing but what Kubernetes itself puts there is left in this namespace. */
  readonly onlyIfNamespaceEmpty?: { readonly context: string; readonly namespace: string };
  /** The argv reads the VPC CNI's network policy agent arguments; the output is said in words. */
  readonly networkPolicyAgent?: true;
  /** The argv lists Envoy's pods; each is then asked for the live versions it serves, against git's. */
  /** The argv reads the live ConfigMaps named in argocd/settings/; a missing setting stops the command. */
  readonly argocdSettings?: { readonly projectRoot: string };
  readonly liveVersions?: { readonly context: string; readonly namespace: string; readonly readyPort: number; readonly git: LiveVersions };
  /** The argv is a JSON patch of the ApplicationSet, completed at run time with the environment's index. */
  readonly removeFromApplicationSet?: { readonly context: string; readonly namespace: string; readonly environment: string };
}

const APPLICATIONS = 'applications.argoproj.io';
const APP_PROJECTS = 'appprojects.argoproj.io';
const APPLICATIONSETS = 'applicationsets.argoproj.io';
/** Objects Kubernetes creates in every namespace: their presence does not make a namespace "ours to keep". */
const NAMESPACE_DEFAULTS = new Set(['configmap/kube-root-ca.crt', 'serviceaccount/default']);
const NAMESPACED_LISTABLE = 'all,configmaps,secrets,serviceaccounts,ingresses,networkpolicies,poddisruptionbudgets,roles,rolebindings';

const APPLICATION_COLUMNS = 'custom-columns=APPLICATION:.metadata.name,SYNC:.status.sync.status,HEALTH:.status.health.status,REVISION:.status.sync.revision';

const kubectl = (context: string, ...args: string[]): string[] => ['kubectl', '--context', context, ...args];

export function bootstrapPlan(projectRoot: string, contexts: Contexts): Step[] {
  return [
    {
      description: `check that Argo CD's settings hold ${SETTINGS_DIR}/ (the namespaces of the child Applications), or stop`,
      argv: kubectl(contexts.argocd, 'get', '-f', path.join(projectRoot, SETTINGS_DIR), '-o', 'json'),
      argocdSettings: { projectRoot },
    },
    {
      description: "apply argocd/: the AppProjects and the ApplicationSet, which makes each environment's root Application",
      argv: kubectl(contexts.argocd, 'apply', '-f', path.join(projectRoot, 'argocd')),
    },
  ];
}

export function statusPlan({ name, config }: Environment, contexts: Contexts, projectRoot: string): Step[] {
  const ns = config.envoy.namespace;
  return [
    {
      description: `sync and health of environment ${name}'s root Application`,
      argv: kubectl(contexts.argocd, '-n', config.gitops.argocdNamespace, 'get', APPLICATIONS, rootApplicationName(config.gitops), '-o', APPLICATION_COLUMNS),
      tolerateNotFound: true,
    },
    {
      description: `sync and health of its child Applications (the edge and the controller, in namespace ${childApplicationsNamespace(config.gitops)})`,
      argv: kubectl(
        contexts.argocd,
        '-n',
        childApplicationsNamespace(config.gitops),
        'get',
        APPLICATIONS,
        edgeApplicationName(config.gitops),
        lbControllerApplicationName(config.gitops),
        '-o',
        APPLICATION_COLUMNS,
      ),
      tolerateNotFound: true,
    },
    { description: 'Envoy pods', argv: kubectl(contexts.environment, '-n', ns, 'get', 'pods', '-l', `app=${EDGE_NAMES.app}`, '-o', 'wide') },
    {
      description: `the live config (routes, backend cluster, caps) each replica serves, against dist/${name}/edge/ (read through the API server's pod proxy from the ready port)`,
      argv: kubectl(
        contexts.environment,
        '-n',
        ns,
        'get',
        'pods',
        '-l',
        `app=${EDGE_NAMES.app}`,
        '--field-selector=status.phase=Running',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}',
      ),
      liveVersions: { context: contexts.environment, namespace: ns, readyPort: config.envoy.readyPort, git: liveVersionsInGit(projectRoot, name) },
    },
    {
      description: "whether EKS enforces the NetworkPolicies (the VPC CNI's network policy agent, kube-system/aws-node)",
      argv: kubectl(
        contexts.environment,
        '-n',
        'kube-system',
        'get',
        'daemonset',
        'aws-node',
        '-o',
        'jsonpath={.spec.template.spec.containers[?(@.name=="aws-eks-nodeagent")].args}',
      ),
      networkPolicyAgent: true,
      tolerateNotFound: true,
    },
    {
      description: 'ALB hostname from the Ingress (empty until the controller has made the ALB)',
      argv: kubectl(contexts.environment, '-n', ns, 'get', 'ingress', EDGE_NAMES.ingress, '-o', 'jsonpath={.status.loadBalancer.ingress[0].hostname}{"\\n"}'),
    },
  ];
}

export function diffPlan(projectRoot: string, { name }: Environment, contexts: Contexts): Step[] {
  return [
    {
      description: `compare Envoy's objects (dist/${name}/edge/) with environment ${name}'s cluster (server-side dry run)`,
      argv: kubectl(contexts.environment, 'diff', '-f', path.join(projectRoot, 'dist', name, 'edge')),
    },
    {
      description: `compare environment ${name}'s child Applications (dist/${name}/) with Argo CD's`,
      argv: kubectl(contexts.argocd, 'diff', '-f', path.join(projectRoot, 'dist', name)),
    },
  ];
}

/**
 * Teardown of one environment in the only safe order: take it out of the ApplicationSet (its root
 * goes, its children stay: preserveResourcesOnDeletion) and pause its children, so Argo CD re-creates
 * nothing; delete the Ingress and wait until the controller has deleted the ALB and released the
 * Ingress finalizer; then Envoy; then the controller (its Application's finalizer removes the chart);
 * then the edge Application and the projects. If the controller went first, the Ingress would hang
 * on its finalizer and the ALB would be left behind.
 */
export function destroyPlan(environment: Environment, contexts: Contexts): Step[] {
  const { config, name } = environment;
  const argocd = config.gitops.argocdNamespace;
  const ns = config.envoy.namespace;
  const children = childApplicationsNamespace(config.gitops);
  const inArgocd = (...args: string[]) => kubectl(contexts.argocd, '-n', argocd, ...args);
  const deleteIn = (context: string, namespace: string, kind: string, names: string | string[], wait = '5m'): string[] =>
    kubectl(context, '-n', namespace, 'delete', kind, ...[names].flat(), '--ignore-not-found', '--wait=true', `--timeout=${wait}`);
  const pause = (application: string): Step => ({
    description: `pause automated sync of ${application}, so Argo CD does not re-create what we delete`,
    argv: kubectl(contexts.argocd, '-n', children, 'patch', APPLICATIONS, application, '--type', 'merge', '-p', '{"spec":{"syncPolicy":{"automated":null}}}'),
    tolerateNotFound: true,
  });
  return [
    {
      description: `take environment ${name} out of the ApplicationSet; its root Application goes, what it made stays`,
      argv: inArgocd('patch', APPLICATIONSETS, APPLICATIONSET_NAME, '--type', 'json', '-p'),
      tolerateNotFound: true,
      removeFromApplicationSet: { context: contexts.argocd, namespace: argocd, environment: name },
    },
    {
      description: `wait until the root Application ${rootApplicationName(config.gitops)} is gone`,
      argv: inArgocd('wait', '--for=delete', `${APPLICATIONS}/${rootApplicationName(config.gitops)}`, '--timeout=2m'),
      tolerateNotFound: true,
    },
    pause(edgeApplicationName(config.gitops)),
    pause(lbControllerApplicationName(config.gitops)),
    {
      description: 'delete the Ingress and wait until the controller has deleted the ALB and removed its finalizer',
      argv: deleteIn(contexts.environment, ns, 'ingress', EDGE_NAMES.ingress, '15m'),
    },
    { description: 'delete the Envoy Deployment', argv: deleteIn(contexts.environment, ns, 'deployment', EDGE_NAMES.deployment) },
    {
      description: 'delete the Envoy Service and the peers Service',
      argv: deleteIn(contexts.environment, ns, 'service', [EDGE_NAMES.service, EDGE_NAMES.peersService]),
    },
    { description: 'delete the PodDisruptionBudget', argv: deleteIn(contexts.environment, ns, 'poddisruptionbudget', EDGE_NAMES.pdb) },
    {
      description: 'delete the NetworkPolicies',
      argv: deleteIn(contexts.environment, ns, 'networkpolicy', [EDGE_NAMES.networkPolicy, EDGE_NAMES.defaultDenyPolicy]),
    },
    { description: 'delete the bootstrap ConfigMap', argv: deleteIn(contexts.environment, ns, 'configmap', EDGE_NAMES.bootstrapConfigMap) },
    {
      description: 'delete the live ConfigMap (routes, backend cluster, caps)',
      argv: deleteIn(contexts.environment, ns, 'configmap', EDGE_NAMES.liveConfigMap),
    },
    { description: 'delete the Envoy ServiceAccount', argv: deleteIn(contexts.environment, ns, 'serviceaccount', EDGE_NAMES.serviceAccount) },
    ...(config.monitoring.enabled
      ? [
          {
            description: 'delete the PodMonitor and the PrometheusRule',
            argv: kubectl(
              contexts.environment,
              '-n',
              ns,
              'delete',
              `podmonitors.monitoring.coreos.com/${EDGE_NAMES.podMonitor}`,
              `prometheusrules.monitoring.coreos.com/${EDGE_NAMES.prometheusRule}`,
              '--ignore-not-found',
              '--wait=true',
              '--timeout=5m',
            ),
          },
          {
            description: 'delete the dashboard ConfigMap',
            argv: deleteIn(contexts.environment, config.monitoring.dashboardNamespace ?? ns, 'configmap', EDGE_NAMES.dashboardConfigMap),
          },
        ]
      : []),
    {
      description: 'delete the headless backend Service we created (not the backend itself)',
      argv: deleteIn(contexts.environment, config.backend.namespace, 'service', config.backend.serviceName),
    },
    {
      description: `delete namespace ${ns}, only if nothing we did not create is left in it`,
      argv: kubectl(contexts.environment, 'delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=5m'),
      onlyIfNamespaceEmpty: { context: contexts.environment, namespace: ns },
    },
    {
      description: 'delete the controller Application; its finalizer removes the chart from kube-system',
      argv: deleteIn(contexts.argocd, children, APPLICATIONS, lbControllerApplicationName(config.gitops), '10m'),
    },
    { description: 'delete the edge Application', argv: deleteIn(contexts.argocd, children, APPLICATIONS, edgeApplicationName(config.gitops), '10m') },
    {
      description: `delete environment ${name}'s three AppProjects`,
      argv: inArgocd(
        'delete',
        APP_PROJECTS,
        rootProjectName(config.gitops),
        config.gitops.project,
        lbControllerProjectName(config.gitops),
        '--ignore-not-found',
      ),
    },
    {
      description: `delete namespace ${children} (its child Applications, gone by now), only if nothing we did not create is left in it; not waited for`,
      argv: kubectl(contexts.argocd, 'delete', 'namespace', children, '--ignore-not-found', '--wait=false'),
      onlyIfNamespaceEmpty: { context: contexts.argocd, namespace: children },
    },
  ];
}

// ------------------------------------------------------------------ arguments

export interface ParsedArgs {
  readonly command: Command;
  readonly env?: string;
  readonly dryRun: boolean;
  /** destroy: the environment's name, typed to confirm (else it is asked for). */
  readonly confirm?: string;
}

export class UsageError extends Error {}

/** npm keeps flags written before `--` for itself and sets npm_config_<flag>: say so. */
function npmAteFlags(env: NodeJS.ProcessEnv): string {
  const eaten = ['env', 'confirm', 'dry_run'].filter((flag) => env[`npm_config_${flag}`] !== undefined);
  return eaten.length
    ? ` (npm kept ${eaten.map((f) => `--${f.replace('_', '-')}`).join(', ')} for itself: write the command's options after --, as in npm run status -- --env prod)`
    : '';
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const usage = `usage: day2 <${COMMANDS.join('|')}> --env <environment> [--dry-run] [--confirm <environment>]${npmAteFlags(env)}`;
  let parsed: { values: { env?: string; confirm?: string; 'dry-run'?: boolean }; positionals: string[] };
  try {
    parsed = parseCommandLine({
      args: [...argv],
      options: { env: { type: 'string' }, confirm: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node:util's messages, in this command's words.
    const code = (err as { code?: string }).code;
    const option = /'(-[-\w]+)/.exec((err as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}; ${usage}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${option?.split(' ')[0]} needs a value; ${usage}`);
    throw new UsageError(`${(err as Error).message}; ${usage}`);
  }
  const words = parsed.positionals;
  const values = { '--env': parsed.values.env, '--confirm': parsed.values.confirm };
  const dryRun = parsed.values['dry-run'] ?? false;
  if (words.length !== 1) throw new UsageError(`expected one command, got ${words.length ? words.join(' ') : 'none'}; ${usage}`);
  const command = words[0] as Command;
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${words[0]}"; ${usage}`);
  if (values['--confirm'] !== undefined && command !== 'destroy') throw new UsageError(`--confirm only applies to destroy; ${usage}`);
  if (values['--env'] === undefined && command !== 'bootstrap') throw new UsageError(`${command} needs --env <environment>; ${usage}`);
  return { command, env: values['--env'], dryRun, confirm: values['--confirm'] };
}

/** The environment a command is for; bootstrap may name none when every environment shares one Argo CD. */
export function pickEnvironment(args: ParsedArgs, environments: readonly Environment[]): Environment {
  const byName = (name: string) => {
    const found = environments.find((e) => e.name === name);
    if (!found) throw new UsageError(`--env: got "${name}"; allowed: ${environments.map((e) => e.name).join(', ')} (config/environments/*.yaml)`);
    return found;
  };
  if (args.env !== undefined) return byName(args.env);
  const homes = [...new Set(environments.map((e) => e.config.gitops.argocdEnvironment ?? e.name))];
  if (homes.length !== 1) throw new UsageError(`the environments use ${homes.length} Argo CDs (in ${homes.join(', ')}): name one with --env`);
  return byName(homes[0]);
}

export function argocdEnvironmentOf(environment: Environment, environments: readonly Environment[]): Environment {
  const home = environment.config.gitops.argocdEnvironment;
  return home === undefined ? environment : (environments.find((e) => e.name === home) ?? environment);
}

export function planFor(command: Command, environment: Environment, contexts: Contexts, projectRoot: string): Step[] {
  switch (command) {
    case 'bootstrap':
      return bootstrapPlan(projectRoot, contexts);
    case 'status':
      return statusPlan(environment, contexts, projectRoot);
    case 'diff':
      return diffPlan(projectRoot, environment, contexts);
    case 'destroy':
      return destroyPlan(environment, contexts);
  }
}

export const formatStep = (step: Step, index: number): string => {
  const argv = step.removeFromApplicationSet
    ? // The patch names the environment's position in the live ApplicationSet, read when the step runs.
      [
        ...step.argv,
        `[{"op":"test","path":"/spec/generators/0/list/elements/<i>/environment","value":"${step.removeFromApplicationSet.environment}"},{"op":"remove","path":"/spec/generators/0/list/elements/<i>"}]`,
      ]
    : step.argv;
  return `${index + 1}. ${step.description}\n   $ ${argv.map((a) => (/[\s"{}$<>]/.test(a) ? `'${a}'` : a)).join(' ')}`;
};

// ------------------------------------------------------------------ running against clusters

export type Run = (argv: readonly string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };

/** Runs a command (kubectl, or git for promote) and keeps its output. */
export const runCommand: Run = (argv) => {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
};

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Asks a question on the terminal; undefined when there is no terminal to ask on. */
  readonly ask?: (question: string) => Promise<string | undefined>;
}

/** Stops with one clear line when kubectl, a cluster or Argo CD is missing. */
export function preflight(command: Command, contexts: Contexts, run: Run): string | undefined {
  for (const context of new Set([contexts.environment, contexts.argocd])) {
    const server = run(['kubectl', '--context', context, 'get', '--raw', '/readyz']);
    if (server.status !== 0) return `the cluster of kube context "${context}" is not reachable: ${server.stderr.trim().split('\n').pop()}`;
  }
  if (command !== 'diff') {
    const argo = run(['kubectl', '--context', contexts.argocd, 'get', 'crd', APPLICATIONS]);
    if (argo.status !== 0) return `Argo CD is not installed in kube context "${contexts.argocd}" (no ${APPLICATIONS} CRD): install Argo CD first`;
  }
  return undefined;
}

export interface Invocation {
  readonly args: ParsedArgs;
  readonly environment: Environment;
  readonly argocdEnvironment: Environment;
  readonly projectRoot: string;
}

/** Runs a command end to end; returns its exit code. `run` is kubectl (tests pass their own). */
export async function execute(inv: Invocation, run: Run = runCommand, io: Io = consoleIo()): Promise<number> {
  const { args, environment } = inv;
  const client = run(['kubectl', 'version', '--client']);
  if (client.error || client.status !== 0) return fail(io, 'kubectl was not found on PATH: install kubectl and try again');
  let contexts: Contexts;
  try {
    const view = run(['kubectl', 'config', 'view', '-o', 'json']);
    if (view.status !== 0) return fail(io, `kubectl config view failed: ${view.stderr.trim()}`);
    contexts = resolveContexts(environment, inv.argocdEnvironment, contextsOf(view.stdout));
  } catch (err) {
    if (err instanceof ContextError) return fail(io, err.message);
    throw err;
  }
  const steps = planFor(args.command, environment, contexts, inv.projectRoot);
  if (args.dryRun) {
    for (const [i, s] of steps.entries()) io.out(formatStep(s, i));
    return EXIT.ok;
  }
  if (args.command === 'destroy') {
    const typed = args.confirm ?? (await io.ask?.(`Type the environment's name (${environment.name}) to destroy it: `));
    if (typed?.trim() !== environment.name) {
      io.out(`destroy plan for environment ${environment.name} (nothing was deleted):`);
      for (const [i, s] of steps.entries()) io.out(formatStep(s, i));
      io.err(
        typed === undefined
          ? `not confirmed: pass --confirm ${environment.name}, or run it on a terminal and type the name`
          : `not confirmed: got ${JSON.stringify(typed.trim())}, not ${JSON.stringify(environment.name)}`,
      );
      return EXIT.notConfirmed;
    }
  }
  const problem = preflight(args.command, contexts, run);
  if (problem) return fail(io, problem);

  let changed = false;
  for (const [i, step] of steps.entries()) {
    io.out(formatStep(step, i));
    if (step.onlyIfNamespaceEmpty) {
      const leftovers = foreignObjects(step.onlyIfNamespaceEmpty.context, step.onlyIfNamespaceEmpty.namespace, run);
      if (leftovers.length) {
        io.out(`   skipped: namespace ${step.onlyIfNamespaceEmpty.namespace} still holds objects we did not create: ${leftovers.join(', ')}`);
        continue;
      }
    }
    let argv = step.argv;
    if (step.removeFromApplicationSet) {
      const patch = applicationSetRemoval(step.removeFromApplicationSet, run);
      if (patch === undefined) {
        io.out('   (the ApplicationSet does not list this environment: nothing to do)');
        continue;
      }
      argv = [...argv, patch];
    }
    const started = Date.now();
    const result = run(argv);
    // A step that waits (a deletion, a finalizer) says how long it took.
    const took = (Date.now() - started) / 1000;
    if (took >= 1) io.out(`   (${took.toFixed(1)} s)`);
    if (step.argocdSettings) {
      if (result.status !== 0 && !/NotFound|not found/.test(result.stderr)) return fail(io, `step ${i + 1} failed: ${result.stderr.trim()}`);
      const live = result.stdout.trim() ? result.stdout : undefined;
      const wanted = wantedSettings(step.argocdSettings.projectRoot);
      const missing = missingSettings(wanted.filter(isRequired), live);
      if (missing.length) return fail(io, settingsAdvice(missing));
      for (const map of wanted) {
        const purpose = SETTING_PURPOSES[map.metadata.name];
        const lacking = missingSettings([map], live);
        if (!purpose) continue;
        io.out(
          lacking.length
            ? `   ${map.metadata.name}: NOT in (${lacking.join('; ')}): ${purpose.without}; merge ${SETTINGS_DIR}/${map.metadata.name}.k8s.yaml into Argo CD's install (going on)`
            : `   ${map.metadata.name}: in: ${purpose.gives}`,
        );
      }
      continue;
    }
    if (step.networkPolicyAgent && result.status === 0) {
      io.out(`   ${networkPolicyVerdict(result.stdout, environment.name)}`);
      continue;
    }
    if (step.liveVersions && result.status === 0) {
      for (const line of liveVersionsOfPods(step.liveVersions, result.stdout, run)) io.out(`   ${line}`);
      continue;
    }
    if (result.stdout) io.out(result.stdout.trimEnd());
    if (args.command === 'diff') {
      if (result.status === 1) changed = true;
      else if (result.status !== 0) return fail(io, `kubectl diff failed: ${result.stderr.trim()}`);
      continue;
    }
    if (result.status !== 0) {
      if (step.tolerateNotFound && /NotFound|not found/.test(result.stderr)) {
        io.out(args.command === 'status' ? `   ${result.stderr.trim().replace(/^Error from server \(NotFound\): /gm, '')}` : '   (not found: nothing to do)');
        continue;
      }
      return fail(io, `step ${i + 1} failed: ${result.stderr.trim()}`);
    }
  }
  if (args.command === 'diff') {
    io.out(changed ? `change: applying dist/${environment.name}/ would change the objects above` : `no change: the clusters match dist/${environment.name}/`);
    return changed ? EXIT.changed : EXIT.ok;
  }
  if (args.command === 'destroy') {
    io.out(
      `done: environment ${environment.name} is down and out of Argo CD. Delete config/environments/${environment.name}.yaml ` +
        'and synthesize, or `npm run bootstrap` adds it back.',
    );
    io.out(`The IAM role is not touched: eksctl delete iamserviceaccount --config-file eksctl/${environment.name}.yaml --approve`);
  }
  return EXIT.ok;
}

/** What the network policy agent's arguments (container aws-eks-nodeagent of kube-system/aws-node) say about enforcement. */
export function networkPolicyVerdict(args: string, environment: string): string {
  return /--enable-network-policy=true/.test(args)
    ? "NetworkPolicies are enforced: the VPC CNI's network policy agent is on"
    : `NetworkPolicies are NOT enforced: turn on the VPC CNI's network policy agent (eksctl update addon --config-file eksctl/${environment}.yaml; docs/security.md)`;
}

/** Reads each listed pod's live versions through the API server's pod proxy. */
function liveVersionsOfPods(target: NonNullable<Step['liveVersions']>, podList: string, run: Run): string[] {
  const pods = podList
    .split('\n')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!pods.length) return ['no running Envoy pod'];
  const rows = pods.map((pod) => {
    const stats = run(['kubectl', '--context', target.context, 'get', '--raw', podStatsPath(target.namespace, pod, target.readyPort)]);
    return stats.status === 0 ? { pod, versions: parseLiveVersions(stats.stdout) } : { pod, error: stats.stderr.trim().split('\n').pop() ?? 'no answer' };
  });
  return formatLiveVersions(rows, target.git);
}

/** A JSON patch removing the environment's element from the live ApplicationSet, checked by a test op. */
function applicationSetRemoval(target: { context: string; namespace: string; environment: string }, run: Run): string | undefined {
  const live = run([
    'kubectl',
    '--context',
    target.context,
    '-n',
    target.namespace,
    'get',
    APPLICATIONSETS,
    APPLICATIONSET_NAME,
    '-o',
    'jsonpath={.spec.generators[0].list.elements[*].environment}',
  ]);
  const index = live.status === 0 ? live.stdout.trim().split(/\s+/).indexOf(target.environment) : -1;
  if (index < 0) return undefined;
  const at = `/spec/generators/0/list/elements/${index}`;
  return JSON.stringify([
    { op: 'test', path: `${at}/environment`, value: target.environment },
    { op: 'remove', path: at },
  ]);
}

function foreignObjects(context: string, namespace: string, run: Run): string[] {
  const listed = run(['kubectl', '--context', context, '-n', namespace, 'get', NAMESPACED_LISTABLE, '-o', 'name', '--ignore-not-found']);
  return listed.stdout
    .split('\n')
    .map((line) => line.trim().replace(/^([a-z]+)(\.[a-z0-9.]+)?\//, '$1/'))
    .filter((line) => line && !NAMESPACE_DEFAULTS.has(line));
}

function fail(io: Io, message: string): number {
  io.err(`error: ${message}`);
  return EXIT.error;
}

function consoleIo(): Io {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    ask: process.stdin.isTTY
      ? async (question) => {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    const projectRoot = path.resolve(__dirname, '..');
    const { environments } = loadEnvironments(path.join(projectRoot, 'config'));
    const environment = pickEnvironment(args, environments);
    return await execute({ args, environment, argocdEnvironment: argocdEnvironmentOf(environment, environments), projectRoot });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return EXIT.error;
    }
    throw err;
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
