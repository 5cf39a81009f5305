// Day-2 commands: arguments, the plans, the order of destroy, and that nothing acts on a cluster
// other than the environment's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isRequired, missingSettings, wantedSettings } from '../cli/argocd-settings';
import {
  bootstrapPlan,
  type Contexts,
  destroyPlan,
  diffPlan,
  EXIT,
  execute,
  formatStep,
  type Io,
  networkPolicyVerdict,
  parseArgs,
  pickEnvironment,
  type Run,
  statusPlan,
  UsageError,
} from '../cli/day2';
import { contextsOf, isEnvironmentContext, resolveContexts } from '../cli/kube-context';
import { liveVersionsInGit } from '../cli/live-versions';
import { environmentWith, PROJECT_ROOT, synthEnvoyEdge } from './helpers';

const prod = environmentWith('prod', { cluster: { name: 'envoy-poc', region: 'us-east-1' } });
const staging = environmentWith('staging', {
  cluster: { name: 'envoy-poc-staging', region: 'us-east-1' },
  gitops: { destinationName: 'envoy-poc-staging', argocdEnvironment: 'prod' },
});
const PROD_ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/envoy-poc';
const STAGING_ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/envoy-poc-staging';
const contexts: Contexts = { environment: STAGING_ARN, argocd: PROD_ARN };
const plan = destroyPlan(staging, contexts);
const stepIndex = (pattern: RegExp) => {
  const i = plan.findIndex((s) => pattern.test(s.argv.join(' ')));
  if (i < 0) throw new Error(`no destroy step matches ${pattern}`);
  return i;
};

/** A kubeconfig as `aws eks update-kubeconfig` writes it, as `kubectl config view -o json` shows it. */
const kubeconfig = (current: string, names = [PROD_ARN, STAGING_ARN]) =>
  JSON.stringify({
    'current-context': current,
    contexts: names.map((name) => ({ name, context: { cluster: name } })),
    clusters: names.map((name) => ({ name, cluster: { server: `https://${name.split('/')[1]}.eks.example` } })),
  });

