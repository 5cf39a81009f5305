// `npm run synth` and `npx cdk8s synth` run the app through cli/synth.cjs, as one esbuild bundle that
// is rebuilt when a source changes. The bundle must write what the pipeline writes, stop on bad input
// the same way, and never run stale code.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OUTPUT_DIRS } from '../synth/pipeline';
import { PROJECT_ROOT, SHIPPED_CONFIG, snapshotTree, tempProject } from './helpers';

function runLauncher(launcher: string, cwd: string, configDir?: string) {
  const env = { ...process.env, EDGE_CONFIG_DIR: configDir };
  if (!configDir) delete env.EDGE_CONFIG_DIR;
  return spawnSync(process.execPath, [launcher], { cwd, env, encoding: 'utf8' });
}

const LAUNCHER = path.join(PROJECT_ROOT, 'cli', 'synth.cjs');

test('GIVEN the shipped config WHEN the bundled synth runs in a fresh folder THEN it writes exactly the committed dist/, argocd/ and eksctl/', () => {
  const { root } = tempProject();
  const run = runLauncher(LAUNCHER, root, SHIPPED_CONFIG);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  for (const dir of OUTPUT_DIRS) {
    const written = snapshotTree(path.join(root, dir));
    expect(Object.keys(written).length).toBeGreaterThan(0);
    expect(written).toEqual(snapshotTree(path.join(PROJECT_ROOT, dir)));
  }
});

test('GIVEN a bad config value WHEN the bundled synth runs THEN it exits 1 naming the file, the field and the value, and writes nothing', () => {
  const { root, configDir } = tempProject({ prod: { envoy: { replicas: 0 } } });
  const run = runLauncher(LAUNCHER, root, configDir);
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^synth stopped, nothing was written: /);
  expect(run.stderr).toContain('environments/prod.yaml');
  expect(run.stderr).toContain('envoy.replicas');
  expect(run.stderr).toMatch(/got 0/);
  for (const dir of OUTPUT_DIRS) expect(existsSync(path.join(root, dir))).toBe(false);
});

test('GIVEN a bundled program WHEN a source file changes THEN the next run rebuilds the bundle and runs the new code; with no change it reuses the bundle', () => {
  // A throwaway project with its own copy of the launcher, so its bundle cache is its own.
  const root = mkdtempSync(path.join(tmpdir(), 'edge-test-launcher-'));
  mkdirSync(path.join(root, 'cli'));
  mkdirSync(path.join(root, 'node_modules'));
  copyFileSync(LAUNCHER, path.join(root, 'cli', 'synth.cjs'));
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules', 'esbuild'), path.join(root, 'node_modules', 'esbuild'));
  writeFileSync(path.join(root, 'main.ts'), "import { word } from './word';\nconsole.log(word);\n");
  writeFileSync(path.join(root, 'word.ts'), "export const word: string = 'one';\n");
  const launcher = path.join(root, 'cli', 'synth.cjs');
  const bundle = path.join(root, 'node_modules', '.cache', 'envoy-edge-synth', 'main.js');

  expect(runLauncher(launcher, root).stdout).toBe('one\n');
  const built = statSync(bundle).mtimeMs;
  expect(runLauncher(launcher, root).stdout).toBe('one\n');
  expect(statSync(bundle).mtimeMs).toBe(built);

  writeFileSync(path.join(root, 'word.ts'), "export const word: string = 'three';\n");
  expect(runLauncher(launcher, root).stdout).toBe('three\n');
  expect(statSync(bundle).mtimeMs).not.toBe(built);
});
