// Replaces the output folders all together, or not at all: everything is built in a temporary
// folder beside them and moved into place only after it is complete and checked.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';

export class EmptyOutputError extends Error {}

/**
 * Runs `build(stagingRoot)`, which must write each of `dirs` under stagingRoot; then checks none is
 * empty and swaps them into `root`. On any error the folders in `root` are left exactly as they were.
 */
export function writeOutputsAtomically(root: string, dirs: readonly string[], build: (stagingRoot: string) => void): void {
  // Beside the outputs (same filesystem), so the final renames are atomic; named by pid, never written to git.
  const staging = path.join(root, `.synth-staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    build(staging);
    for (const dir of dirs) {
      const built = path.join(staging, dir);
      if (!existsSync(built) || !statSync(built).isDirectory() || countFiles(built) === 0) {
        // With automated prune, an empty dist/ in git would make Argo CD delete production.
        throw new EmptyOutputError(`refusing to write an empty ${dir}/: synthesis produced no files for it`);
      }
    }
    const previous = path.join(staging, '.previous');
    mkdirSync(previous);
    for (const dir of dirs) {
      const target = path.join(root, dir);
      if (existsSync(target)) renameSync(target, path.join(previous, dir));
      renameSync(path.join(staging, dir), target);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function countFiles(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (n, entry) => n + (entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1),
    0,
  );
}
