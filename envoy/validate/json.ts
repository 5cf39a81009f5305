// JSON values as the walker and the checks share them: paths, shapes, how a value is shown in a
// message, and what a proto3 JSON scalar is parsed into.

/** A proto3 scalar read from JSON: integers (32- and 64-bit) as bigint, floats as number, bytes as Buffer. */
export type Scalar = bigint | number | boolean | string | Buffer;

/** Durations and Timestamps are read, and their PGV bounds compared, as nanoseconds. */
export const NANOS_PER_SECOND = 1_000_000_000n;

export function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
