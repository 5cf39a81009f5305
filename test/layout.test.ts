// The layout keeps its promises (docs/architecture.md): no import circles, charts/ holds cdk8s
// Charts only, and main.ts only wires. madge would find circles, but its TypeScript parser needs the
// TypeScript JS API, which TypeScript 7 (native) does not ship; a runtime-import graph is enough here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './helpers';

/** Folders that hold no hand-written source: generated output, generated bindings, docs, tests, tools. */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'argocd', 'eksctl', 'imports', 'docs', 'test', 'scripts']);

/** Every top-level folder with TypeScript in it, found, not listed by hand, and main.ts. */
function sourceRooms(): string[] {
  const rooms = readdirSync(PROJECT_ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCE.has(e.name))
    .map((e) => e.name)
    .filter((dir) => sourceFiles(dir).some((f) => f.endsWith('.ts')));
  return ['main.ts', ...rooms.sort()];
}

/** The import circles in a graph of files, each as "a → b → a". */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(PROJECT_ROOT, f)).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

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

const rooms = sourceRooms();
const files = rooms.flatMap(sourceFiles);
const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((i) => !i.includes('/imports/'))]));

test('GIVEN the source folders, found on disk THEN every one is a room the guards see, monitoring/ included', () => {
  expect(rooms).toEqual(expect.arrayContaining(['main.ts', 'cli', 'config', 'envoy', 'k8s', 'lb-controller', 'charts', 'synth', 'monitoring', 'delivery']));
  expect(files.length).toBeGreaterThan(30);
  expect([...graph.values()].flat().filter((i) => i.endsWith('(not found)'))).toEqual([]);
});

test('GIVEN the source folders THEN no module imports itself through others (no import circles)', () => {
  expect(circles(graph)).toEqual([]);
});

test.each(rooms.filter((r) => r !== 'main.ts'))('GIVEN an import added back through a file of %s THEN the circle check finds it', (room) => {
  // A file of the room that imports another module: make the imported module import it back. A room
  // that imports nothing at run time (delivery/): a module that imports one of its files gets imported back.
  const importing = sourceFiles(room).find((f) => (graph.get(f) ?? []).length > 0);
  const [from, to] = importing
    ? [importing, graph.get(importing)![0]]
    : [...graph].flatMap(([file, deps]) => deps.filter((d) => sourceFiles(room).includes(d)).map((d) => [file, d]))[0];
  const withBackEdge = new Map(graph);
  withBackEdge.set(to, [...(graph.get(to) ?? []), from]);
  expect(circles(withBackEdge)).toContainEqual(expect.stringContaining(path.relative(PROJECT_ROOT, from)));
});

test('GIVEN charts/ THEN every file there defines a cdk8s Chart', () => {
  for (const file of sourceFiles('charts')) {
    expect({ file: path.basename(file), chart: /extends Chart\b/.test(readFileSync(file, 'utf8')) }).toEqual({ file: path.basename(file), chart: true });
  }
});

test('GIVEN main.ts THEN it only wires the synth pipeline to the process', () => {
  const main = readFileSync(path.join(PROJECT_ROOT, 'main.ts'), 'utf8');
  expect(main.split('\n').filter((l) => l.trim() && !l.startsWith('//')).length).toBeLessThanOrEqual(20);
  expect(
    runtimeImports(path.join(PROJECT_ROOT, 'main.ts'))
      .map((f) => path.relative(PROJECT_ROOT, f))
      .sort(),
  ).toEqual(['config/errors.ts', 'envoy/validate/index.ts', 'synth/pipeline.ts', 'synth/summary.ts', 'synth/write-outputs.ts']);
});

test('GIVEN tsconfig.json THEN it type-checks every TypeScript file but generated output, with no hand-kept list of folders', () => {
  const tsconfig = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'tsconfig.json'), 'utf8'));
  expect(tsconfig.include).toEqual(['**/*.ts']);
  expect(tsconfig.exclude).toEqual(['node_modules', 'dist', 'argocd', 'eksctl']);
});
