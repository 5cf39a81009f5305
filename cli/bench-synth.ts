// `npm run bench:synth`: how long `npm run synth` takes for one environment and for twenty, in one
// process each, cold (a new Node process per run, as a user runs it). A benchmark, not a test.
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

function timeSynth(dir: string): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, 'main.ts')], {
      cwd: dir, env: { ...process.env, EDGE_CONFIG_DIR: path.join(dir, 'config') }, encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
    times.push(performance.now() - start);
  }
  return times;
}

const results = [1, 20].map((count) => {
  const dir = configWith(count);
  try {
    const times = timeSynth(dir);
    return { count, median: median(times), min: Math.min(...times), max: Math.max(...times) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
console.log(`${cpus().length} × ${cpus()[0].model}, load average ${loadavg()[0].toFixed(1)}, ${RUNS} cold runs each`);
console.log('| environments | median | min – max |\n|---|---|---|');
for (const r of results) console.log(`| ${r.count} | ${(r.median / 1000).toFixed(2)} s | ${(r.min / 1000).toFixed(2)} – ${(r.max / 1000).toFixed(2)} s |`);
console.log(`20 environments take ${(results[1].median / results[0].median).toFixed(2)}× the time of one`);
