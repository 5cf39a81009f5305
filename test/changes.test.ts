// The pull-request summary (cli/changes.ts): per environment, whether a change rolls the Envoy pods or
// is live, read off real synths of the config before and after.
import * as path from 'node:path';
import { edgeFile, environmentChanges, formatChanges } from '../cli/changes';
import { synthesizeProject } from '../synth/pipeline';
import { snapshotTree, tempProject } from './helpers';

/** Synthesizes the shipped config with `prod` overrides; returns the generated tree (relative path → text). */
function synthWith(prod: Record<string, unknown>): Record<string, string> {
  const { root, configDir } = tempProject({ prod });
  synthesizeProject(root, configDir);
  const tree: Record<string, string> = {};
  for (const dir of ['dist', 'argocd', 'eksctl']) {
    for (const [file, text] of Object.entries(snapshotTree(path.join(root, dir)))) tree[`${dir}/${file}`] = text;
  }
  return tree;
}

function compare(before: Record<string, string>, after: Record<string, string>) {
  const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => before[f] !== after[f]).sort();
  return environmentChanges(['prod', 'staging'], files, (env, side) => (side === 'before' ? before : after)[edgeFile(env)]);
}

const base = synthWith({});

test("GIVEN a change of a live field (envoy.rateLimit.maxTokens) in prod THEN prod's pods do not roll and staging has nothing", () => {
  const changes = compare(base, synthWith({ envoy: { rateLimit: { maxTokens: 20 } } }));
  expect(changes.map((c) => [c.environment, c.envoyPods])).toEqual([
    ['prod', 'live'],
    ['staging', 'none'],
  ]);
  expect(changes[0].files).toContain('dist/prod/edge/envoy-edge.k8s.yaml');
  process.stderr.write(
    `[changes] live field: ${formatChanges('base', changes, [])
      .split('\n')
      .filter((l) => l.startsWith('| prod'))
      .join('')}\n`,
  );
});

test("GIVEN a change of a static field (envoy.resources.memoryLimit) in prod THEN the summary says prod's pods roll and their sockets close", () => {
  const changes = compare(base, synthWith({ envoy: { resources: { memoryLimit: '512Mi' } } }));
  expect(changes.map((c) => [c.environment, c.envoyPods])).toEqual([
    ['prod', 'rolls'],
    ['staging', 'none'],
  ]);
  expect(formatChanges('origin/main', changes, [])).toContain('| prod | **the Envoy pods roll**');
});

test('GIVEN no change THEN every environment says nothing changes', () => {
  const changes = compare(base, synthWith({}));
  expect(changes.map((c) => c.envoyPods)).toEqual(['none', 'none']);
  expect(formatChanges('origin/main', changes, [])).toContain('| staging | nothing changes | none |');
});
