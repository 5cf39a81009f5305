// `npm run import:crds`: generates the CRD bindings in imports/ with `cdk8s import` (offline), from
// the upstream CRDs copied verbatim into test/fixtures/:
//   imports/argoproj.io.ts           Argo CD v3.5.1: Application, ApplicationSet, AppProject
//   imports/monitoring.coreos.com.ts Prometheus Operator v0.93.0: PodMonitor, PrometheusRule
// The ApplicationSet CRD repeats the whole Application template inside each of its ten generators;
// we use the list generator only, so the others are left out of the bindings: with them the module
// is 3.5 MB and costs every synth about 80 ms to load. The tests and the API server still check our
// objects against the full CRDs.
//   npm run import:crds             regenerate
//   npm run import:crds -- --check  exit 1 if a committed file differs from a fresh import
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { pruneApplicationSet } from './crd-pruning';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');

interface Group {
  /** The module cdk8s writes, named after the API group. */
  readonly module: string;
  readonly crds: readonly string[];
  readonly prune?: (crd: Json, file: string) => Json;
}

const GROUPS: readonly Group[] = [
  {
    module: 'argoproj.io.ts',
    crds: ['argo-cd-v3.5.1/application-crd.yaml', 'argo-cd-v3.5.1/applicationset-crd.yaml', 'argo-cd-v3.5.1/appproject-crd.yaml'],
    prune: (crd, file) => (file.endsWith('applicationset-crd.yaml') ? pruneApplicationSet(crd) : crd),
  },
  {
    module: 'monitoring.coreos.com.ts',
    crds: ['prometheus-operator-v0.93.0/podmonitors-crd.yaml', 'prometheus-operator-v0.93.0/prometheusrules-crd.yaml'],
  },
];
// biome-ignore lint/suspicious/noExplicitAny: CRD JSON of any shape, walked by key
type Json = Record<string, any>;

function generate(group: Group, outputDir: string): string {
  const docs = group.crds.map((file) => {
    const crd = parseAllDocuments(readFileSync(path.join(FIXTURES, file), 'utf8'))[0].toJS() as Json;
    return group.prune ? group.prune(crd, file) : crd;
  });
  const input = path.join(outputDir, 'crds.yaml');
  writeFileSync(input, docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
  const cdk8s = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
  const run = spawnSync(cdk8s, ['import', input, '--language', 'typescript', '--output', outputDir, '--no-save'], { encoding: 'utf8', cwd: outputDir });
  if (run.status !== 0) throw new Error(`cdk8s import failed: ${run.stderr || run.stdout}`);
  return readFileSync(path.join(outputDir, group.module), 'utf8');
}

let stale = 0;
/** `--check`: compare with the committed files instead of writing them. */
const CHECK = parseArgs({ args: process.argv.slice(2), options: { check: { type: 'boolean' } }, strict: true }).values.check ?? false;

for (const group of GROUPS) {
  const work = mkdtempSync(path.join(tmpdir(), 'import-crds-'));
  const output = path.join(ROOT, 'imports', group.module);
  try {
    const generated = generate(group, work);
    if (CHECK) {
      const same = existsSync(output) && readFileSync(output, 'utf8') === generated;
      console.log(same ? `up to date: imports/${group.module}` : `stale: imports/${group.module} differs from a fresh npm run import:crds`);
      if (!same) stale++;
    } else {
      writeFileSync(output, generated);
      console.log(`wrote imports/${group.module} (${Math.round(generated.length / 1024)} KB)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
process.exitCode = stale ? 1 : 0;
