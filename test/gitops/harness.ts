// The GitOps scenarios' typed harness, after Argo CD's own e2e fixture: scripts/verify-gitops.sh
// starts the processes (API servers, Argo CD, git daemon) in a network namespace, then runs these
// scenarios with a description of what it started (VERIFY_GITOPS_CONTEXT, a JSON file). A scenario
// changes the config the way a user does, synthesizes with the real pipeline, pushes, and asserts on
// the real clusters.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
import { loadEnvironments } from '../../config/load';
import { OUTPUT_DIRS, synthesizeProject } from '../../synth/pipeline';
import { reporter, seconds, startedContext, waitFor } from '../verification';
import { type LoopFacts, loopFacts, rewriteUrls } from './facts';

/** What scripts/verify-gitops.sh started and where, as it writes it (VERIFY_GITOPS_CONTEXT). */
export interface Started {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** The checkout Argo CD's repository is pushed from. */
  readonly worktree: string;
  /** The repository content as it stood when the run began (what was seeded, before any URL rewrite). */
  readonly snapshot: string;
  /** A folder of this run, removed by the script. */
  readonly work: string;
  /** The processes' logs (repo-server.log, the LB controller stand-ins' events). */
  readonly logs: string;
  /** The helm binary. */
  readonly helm: string;
  /** The URL rewrites the harness makes in argocd/ and dist/ (the repository and the chart repository). */
  readonly rewrites: readonly (readonly [string, string])[];
  /** The commit seeded: main, and every later stage's branch, point at it before the first sync. */
  readonly seed: string;
  /** --real-clock: kwok's pods turn Ready when started; otherwise they report Ready since minReadySeconds + 5 s ago. */
  readonly realClock: boolean;
}

/** What the scenarios run on: what the script started, and the loop's facts (facts.ts) from the seeded content. */
export interface GitopsContext extends Started {
  readonly facts: LoopFacts;
  readonly environments: LoopFacts['environments'];
  readonly argocdNamespace: string;
  /** The kube context of Argo CD's cluster. */
  readonly argocdContext: string;
  /** The chart the local Helm repository serves (test/fixtures/charts). */
  readonly chartDir: string;
}

/** An object's identity, for kubectl. */
export interface ObjectId {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function gitopsContext(): GitopsContext {
  const started = startedContext<Started>('VERIFY_GITOPS_CONTEXT', 'npm run verify:gitops');
  const facts = loopFacts(started.snapshot);
  return {
    ...started,
    facts,
    environments: facts.environments,
    argocdNamespace: facts.argocdNamespace,
    argocdContext: facts.environments[facts.argocdEnvironment].context,
    chartDir: path.join(started.snapshot, 'test', 'fixtures', 'charts', `${facts.chart.name}-${facts.chart.version}`),
  };
}

/** Measured figures go to the output, one line each, as in the live suite. */
export const report = reporter('verify-gitops');
export { seconds, waitFor };

/** The file first-sync.gitops.test.ts leaves when the loop is up; the other scenarios need it. */
const firstSyncPassed = (ctx: Started) => path.join(ctx.work, 'first-sync.passed');

export class Gitops {
  readonly ctx: GitopsContext = gitopsContext();

  /**
   * Every scenario but the first runs on a loop that is up: bootstrapped, every Application Synced and
   * Healthy. Without it, they fail at once instead of each waiting out its timeouts.
   */
  constructor({ firstSync = false }: { firstSync?: boolean } = {}) {
    if (!firstSync && !existsSync(firstSyncPassed(this.ctx)))
      throw new Error('the first sync did not pass (first-sync.gitops.test.ts): the loop is not up, nothing to test on');
  }

  /**
   * A wait that may span a rollout of the Envoy pods: as given with kwok's backdated Ready, which makes
   * a rollout take seconds; with --real-clock, plus the longest rollout (facts.rolloutSeconds) and 30 s.
   */
  allowingRollout(ms: number): number {
    return this.ctx.realClock ? ms + (this.ctx.facts.rolloutSeconds + 30) * 1000 : ms;
  }

  /** Called by first-sync.gitops.test.ts once every Application is Synced and Healthy. */
  markFirstSyncPassed(): void {
    writeFileSync(firstSyncPassed(this.ctx), `${this.ctx.seed}\n`);
  }

  /** kubectl in an environment's cluster; throws with kubectl's stderr when it fails. */
  kubectl(environment: string, ...args: string[]): string {
    return this.run(this.ctx.environments[environment].context, args);
  }

