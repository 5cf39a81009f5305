// The real Prometheus and promtool, from Debian's `prometheus` package (pinned below), unpacked once
// into the verification cache: no service is installed or started. For proving alert rules, scrape
// configs and dashboards against what Envoy really exports. Loopback only; every server runs under
// `setpriv --pdeathsig KILL`, so none outlives the process that started it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CACHE_DIR } from './envoy-binary';

/**
 * The Debian package we accept, with the sha256 of its .deb (as in `apt-cache show`), so a changed
 * upload is refused. Changing it is a deliberate step: `apt-cache policy prometheus`, then
 * `apt-get download prometheus=VERSION` and `sha256sum` the .deb. Debian serves one build per suite,
 * so a point release that replaces this one makes the download fail with a message saying so.
 */
export const PROMETHEUS_DEB = {
  package: 'prometheus',
  version: '2.42.0+ds-5+deb12u1',
  sha256: '81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55',
  /** The upstream release, as `prometheus --version` prints it. */
  upstream: '2.42.0',
} as const;

export interface PrometheusTools {
  readonly prometheus: string;
  readonly promtool: string;
  /** The install directory: bin/, web/ (the UI's assets), consoles/, console_libraries/. */
  readonly dir: string;
}

export function prometheusToolsDir(): string {
  return path.join(CACHE_DIR, `prometheus-deb-${PROMETHEUS_DEB.version}`);
}

function toolsIn(dir: string): PrometheusTools {
  return { prometheus: path.join(dir, 'bin', 'prometheus'), promtool: path.join(dir, 'bin', 'promtool'), dir };
}

/** The cached tools, or undefined when they have not been installed yet. */
export function cachedPrometheusTools(): PrometheusTools | undefined {
  const tools = toolsIn(prometheusToolsDir());
  return existsSync(tools.prometheus) && existsSync(tools.promtool) ? tools : undefined;
}

/** The first line a tool prints for `--version`, such as `prometheus, version 2.42.0+ds (…)`. */
export function prometheusVersionLine(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${binary} --version failed (${out.status}): ${out.stderr || out.error}`);
  // Both tools print the version to stdout; older releases used stderr.
  return `${out.stdout}${out.stderr}`.trim().split('\n')[0];
}

function checkVersion(binary: string): string {
  const line = prometheusVersionLine(binary);
  const name = path.basename(binary);
  if (!line.startsWith(`${name}, version ${PROMETHEUS_DEB.upstream}`) || !line.includes(PROMETHEUS_DEB.version)) {
    throw new Error(`${binary} reports "${line}", not ${PROMETHEUS_DEB.upstream} (Debian ${PROMETHEUS_DEB.version})`);
  }
  return line;
}

/**
 * Returns prometheus and promtool, installing Debian's package into the cache on first use:
 * `apt-get download` (with one `apt-get update` if the pinned version is not in the package lists),
 * sha256 checked, `dpkg-deb -x`, both `--version`s checked, then renamed into place, so a half-done
 * install never looks installed.
 */
export function ensurePrometheusTools(log: (line: string) => void = () => {}): PrometheusTools {
  const cached = cachedPrometheusTools();
  if (cached) return cached;
  const spec = `${PROMETHEUS_DEB.package}=${PROMETHEUS_DEB.version}`;
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(path.join(CACHE_DIR, '.prometheus-download-'));
  try {
    chmodSync(work, 0o777); // apt's _apt user writes the download here
    log(`apt-get download ${spec} (unpacked only; no service is installed or started)`);
    if (apt(['download', spec], work).status !== 0) {
      log(`${spec} is not in the package lists: running apt-get update once`);
      const update = apt(['update'], work);
      if (update.status !== 0) throw new Error(`apt-get update failed (${update.status}):\n${tail(update.output)}`);
      const retry = apt(['download', spec], work);
      if (retry.status !== 0) {
        const policy = spawnSync('apt-cache', ['policy', PROMETHEUS_DEB.package], { encoding: 'utf8' }).stdout;
        throw new Error(
          `apt-get download ${spec} failed (${retry.status}):\n${tail(retry.output)}\n` +
            `apt-cache policy ${PROMETHEUS_DEB.package}:\n${policy}\n` +
            `If Debian replaced the build, pin the new one in PROMETHEUS_DEB (${__filename}).`,
        );
      }
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${spec} left no .deb in ${work}`);
    const actual = createHash('sha256')
      .update(readFileSync(path.join(work, deb)))
      .digest('hex');
    if (actual !== PROMETHEUS_DEB.sha256) throw new Error(`${deb}: sha256 ${actual}, expected ${PROMETHEUS_DEB.sha256}`);
    const unpacked = path.join(work, 'unpacked');
    run('dpkg-deb', ['-x', path.join(work, deb), unpacked]);
    const staged = path.join(work, 'install');
    mkdirSync(path.join(staged, 'bin'), { recursive: true });
    renameSync(path.join(unpacked, 'usr', 'bin', 'prometheus'), path.join(staged, 'bin', 'prometheus'));
    renameSync(path.join(unpacked, 'usr', 'bin', 'promtool'), path.join(staged, 'bin', 'promtool'));
    // Debian builds the classic UI from local files (--web.local-assets); kept so a person can look.
    renameSync(path.join(unpacked, 'usr', 'share', 'prometheus', 'web'), path.join(staged, 'web'));
    renameSync(path.join(unpacked, 'etc', 'prometheus', 'consoles'), path.join(staged, 'consoles'));
    renameSync(path.join(unpacked, 'etc', 'prometheus', 'console_libraries'), path.join(staged, 'console_libraries'));
    const tools = toolsIn(staged);
    const lines = [checkVersion(tools.prometheus), checkVersion(tools.promtool)];
    chmodSync(staged, 0o755);
    try {
      // Renamed into place last, so a half-done install never looks installed.
      renameSync(staged, prometheusToolsDir());
    } catch (err) {
      // Another process (a second Jest worker) installed it first: take that one.
      const other = cachedPrometheusTools();
      if (other) return other;
      throw err;
    }
    log(`installed ${lines.join('; ')} in ${prometheusToolsDir()}`);
    return toolsIn(prometheusToolsDir());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function apt(args: string[], cwd: string): { status: number | null; output: string } {
  const out = spawnSync('apt-get', args, { cwd, encoding: 'utf8' });
  return { status: out.status, output: `${out.stdout ?? ''}${out.stderr ?? ''}${out.error ? String(out.error) : ''}` };
}

