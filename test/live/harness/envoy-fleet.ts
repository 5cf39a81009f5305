// Envoy replicas run by the live suite: the real binary on the synthesized bootstrap (with the
// listed local rewrites), started with the Deployment's own arguments.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadEnvironment, loadEnvironments } from '../../../config/load';
import type { EdgeConfig } from '../../../config/schema';
import { inlineEnvoyConfig } from '../../../envoy/bootstrap';
import { LIVE_DIR, LIVE_FILES } from '../../../envoy/live';
import { EDGE_NAMES } from '../../../k8s/names';
import { outputPaths, synthesizeProject } from '../../../synth/pipeline';
import { ConfigMapVolume } from './configmap-volume';
import type { DnsStandin } from './dns-standin';
import { applyLocalRewrites, applyLocalRewritesToLiveFiles, formatRewrite, type LocalRewrite, type LocalTarget } from './local-rewrites';

/** What the live suite runs: the objects Argo CD would apply, read back from synthesized files. */
export interface SynthesizedEdge {
  readonly config: EdgeConfig;
  readonly bootstrap: Record<string, any>;
  /** The live ConfigMap's files (DiscoveryResponses), parsed, by file name. */
  readonly liveFiles: Record<string, any>;
  /** The Envoy Deployment as synthesized. */
  readonly deployment: Record<string, any>;
  /** The Envoy container's args, as in the Deployment. */
  readonly args: readonly string[];
  readonly image: string;
  readonly objects: readonly Record<string, any>[];
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export function readManifests(dir: string): Record<string, any>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()));
}

function edgeFrom(objects: Record<string, any>[], config: EdgeConfig): SynthesizedEdge {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'envoy-proxy');
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === EDGE_NAMES.bootstrapConfigMap);
  const liveConfigMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === EDGE_NAMES.liveConfigMap);
  if (!deployment || !configMap || !liveConfigMap) throw new Error('the synthesized files hold no envoy-proxy Deployment, bootstrap or live ConfigMap');
  const container = deployment.spec.template.spec.containers.find((c: any) => c.name === 'envoy');
  return {
    config,
    bootstrap: parseYaml(configMap.data['envoy.yaml']),
    liveFiles: Object.fromEntries(Object.entries(liveConfigMap.data as Record<string, string>).map(([file, text]) => [file, parseYaml(text)])),
    deployment,
    args: container.args,
    image: container.image,
    objects,
  };
}

/** The environment whose committed output the live suite runs by default: the seed's. */
export const LIVE_ENVIRONMENT = 'prod';

/** Every environment's committed Envoy objects, by environment name. */
export function committedEdges(): Map<string, SynthesizedEdge> {
  const { environments } = loadEnvironments(path.join(PROJECT_ROOT, 'config'));
  return new Map(environments.map((e) => [e.name, committedEdge(e.name)]));
}

/** An environment's committed Envoy objects (dist/<environment>/edge/): exactly what Argo CD syncs. */
export function committedEdge(environment = LIVE_ENVIRONMENT): SynthesizedEdge {
  const { config } = loadEnvironment(environment, path.join(PROJECT_ROOT, 'config'));
  return edgeFrom(readManifests(path.join(PROJECT_ROOT, outputPaths(environment).edge)), config);
}

/**
 * The shipped config with `overrides` merged into the live environment's file, synthesized through
 * the real pipeline (validation included) and read back: for behaviours that need a value the
 * shipped config does not have.
 */
export function synthesizedEdge(overrides: Record<string, unknown>, environment = LIVE_ENVIRONMENT): SynthesizedEdge {
  const root = mkdtempSync(path.join(tmpdir(), 'live-edge-'));
  try {
    const configDir = path.join(root, 'config');
    cpSync(path.join(PROJECT_ROOT, 'config'), configDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    const envFile = path.join(configDir, 'environments', `${environment}.yaml`);
    writeFileSync(envFile, toYaml(deepMerge(parseYaml(readFileSync(envFile, 'utf8')), overrides)));
    synthesizeProject(root, configDir);
    const { config } = loadEnvironment(environment, configDir);
    return edgeFrom(readManifests(path.join(root, outputPaths(environment).edge)), config);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The edge's bootstrap with its live files written back inline (envoy/bootstrap.ts,
 * inlineEnvoyConfig): what `envoy --mode validate` can check, since it does not read path sources.
 */
export function inlineBootstrap(edge: Pick<SynthesizedEdge, 'bootstrap' | 'liveFiles'>): Record<string, any> {
  const only = (file: string) => {
    const { '@type': _type, ...resource } = edge.liveFiles[file].resources[0];
    return resource;
  };
  return inlineEnvoyConfig({
    bootstrap: edge.bootstrap,
    live: { routes: only(LIVE_FILES.routes), backendCluster: only(LIVE_FILES.clusters), runtime: only(LIVE_FILES.runtime) as any },
  }) as Record<string, any>;
}

function serializeLiveFiles(files: Record<string, any>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([file, response]) => [file, toYaml(response)]));
}

function deepMerge(base: any, overrides: any): any {
  if (typeof base !== 'object' || base === null || typeof overrides !== 'object' || overrides === null) return overrides;
  const merged = { ...base };
  for (const [k, v] of Object.entries(overrides)) merged[k] = deepMerge(base[k], v);
  return merged;
}

export interface AccessLogEntry {
  readonly response_code: number | string;
  readonly response_flags: string;
  readonly upstream_host: string | null;
  readonly [field: string]: unknown;
}

