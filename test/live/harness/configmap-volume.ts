// A ConfigMap volume as the kubelet keeps it (pkg/volume/util/atomic_writer.go): the files live in a
// hidden `..<timestamp>` directory, `..data` is a symlink to it, and each key is a symlink through
// `..data`. An update writes a new timestamped directory, points a `..data_tmp` symlink at it and
// renames that onto `..data` (one atomic move, which Envoy's watched_directory sees), then adds or
// removes the key symlinks and deletes the old directory. The live suite swaps Envoy's live files
// exactly this way.
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export class ConfigMapVolume {
  private generation = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Replaces the volume's whole content with `files` (key → text), the way the kubelet does. */
  write(files: Readonly<Record<string, string>>): void {
    const previous = existsSync(path.join(this.dir, '..data')) ? readlinkSync(path.join(this.dir, '..data')) : undefined;
    const timestamped = `..${String(++this.generation).padStart(4, '0')}_swap`;
    mkdirSync(path.join(this.dir, timestamped));
    for (const [key, text] of Object.entries(files)) writeFileSync(path.join(this.dir, timestamped, key), text);
    const tmp = path.join(this.dir, '..data_tmp');
    rmSync(tmp, { force: true });
    symlinkSync(timestamped, tmp);
    renameSync(tmp, path.join(this.dir, '..data'));
    for (const key of Object.keys(files)) {
      if (!existsSync(path.join(this.dir, key))) symlinkSync(path.join('..data', key), path.join(this.dir, key));
    }
    for (const entry of readdirSync(this.dir)) {
      if (!entry.startsWith('..') && !(entry in files)) unlinkSync(path.join(this.dir, entry));
    }
    if (previous) rmSync(path.join(this.dir, previous), { recursive: true, force: true });
  }
}