describe('messages a newcomer can act on', () => {
  test('GIVEN no kubeconfig at all THEN the command says "no kubeconfig found", not that some context is the wrong cluster', () => {
    expect(() => resolveContexts(staging, prod, contextsOf(JSON.stringify({})))).toThrow(
      /^no kubeconfig found \(no context in \$KUBECONFIG or ~\/\.kube\/config\)/,
    );
  });

  test('GIVEN a kubeconfig with no current context THEN the command says "no current kube context" and how to choose one', () => {
    expect(() => resolveContexts(staging, prod, contextsOf(kubeconfig('')))).toThrow(
      /^no current kube context: choose environment staging's cluster.*kubectl config use-context/,
    );
  });

  test('GIVEN npm kept --env for itself (npm run status --env prod, without --) THEN the error says to write it after --', () => {
    // npm sets npm_config_env when it takes --env as its own flag.
    expect(() => parseArgs(['status'], { npm_config_env: 'prod' })).toThrow(
      "npm kept --env for itself: write the command's options after --, as in npm run status -- --env prod",
    );
    expect(() => parseArgs(['status'], {})).not.toThrow(/npm kept/);
  });

  test('GIVEN the destroy plan THEN every line is a whole command: the ApplicationSet patch is shown, not a bare -p', () => {
    const lines = plan.map((step, i) => formatStep(step, i));
    const patchLine = lines.find((l) => l.includes('patch applicationsets.argoproj.io'))!;
    expect(patchLine).toMatch(/-p '\[\{"op":"test","path":"\/spec\/generators\/0\/list\/elements\/<i>\/environment","value":"staging"\}/);
    for (const line of lines) expect(line.trimEnd()).not.toMatch(/ -p$/);
  });
});

describe('arguments', () => {
  test.each([
    [[], 'expected one command, got none'],
    [['deploy', '--env', 'prod'], 'unknown command "deploy"'],
    [['status', 'diff'], 'expected one command, got status diff'],
    [['status', '--force'], 'unknown option --force'],
    [['status'], 'status needs --env <environment>'],
    [['status', '--env'], '--env needs a value'],
    [['status', '--env', '--dry-run'], '--env needs a value'],
    [['status', '--env', 'prod', '--confirm', 'prod'], '--confirm only applies to destroy'],
  ])('GIVEN %j THEN it is refused with a usage line', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test('GIVEN --env=prod (node:util parseArgs) THEN it is understood like --env prod', () => {
    expect(parseArgs(['status', '--env=prod'])).toEqual({ command: 'status', env: 'prod', dryRun: false, confirm: undefined });
  });

  test('GIVEN destroy --env staging --confirm staging --dry-run THEN all are understood', () => {
    expect(parseArgs(['destroy', '--env', 'staging', '--confirm', 'staging', '--dry-run'])).toEqual({
      command: 'destroy',
      env: 'staging',
      confirm: 'staging',
      dryRun: true,
    });
  });

  test('GIVEN bootstrap without --env THEN it is for the environment whose cluster runs the one Argo CD', () => {
    expect(pickEnvironment(parseArgs(['bootstrap']), [prod, staging]).name).toBe('prod');
    expect(() => pickEnvironment(parseArgs(['status', '--env', 'qa']), [prod, staging])).toThrow('--env: got "qa"; allowed: prod, staging');
  });
});

describe('which cluster is which', () => {
  test.each([
    [PROD_ARN, true],
    ['arn:aws:eks:eu-west-1:123456789012:cluster/envoy-poc', false],
    ['arn:aws:eks:us-east-1:123456789012:cluster/envoy-poc-staging', false],
    ['admin@envoy-poc.us-east-1.eksctl.io', true],
    ['envoy-poc', false],
  ])("GIVEN a context for %s THEN it is prod's cluster: %s", (name, expected) => {
    expect(isEnvironmentContext({ name, cluster: name }, prod)).toBe(expected);
  });

  test("GIVEN cluster.kubeContext THEN only that context is the environment's cluster", () => {
    const named = environmentWith('prod', { cluster: { kubeContext: 'work' } });
    expect(isEnvironmentContext({ name: 'work', cluster: 'x' }, named)).toBe(true);
    expect(isEnvironmentContext({ name: PROD_ARN, cluster: PROD_ARN }, named)).toBe(false);
  });

  test('GIVEN the current context is prod WHEN acting on staging THEN it refuses in one line naming both', () => {
    expect(() => resolveContexts(staging, prod, contextsOf(kubeconfig(PROD_ARN)))).toThrow(
      `the current kube context is "${PROD_ARN}" (cluster ${PROD_ARN}), which is not environment staging's cluster, EKS cluster envoy-poc-staging in us-east-1`,
    );
  });

  test("GIVEN the current context is staging and Argo CD runs in prod THEN the Argo CD steps use prod's context", () => {
    expect(resolveContexts(staging, prod, contextsOf(kubeconfig(STAGING_ARN)))).toEqual({ environment: STAGING_ARN, argocd: PROD_ARN });
    expect(() => resolveContexts(staging, prod, contextsOf(kubeconfig(STAGING_ARN, [STAGING_ARN])))).toThrow(
      "Argo CD runs in environment prod's cluster (EKS cluster envoy-poc in us-east-1), and no kube context matches it",
    );
  });
});

describe('plans: every kubectl call names its context', () => {
  test("GIVEN bootstrap THEN it applies argocd/ to Argo CD's cluster and nothing else", () => {
    expect(bootstrapPlan('/repo', contexts).map((s) => s.argv)).toEqual([
      ['kubectl', '--context', PROD_ARN, 'get', '-f', '/repo/argocd/settings', '-o', 'json'],
      ['kubectl', '--context', PROD_ARN, 'apply', '-f', '/repo/argocd'],
    ]);
  });

  test("GIVEN diff THEN it compares Envoy's objects with the environment's cluster and the child Applications with Argo CD's", () => {
    expect(diffPlan('/repo', staging, contexts).map((s) => s.argv)).toEqual([
      ['kubectl', '--context', STAGING_ARN, 'diff', '-f', '/repo/dist/staging/edge'],
      ['kubectl', '--context', PROD_ARN, 'diff', '-f', '/repo/dist/staging'],
    ]);
  });

  test("GIVEN status THEN it shows the three Applications (the root in Argo CD's namespace, the children in theirs), the Envoy pods, the live config each serves and the ALB hostname", () => {
    const commands = statusPlan(staging, contexts, PROJECT_ROOT).map((s) => s.argv.join(' '));
    expect(commands[0]).toContain(`--context ${PROD_ARN} -n argocd get applications.argoproj.io envoy-edge-staging -o`);
    expect(commands[1]).toContain(
      `--context ${PROD_ARN} -n envoy-edge-staging-apps get applications.argoproj.io envoy-edge-staging-edge envoy-edge-staging-lb-controller -o`,
    );
    expect(commands[2]).toContain(`--context ${STAGING_ARN} -n envoy-proxy get pods -l app=envoy-proxy`);
    expect(commands[3]).toContain(`--context ${STAGING_ARN} -n envoy-proxy get pods -l app=envoy-proxy --field-selector=status.phase=Running`);
    expect(commands[4]).toContain(`--context ${STAGING_ARN} -n kube-system get daemonset aws-node`);
    expect(commands[5]).toContain('get ingress envoy-proxy-ingress -o jsonpath={.status.loadBalancer.ingress[0].hostname}');
  });

  test("GIVEN the aws-node DaemonSet's agent arguments THEN status says whether EKS enforces the NetworkPolicies, and how to turn it on", () => {
    // The arguments as the EKS vpc-cni add-on sets them, with enableNetworkPolicy "true" and without.
    expect(networkPolicyVerdict('["--enable-ipv6=false","--enable-network-policy=true","--enable-cloudwatch-logs=false"]', 'staging')).toBe(
      "NetworkPolicies are enforced: the VPC CNI's network policy agent is on",
    );
    expect(networkPolicyVerdict('["--enable-ipv6=false","--enable-network-policy=false"]', 'staging')).toContain('NOT enforced');
    expect(networkPolicyVerdict('', 'staging')).toContain('eksctl update addon --config-file eksctl/staging.yaml');
  });

  test('GIVEN any plan THEN no step runs kubectl without --context', () => {
    const all = [...bootstrapPlan('/repo', contexts), ...statusPlan(staging, contexts, PROJECT_ROOT), ...diffPlan('/repo', staging, contexts), ...plan];
    for (const step of all) expect(step.argv.slice(0, 2)).toEqual(['kubectl', '--context']);
  });
});

describe("Argo CD's settings (argocd/settings/)", () => {
  // The one bootstrap stops for; the others are said, not required (see the bootstrap tests).
  const wanted = wantedSettings(PROJECT_ROOT).filter(isRequired);
  // What `kubectl get -f argocd/settings -o json` prints for one ConfigMap.
  const liveWith = (namespaces?: string) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cmd-params-cm', namespace: 'argocd' },
      data: namespaces === undefined ? { 'server.insecure': 'true' } : { 'application.namespaces': namespaces },
    });

  test("GIVEN the shipped settings THEN Argo CD must watch both environments' child namespaces", () => {
    expect(wanted.map((m) => [m.metadata.name, m.data])).toEqual([
      ['argocd-cmd-params-cm', { 'application.namespaces': 'envoy-edge-prod-apps,envoy-edge-staging-apps' }],
    ]);
  });

  test('GIVEN a live Argo CD that lists our namespaces, by name or by glob, among others THEN nothing is missing', () => {
    expect(missingSettings(wanted, liveWith('team-a, envoy-edge-staging-apps,envoy-edge-prod-apps'))).toEqual([]);
    expect(missingSettings(wanted, liveWith('envoy-edge-*-apps'))).toEqual([]);
    expect(missingSettings(wanted, liveWith('/^envoy-edge-(prod|staging)-apps$/'))).toEqual([]);
    expect(missingSettings(wanted, liveWith('/^envoy-edge-prod-apps$/'))).toHaveLength(1);
    expect(missingSettings(wanted, JSON.stringify({ kind: 'List', items: [JSON.parse(liveWith('*'))] }))).toEqual([]);
  });

  test('GIVEN a live Argo CD without one namespace, without the key, or without the ConfigMap THEN each says what is missing', () => {
    expect(missingSettings(wanted, liveWith('envoy-edge-prod-apps'))).toEqual([
      'argocd-cmd-params-cm application.namespaces lacks envoy-edge-staging-apps (it holds "envoy-edge-prod-apps")',
    ]);
    expect(missingSettings(wanted, liveWith(undefined))).toEqual([
      'argocd-cmd-params-cm application.namespaces lacks envoy-edge-prod-apps, envoy-edge-staging-apps (it holds "")',
    ]);
    expect(missingSettings(wanted, liveWith('envoy-edge-prod-apps.x,envoy-edge-*-appsx'))).toHaveLength(1);
    expect(missingSettings(wanted, undefined)).toHaveLength(1);
  });

  test('GIVEN bootstrap on an Argo CD without the setting THEN it stops before applying anything: exit 2, saying what to merge and to restart', async () => {
    const ran: string[][] = [];
    const errors: string[] = [];
    const run: Run = (argv) => {
      ran.push([...argv]);
      if (argv.includes('view')) return { status: 0, stdout: kubeconfig(PROD_ARN), stderr: '' };
      if (argv.includes('get') && argv.includes('-f')) return { status: 0, stdout: liveWith('envoy-edge-prod-apps'), stderr: '' };
      return { status: 0, stdout: '', stderr: '' };
    };
    const args = parseArgs(['bootstrap']);
    const code = await execute({ args, environment: prod, argocdEnvironment: prod, projectRoot: PROJECT_ROOT }, run, {
      out: () => undefined,
      err: (l) => errors.push(l),
    });
    expect(code).toBe(EXIT.error);
    expect(ran.filter((a) => a.includes('apply'))).toEqual([]);
    expect(errors.join('\n')).toContain('application.namespaces lacks envoy-edge-staging-apps');
    expect(errors.join('\n')).toContain('restart argocd-application-controller and argocd-server');
  });
});

