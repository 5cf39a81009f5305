// The cluster scenarios' typed harness, as test/gitops/harness.ts is for Argo CD: scripts/verify-cluster.sh
// builds the tools and starts one real kube-apiserver per environment, then runs these scenarios with a
// description of what it started (VERIFY_CLUSTER_CONTEXT, a JSON file). A scenario runs the real
// kubectl, linters and day-2 commands against those servers and asserts on what they answer.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { type Environment, loadEnvironments } from '../../config/load';
import { reporter, seconds, startedContext, waitFor as waitUntil } from '../verification';

/** What scripts/verify-cluster.sh started, for one environment: its API server, under this kube context. */
export interface ClusterEnvironment {
  /** Named as `aws eks update-kubeconfig` names the environment's EKS cluster (its ARN). */
  readonly context: string;
}

export interface ClusterContext {
  /** The checkout verified (its dist/, argocd/, config/ and cli/). */
  readonly root: string;
  /** A folder of this run, removed by the script. */
  readonly work: string;
  /** One kubeconfig holding every environment's context; its current context is Argo CD's. */
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly kubeconform: string;
  /** -strict, the Kubernetes version and the schema locations (the generated Kubernetes and CRD schemas). */
  readonly kubeconformArgs: readonly string[];
  readonly kubeScore: string;
  /** actionlint, for the CI workflow shipped in .github/workflows/. */
  readonly actionlint: string;
  /** The environment whose cluster Argo CD runs in (gitops.destinationName in-cluster). */
  readonly argocdEnvironment: string;
  readonly environments: Readonly<Record<string, ClusterEnvironment>>;
}

export function clusterContext(): ClusterContext {
  return startedContext<ClusterContext>('VERIFY_CLUSTER_CONTEXT', 'npm run verify:cluster');
}

