// Replaces the output folders all together, or not at all: everything is built in a temporary
// folder beside them and moved into place only after it is complete and checked.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';

export class EmptyOutputError extends Error {}

/** What a write did to each file, by path relative to the root. */
export interface WriteReport {
  readonly written: ReadonlyMap<string, 'new' | 'changed' | 'unchanged'>;
  /** Files that were there before and are not any more. */
  readonly removed: readonly string[];
}

/**
 * Runs `build(stagingRoot)`, which must write each of `dirs` under stagingRoot; then checks that
 * none of `nonEmpty` is empty and swaps `dirs` into `root`. On any error the folders in `root` are
 * left exactly as they were.
 */
export function writeOutputsAtomically(
  root: string,
  dirs: readonly string[],
  build: (stagingRoot: string) => void,
  nonEmpty: readonly string[] = dirs,
): WriteReport {
  // Beside the outputs (same filesystem), so the final renames are atomic; named by pid, never written to git.
  const staging = path.join(root, `.synth-staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    build(staging);
    for (const dir of nonEmpty) {
      const built = path.join(staging, dir);
      if (!existsSync(built) || !statSync(built).isDirectory() || listFiles(built).length === 0) {
        // With automated prune, an empty folder in git would make Argo CD delete what it synced.
        throw new EmptyOutputError(`refusing to write an empty ${dir}/: synthesis produced no files for it`);
      }
    }
    const report = compare(root, staging, dirs);
    const previous = path.join(staging, '.previous');
    mkdirSync(previous);
    for (const dir of dirs) {
      const target = path.join(root, dir);
      if (existsSync(target)) renameSync(target, path.join(previous, dir));
      renameSync(path.join(staging, dir), target);
    }
    return report;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function compare(root: string, staging: string, dirs: readonly string[]): WriteReport {
  const written = new Map<string, 'new' | 'changed' | 'unchanged'>();
  const before = new Set(dirs.flatMap((dir) => (existsSync(path.join(root, dir)) ? listFiles(path.join(root, dir)).map((f) => path.join(dir, f)) : [])));
  for (const dir of dirs) {
    for (const file of listFiles(path.join(staging, dir)).map((f) => path.join(dir, f))) {
      const old = path.join(root, file);
      written.set(file, !before.has(file) ? 'new' : readFileSync(old).equals(readFileSync(path.join(staging, file))) ? 'unchanged' : 'changed');
      before.delete(file);
    }
  }
  return { written, removed: [...before].sort() };
}

/** Every file under a folder, relative to it, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(path.join(dir, entry.name)).map((f) => path.join(entry.name, f)) : [entry.name]))
    .sort();
}
