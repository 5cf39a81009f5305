#!/usr/bin/env node
// `npm run synth` and `npx cdk8s synth`: runs main.ts as one esbuild bundle. Loading the app's ~350
// modules one by one through tsx took more than half of a synth; the bundle loads in a fraction of
// that (docs/architecture.md, "Synth speed"). The bundle is the compiled program, not an output: it
// lives in node_modules/.cache and is rebuilt whenever one of the files it was built from changes.
// Plain JavaScript, since it must start without a TypeScript loader. The bundle has no source map
// (reading one costs more than the rest of the start-up); for stack traces with the TypeScript
// lines, run the app unbundled: `node --require tsx/cjs main.ts`.
'use strict';
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'envoy-edge-synth');
const BUNDLE = path.join(CACHE, 'main.js');
const STAMP = path.join(CACHE, 'inputs.json');
const ESBUILD_VERSION = require('esbuild/package.json').version;

/** Size and modification time of each input: a changed file changes its line. */
function stampOf(inputs) {
  return inputs.map((file) => {
    const s = statSync(path.join(ROOT, file));
    return `${file} ${s.size} ${s.mtimeMs}`;
  });
}

function bundleIsCurrent() {
  try {
    const saved = JSON.parse(readFileSync(STAMP, 'utf8'));
    return saved.esbuild === ESBUILD_VERSION && stampOf(saved.inputs).join('\n') === saved.stamp.join('\n');
  } catch {
    return false; // no bundle yet, or an input is gone
  }
}

function buildBundle() {
  mkdirSync(CACHE, { recursive: true });
  const started = Date.now();
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = require('esbuild').buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    metafile: true,
    logLevel: 'warning',
  });
  renameSync(tmp, BUNDLE);
  // This file too: its build options shape the bundle.
  const inputs = [...Object.keys(result.metafile.inputs), path.relative(ROOT, __filename)].sort();
  const stamp = stampOf(inputs);
  // A file edited while it was being bundled gets no stamp, so the next run builds again. The
  // renames keep each file whole for a concurrent run.
  if (inputs.some((file) => statSync(path.join(ROOT, file)).mtimeMs >= started)) return;
  writeFileSync(`${STAMP}.${process.pid}.tmp`, JSON.stringify({ esbuild: ESBUILD_VERSION, inputs, stamp }));
  renameSync(`${STAMP}.${process.pid}.tmp`, STAMP);
}

if (!bundleIsCurrent()) buildBundle();
// A bundle has one __dirname for every file in it, so the app learns the project root from here.
process.env.EDGE_PROJECT_ROOT = ROOT;
require(BUNDLE);
