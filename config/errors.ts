// Config errors read alike wherever they come from: `field: got <value>; allowed: <what>`.
import type { z } from 'zod';

/** Thrown for an invalid config; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A value shown exactly as it was typed in its file: a number beyond double precision stays as typed. */
export class AsTyped {
  constructor(readonly text: string) {}
}

/** Errors show at most this much of a value, so a huge one cannot drown the "allowed:" part. */
const SHOWN_CHARACTERS = 80;

/** A value as a user wrote it: JSON, the typed text, or "nothing" when absent; a long one shortened. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = value instanceof AsTyped ? value.text : JSON.stringify(value);
  if (text === undefined || text.length <= SHOWN_CHARACTERS) return text;
  const length = typeof value === 'string' ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, SHOWN_CHARACTERS)}… (${length})`;
}

/** `field: got <value>; allowed: <what>`, the one shape of every config problem. */
export function problem(field: string, value: unknown, allowed: string): string {
  return `${field}: got ${describeValue(value)}; allowed: ${allowed}`;
}

/** zod's issues as config problems; `schema` tells which keys an object accepts, for unknown keys. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType): string[] {
  return issues.map((issue) => {
    const field = issue.path.length ? formatPath(issue.path) : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${field}.` : '';
      const allowed = allowedKeysAt(schema, issue.path);
      return issue.keys.map((key) => `${where}${key}: unknown key "${key}"; allowed keys here: ${allowed.join(', ')}`).join('\n  - ');
    }
    if (issue.code === 'invalid_key') {
      // A map key Kubernetes would refuse: name the map, show the key, and say what a key may be.
      const map = issue.path.length > 1 ? formatPath(issue.path.slice(0, -1)) : '(top level)';
      const key = String(issue.path[issue.path.length - 1]);
      return `${map}: got the key ${JSON.stringify(key)}; allowed: ${issue.issues[0]?.message ?? issue.message}`;
    }
    return 'input' in issue ? problem(field, issue.input, issue.message) : `${field}: got nothing; allowed: ${issue.message}`;
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : `${i ? '.' : ''}${String(step)}`)).join('');
}

/** The keys the schema accepts at a path, for the "unknown key" message. */
function allowedKeysAt(root: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = root;
  for (const step of [...path, null]) {
    const object = unwrapToObject(schema);
    if (!object) return [];
    if (step === null) return Object.keys(object.shape);
    schema = object.shape[String(step)];
    if (!schema) return [];
  }
  return [];
}

/** Unwraps defaults, optionals and refinements until an object schema is reached. */
export function unwrapToObject(schema: z.core.$ZodType): { shape: Record<string, z.core.$ZodType> } | undefined {
  for (;;) {
    const def = (schema as z.ZodType).def as unknown as Record<string, unknown>;
    if (def.type === 'object') return def as unknown as { shape: Record<string, z.core.$ZodType> };
    const inner = (def.innerType ?? def.in ?? def.schema) as z.core.$ZodType | undefined;
    if (!inner) return undefined;
    schema = inner;
  }
}
