// What a change does to each environment, for a pull request: the generated files it changes
// against a base commit, and whether the Envoy pods roll (the Deployment's pod template changes:
// every open WebSocket is closed as the pods are replaced) or not (the live config or other objects,
// such as the Ingress, change; docs/behaviour.md, "Changing the edge"). Markdown, for CI's job summary.
// Usage: npm run -s changes -- --base <git ref>    (exit 0; 2 on a bad ref)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { EDGE_NAMES } from '../k8s/names';

/** The generated file of an environment that holds Envoy's Deployment. */
export const edgeFile = (environment: string) => `dist/${environment}/edge/envoy-edge.k8s.yaml`;

/** The Envoy Deployment's pod template in a generated file's text, as JSON (undefined when absent). */
export function podTemplateOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const deployment = parseAllDocuments(text)
    .map((d) => d.toJS())
    .find((o) => o?.kind === 'Deployment' && o.metadata?.name === EDGE_NAMES.deployment);
  return deployment ? JSON.stringify(deployment.spec.template) : undefined;
}

export interface EnvironmentChange {
  readonly environment: string;
  readonly files: readonly string[];
  /** new: no Deployment before; rolls: its pod template changed; live: files changed, template did not; none: nothing changed. */
  readonly envoyPods: 'new' | 'rolls' | 'live' | 'none' | 'removed';
}

/** Per environment, from the changed files and the edge file before and after. */
export function environmentChanges(
  environments: readonly string[],
  changedFiles: readonly string[],
  edgeText: (environment: string, side: 'before' | 'after') => string | undefined,
): EnvironmentChange[] {
  return environments.map((environment) => {
    const files = changedFiles.filter((f) => f.startsWith(`dist/${environment}/`) || f === `eksctl/${environment}.yaml`);
    const before = podTemplateOf(edgeText(environment, 'before'));
    const after = podTemplateOf(edgeText(environment, 'after'));
    const envoyPods =
      before === undefined && after !== undefined
        ? 'new'
        : before !== undefined && after === undefined
          ? 'removed'
          : before !== after
            ? 'rolls'
            : files.length
              ? 'live'
              : 'none';
    return { environment, files, envoyPods };
  });
}

const POD_WORDS: Record<EnvironmentChange['envoyPods'], string> = {
  new: 'a new Envoy Deployment',
  removed: 'the Envoy Deployment is removed',
  rolls: '**the Envoy pods roll**: every open WebSocket is closed as its pod is replaced',
  live: 'no pod rolls (the live config or other objects change)',
  none: 'nothing changes',
};

/** The Markdown summary. */
export function formatChanges(base: string, changes: readonly EnvironmentChange[], shared: readonly string[]): string {
  const lines = [`### What this change does, against ${base}`, '', '| environment | Envoy pods | generated files changed |', '|---|---|---|'];
  for (const c of changes) lines.push(`| ${c.environment} | ${POD_WORDS[c.envoyPods]} | ${c.files.map((f) => `\`${f}\``).join(', ') || 'none'} |`);
  if (shared.length)
    lines.push('', `Argo CD's objects and settings (\`npm run bootstrap\` checks and applies them again): ${shared.map((f) => `\`${f}\``).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function git(args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function main(): number {
  const { values } = parseArgs({ options: { base: { type: 'string' } } });
  const base = values.base;
  if (!base) {
    process.stderr.write('usage: npm run -s changes -- --base <git ref>, such as origin/main\n');
    return 2;
  }
  if (!git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`]).ok) {
    process.stderr.write(`--base: got "${base}"; allowed: a commit this clone has (fetch it first, e.g. git fetch origin main)\n`);
    return 2;
  }
  const changed = git(['diff', '--name-only', base, '--', 'dist', 'argocd', 'eksctl']).out.split('\n').filter(Boolean);
  const environments = existsSync('dist')
    ? readdirSync('dist')
        .filter((e) => existsSync(path.join('dist', e, 'edge')))
        .sort()
    : [];
  const removed = [...new Set(changed.map((f) => /^dist\/([^/]+)\//.exec(f)?.[1]).filter((e): e is string => !!e && !environments.includes(e)))];
  const edgeText = (environment: string, side: 'before' | 'after') => {
    if (side === 'after') return existsSync(edgeFile(environment)) ? readFileSync(edgeFile(environment), 'utf8') : undefined;
    const shown = git(['show', `${base}:${edgeFile(environment)}`]);
    return shown.ok ? shown.out : undefined;
  };
  const changes = environmentChanges([...environments, ...removed].sort(), changed, edgeText);
  process.stdout.write(
    formatChanges(
      base,
      changes,
      changed.filter((f) => f.startsWith('argocd/')),
    ),
  );
  return 0;
}

if (require.main === module) process.exitCode = main();
