// proto3 JSON scalars as Envoy's parser reads them: integer ranges (64-bit ones also as decimal
// strings), floats, bools that are not strings, base64 bytes, Durations and Timestamps, and the
// default value an unset scalar is checked as.
import { NANOS_PER_SECOND, type Scalar } from './json';

export const INTEGER_RANGES: Record<string, readonly [bigint, bigint, string]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n, 'a 32-bit integer'],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n, 'a 32-bit integer'],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n, 'a 32-bit integer'],
  uint32: [0n, 2n ** 32n - 1n, 'an unsigned 32-bit integer'],
  fixed32: [0n, 2n ** 32n - 1n, 'an unsigned 32-bit integer'],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit integer (a number or a decimal string)'],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit integer (a number or a decimal string)'],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit integer (a number or a decimal string)'],
  uint64: [0n, 2n ** 64n - 1n, 'an unsigned 64-bit integer (a number or a decimal string)'],
  fixed64: [0n, 2n ** 64n - 1n, 'an unsigned 64-bit integer (a number or a decimal string)'],
};
const FLOAT_MAX = 3.4028234663852886e38;

/** A scalar read from JSON, or what was expected instead. */
export function parseScalarJson(value: unknown, kind: string): { value: Scalar } | { expected: string } {
  const wrong = (expected: string) => ({ expected });
  const range = INTEGER_RANGES[kind];
  if (range) {
    const [min, max, what] = range;
    const parsed =
      typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : undefined;
    if (parsed === undefined) return wrong(what);
    if (parsed < min || parsed > max) return wrong(`${what} from ${min} to ${max}`);
    return { value: parsed };
  }
  switch (kind) {
    case 'double':
    case 'float': {
      const parsed =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^(-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|-?Infinity)$/.test(value)
            ? Number(value)
            : undefined;
      if (parsed === undefined || (typeof value === 'number' && !Number.isFinite(value))) return wrong('a number');
      if (kind === 'float' && Number.isFinite(parsed) && Math.abs(parsed) > FLOAT_MAX) return wrong('a 32-bit float');
      return { value: parsed };
    }
    case 'bool':
      return typeof value === 'boolean' ? { value } : wrong('true or false (not a string)');
    case 'string':
      return typeof value === 'string' ? { value } : wrong('a string');
    case 'bytes':
      return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)
        ? { value: Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64') }
        : wrong('base64-encoded bytes');
  }
  return wrong(kind);
}

export function defaultScalar(kind: string): Scalar {
  if (kind in INTEGER_RANGES) return 0n;
  if (kind === 'bool') return false;
  if (kind === 'string') return '';
  if (kind === 'bytes') return Buffer.alloc(0);
  return 0;
}

export function isDefaultScalar(value: unknown): boolean {
  return value === 0 || value === '' || value === false || value === '0';
}

const DURATION_TEXT = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000n;
const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export function parseDuration(text: string): bigint | undefined {
  const match = DURATION_TEXT.exec(text);
  if (!match) return undefined;
  const seconds = BigInt(match[2]);
  if (seconds > MAX_DURATION_SECONDS) return undefined;
  const nanos = seconds * NANOS_PER_SECOND + BigInt((match[3] ?? '').padEnd(9, '0'));
  return match[1] ? -nanos : nanos;
}

export function parseTimestamp(text: string): bigint | undefined {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return undefined;
  const millis = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(millis)) return undefined;
  return BigInt(millis / 1000) * NANOS_PER_SECOND + BigInt((match[2] ?? '').padEnd(9, '0'));
}