describe('destroy order', () => {
  test('GIVEN destroy THEN the environment leaves the ApplicationSet and its children are paused before anything is deleted', () => {
    expect(plan[0].removeFromApplicationSet).toEqual({ context: PROD_ARN, namespace: 'argocd', environment: 'staging' });
    expect(stepIndex(/wait --for=delete applications.argoproj.io\/envoy-edge-staging /)).toBe(1);
    expect(stepIndex(/patch applications.argoproj.io envoy-edge-staging-edge/)).toBeLessThan(stepIndex(/delete ingress/));
    expect(stepIndex(/patch applications.argoproj.io envoy-edge-staging-lb-controller/)).toBeLessThan(stepIndex(/delete ingress/));
  });

  test("GIVEN destroy THEN the Ingress goes first, in the environment's cluster, and the command waits for the ALB and finalizer to be gone", () => {
    const ingress = stepIndex(/delete ingress envoy-proxy-ingress/);
    expect(plan[ingress].argv).toEqual(expect.arrayContaining(['--context', STAGING_ARN, '--wait=true', '--timeout=15m']));
    expect(ingress).toBeLessThan(stepIndex(/delete deployment envoy-proxy/));
  });

  test('GIVEN destroy THEN Envoy goes before the controller, the controller before the edge Application, and that before the projects', () => {
    const envoy = stepIndex(/delete deployment envoy-proxy/);
    const controller = stepIndex(/delete applications.argoproj.io envoy-edge-staging-lb-controller/);
    const edge = stepIndex(/delete applications.argoproj.io envoy-edge-staging-edge/);
    const projects = stepIndex(/delete appprojects.argoproj.io envoy-edge-staging-root envoy-edge-staging envoy-edge-staging-lb-controller/);
    expect(envoy).toBeLessThan(controller);
    expect(controller).toBeLessThan(edge);
    expect(edge).toBeLessThan(projects);
  });

  test("GIVEN destroy THEN every object the edge chart makes in the environment's cluster is deleted by name", () => {
    const made = synthEnvoyEdge(staging.config).map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
    const deleted = new Set(
      plan.flatMap((step) => {
        const i = step.argv.indexOf('delete');
        if (i < 0 || step.argv[2] !== STAGING_ARN) return [];
        const kind = step.argv[i + 1];
        return step.argv
          .slice(i + 2)
          .filter((a) => !a.startsWith('-'))
          .map((name) => `${kind}/${name}`);
      }),
    );
    expect(made.filter((o) => !deleted.has(o))).toEqual([]);
  });

  test('GIVEN destroy THEN it deletes only objects it created, by name, and the namespace only when nothing else is in it', () => {
    for (const step of plan) {
      expect(step.argv).not.toContain('--all');
      expect(step.argv.some((a) => a.startsWith('-l') || a === '--selector')).toBe(false);
    }
    expect(plan[stepIndex(/delete namespace envoy-proxy/)].onlyIfNamespaceEmpty).toEqual({ context: STAGING_ARN, namespace: 'envoy-proxy' });
    expect(plan[stepIndex(/-n default delete service/)].argv).toContain('envoy-poc-app-server-service');
  });
});

