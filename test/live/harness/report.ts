// Measured figures go to the suite's output, one line each, so a run documents itself.
export function report(line: string): void {
  process.stderr.write(`[live] ${line}\n`);
}

/** Seconds with one decimal, for figures. */
export const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Counts of each value, as `101×8 429×5`. */
export function tally(values: readonly (string | number)[]): string {
  const counts = new Map<string | number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort()
    .map(([v, n]) => `${v}×${n}`)
    .join(' ');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
