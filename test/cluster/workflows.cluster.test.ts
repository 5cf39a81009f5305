// The CI workflow shipped for the user's repository (.github/workflows/) passes actionlint, built from
// its Go module by scripts/cluster/build-tools.sh; a copy with an unknown runner label is refused, so a
// linter that checks nothing cannot pass.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Cluster, report, tool } from './harness';

const cluster = new Cluster();
const dir = cluster.path('.github', 'workflows');
const workflows = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => path.join(dir, f));
const version = () => tool(cluster.ctx.actionlint, ['-version'], cluster.ctx.root).stdout.split('\n')[0];

test('GIVEN .github/workflows/ WHEN actionlint reads it THEN it finds nothing', () => {
  const out = tool(cluster.ctx.actionlint, ['-no-color', ...workflows], cluster.ctx.root);
  report(`actionlint ${version()}: ${workflows.length} workflow file(s), exit ${out.status}${out.stdout.trim() ? `: ${out.stdout.trim().slice(0, 600)}` : ''}`);
  expect({ exit: out.status, findings: out.stdout.trim() }).toEqual({ exit: 0, findings: '' });
});

test('GIVEN a copy of the workflow with an unknown runner label WHEN actionlint reads it THEN it refuses it', () => {
  const [first] = workflows;
  const text = readFileSync(first, 'utf8');
  expect(text).toContain('runs-on: ubuntu-latest');
  const broken = path.join(cluster.tempDir('workflows'), 'broken.yml');
  writeFileSync(broken, text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latestt'));
  const out = tool(cluster.ctx.actionlint, ['-no-color', broken], cluster.ctx.root);
  const finding = out.stdout.match(/label "[^"]*" is unknown/)?.[0];
  report(`actionlint on a copy of ${path.basename(first)} with runs-on: ubuntu-latestt: exit ${out.status}, ${finding}`);
  expect(out.status).not.toBe(0);
  expect(finding).toBe('label "ubuntu-latestt" is unknown');
});
