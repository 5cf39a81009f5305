// npm run promote -- --env <name> [--revision <commit>] [--wait <seconds>] [--remote <name>] [--dry-run]
// Moves a later stage's branch (its gitops.targetRevision, such as deploy/prod) to a commit that every
// environment of the stage before runs Synced and Healthy: root and children, as Argo CD reports them.
// Without --revision it promotes the commit the stage before runs. With --wait it waits for that stage
// to get there, and stops at once when it fails (a Degraded Application or a failed sync at the commit).
// Reads Applications with kubectl in Argo CD's cluster (the current kube context must be the
// environment's cluster, as for the day-2 commands); pushes with git, only to the repository Argo CD
// follows. Exit codes: 0 promoted (or already there), 1 the stage before is not Synced and Healthy at
// the commit, 2 error.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors';
import { type Environment, loadEnvironments } from '../config/load';
import { childApplicationsNamespace, edgeApplicationName, lbControllerApplicationName, rootApplicationName } from '../delivery/names';
import { previousStage } from '../delivery/stages';
import { argocdEnvironmentOf, type Contexts, preflight, type Run, runCommand } from './day2';
import { ContextError, contextsOf, resolveContexts } from './kube-context';

export const PROMOTE_EXIT = { promoted: 0, notReady: 1, error: 2 } as const;
const APPLICATIONS = 'applications.argoproj.io';

/** What promote reads of one Application. */
export interface ApplicationState {
  readonly name: string;
  /** The git commit it is Synced at; for a Helm chart's Application, the chart version. */
  readonly revision?: string;
  readonly sync?: string;
  readonly health?: string;
  readonly healthMessage?: string;
  readonly operationPhase?: string;
  readonly operationRevision?: string;
  readonly operationMessage?: string;
  /** Set while Running: an attempt failed and waits for its retry (Argo CD clears it when the retry starts). */
  readonly finishedAt?: string;
  readonly repoURL?: string;
  readonly missing?: true;
}

/** An environment's Applications as promote checks them: the root and the edge follow git, the controller a chart. */
export function applicationsOf(environment: Environment): { ref: string; followsGit: boolean }[] {
  const { gitops } = environment.config;
  const apps = childApplicationsNamespace(gitops);
  return [
    { ref: `${gitops.argocdNamespace}/${rootApplicationName(gitops)}`, followsGit: true },
    { ref: `${apps}/${edgeApplicationName(gitops)}`, followsGit: true },
    { ref: `${apps}/${lbControllerApplicationName(gitops)}`, followsGit: false },
  ];
}

export function parseApplication(ref: string, json: string | undefined): ApplicationState {
  if (json === undefined) return { name: ref, missing: true };
  const app = JSON.parse(json);
  const op = app.status?.operationState;
  return {
    name: ref,
    revision: app.status?.sync?.revision,
    sync: app.status?.sync?.status,
    health: app.status?.health?.status,
    healthMessage: app.status?.health?.message,
    operationPhase: op?.phase,
    // The commit of the last finished attempt (a retry clears it when it starts).
    operationRevision: op?.syncResult?.revision,
    operationMessage: op?.message,
    finishedAt: op?.finishedAt,
    repoURL: app.spec?.source?.repoURL,
  };
}

export type Verdict = { readonly state: 'ready' } | { readonly state: 'waiting'; readonly why: string } | { readonly state: 'failed'; readonly why: string };

/**
 * Whether one Application runs `commit` Synced and Healthy. A failure at the commit (Degraded, or an
 * attempt to sync it failed, retried or not) stops the wait; anything else (not there yet, Progressing) waits.
 */
export function verdict(app: ApplicationState, commit: string, followsGit: boolean): Verdict {
  const short = (r?: string) => (r ? r.slice(0, 7) : 'nothing');
  if (app.missing) return { state: 'waiting', why: `${app.name} does not exist` };
  const atCommit = !followsGit || app.revision === commit;
  const opAtCommit = !followsGit || app.operationRevision === commit;
  const attemptFailed = app.operationPhase === 'Failed' || app.operationPhase === 'Error' || (app.operationPhase === 'Running' && app.finishedAt !== undefined);
  if (opAtCommit && attemptFailed) {
    return { state: 'failed', why: `${app.name}: its sync of ${short(commit)} failed (${app.operationMessage ?? app.operationPhase})` };
  }
  if (atCommit && app.health === 'Degraded') return { state: 'failed', why: `${app.name} is Degraded at ${short(commit)}: ${app.healthMessage ?? ''}`.trim() };
  if (!atCommit) return { state: 'waiting', why: `${app.name} runs ${short(app.revision)}, not ${short(commit)}` };
  if (app.sync !== 'Synced' || app.health !== 'Healthy' || app.operationPhase === 'Running') {
    const op = app.operationPhase === 'Running' ? ', a sync running' : '';
    return { state: 'waiting', why: `${app.name} is ${app.sync ?? 'unknown'}/${app.health ?? 'unknown'}${op} at ${short(commit)}` };
  }
  return { state: 'ready' };
}