describe('running: confirmation, exit codes, errors on stderr', () => {
  /** A kubectl stand-in: the kubeconfig as given, every cluster reachable, every command succeeding. */
  const fakeKubectl =
    (current: string, ran: string[][]): Run =>
    (argv) => {
      ran.push([...argv]);
      if (argv.includes('view')) return { status: 0, stdout: kubeconfig(current), stderr: '' };
      return { status: 0, stdout: '', stderr: '' };
    };
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const handle: Io = { out: (l) => out.push(l), err: (l) => err.push(l), ask: async () => 'prod' };
    return { out, err, handle };
  };
  const invocation = (argv: string[]) => {
    const args = parseArgs(argv);
    const environment = pickEnvironment(args, [prod, staging]);
    return { args, environment, argocdEnvironment: environment === staging ? prod : prod, projectRoot: '/repo' };
  };

  test("GIVEN status THEN each running Envoy pod's live versions are read through the pod proxy on the ready port and set against git's", async () => {
    const git = liveVersionsInGit(PROJECT_ROOT, 'staging');
    const ran: string[][] = [];
    // Envoy's own /stats text for the three version stats (format checked on the real Envoy in live-change.live.test.ts).
    const statsOf = (routes: string) =>
      [
        `cluster_manager.cds.version_text: "${git.clusters}"`,
        `http.websocket.rds.websocket_routes.version_text: "${routes}"`,
        `runtime.version_text: "${git.runtime}"`,
      ].join('\n');
    const run: Run = (argv) => {
      ran.push([...argv]);
      if (argv.includes('view')) return { status: 0, stdout: kubeconfig(STAGING_ARN), stderr: '' };
      if (argv.includes('--field-selector=status.phase=Running')) return { status: 0, stdout: 'envoy-proxy-a\nenvoy-proxy-b\n', stderr: '' };
      const raw = argv[argv.indexOf('--raw') + 1] ?? '';
      if (raw.includes('envoy-proxy-a:9901/proxy/stats')) return { status: 0, stdout: statsOf(git.routes!), stderr: '' };
      if (raw.includes('envoy-proxy-b:9901/proxy/stats')) return { status: 0, stdout: statsOf('0ld0ld0ld0ld'), stderr: '' };
      return { status: 0, stdout: '', stderr: '' };
    };
    const { out, handle } = io();
    const code = await execute({ ...invocation(['status', '--env', 'staging']), projectRoot: PROJECT_ROOT }, run, handle);
    expect(code).toBe(EXIT.ok);
    const proxied = ran.filter((a) => a.includes('--raw') && a.some((x) => x.includes('/proxy/')));
    expect(proxied.map((a) => a[2])).toEqual([STAGING_ARN, STAGING_ARN]);
    expect(proxied[0][proxied[0].length - 1]).toMatch(/^\/api\/v1\/namespaces\/envoy-proxy\/pods\/envoy-proxy-a:9901\/proxy\/stats\?filter=/);
    const rows = out.filter((l) => /envoy-proxy-[ab] /.test(l));
    expect(rows[0]).toContain(`${git.routes} (= git)`);
    expect(rows[1]).toContain(`0ld0ld0ld0ld (git: ${git.routes})`);
    expect(out.some((l) => l.includes("1 of 2 replicas do not serve git's live config yet"))).toBe(true);
  });

  test("GIVEN destroy answered with another environment's name THEN nothing is deleted and the exit code is 3 (not confirmed)", async () => {
    const ran: string[][] = [];
    const { out, err, handle } = io();
    const code = await execute(invocation(['destroy', '--env', 'staging']), fakeKubectl(STAGING_ARN, ran), handle);
    expect(code).toBe(EXIT.notConfirmed);
    expect(ran.filter((a) => a.includes('delete') || a.includes('patch'))).toEqual([]);
    expect(out[0]).toContain('nothing was deleted');
    expect(err).toEqual(['not confirmed: got "prod", not "staging"']);
  });

  test('GIVEN destroy with no terminal and no --confirm THEN it is not confirmed either (3), and says how to confirm', async () => {
    const { err, handle } = io();
    const code = await execute(invocation(['destroy', '--env', 'staging']), fakeKubectl(STAGING_ARN, []), { ...handle, ask: undefined });
    expect(code).toBe(EXIT.notConfirmed);
    expect(err[0]).toContain('pass --confirm staging');
  });

  test('GIVEN the wrong current context THEN even a confirmed destroy does nothing: exit 2, one line on stderr naming both clusters', async () => {
    const ran: string[][] = [];
    const { out, err, handle } = io();
    const code = await execute(invocation(['destroy', '--env', 'staging', '--confirm', 'staging']), fakeKubectl(PROD_ARN, ran), handle);
    expect(code).toBe(EXIT.error);
    expect(ran.filter((a) => a.includes('delete') || a.includes('patch'))).toEqual([]);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^error: the current kube context is ".*cluster\/envoy-poc" .* not environment staging's cluster, EKS cluster envoy-poc-staging in us-east-1/,
    );
  });

  test('GIVEN diff finds a change THEN the exit code is 1; an error of kubectl diff is 2, on stderr', async () => {
    const withDiff =
      (status: number): Run =>
      (argv) =>
        argv.includes('view')
          ? { status: 0, stdout: kubeconfig(PROD_ARN), stderr: '' }
          : argv.includes('diff')
            ? { status, stdout: '', stderr: status > 1 ? 'boom' : '' }
            : { status: 0, stdout: '', stderr: '' };
    expect(await execute(invocation(['diff', '--env', 'prod']), withDiff(0), io().handle)).toBe(EXIT.ok);
    expect(await execute(invocation(['diff', '--env', 'prod']), withDiff(1), io().handle)).toBe(EXIT.changed);
    const failing = io();
    expect(await execute(invocation(['diff', '--env', 'prod']), withDiff(2), failing.handle)).toBe(EXIT.error);
    expect(failing.err).toEqual(['error: kubectl diff failed: boom']);
  });
});