  /** kubectl in Argo CD's namespace. */
  argocd(...args: string[]): string {
    return this.run(this.ctx.argocdContext, ['-n', this.ctx.argocdNamespace, ...args]);
  }

  /** kubectl in Argo CD's cluster, any namespace. */
  argocdCluster(...args: string[]): string {
    return this.run(this.ctx.argocdContext, args);
  }

  /** `-n NAMESPACE NAME` of an Application given as NAME (Argo CD's namespace) or NAMESPACE/NAME. */
  appArgs(app: string): string[] {
    const [namespace, name] = app.includes('/') ? app.split('/') : [this.ctx.argocdNamespace, app];
    return ['-n', namespace, name];
  }

  private run(context: string, args: string[]): string {
    const out = this.runRaw(context, args);
    if (out.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${out.stderr.trim()}`);
    return out.stdout;
  }

  private runRaw(context: string, args: string[], input?: string): Run {
    const out = spawnSync(this.ctx.kubectl, ['--kubeconfig', this.ctx.kubeconfig, '--context', context, ...args], { encoding: 'utf8', input });
    return { status: out.status, stdout: out.stdout, stderr: out.stderr };
  }

  /** kubectl in an environment's cluster, its exit status and output, whatever they are. */
  tryKubectl(environment: string, ...args: string[]): Run {
    return this.runRaw(this.ctx.environments[environment].context, args);
  }

  /** The environment's three Applications: the root, the edge's and the controller's. */
  appsOf(environment: string): string[] {
    const e = this.ctx.environments[environment];
    return [e.rootApp, e.edgeApp, e.lbApp];
  }

  /** One line on an Application, for a failure's message. */
  appLine(app: string): string {
    return this.tryApp(
      app,
      '{.metadata.name}: {.status.sync.status}/{.status.health.status} at {.status.sync.revision}, operation {.status.operationState.phase}: {.status.operationState.message} {.status.conditions[*].message}',
    );
  }

  /** An Application's status by JSONPath, or "" when it cannot be read (gone, say). */
  tryApp(name: string, jsonpath: string): string {
    const out = this.runRaw(this.ctx.argocdContext, ['get', 'applications.argoproj.io', ...this.appArgs(name), '-o', `jsonpath=${jsonpath}`]);
    return out.status === 0 ? out.stdout : '';
  }

  /** What the LB controller's stand-in in an environment's cluster did, in order (scripts/gitops/lb-controller-standin.py). */
  standinEvents(environment: string): { t: number; event: string; [field: string]: unknown }[] {
    const file = path.join(this.ctx.logs, `lb-controller-standin-${this.ctx.environments[environment].destination}.events.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  json<T = any>(environment: string, ...args: string[]): T {
    return JSON.parse(this.kubectl(environment, ...args, '-o', 'json')) as T;
  }

  /** Edits an environment's config file the way a user does (comments kept). */
  editConfig(environment: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
    const file = path.join(this.ctx.worktree, 'config', 'environments', `${environment}.yaml`);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    edit(doc);
    writeFileSync(file, doc.toString());
  }

  /** `npm run synth` of the worktree's config with the real pipeline, the harness's URL rewrites, into the worktree. */
  synthesize(): void {
    const out = mkdtempSync(path.join(tmpdir(), 'gitops-synth-'));
    try {
      synthesizeProject(out, path.join(this.ctx.worktree, 'config'));
      for (const dir of ['argocd', 'dist']) rewriteUrls(path.join(out, dir), this.ctx.rewrites);
      for (const dir of OUTPUT_DIRS) {
        rmSync(path.join(this.ctx.worktree, dir), { recursive: true, force: true });
        cpSync(path.join(out, dir), path.join(this.ctx.worktree, dir), { recursive: true });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  /**
   * Commits everything in the worktree and pushes; returns the commit and when it was pushed. It goes
   * to main and, unless `mainOnly`, straight to every later stage's branch too (what docs/gitops.md
   * allows in an incident): the scenarios that are not about promotion see every environment follow it.
   */
  push(message: string, { mainOnly = false }: { mainOnly?: boolean } = {}): { sha: string; at: number } {
    const git = (...args: string[]) => {
      const out = spawnSync('git', ['-C', this.ctx.worktree, ...args], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`git ${args.join(' ')}: ${out.stderr.trim()}`);
      return out.stdout.trim();
    };
    git('add', '-A');
    git('commit', '--quiet', '-m', message);
    const later = mainOnly ? [] : Object.values(this.ctx.environments).filter((e) => e.stage > 1);
    git('push', '--quiet', 'origin', 'HEAD:main', ...later.map((e) => `HEAD:refs/heads/${e.branch}`));
    return { sha: git('rev-parse', 'HEAD'), at: performance.now() };
  }

  /** What a git webhook or the UI's Refresh button does: Argo CD looks at the repository now (hard: its manifest cache dropped too). */
  refresh(app: string, kind: 'normal' | 'hard' = 'normal'): void {
    this.argocdCluster('annotate', '--overwrite', 'applications.argoproj.io', ...this.appArgs(app), `argocd.argoproj.io/refresh=${kind}`);
  }

  /** Writes a file into the worktree (relative path). */
  write(file: string, text: string): void {
    mkdirSync(path.dirname(path.join(this.ctx.worktree, file)), { recursive: true });
    writeFileSync(path.join(this.ctx.worktree, file), text);
  }

  /** A file of the worktree (relative path). */
  read(file: string): string {
    return readFileSync(path.join(this.ctx.worktree, file), 'utf8');
  }

  /** Whether a file is in the worktree (relative path). */
  exists(file: string): boolean {
    return existsSync(path.join(this.ctx.worktree, file));
  }

  /** Removes a file from the worktree (relative path). */
  remove(file: string): void {
    rmSync(path.join(this.ctx.worktree, file), { force: true });
  }

  /** An Application's status, by JSONPath; NAME or NAMESPACE/NAME. */
  app(name: string, jsonpath: string): string {
    return this.argocdCluster('get', 'applications.argoproj.io', ...this.appArgs(name), '-o', `jsonpath=${jsonpath}`);
  }

  /** `git checkout HEAD~1 -- <paths>` in the worktree: a file or folder as it was one commit ago. */
  restoreFromParent(...paths: string[]): void {
    const out = spawnSync('git', ['-C', this.ctx.worktree, 'checkout', 'HEAD~1', '--', ...paths], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`git checkout HEAD~1 -- ${paths.join(' ')}: ${out.stderr.trim()}`);
  }

  /**
   * "Kind/namespace/name resourceVersion" of every object of the worktree's dist/<environment>/edge/
   * (as pushed) that exists in the environment's cluster: equal snapshots mean nothing was touched.
   */
  snapshot(environment: string, objects = this.objectsOf(environment)): string[] {
    return this.liveObjects(environment, objects)
      .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.resourceVersion}`)
      .sort();
  }

  /** Those of `objects` that exist in the environment's cluster, as it holds them. */
  liveObjects(environment: string, objects: readonly ObjectId[] = this.objectsOf(environment)): any[] {
    // One kubectl call for all of them (a List of the objects' identities), not one per object.
    const identities = objects.map(({ apiVersion, kind, namespace, name }) => stringify({ apiVersion, kind, metadata: { name, namespace } })).join('---\n');
    const out = this.runRaw(this.ctx.environments[environment].context, ['get', '-f', '-', '--ignore-not-found', '-o', 'json'], identities);
    if (out.status !== 0) throw new Error(`kubectl get -f (${objects.length} objects): ${out.stderr.trim()}`);
    const got = out.stdout.trim() ? JSON.parse(out.stdout) : { items: [] };
    // With --ignore-not-found and nothing found, kubectl may print an object with neither items nor metadata.
    return (got.kind === 'List' ? got.items : [got]).filter((o: any) => o?.metadata);
  }

  /** The identities of the objects of the worktree's dist/<environment>/edge/. */
  objectsOf(environment: string): ObjectId[] {
    return this.distObjects(environment).map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
  }

  /** The objects of the worktree's dist/<environment>/edge/ (or of `dist/<environment>/<sub>`), whole. */
  distObjects(environment: string, sub = 'edge'): any[] {
    const dir = path.join(this.ctx.worktree, 'dist', environment, sub);
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()))
      .filter(Boolean);
  }

  /** `kubectl diff` of the worktree's dist/<environment>/edge/ against its cluster and of dist/<environment>/ against Argo CD's: the two exit codes (0 = no difference). */
  liveDiff(environment: string): [number, number] {
    const diff = (context: string, dir: string) =>
      spawnSync(this.ctx.kubectl, ['--kubeconfig', this.ctx.kubeconfig, '--context', context, 'diff', '-f', path.join(this.ctx.worktree, dir)], {
        encoding: 'utf8',
      }).status ?? -1;
    return [diff(this.ctx.environments[environment].context, `dist/${environment}/edge`), diff(this.ctx.argocdContext, `dist/${environment}`)];
  }

  /** Lines added and removed per file by the last commit: `file(+added-removed)`. */
  lastCommitNumstat(): string[] {
    const out = spawnSync('git', ['-C', this.ctx.worktree, 'diff', '--numstat', 'HEAD~1', 'HEAD'], { encoding: 'utf8' });
    return out.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [added, removed, file] = l.split('\t');
        return `${file}(+${added}-${removed})`;
      });
  }

  /** Runs an npm script in the worktree (the day-2 commands) with the harness's kubeconfig, its current context `environment`'s. */
  npm(environment: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const out = spawnSync('npm', ['run', '-s', ...args], {
      cwd: this.ctx.worktree,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: this.ctx.kubeconfig, ...this.currentContext(environment) },
    });
    return { status: out.status, stdout: out.stdout, stderr: out.stderr };
  }

  /** The same, started in the background: resolves when it exits. */
  npmAsync(environment: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; endedAt: number }> {
    return new Promise((resolve) => {
      const child = spawn('npm', ['run', '-s', ...args], {
        cwd: this.ctx.worktree,
        env: { ...process.env, KUBECONFIG: this.ctx.kubeconfig, ...this.currentContext(environment) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (status) => resolve({ status, stdout, stderr, endedAt: performance.now() }));
    });
  }

  /** Makes `environment`'s context the current one (in a kubeconfig copy of its own) and returns the variables that point at it. */
  private currentContext(environment: string): Record<string, string> {
    const file = path.join(tmpdir(), `gitops-kubeconfig-${environment}-${process.pid}`);
    if (!existsSync(file)) {
      cpSync(this.ctx.kubeconfig, file);
      const out = spawnSync(this.ctx.kubectl, ['--kubeconfig', file, 'config', 'use-context', this.ctx.environments[environment].context], {
        encoding: 'utf8',
      });
      if (out.status !== 0) throw new Error(`kubectl config use-context: ${out.stderr.trim()}`);
    }
    return { KUBECONFIG: file };
  }

  /** `kubectl apply` of one object (JSON) in Argo CD's cluster. */
  applyToArgocd(json: string): void {
    const out = spawnSync(this.ctx.kubectl, ['--kubeconfig', this.ctx.kubeconfig, '--context', this.ctx.argocdContext, 'apply', '-f', '-'], {
      input: json,
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`kubectl apply: ${out.stderr.trim()}`);
  }

  /** The files the changed commit touched (relative paths). */
  changedFiles(): string[] {
    const out = spawnSync('git', ['-C', this.ctx.worktree, 'diff', '--name-only', 'HEAD~1', 'HEAD'], { encoding: 'utf8' });
    return out.stdout.trim().split('\n').filter(Boolean);
  }
}

/** A webhook receiver on loopback for Argo CD's notifications: the key the config's `$key` URL names, in argocd-notifications-secret, points at it. */
export function webhookReceiver(gitops: Gitops): { ready: Promise<void>; messages: Record<string, string>[]; close: () => Promise<void> } {
  const messages: Record<string, string>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      try {
        messages.push(JSON.parse(body));
      } catch {
        messages.push({ unparsed: body });
      }
      res.end('ok');
    });
  });
  const ready = new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)).then(() => {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const { webhookUrl } = loadEnvironments(path.join(gitops.ctx.worktree, 'config')).environments[0].config.gitops.notifications;
    if (!webhookUrl.startsWith('$')) throw new Error(`the scenarios need gitops.notifications.webhookUrl to be a $key, got ${webhookUrl}`);
    gitops.argocd('patch', 'secret', 'argocd-notifications-secret', '--type', 'merge', '-p', JSON.stringify({ stringData: { [webhookUrl.slice(1)]: url } }));
  });
  return { ready, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The environment the daily-loop scenarios change: one that is not Argo CD's own cluster, if there is one. */
export function dailyLoopEnvironment(ctx: GitopsContext): string {
  const names = Object.keys(ctx.environments);
  return names.find((e) => ctx.environments[e].context !== ctx.argocdContext) ?? names[0];
}
