// Day-2 commands without a cluster: argument handling, the plans they print, and the order of destroy.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { bootstrapPlan, destroyPlan, diffPlan, execute, parseArgs, statusPlan, UsageError } from '../cli/day2';
import { configWith, PROJECT_ROOT } from './helpers';

const config = configWith();
const plan = destroyPlan(config);
const stepIndex = (pattern: RegExp) => {
  const i = plan.findIndex((s) => pattern.test(s.argv.join(' ')));
  if (i < 0) throw new Error(`no destroy step matches ${pattern}`);
  return i;
};

describe('arguments', () => {
  test.each([
    [[], 'expected one command, got none'],
    [['deploy'], 'unknown command "deploy"'],
    [['status', 'diff'], 'expected one command, got status diff'],
    [['status', '--force'], 'unknown option --force'],
    [['status', '--yes'], '--yes only applies to destroy'],
  ])('GIVEN %j THEN it is refused with a usage line', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test('GIVEN destroy --yes --dry-run THEN all three are understood', () => {
    expect(parseArgs(['destroy', '--yes', '--dry-run'])).toEqual({ command: 'destroy', dryRun: true, yes: true });
  });
});

describe('plans', () => {
  test('GIVEN bootstrap THEN it applies argocd/ and nothing else', () => {
    expect(bootstrapPlan('/repo').map((s) => s.argv)).toEqual([['kubectl', 'apply', '-f', '/repo/argocd']]);
  });

  test('GIVEN diff THEN it runs kubectl diff on dist/', () => {
    expect(diffPlan('/repo').map((s) => s.argv)).toEqual([['kubectl', 'diff', '-f', '/repo/dist']]);
  });

  test('GIVEN status THEN it shows both Applications, the Envoy pods and the ALB hostname', () => {
    const commands = statusPlan(config).map((s) => s.argv.join(' '));
    expect(commands[0]).toContain('get applications.argoproj.io envoy-edge aws-load-balancer-controller');
    expect(commands[1]).toContain('-n envoy-proxy get pods -l app=envoy-proxy');
    expect(commands[2]).toContain('get ingress envoy-proxy-ingress -o jsonpath={.status.loadBalancer.ingress[0].hostname}');
  });
});

describe('destroy order', () => {
  test('GIVEN destroy THEN automated sync is paused before anything is deleted', () => {
    expect(stepIndex(/patch applications.argoproj.io envoy-edge/)).toBe(0);
  });

  test('GIVEN destroy THEN the Ingress goes first and the command waits for the ALB and finalizer to be gone', () => {
    const ingress = stepIndex(/delete ingress envoy-proxy-ingress/);
    expect(plan[ingress].argv).toEqual(expect.arrayContaining(['--wait=true', '--timeout=15m']));
    expect(ingress).toBeLessThan(stepIndex(/delete deployment envoy-proxy/));
  });

  test('GIVEN destroy THEN Envoy goes before the controller, and the controller before the root Application', () => {
    const envoy = stepIndex(/delete deployment envoy-proxy/);
    const controller = stepIndex(/delete applications.argoproj.io aws-load-balancer-controller/);
    const root = stepIndex(/delete applications.argoproj.io envoy-edge/);
    const projects = stepIndex(/delete appprojects.argoproj.io/);
    expect(envoy).toBeLessThan(controller);
    expect(controller).toBeLessThan(root);
    expect(root).toBeLessThan(projects);
  });

  test('GIVEN destroy THEN it deletes only objects it created, by name, and the namespace only when nothing else is in it', () => {
    for (const step of plan) {
      expect(step.argv).not.toContain('--all');
      expect(step.argv.some((a) => a.startsWith('-l') || a === '--selector')).toBe(false);
    }
    const namespaceStep = plan[stepIndex(/delete namespace envoy-proxy/)];
    expect(namespaceStep.onlyIfNamespaceEmpty).toBe('envoy-proxy');
    expect(plan[stepIndex(/-n default delete service/)].argv).toContain('envoy-poc-app-server-service');
  });

  test('GIVEN destroy without --yes THEN it prints the plan, deletes nothing and exits 2', () => {
    const lines: string[] = [];
    const ran: string[][] = [];
    const code = execute({ command: 'destroy', dryRun: false, yes: false }, plan, (argv) => {
      ran.push([...argv]);
      return { status: 0, stdout: '', stderr: '' };
    }, (l) => lines.push(l));
    expect(code).toBe(2);
    expect(ran).toEqual([]);
    expect(lines[0]).toContain('nothing was deleted');
    expect(lines.join('\n')).toContain('13. delete the two AppProjects');
  });
});

describe('clear failures with the real kubectl', () => {
  const day2 = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(PROJECT_ROOT, 'cli', 'day2.ts'), ...args], {
      cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, ...env },
    });

  test('GIVEN no kubectl on PATH THEN status says so and exits 2', () => {
    const result = day2(['status'], { PATH: '/nonexistent' });
    expect(result.stdout).toContain('kubectl was not found on PATH');
    expect(result.status).toBe(2);
  });

  test('GIVEN a cluster that cannot be reached THEN diff says so and exits 2, not 1 ("change")', () => {
    const result = day2(['diff'], { KUBECONFIG: path.join(PROJECT_ROOT, 'test', 'fixtures', 'unreachable.kubeconfig') });
    expect(result.stdout).toContain('the cluster is not reachable');
    expect(result.status).toBe(2);
  });
});
