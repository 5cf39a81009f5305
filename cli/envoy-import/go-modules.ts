// Fetches Go modules with the Go tool's own client (`go mod download`), into a cache outside the repository.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface GoModule {
  readonly path: string;
  readonly version: string;
}

export interface DownloadedModule extends GoModule {
  /** The unpacked module, read-only content addressed by its go.sum hash. */
  readonly dir: string;
  /** The `h1:` hash the Go checksum database vouches for. */
  readonly sum: string;
}

interface DownloadJson {
  Path: string;
  Version: string;
  Dir?: string;
  Sum?: string;
  Error?: string;
}

/** Downloads (or finds in the cache) one module at an exact version. */
export function downloadGoModule(module: GoModule, cacheDir: string): DownloadedModule {
  mkdirSync(cacheDir, { recursive: true });
  let stdout: string;
  try {
    stdout = execFileSync('go', ['mod', 'download', '-json', `${module.path}@${module.version}`], {
      // Outside any Go module, so no go.mod or go.work of the caller's can interfere.
      cwd: cacheDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GOMODCACHE: path.join(cacheDir, 'gomod'),
        // -modcacherw: the cache can be removed with rm -rf (Go makes it read-only by default).
        GOFLAGS: '-modcacherw',
        GOWORK: 'off',
        GO111MODULE: 'on',
        GOTOOLCHAIN: 'local',
      },
    });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string; message: string };
    const reported = failed.stdout ? (JSON.parse(failed.stdout) as DownloadJson).Error : undefined;
    throw new Error(`go mod download ${module.path}@${module.version} failed: ${reported ?? failed.stderr ?? failed.message}`);
  }
  const result = JSON.parse(stdout) as DownloadJson;
  if (result.Error || !result.Dir || !result.Sum) {
    throw new Error(`go mod download ${module.path}@${module.version}: ${result.Error ?? 'no Dir in the answer'}`);
  }
  return { ...module, dir: result.Dir, sum: result.Sum };
}

/** The `require` lines of a go.mod: module path → version. */
export function readGoModRequirements(goModText: string): Map<string, string> {
  const requirements = new Map<string, string>();
  const add = (line: string) => {
    const [modulePath, version] = line
      .replace(/\/\/.*$/, '')
      .trim()
      .split(/\s+/);
    if (modulePath && version) requirements.set(modulePath, version);
  };
  for (const block of goModText.matchAll(/^require\s*\(([^)]*)\)/gm)) block[1].split('\n').forEach(add);
  for (const single of goModText.matchAll(/^require\s+([^(\s].*)$/gm)) add(single[1]);
  return requirements;
}

/** Every *.pb.go file under `dir`, as sorted paths relative to it (sorted, so the import is deterministic). */
export function listPbGoFiles(dir: string): string[] {
  const files: string[] = [];
  const visit = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(child);
      else if (entry.name.endsWith('.pb.go')) files.push(child);
    }
  };
  visit('');
  return files.sort();
}

export function readModuleFile(module: DownloadedModule, relative: string): string {
  return readFileSync(path.join(module.dir, relative), 'utf8');
}
