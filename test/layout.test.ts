// The layout keeps its promises (docs/architecture.md): no import circles, charts/ holds cdk8s
// Charts only, and main.ts only wires. madge would find circles, but its TypeScript parser needs the
// TypeScript JS API, which TypeScript 7 (native) does not ship; a runtime-import graph is enough here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './helpers';

const SOURCE = ['main.ts', 'config', 'envoy', 'k8s', 'lb-controller', 'charts', 'synth', 'cli'];

function sourceFiles(entry: string): string[] {
  const full = path.join(PROJECT_ROOT, entry);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full).flatMap((name) => (name.endsWith('.ts') || !name.includes('.') ? sourceFiles(path.join(entry, name)) : []));
}

/** Relative imports that exist at run time (`import type` is erased by the compiler). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^import (?!type )[^;]*?from '(\.[^']+)';/gms)].map((m) => m[1]);
  return specifiers.map((s) => {
    const base = path.resolve(path.dirname(file), s);
    for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not this one
      }
    }
    return `${base} (not found)`;
  });
}

test('GIVEN the source folders THEN no module imports itself through others (no import circles)', () => {
  const files = SOURCE.flatMap(sourceFiles);
  const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((i) => !i.includes('/imports/'))]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(PROJECT_ROOT, f)).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  expect(files.length).toBeGreaterThan(30);
  expect([...graph.values()].flat().filter((i) => i.endsWith('(not found)'))).toEqual([]);
  expect(cycles).toEqual([]);
});

test('GIVEN charts/ THEN every file there defines a cdk8s Chart', () => {
  for (const file of sourceFiles('charts')) {
    expect({ file: path.basename(file), chart: /extends Chart\b/.test(readFileSync(file, 'utf8')) }).toEqual({ file: path.basename(file), chart: true });
  }
});

test('GIVEN main.ts THEN it only wires the synth pipeline to the process', () => {
  const main = readFileSync(path.join(PROJECT_ROOT, 'main.ts'), 'utf8');
  expect(main.split('\n').filter((l) => l.trim() && !l.startsWith('//')).length).toBeLessThanOrEqual(20);
  expect(runtimeImports(path.join(PROJECT_ROOT, 'main.ts')).map((f) => path.relative(PROJECT_ROOT, f)).sort()).toEqual([
    'config/errors.ts',
    'envoy/validate/index.ts',
    'synth/pipeline.ts',
    'synth/summary.ts',
    'synth/write-outputs.ts',
  ]);
});
