// The kinds of config field: each knows what it allows, says so in its error message, and records
// it (meta `allowed`) for the generated configuration reference (docs/configuration.md).
import { z } from 'zod';

/** Attaches what a field allows, for errors and for the reference. */
function allowing<T extends z.ZodType>(schema: T, allowed: string): T {
  return schema.meta({ allowed }) as T;
}

export const int = (min: number, max: number) => {
  const allowed = `an integer from ${min} to ${max}`;
  return allowing(z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }), allowed);
};

export const port = () => int(1, 65535);

export const matching = (re: RegExp, allowed: string) => allowing(z.string({ error: allowed }).regex(re, { error: allowed }), allowed);

/** RFC 1123 label: namespaces and Service names. */
export const dnsLabel = () =>
  matching(
    /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'a DNS-1123 label: 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit',
  );

export const labelValue = () =>
  matching(
    /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    'a label value: 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  );

export const labelKey = () =>
  matching(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'a label key: an optional DNS prefix and "/", then 1-63 letters, digits, "-", "_" or "."',
  );

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A duration such as "500ms", "5s", "10m" or "1h"; parsed to milliseconds. */
export const duration = (minMs: number, maxMs: number) => {
  const allowed = `a duration such as 500ms, 5s, 10m or 1h, from ${formatMs(minMs)} to ${formatMs(maxMs)}`;
  return allowing(
    z
      .string({ error: allowed })
      .regex(/^\d+(ms|s|m|h)$/, { error: allowed })
      // The range is checked on the text, so an error shows the value as typed ("0s", not 0).
      .refine((text) => parseDuration(text) >= minMs && parseDuration(text) <= maxMs, { error: allowed, when: (payload) => payload.issues.length === 0 })
      .transform(parseDuration),
    allowed,
  );
};

function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

/** Milliseconds as the config writes them: "1h", "10m", "5s" or "500ms". */
export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const CPU_ALLOWED = 'a CPU quantity such as 250m, 0.5 or 1 (at least 10m)';
/** Kubernetes CPU quantity; parsed to millicores, kept as written for the manifest. */
export const cpu = () =>
  allowing(
    z
      .string({ error: CPU_ALLOWED })
      .regex(/^(\d+m|\d+(\.\d{1,3})?)$/, { error: CPU_ALLOWED })
      .transform((text) => ({
        text,
        millicores: text.endsWith('m') ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000),
      }))
      .refine((q) => q.millicores >= 10, { error: CPU_ALLOWED }),
    CPU_ALLOWED,
  );

const MEMORY_UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 } as const;
const MEMORY_ALLOWED = 'a memory quantity such as 256Mi or 1Gi (units Ki, Mi, Gi, K, M, G; at least 64Mi)';
/** Kubernetes memory quantity; parsed to bytes, kept as written for the manifest. */
export const memory = () =>
  allowing(
    z
      .string({ error: MEMORY_ALLOWED })
      .regex(/^\d+(Ki|Mi|Gi|K|M|G)$/, { error: MEMORY_ALLOWED })
      .transform((text) => {
        const [, amount, unit] = /^(\d+)(Ki|Mi|Gi|K|M|G)$/.exec(text)!;
        return { text, bytes: Number(amount) * MEMORY_UNITS[unit as keyof typeof MEMORY_UNITS] };
      })
      .refine((q) => q.bytes >= 64 * 2 ** 20, { error: MEMORY_ALLOWED }),
    MEMORY_ALLOWED,
  );

const CIDR_ALLOWED = 'an IPv4 CIDR such as 10.0.0.0/16 (four octets 0-255, prefix 0-32, no host bits set)';
export const cidr = () =>
  allowing(
    z
      .string({ error: CIDR_ALLOWED })
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: CIDR_ALLOWED })
      .refine(isCanonicalIpv4Cidr, { error: CIDR_ALLOWED }),
    CIDR_ALLOWED,
  );

function isCanonicalIpv4Cidr(text: string): boolean {
  const [address, prefixText] = text.split('/');
  const octets = address.split('.').map(Number);
  const prefix = Number(prefixText);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  return value % hostBits === 0;
}

export const bool = () => allowing(z.boolean({ error: 'true or false' }), 'true or false');

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => {
  const allowed = values.join(' or ');
  return allowing(z.enum(values, { error: allowed }), allowed);
};
