// `npm run bench:synth`: how long `npm run synth` takes for one environment and for twenty, in one
// process each, cold (a new Node process per run, as a user runs it), with the bundle of the app
// reused (sources unchanged) and rebuilt (after a change; cli/synth.cjs). A benchmark, not a test.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 11);

/** A config folder with the shipped base and `count` environments, each its own cluster. */
function configWith(count: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-synth-${count}-`));
  const config = path.join(dir, 'config');
  mkdirSync(path.join(config, 'environments'), { recursive: true });
  cpSync(path.join(ROOT, 'config', 'base.yaml'), path.join(config, 'base.yaml'));
  const prod = parseYaml(readFileSync(path.join(ROOT, 'config', 'environments', 'prod.yaml'), 'utf8'));
  for (let i = 0; i < count; i++) {
    const name = `env${String(i).padStart(2, '0')}`;
    const env = { ...prod, cluster: { ...prod.cluster, name: `edge-${name}` }, gitops: { destinationName: i === 0 ? 'in-cluster' : `edge-${name}` } };
    writeFileSync(path.join(config, 'environments', `${name}.yaml`), toYaml(env));
  }
  return dir;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const BUNDLE_CACHE = path.join(ROOT, 'node_modules', '.cache', 'envoy-edge-synth');

function timeSynth(dir: string, rebuild: boolean): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (rebuild) rmSync(BUNDLE_CACHE, { recursive: true, force: true });
    const start = performance.now();
    const run = spawnSync(process.execPath, [path.join(ROOT, 'cli', 'synth.cjs')], {
      cwd: dir,
      env: { ...process.env, EDGE_CONFIG_DIR: path.join(dir, 'config') },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
    times.push(performance.now() - start);
  }
  return times;
}

const results = [1, 20].flatMap((count) => {
  const dir = configWith(count);
  try {
    return [false, true].map((rebuild) => {
      const times = timeSynth(dir, rebuild);
      return { count, rebuild, median: median(times), min: Math.min(...times), max: Math.max(...times) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
const reused = results.filter((r) => !r.rebuild);
console.log(`${cpus().length} × ${cpus()[0].model}, load average ${loadavg()[0].toFixed(1)}, ${RUNS} cold runs each`);
console.log('| environments | bundle | median | min – max |\n|---|---|---|---|');
for (const r of results) {
  const bundle = r.rebuild ? 'rebuilt (sources changed)' : 'reused';
  console.log(`| ${r.count} | ${bundle} | ${(r.median / 1000).toFixed(2)} s | ${(r.min / 1000).toFixed(2)} – ${(r.max / 1000).toFixed(2)} s |`);
}
console.log(`20 environments take ${(reused[1].median / reused[0].median).toFixed(2)}× the time of one`);