function tail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function run(cmd: string, args: string[]): void {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${out.status}): ${out.stderr || out.error}`);
}

export interface ToolResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function inTempDir<T>(prefix: string, fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function promtool(args: string[], cwd: string): ToolResult {
  const out = spawnSync(ensurePrometheusTools().promtool, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (out.error) throw out.error;
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** `promtool check rules` on a Prometheus rule file (`groups:` …). Status 0 when it is valid. */
export function promtoolCheckRules(rulesYaml: string): ToolResult {
  return inTempDir('promtool-check-', (dir) => {
    writeFileSync(path.join(dir, 'rules.yml'), rulesYaml);
    return promtool(['check', 'rules', 'rules.yml'], dir);
  });
}

/**
 * `promtool test rules` on a unit-test file (`tests:` …, as in Prometheus' docs) against one rule
 * file. The test file's `rule_files` is set to that rule file, whatever it said. Status 0 when
 * every test passes; a failing expectation is described on stderr.
 */
export function promtoolTestRules(testYaml: string, rulesYaml: string): ToolResult {
  return inTempDir('promtool-test-', (dir) => {
    const test = parseYaml(testYaml) ?? {};
    if (typeof test !== 'object' || Array.isArray(test)) throw new Error('the promtool test file must be a YAML mapping');
    writeFileSync(path.join(dir, 'rules.yml'), rulesYaml);
    writeFileSync(path.join(dir, 'test.yml'), toYaml({ ...test, rule_files: ['rules.yml'] }));
    return promtool(['test', 'rules', 'test.yml'], dir);
  });
}

/**
 * The metric families of a text exposition (as Envoy's /stats/prometheus serves it), from its
 * `# TYPE` lines: name → counter, gauge, histogram, summary or untyped.
 */
export function metricFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1], m[2]);
  return families;
}

