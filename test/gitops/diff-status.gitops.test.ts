// The day-2 commands a person runs after a sync, in the pushed checkout with the environment's kube
// context current (docs/day2.md): `npm run diff` finds nothing to change, and `npm run status` shows
// the three Applications Synced and Healthy at the seed, the Envoy pods and the ALB's hostname.
import { dailyLoopEnvironment, Gitops, report } from './harness';

const gitops = new Gitops();
const { facts, seed } = gitops.ctx;
const envs = Object.keys(gitops.ctx.environments);

test.each(envs)('GIVEN the first sync WHEN npm run diff -- --env %s THEN it exits 0: the live objects equal the pushed dist/', (env) => {
  const run = gitops.npm(env, 'diff', '--', '--env', env);
  const lastLine = run.stdout.trim().split('\n').pop();
  report(`npm run diff -- --env ${env} exits ${run.status} after the first sync (${lastLine})`);
  if (run.status !== 0) throw new Error(`npm run diff -- --env ${env} exited ${run.status}:\n${(run.stdout + run.stderr).slice(-3000)}`);
});

const statusEnv = dailyLoopEnvironment(gitops.ctx);
test(`GIVEN the first sync WHEN npm run status -- --env ${statusEnv} THEN its 3 Applications are Synced/Healthy at the seed and it shows the ALB hostname`, () => {
  const run = gitops.npm(statusEnv, 'status', '--', '--env', statusEnv);
  const lines = run.stdout.split('\n');
  const fine = lines.filter((l) => new RegExp(`Synced +Healthy +(${seed}|${facts.chart.version.replace(/\./g, '\\.')})$`).test(l));
  const host = run.stdout.match(/\S*\.alb\.invalid/)?.[0];
  report(
    `npm run status -- --env ${statusEnv}: exit ${run.status}, ${fine.length} Applications Synced/Healthy at ${seed.slice(0, 7)} (the chart at ${facts.chart.version}), ALB hostname ${host}`,
  );
  expect(run.status).toBe(0);
  expect(fine).toHaveLength(3);
  expect(host).toBeDefined();
});