describe('clear failures with the real kubectl', () => {
  const day2 = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(PROJECT_ROOT, 'cli', 'day2.ts'), ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  test('GIVEN no kubectl on PATH THEN status says so on stderr and exits 2', () => {
    const result = day2(['status', '--env', 'prod'], { PATH: '/nonexistent' });
    expect(result.stderr).toContain('kubectl was not found on PATH');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  test('GIVEN a kubeconfig whose current context is another cluster THEN diff refuses, exits 2, not 1 ("change")', () => {
    const result = day2(['diff', '--env', 'prod'], { KUBECONFIG: path.join(PROJECT_ROOT, 'test', 'fixtures', 'unreachable.kubeconfig') });
    expect(result.stderr).toContain("which is not environment prod's cluster, EKS cluster envoy-poc in us-east-1");
    expect(result.status).toBe(2);
  });

  test("GIVEN prod's cluster that cannot be reached THEN diff says so and exits 2", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'day2-'));
    const file = path.join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ${PROD_ARN}`,
        'clusters:',
        `- name: ${PROD_ARN}`,
        '  cluster: {server: "https://127.0.0.1:1"}',
        'contexts:',
        `- name: ${PROD_ARN}`,
        `  context: {cluster: "${PROD_ARN}", user: u}`,
        'users:',
        '- name: u',
        '  user: {token: x}',
        '',
      ].join('\n'),
    );
    const result = day2(['diff', '--env', 'prod'], { KUBECONFIG: file });
    expect(result.stderr).toContain(`the cluster of kube context "${PROD_ARN}" is not reachable`);
    expect(result.status).toBe(2);
  });
});