/** Measured figures go to the output, one line each, as in the live and GitOps suites. */
export const report = reporter('verify-cluster');
export { seconds };

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export class Cluster {
  /** The environments as the project's config declares them (config/), by name. */
  readonly config: ReadonlyMap<string, Environment>;

  constructor(readonly ctx: ClusterContext = clusterContext()) {
    this.config = new Map(loadEnvironments(path.join(ctx.root, 'config')).environments.map((e) => [e.name, e]));
  }

  /** Every environment's name, sorted. */
  get environments(): string[] {
    return Object.keys(this.ctx.environments).sort();
  }

  get argocdContext(): string {
    return this.ctx.environments[this.ctx.argocdEnvironment].context;
  }

  /** kubectl in an environment's cluster; throws with kubectl's stderr when it fails. */
  kubectl(environment: string, ...args: string[]): string {
    return this.ok(this.run(this.ctx.environments[environment].context, args), args);
  }

  /** kubectl in Argo CD's cluster; throws when it fails. */
  argocd(...args: string[]): string {
    return this.ok(this.run(this.argocdContext, args), args);
  }

  /** kubectl in a context, whatever its exit. */
  run(context: string, args: readonly string[]): Run {
    const out = spawnSync(this.ctx.kubectl, ['--kubeconfig', this.ctx.kubeconfig, '--context', context, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: out.status, stdout: out.stdout, stderr: out.stderr };
  }

  /** kubectl in a context, in the background: resolves with its exit and output. */
  runAsync(context: string, args: readonly string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = this.watch(context, args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => {
        stdout += d;
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /**
   * The live state of the objects of a file or folder (`kubectl get -f`), those that exist: "Kind/namespace/name"
   * to its resourceVersion and deletionTimestamp (empty when not being deleted).
   */
  live(context: string, fileOrDir: string): Map<string, { resourceVersion: string; deletionTimestamp: string }> {
    const out = this.run(context, ['get', '-f', fileOrDir, '--ignore-not-found', '-o', 'json']);
    if (out.status !== 0) throw new Error(`kubectl get -f ${fileOrDir}: exit ${out.status}: ${out.stderr.trim()}`);
    const parsed = out.stdout.trim() ? JSON.parse(out.stdout) : { items: [] };
    // A List when kubectl found several; the object itself when one; `{}` or an empty List when none.
    const items: K8sObject[] = (Array.isArray(parsed.items) ? parsed.items : [parsed]).filter((o: Partial<K8sObject>) => o.metadata);
    return new Map(
      items.map((o) => [
        `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
        {
          resourceVersion: String((o.metadata as { resourceVersion?: string }).resourceVersion),
          deletionTimestamp: (o.metadata as { deletionTimestamp?: string }).deletionTimestamp ?? '',
        },
      ]),
    );
  }

  /** Writes objects to one file of the run (for `kubectl -f`). */
  writeObjects(name: string, objects: readonly K8sObject[]): string {
    const file = path.join(this.ctx.work, `${name}.yaml`);
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    return file;
  }

  /** kubectl in the background: the caller reads its lines and kills it. */
  watch(context: string, args: readonly string[]): ChildProcess {
    return spawn(this.ctx.kubectl, ['--kubeconfig', this.ctx.kubeconfig, '--context', context, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  contextOf(environment: string): string {
    return this.ctx.environments[environment].context;
  }

  /** A repository path (relative to the checkout). */
  path(...parts: string[]): string {
    return path.join(this.ctx.root, ...parts);
  }

  /** The objects of the .yaml files directly in a folder (as `kubectl apply -f DIR` reads it), or of one file. */
  objects(dirOrFile: string): K8sObject[] {
    return objectsOfFiles(statSync(dirOrFile).isDirectory() ? yamlFilesIn(dirOrFile) : [dirOrFile]);
  }

  /** Writes the Namespaces among a folder's objects to one file of the run, for a real apply ahead of a dry run. */
  namespacesFile(dir: string, name: string): string {
    return this.writeObjects(
      `${name}-namespaces`,
      this.objects(dir).filter((o) => o.kind === 'Namespace'),
    );
  }

  /** A fresh folder of the run. */
  tempDir(prefix: string): string {
    return mkdtempSync(path.join(this.ctx.work, `${prefix}-`));
  }

  /**
   * GIVEN every environment applied for real (see applyAll). Idempotent; done once per run, by whichever
   * scenario needs it first.
   */
  async applied(): Promise<void> {
    if (!existsSync(path.join(this.ctx.work, 'applied'))) await this.applyAll();
  }

  /**
   * kubectl apply of the Namespaces, argocd/, each dist/<env>/edge/ in its own cluster and dist/<env>/ in
   * Argo CD's: what was applied where, and how many objects kubectl reported for it. Throws on a refusal.
   */
  async applyAll(): Promise<{ what: string; objects: number; applied: number }[]> {
    // The Namespaces first (the server refuses objects in a namespace that does not exist), then the rest, side by side.
    await Promise.all(this.allNamespaceFiles().map((file) => this.applyAsync(file.context, '-f', file.path)));
    const applied = await Promise.all(
      this.targets().map(async ({ what, context, dir }) => ({
        what,
        objects: this.objects(dir).length,
        applied: (await this.applyAsync(context, '-f', dir)).length,
      })),
    );
    writeFileSync(path.join(this.ctx.work, 'applied'), '');
    return applied;
  }

  /** What we ship and where it goes: each dist/<env>/edge/ to its cluster, each dist/<env>/ and argocd/ to Argo CD's. */
  targets(): { what: string; context: string; dir: string }[] {
    return [
      ...this.environments.flatMap((env) => [
        { what: `dist/${env}/edge/ in ${env}'s cluster`, context: this.contextOf(env), dir: this.path('dist', env, 'edge') },
        { what: `dist/${env}/ in Argo CD's`, context: this.argocdContext, dir: this.path('dist', env) },
      ]),
      { what: "argocd/ in Argo CD's", context: this.argocdContext, dir: this.path('argocd') },
    ];
  }

  /** The Namespaces of argocd/ (in Argo CD's cluster) and of each dist/<env>/edge/ (in its own): the files and where they go. */
  allNamespaceFiles(): { context: string; path: string }[] {
    return [
      { context: this.argocdContext, path: this.namespacesFile(this.path('argocd'), 'argocd') },
      ...this.environments.map((env) => ({ context: this.contextOf(env), path: this.namespacesFile(this.path('dist', env, 'edge'), env) })),
    ];
  }

  /** kubectl apply with strict validation; returns the names kubectl printed. */
  applyTo(context: string, ...args: string[]): string[] {
    const full = ['apply', '--validate=strict', ...args, '-o', 'name'];
    return this.ok(this.run(context, full), full).trim().split('\n').filter(Boolean);
  }

  /** The same, in the background. */
  async applyAsync(context: string, ...args: string[]): Promise<string[]> {
    const full = ['apply', '--validate=strict', ...args, '-o', 'name'];
    return this.ok(await this.runAsync(context, full), full)
      .trim()
      .split('\n')
      .filter(Boolean);
  }

  /** A day-2 command (`npm run <command> -- ...`, cli/day2.ts) run from the checkout with `current`'s context the current one. */
  day2(current: string, ...args: string[]): Run {
    const out = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/day2.ts', ...args], {
      cwd: this.ctx.root,
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: this.kubeconfigCurrent(current) },
    });
    return { status: out.status, stdout: out.stdout, stderr: out.stderr };
  }

  /** The same, in the background: resolves when it exits. */
  day2Async(current: string, ...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/day2.ts', ...args], {
        cwd: this.ctx.root,
        env: { ...process.env, KUBECONFIG: this.kubeconfigCurrent(current) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** A copy of the run's kubeconfig whose current context is `environment`'s (as `kubectl config use-context` leaves it). */
  private kubeconfigCurrent(environment: string): string {
    const file = path.join(this.ctx.work, `kubeconfig-current-${environment}`);
    if (!existsSync(file)) {
      copyFileSync(this.ctx.kubeconfig, file);
      const out = spawnSync(this.ctx.kubectl, ['--kubeconfig', file, 'config', 'use-context', this.contextOf(environment)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`kubectl config use-context: ${out.stderr.trim()}`);
    }
    return file;
  }

  private ok(out: Run, args: readonly string[]): string {
    if (out.status !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${out.status}: ${out.stderr.trim()}`);
    return out.stdout;
  }
}

/** A linter or other tool of the run, whatever its exit. */
export function tool(binary: string, args: readonly string[], cwd: string): Run {
  const out = spawnSync(binary, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** The .yaml files directly in a folder, sorted (as `kubectl apply -f DIR` reads it). */
export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The YAML files under a folder, at any depth (as kubeconform reads a folder). */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .map((f) => path.join(dir, f))
    .sort();
}

/** The objects of files (every document that is not empty). */
export function objectsOfFiles(files: readonly string[]): K8sObject[] {
  return files.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as K8sObject)).filter(Boolean);
}

/** What a finalizer stand-in saw when it released its object. */
export interface Release {
  readonly object: string;
  readonly at: number;
  /** What `whileReleasing` said when the release happened. */
  readonly note: string;
}

/**
 * A stand-in for the controller that owns a finalizer (the LB controller for an Ingress, Argo CD for an
 * Application): there is no controller on these servers, so it watches one object and, once its deletion
 * has started, records that (with `whileReleasing()`'s note) and removes the finalizers, as the controller
 * does when it is done. Event-driven: a `kubectl get --watch` of the object.
 */
export class FinalizerStandIn {
  private readonly child: ChildProcess;
  private seen = false;
  private released = false;
  private buffer = '';

  constructor(
    private readonly cluster: Cluster,
    readonly context: string,
    readonly kind: string,
    readonly namespace: string,
    readonly name: string,
    private readonly log: Release[],
    private readonly whileReleasing: () => string = () => '',
  ) {
    this.child = cluster.watch(context, ['-n', namespace, 'get', kind, name, '--watch', '-o', 'jsonpath={.metadata.deletionTimestamp}{"\\n"}']);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      for (const line of lines) this.onEvent(line.trim());
    });
  }

  /** True once the watch has shown the object as it is (its first event). */
  get watching(): boolean {
    return this.seen;
  }

  private onEvent(deletionTimestamp: string): void {
    this.seen = true;
    if (!deletionTimestamp || this.released) return;
    this.released = true;
    const note = this.whileReleasing();
    this.log.push({ object: `${this.kind}/${this.name}`, at: performance.now(), note });
    this.cluster.run(this.context, ['-n', this.namespace, 'patch', this.kind, this.name, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
  }

  stop(): void {
    this.child.kill();
  }
}

/** Polls `check` every 100 ms until it returns a value that is not undefined; fails with `what` after `timeoutMs`. */
export const waitFor = <T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> => waitUntil(what, timeoutMs, check, 100);
