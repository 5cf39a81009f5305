// `npm run import:argocd`: generates imports/argoproj.io.ts (the Application, AppProject and
// ApplicationSet bindings) with `cdk8s import`, from Argo CD's own CRDs in test/fixtures/.
// The ApplicationSet CRD repeats the whole Application template inside each of its ten generators;
// we use the list generator only, so the others are left out of the bindings: with them the module
// is 3.5 MB and costs every synth about 80 ms to load. The tests and the API server still check our
// objects against the full CRDs.
//   npm run import:argocd             regenerate
//   npm run import:argocd -- --check  exit 1 if the committed file differs from a fresh import
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const CRDS = path.join(ROOT, 'test', 'fixtures', 'argo-cd-v3.5.1');
const OUTPUT = path.join(ROOT, 'imports', 'argoproj.io.ts');
/** The ApplicationSet generators the bindings keep. */
const GENERATORS_USED = ['list'];

type Json = Record<string, any>;

function pruneApplicationSet(crd: Json): Json {
  for (const version of crd.spec.versions) {
    const generators = version.schema.openAPIV3Schema.properties.spec.properties.generators.items.properties;
    for (const name of Object.keys(generators)) if (!GENERATORS_USED.includes(name)) delete generators[name];
    // The list generator's own template override repeats the Application template too.
    delete generators.list.properties.template;
  }
  return crd;
}

function generate(outputDir: string): string {
  const docs = ['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'].map((file) => {
    const crd = parseAllDocuments(readFileSync(path.join(CRDS, file), 'utf8'))[0].toJS() as Json;
    return file === 'applicationset-crd.yaml' ? pruneApplicationSet(crd) : crd;
  });
  const input = path.join(outputDir, 'argocd-crds.yaml');
  writeFileSync(input, docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'));
  const cdk8s = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
  const run = spawnSync(cdk8s, ['import', input, '--language', 'typescript', '--output', outputDir, '--no-save'], { encoding: 'utf8', cwd: outputDir });
  if (run.status !== 0) throw new Error(`cdk8s import failed: ${run.stderr || run.stdout}`);
  return readFileSync(path.join(outputDir, 'argoproj.io.ts'), 'utf8');
}

const work = mkdtempSync(path.join(tmpdir(), 'import-argocd-'));
try {
  const generated = generate(work);
  if (process.argv.includes('--check')) {
    const same = readFileSync(OUTPUT, 'utf8') === generated;
    console.log(same ? `up to date: ${path.relative(ROOT, OUTPUT)}` : `stale: ${path.relative(ROOT, OUTPUT)} differs from a fresh npm run import:argocd`);
    process.exitCode = same ? 0 : 1;
  } else {
    writeFileSync(OUTPUT, generated);
    console.log(`wrote ${path.relative(ROOT, OUTPUT)} (${Math.round(generated.length / 1024)} KB)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