const running = new Set<ChildProcess>();
// Whatever happens to the test process, no Envoy outlives it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class EnvoyReplica {
  /** Every line Envoy wrote to stdout (where the access log goes), and those lines parsed as JSON. */
  readonly stdoutLines: string[] = [];
  readonly accessLog: AccessLogEntry[] = [];
  readonly envoyLog: string[] = [];
  exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly address: string,
    readonly edge: SynthesizedEdge,
    readonly rewrites: readonly LocalRewrite[],
    private readonly child: ChildProcess,
    private readonly workDir: string,
    readonly binary: string,
    private readonly target: LocalTarget,
    private readonly liveVolume: ConfigMapVolume,
  ) {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        this.stdoutLines.push(line);
        try {
          this.accessLog.push(JSON.parse(line));
        } catch {
          // Not JSON: kept in stdoutLines, where the access-log test finds it.
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.envoyLog.push(...chunk.split('\n').filter(Boolean)));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        running.delete(child);
        resolve();
      }),
    );
  }

  static async start(opts: { binary: string; edge: SynthesizedEdge; name: string; address: string; dns: DnsStandin }): Promise<EnvoyReplica> {
    const workDir = mkdtempSync(path.join(tmpdir(), `live-${opts.name}-`));
    const target: LocalTarget = {
      bindAddress: opts.address,
      dnsResolver: opts.dns.address,
      liveDir: { from: LIVE_DIR, to: path.join(workDir, 'live') },
    };
    const { bootstrap, rewrites } = applyLocalRewrites(opts.edge.bootstrap, target);
    const liveVolume = new ConfigMapVolume(target.liveDir!.to);
    const live = applyLocalRewritesToLiveFiles(opts.edge.liveFiles, target);
    liveVolume.write(serializeLiveFiles(live.files));
    rewrites.push(...live.rewrites);
    const configPath = path.join(workDir, 'envoy.yaml');
    writeFileSync(configPath, toYaml(bootstrap));
    const args = [...opts.edge.args];
    args[args.indexOf('--config-path') + 1] = configPath;
    // setpriv (util-linux) has the kernel kill Envoy if this process dies in any way, SIGKILL included.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', opts.binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const replica = new EnvoyReplica(opts.name, opts.address, opts.edge, rewrites, child, workDir, opts.binary, target, liveVolume);
    await replica.waitUntil(async () => (await replica.readyStatus()) === 200, 15_000, 'answers /ready with 200');
    return replica;
  }

  get config(): EdgeConfig {
    return this.edge.config;
  }

  /** Envoy's process id (setpriv execs Envoy in its own process). */
  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Swaps this replica's live ConfigMap volume to `liveFiles` (DiscoveryResponses by file name, as
   * read from a synthesized live ConfigMap), the way the kubelet updates a mounted ConfigMap.
   */
  swapLive(liveFiles: Record<string, any>): void {
    this.liveVolume.write(serializeLiveFiles(applyLocalRewritesToLiveFiles(liveFiles, this.target).files));
  }

  /** Writes raw texts into the live volume (a broken file, say), the kubelet's way. */
  swapLiveTexts(texts: Record<string, string>): void {
    this.liveVolume.write(texts);
  }

  describeRewrites(): string {
    return this.rewrites.map(formatRewrite).join('\n');
  }

  /** Status of GET /ready on the ready port, or 0 when the connection fails. */
  async readyStatus(): Promise<number> {
    try {
      const res = await fetch(`http://${this.address}:${this.config.envoy.readyPort}/ready`);
      await res.arrayBuffer();
      return res.status;
    } catch {
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited (${this.exitCode}):\n${this.envoyLog.slice(-20).join('\n')}`);
      return 0;
    }
  }

  /** Envoy's counters and gauges, from the (loopback) admin interface. */
  async stats(filter?: string): Promise<Map<string, number>> {
    const q = filter ? `&filter=${encodeURIComponent(filter)}` : '';
    const res = await fetch(`http://${this.address}:${this.config.envoy.adminPort}/stats?format=json${q}`);
    const body = (await res.json()) as { stats: { name?: string; value?: number }[] };
    return new Map(body.stats.filter((s) => s.name !== undefined).map((s) => [s.name!, Number(s.value)]));
  }

  async stat(name: string): Promise<number> {
    return (await this.stats(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)).get(name) ?? 0;
  }

  /** A text stat (such as a live file's version_text), or undefined when Envoy has none by that name. */
  async textStat(name: string): Promise<string | undefined> {
    const res = await fetch(`http://${this.address}:${this.config.envoy.adminPort}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`);
    const match = /^[^:]+: "(.*)"$/m.exec(await res.text());
    return match?.[1];
  }

  /** Health of each host of a cluster, keyed by address: true when Envoy would send it traffic. */
  async hostHealth(cluster: string): Promise<Map<string, boolean>> {
    const res = await fetch(`http://${this.address}:${this.config.envoy.adminPort}/clusters?format=json`);
    const body = (await res.json()) as { cluster_statuses: any[] };
    const status = body.cluster_statuses.find((c) => c.name === cluster);
    return new Map(
      (status?.host_statuses ?? []).map((h: any) => [
        h.address.socket_address.address as string,
        h.health_status.eds_health_status === 'HEALTHY' && !h.health_status.failed_active_health_check,
      ]),
    );
  }

  /** Polls `check` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
  async waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    const start = performance.now();
    for (;;) {
      if (await check()) return performance.now() - start;
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited (${this.exitCode}) before it ${what}:\n${this.envoyLog.slice(-20).join('\n')}`);
      if (performance.now() - start > timeoutMs) throw new Error(`${this.name} never ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitCode === undefined) this.child.kill(signal);
    await this.exited;
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
