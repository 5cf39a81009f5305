// The day-2 commands (cli/day2.ts) against the servers, each run as a user runs it, with the current kube
// context of the user's kubeconfig: a command refuses an environment whose cluster is not the current
// context; status and diff work across the two clusters (Envoy in its own, the Applications in Argo CD's).
import { edgeApplicationName, lbControllerApplicationName, rootApplicationName } from '../../delivery/names';
import { Cluster, report, seconds } from './harness';

const cluster = new Cluster();
const home = cluster.ctx.argocdEnvironment;
// An environment whose cluster is not Argo CD's, if there is one.
const other = cluster.environments.find((e) => e !== home) ?? home;

beforeAll(() => cluster.applied());

test(`GIVEN the current context is ${home}'s cluster WHEN npm run diff -- --env ${other} runs THEN it refuses: exit 2, nothing on stdout, one line on stderr`, () => {
  expect(other).not.toBe(home);
  const out = cluster.day2(home, 'diff', '--env', other);
  const lines = out.stderr.trim().split('\n');
  expect({ exit: out.status, stdout: out.stdout, lines: lines.length }).toEqual({ exit: 2, stdout: '', lines: 1 });
  expect(lines[0]).toContain(`not environment ${other}'s cluster`);
  report(`npm run diff -- --env ${other} with ${home}'s context current: exit ${out.status}, stderr: ${lines[0]}`);
});

test(`GIVEN ${home} applied, with no Argo CD running WHEN npm run status -- --env ${home} runs THEN it lists the child Applications, shows the root (made by the ApplicationSet) missing, and exits 0`, () => {
  const gitops = cluster.config.get(home)?.config.gitops;
  if (!gitops) throw new Error(`no config for ${home}`);
  const t0 = performance.now();
  const out = cluster.day2(home, 'status', '--env', home);
  const ms = performance.now() - t0;
  const shown = `${out.stdout}${out.stderr}`;
  const rows = shown.split('\n').filter((l) => [edgeApplicationName(gitops), lbControllerApplicationName(gitops)].some((n) => l.startsWith(`${n} `)));
  expect({ exit: out.status, rows: rows.length, rootMissing: shown.includes(`"${rootApplicationName(gitops)}" not found`) }).toEqual({
    exit: 0,
    rows: 2,
    rootMissing: true,
  });
  report(
    `npm run status -- --env ${home}: exit 0 in ${seconds(ms)}, ${shown.split('\n').filter((l) => /^\d+\. /.test(l)).length} steps; ` +
      `Applications: ${rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ')}; root ${rootApplicationName(gitops)} not found`,
  );
});

test(`GIVEN ${other} applied WHEN npm run diff -- --env ${other} runs with its context current THEN it exits 0 with 'no change'`, () => {
  const t0 = performance.now();
  const out = cluster.day2(other, 'diff', '--env', other);
  const ms = performance.now() - t0;
  expect({ exit: out.status, last: out.stdout.trim().split('\n').pop() }).toEqual({ exit: 0, last: `no change: the clusters match dist/${other}/` });
  report(
    `npm run diff -- --env ${other}: exit 0 in ${seconds(ms)}: ${out.stdout.trim().split('\n').pop()} (Envoy in ${other}'s cluster, the Applications in ${home}'s)`,
  );
});