/** The host and path a git URL names, so that git@host:org/repo.git and https://host/org/repo are one repository. */
export function repositoryKey(url: string): string {
  const bare = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const scp = /^(?:[^@\s/]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(bare);
  if (scp) return `${scp[1]}/${scp[2]}`.toLowerCase();
  try {
    const u = new URL(bare);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`.toLowerCase();
  } catch {
    return bare.toLowerCase();
  }
}

interface Options {
  readonly env: string;
  readonly revision?: string;
  readonly waitSeconds: number;
  readonly remote: string;
  readonly dryRun: boolean;
}

export class PromoteUsageError extends Error {}

export function parsePromoteArgs(argv: readonly string[]): Options {
  const usage = 'usage: promote --env <environment> [--revision <commit>] [--wait <seconds>] [--remote <git remote>] [--dry-run]';
  let values: { env?: string; revision?: string; wait?: string; remote?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { env: { type: 'string' }, revision: { type: 'string' }, wait: { type: 'string' }, remote: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      strict: true,
    }));
  } catch (err) {
    throw new PromoteUsageError(`${(err as Error).message}; ${usage}`);
  }
  if (values.env === undefined) throw new PromoteUsageError(`promote needs --env <environment>; ${usage}`);
  const waitSeconds = values.wait === undefined ? 0 : Number(values.wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 86_400) {
    throw new PromoteUsageError(`--wait: got ${JSON.stringify(values.wait)}; allowed: whole seconds from 0 to 86400; ${usage}`);
  }
  return { env: values.env, revision: values.revision, waitSeconds, remote: values.remote ?? 'origin', dryRun: values['dry-run'] ?? false };
}

export interface PromoteIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now: () => number;
  readonly pause: (ms: number) => Promise<void>;
}

/** Runs promote end to end; returns its exit code. `run` runs kubectl and git. */
export async function promote(options: Options, environments: readonly Environment[], projectRoot: string, run: Run, io: PromoteIo): Promise<number> {
  const fail = (message: string) => {
    io.err(`error: ${message}`);
    return PROMOTE_EXIT.error;
  };
  const target = environments.find((e) => e.name === options.env);
  if (!target) return fail(`--env: got "${options.env}"; allowed: ${environments.map((e) => e.name).join(', ')} (config/environments/*.yaml)`);
  const { stage, targetRevision: branch } = target.config.gitops;
  if (stage === 1) {
    return fail(`environment ${target.name} is stage 1: it follows ${branch}, so a push deploys it; promote moves a later stage (gitops.stage)`);
  }
  const before = previousStage(environments, target);
  const argocd = argocdEnvironmentOf(target, environments);
  const elsewhere = before.filter((e) => argocdEnvironmentOf(e, environments) !== argocd);
  if (elsewhere.length) return fail(`${elsewhere.map((e) => e.name).join(', ')} use another Argo CD than ${target.name}: promote reads both stages from one`);

  let contexts: Contexts;
  try {
    const view = run(['kubectl', 'config', 'view', '-o', 'json']);
    if (view.status !== 0) return fail(`kubectl config view failed: ${view.stderr.trim()}`);
    contexts = resolveContexts(target, argocd, contextsOf(view.stdout));
  } catch (err) {
    if (err instanceof ContextError) return fail(err.message);
    throw err;
  }
  const problem = preflight('status', contexts, run);
  if (problem) return fail(problem);

  const git = (...args: string[]) => run(['git', '-C', projectRoot, ...args]);
  const read = (ref: string): ApplicationState => {
    const [namespace, name] = ref.split('/');
    const got = run(['kubectl', '--context', contexts.argocd, '-n', namespace, 'get', APPLICATIONS, name, '-o', 'json']);
    return parseApplication(ref, got.status === 0 ? got.stdout : undefined);
  };

  // The commit: the one named, or the one the stage before runs.
  let commit: string;
  if (options.revision !== undefined) {
    const parsed = git('rev-parse', '--verify', '--quiet', `${options.revision}^{commit}`);
    if (parsed.status !== 0) return fail(`--revision: ${options.revision} is not a commit of this checkout (git fetch first?)`);
    commit = parsed.stdout.trim();
  } else {
    const running = [...new Set(before.map((e) => read(applicationsOf(e)[0].ref).revision ?? ''))];
    if (running.length !== 1 || !running[0]) {
      return fail(
        `stage ${stage - 1} (${before.map((e) => e.name).join(', ')}) runs ${running.filter(Boolean).join(' and ') || 'nothing yet'}: name the commit with --revision`,
      );
    }
    commit = running[0];
  }
  io.out(
    `promote ${target.name} (stage ${stage}, branch ${branch}) to ${commit.slice(0, 7)}: stage ${stage - 1} (${before.map((e) => e.name).join(', ')}) must run it Synced and Healthy`,
  );

  // The stage before, at the commit: every Application Synced and Healthy.
  const t0 = io.now();
  const deadline = t0 + options.waitSeconds * 1000;
  let lastWhy = '';
  for (;;) {
    const verdicts = before.flatMap((e) => applicationsOf(e).map((a) => verdict(read(a.ref), commit, a.followsGit)));
    const failed = verdicts.filter((v) => v.state === 'failed');
    const waiting = verdicts.filter((v) => v.state === 'waiting');
    if (failed.length) {
      io.err(
        `not promoted: ${failed.map((v) => (v as { why: string }).why).join('; ')}. ${target.name} stays on ${branch}: fix it on stage ${stage - 1} first (docs/gitops.md, "Promotion")`,
      );
      return PROMOTE_EXIT.notReady;
    }
    if (!waiting.length) break;
    const why = waiting.map((v) => (v as { why: string }).why).join('; ');
    if (io.now() >= deadline) {
      io.err(`not promoted: ${why}${options.waitSeconds ? ` (waited ${options.waitSeconds}s)` : ''}. ${target.name} stays on ${branch}`);
      return PROMOTE_EXIT.notReady;
    }
    if (why !== lastWhy) io.out(`   waiting: ${why}`);
    lastWhy = why;
    await io.pause(2000);
  }
  io.out(`   stage ${stage - 1} runs ${commit.slice(0, 7)} Synced and Healthy (${((io.now() - t0) / 1000).toFixed(1)}s)`);

  // Push only to the repository Argo CD follows for this environment.
  const root = read(applicationsOf(target)[0].ref);
  if (root.missing || !root.repoURL) return fail(`${root.name} does not exist: run npm run bootstrap first`);
  const remote = git('remote', 'get-url', options.remote);
  if (remote.status !== 0) return fail(`git remote ${options.remote}: ${remote.stderr.trim()}`);
  const remoteUrl = remote.stdout.trim();
  if (repositoryKey(remoteUrl) !== repositoryKey(root.repoURL)) {
    return fail(`git remote ${options.remote} is ${remoteUrl}, but Argo CD follows ${root.repoURL} for ${target.name}: name the right one with --remote`);
  }
  const current = git('ls-remote', options.remote, `refs/heads/${branch}`);
  if (current.status !== 0) return fail(`git ls-remote ${options.remote}: ${current.stderr.trim()}`);
  const was = current.stdout.trim().split(/\s+/)[0] || undefined;
  if (was === commit) {
    io.out(`${target.name}: ${branch} is at ${commit.slice(0, 7)} already`);
    return PROMOTE_EXIT.promoted;
  }
  if (options.dryRun) {
    io.out(`dry run: would push ${commit.slice(0, 7)} to ${options.remote} ${branch} (now ${was?.slice(0, 7) ?? 'absent'})`);
    return PROMOTE_EXIT.promoted;
  }
  // A plain push: git refuses to move the branch backwards or over commits that are not in this one.
  const pushed = git('push', '--quiet', options.remote, `${commit}:refs/heads/${branch}`);
  if (pushed.status !== 0) {
    return fail(
      `git push to ${branch} refused: ${pushed.stderr.trim().split('\n').slice(-2).join(' ')}. ` +
        `If ${branch} holds a hotfix that is not on stage ${stage - 1}'s branch, bring it there first (docs/gitops.md, "Promotion")`,
    );
  }
  // Argo CD would see the push at its next poll; a refresh (what a git webhook does) makes it look now.
  for (const { ref } of applicationsOf(target).filter((a) => a.followsGit)) {
    const [namespace, name] = ref.split('/');
    run(['kubectl', '--context', contexts.argocd, '-n', namespace, 'annotate', '--overwrite', APPLICATIONS, name, 'argocd.argoproj.io/refresh=normal']);
  }
  io.out(`${target.name}: ${branch} moved from ${was?.slice(0, 7) ?? 'nothing'} to ${commit.slice(0, 7)}; Argo CD syncs it now`);
  return PROMOTE_EXIT.promoted;
}

async function main(): Promise<number> {
  try {
    const options = parsePromoteArgs(process.argv.slice(2));
    const projectRoot = path.resolve(__dirname, '..');
    const { environments } = loadEnvironments(path.join(projectRoot, 'config'));
    return await promote(options, environments, projectRoot, runCommand, {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      now: () => Date.now(),
      pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
  } catch (err) {
    if (err instanceof PromoteUsageError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return PROMOTE_EXIT.error;
    }
    throw err;
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
