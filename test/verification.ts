// What the two suites on real servers share (test/cluster/ on kube-apiservers, test/gitops/ on Argo CD):
// the description their script writes of what it started, the figure lines, and waiting on a condition.
import { readFileSync } from 'node:fs';

/** The JSON file the suite's script names in `variable`: what it started, for the scenarios. */
export function startedContext<T>(variable: string, command: string): T {
  const file = process.env[variable];
  if (!file) throw new Error(`${variable} is not set: run these scenarios through ${command}`);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Measured figures go to the output, one line each, tagged with the suite: `[verify-gitops] ...`. */
export function reporter(tag: string): (line: string) => void {
  return (line) => process.stderr.write(`[${tag}] ${line}\n`);
}

/** Seconds with one decimal, for figures. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Polls `check` every `everyMs` until it returns a value that is not undefined; fails with `what` after
 * `timeoutMs`, with the last error `check` threw, if any.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined, everyMs = 200): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const value = check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