/** The series names Prometheus stores for a family: a histogram's _bucket, _sum and _count. */
export function seriesNamesOf(family: string, type: string): string[] {
  if (type === 'histogram') return [`${family}_bucket`, `${family}_sum`, `${family}_count`];
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

// ---- the server ----------------------------------------------------------------------------

export interface ScrapeTarget {
  readonly job: string;
  /** host:port, on loopback. */
  readonly address: string;
  readonly metricsPath: string;
  /** Extra target labels (as a PodMonitor's relabelling would add, such as `pod`). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Alert {
  /** labels.alertname */
  readonly name: string;
  readonly state: 'pending' | 'firing';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly activeAt: string;
  readonly value: string;
}

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A duration as Prometheus writes it (`1s`, `500ms`), or milliseconds. */
export type Duration = string | number;
const promDuration = (d: Duration): string => (typeof d === 'number' ? `${Math.round(d)}ms` : d);

const running = new Set<ChildProcess>();
// Whatever happens to the test process, no Prometheus outlives it (setpriv covers SIGKILL too).
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrometheusServerOptions {
  /** A Prometheus rule file (`groups:` …); empty for none. */
  readonly rules?: string;
  readonly targets: readonly ScrapeTarget[];
  /** Default 1s. */
  readonly scrapeInterval?: Duration;
  /** Default 1s. */
  readonly evaluationInterval?: Duration;
}

/**
 * A real Prometheus on loopback, for one test. Expect the first scrape about 5 s after start:
 * Prometheus 2.42 hands discovered targets (static ones too) to the scrape manager on a fixed 5 s
 * tick, with no flag to shorten it; after that, scrapes and rule evaluations follow the intervals.
 * Envoy's counters and gauges are read live, but its histograms only change on Envoy's stats flush
 * (every 5 s by default), so a histogram-based rule sees a change up to 5 s late.
 */
export class PrometheusServer {
  /** Everything Prometheus logged (logfmt lines). */
  readonly log: string[] = [];
  exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly url: string,
    readonly targets: readonly ScrapeTarget[],
    /** The generated prometheus.yml. */
    readonly configYaml: string,
    private readonly child: ChildProcess,
    private readonly workDir: string,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.log.push(...chunk.split('\n').filter(Boolean)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.log.push(...chunk.split('\n').filter(Boolean)));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        running.delete(child);
        resolve();
      }),
    );
  }

  /** The prometheus.yml for these options, reading the rules from `rulesPath`. */
  static config(opts: PrometheusServerOptions, rulesPath?: string): string {
    const jobs = new Map<string, ScrapeTarget[]>();
    for (const t of opts.targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
    return toYaml({
      global: {
        scrape_interval: promDuration(opts.scrapeInterval ?? '1s'),
        evaluation_interval: promDuration(opts.evaluationInterval ?? '1s'),
      },
      ...(rulesPath ? { rule_files: [rulesPath] } : {}),
      scrape_configs: [...jobs.entries()].map(([job, targets]) => {
        const paths = new Set(targets.map((t) => t.metricsPath));
        if (paths.size !== 1) throw new Error(`job ${job}: its targets have different metrics paths (${[...paths].join(', ')})`);
        return {
          job_name: job,
          metrics_path: targets[0].metricsPath,
          static_configs: targets.map((t) => ({ targets: [t.address], ...(t.labels ? { labels: { ...t.labels } } : {}) })),
        };
      }),
    });
  }

  /** Starts Prometheus on a free 127.0.0.1 port with a fresh data dir; resolves when /-/ready says 200. */
  static async start(opts: PrometheusServerOptions): Promise<PrometheusServer> {
    const tools = ensurePrometheusTools((line) => process.stderr.write(`[live] ${line}\n`));
    for (const t of opts.targets) {
      if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(t.address)) throw new Error(`target ${t.address} is not on loopback`);
    }
    for (let attempt = 1; ; attempt++) {
      const workDir = mkdtempSync(path.join(tmpdir(), 'live-prometheus-'));
      const rulesPath = opts.rules?.trim() ? path.join(workDir, 'rules.yml') : undefined;
      if (rulesPath) writeFileSync(rulesPath, opts.rules!);
      const configYaml = PrometheusServer.config(opts, rulesPath);
      writeFileSync(path.join(workDir, 'prometheus.yml'), configYaml);
      const port = await freePort();
      const args = [
        `--config.file=${path.join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        `--web.local-assets=${path.join(tools.dir, 'web')}`,
        `--web.console.templates=${path.join(tools.dir, 'consoles')}`,
        `--web.console.libraries=${path.join(tools.dir, 'console_libraries')}`,
      ];
      // setpriv (util-linux) has the kernel kill Prometheus if this process dies in any way.
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', tools.prometheus, ...args], {
        cwd: workDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      const server = new PrometheusServer(`http://127.0.0.1:${port}`, opts.targets, configYaml, child, workDir);
      try {
        await server.waitUntil(async () => (await server.get('/-/ready').catch(() => undefined))?.status === 200, 30_000, 'answers /-/ready with 200');
        return server;
      } catch (err) {
        await server.stop();
        // Another process took the port between freePort() and Prometheus' bind: try another.
        if (attempt < 3 && server.log.some((l) => /address already in use/.test(l))) continue;
        throw err;
      }
    }
  }

  private async get(pathAndQuery: string): Promise<Response> {
    return fetch(`${this.url}${pathAndQuery}`);
  }

  /** GET an /api/v1 endpoint; throws unless Prometheus answers status "success". */
  async api<T = any>(endpoint: string, params: Record<string, string | readonly string[]> = {}): Promise<T> {
    const q = new URLSearchParams(
      Object.entries(params).flatMap(([k, v]): [string, string][] => (typeof v === 'string' ? [[k, v]] : v.map((one) => [k, one]))),
    ).toString();
    const res = await this.get(`/api/v1/${endpoint}${q ? `?${q}` : ''}`);
    const body = (await res.json()) as { status: string; data: T; errorType?: string; error?: string };
    if (body.status !== 'success') throw new Error(`GET /api/v1/${endpoint}${q ? `?${q}` : ''}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** The active alerts (pending or firing), from GET /api/v1/alerts. */
  async alerts(): Promise<Alert[]> {
    const data = await this.api<{ alerts: any[] }>('alerts');
    return data.alerts.map((a) => ({
      name: a.labels.alertname,
      state: a.state,
      labels: a.labels,
      annotations: a.annotations ?? {},
      activeAt: a.activeAt,
      value: a.value,
    }));
  }

  /** An instant query; throws unless the result is a vector. `time` in Unix seconds, default now. */
  async query(promql: string, time?: number): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: any[] }>('query', {
      query: promql,
      ...(time !== undefined ? { time: String(time) } : {}),
    });
    if (data.resultType !== 'vector') throw new Error(`${promql}: a ${data.resultType}, not a vector`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Every value of a label in the TSDB; `__name__` gives every metric name Prometheus ingested. */
  async labelValues(label: string): Promise<string[]> {
    return this.api<string[]>(`label/${encodeURIComponent(label)}/values`);
  }

  /** The label sets of every series matching any of the selectors (GET /api/v1/series). */
  async series(...match: string[]): Promise<Record<string, string>[]> {
    return this.api<Record<string, string>[]>('series', { 'match[]': match });
  }

  /** The scrape targets as Prometheus sees them (GET /api/v1/targets, active ones). */
  async targetsStatus(): Promise<{ scrapeUrl: string; health: string; lastError: string; lastScrape: string; labels: Record<string, string> }[]> {
    return (await this.api<{ activeTargets: any[] }>('targets', { state: 'active' })).activeTargets;
  }

  /** The rule groups with each rule's state, health and last error (GET /api/v1/rules). */
  async rules(): Promise<any[]> {
    return (await this.api<{ groups: any[] }>('rules')).groups;
  }

  /** The fewest successful scrapes of any target so far (0 while a target has none). */
  async successfulScrapes(): Promise<number> {
    const counts = await this.query('sum_over_time(up[1d])');
    return counts.length < this.targets.length ? 0 : Math.min(...counts.map((c) => c.value));
  }

  /**
   * Waits until every target has been scraped successfully at least `n` times. Counted in the TSDB:
   * each scrape writes one `up` sample (1 when it succeeded), so `sum_over_time(up[1d])` is the
   * number of successful scrapes of each target, and once it reaches n, those n scrapes' samples are
   * queryable. Returns the milliseconds waited.
   */
  async waitForScrapes(n: number, timeoutMs = 30_000): Promise<number> {
    let counts: Sample[] = [];
    try {
      return await this.waitUntil(
        async () => {
          counts = await this.query('sum_over_time(up[1d])');
          return counts.length >= this.targets.length && counts.every((c) => c.value >= n);
        },
        timeoutMs,
        `scraped every target ${n} times`,
      );
    } catch (err) {
      const targets = await this.targetsStatus().catch(() => []);
      throw new Error(
        `${(err as Error).message}; successful scrapes: ${counts.map((c) => `${c.metric.job}/${c.metric.instance}=${c.value}`).join(' ') || 'none'}; ` +
          `targets: ${targets.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join('; ')}`,
      );
    }
  }

  /** Waits until an alert named `name` is in `state`; returns it and the milliseconds waited. */
  async waitForAlert(name: string, state: 'pending' | 'firing', timeoutMs = 30_000): Promise<{ alert: Alert; ms: number }> {
    let found: Alert | undefined;
    let seen: Alert[] = [];
    try {
      const ms = await this.waitUntil(
        async () => {
          seen = await this.alerts();
          found = seen.find((a) => a.name === name && a.state === state);
          return found !== undefined;
        },
        timeoutMs,
        `shows alert ${name} ${state}`,
      );
      return { alert: found!, ms };
    } catch (err) {
      const rules = await this.rules().catch(() => []);
      const ruleStates = rules.flatMap((g) => g.rules.map((r: any) => `${r.name}: ${r.state ?? r.type} ${r.health}${r.lastError ? ` (${r.lastError})` : ''}`));
      throw new Error(
        `${(err as Error).message}; alerts: ${seen.map((a) => `${a.name} ${a.state}`).join(', ') || 'none'}; rules: ${ruleStates.join('; ') || 'none'}`,
      );
    }
  }

  /** Polls `check` every 100 ms until it holds; fails with `what` after `timeoutMs`. */
  async waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    const start = performance.now();
    for (;;) {
      if (await check()) return performance.now() - start;
      if (this.exitCode !== undefined) throw new Error(`Prometheus exited (${this.exitCode}) before it ${what}:\n${this.log.slice(-20).join('\n')}`);
      if (performance.now() - start > timeoutMs) throw new Error(`Prometheus never ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills Prometheus (its data is thrown away), waits for it to exit and removes its directory. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode === undefined) this.child.kill(signal);
    await this.exited;
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
