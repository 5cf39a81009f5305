// The protoc-gen-validate (PGV) rules carried on each field as `(validate.rules)`, checked as
// Envoy's generated validators check them at start-up. The walker (proto-json.ts) parses a value,
// then hands it here with the rules that apply to it; each method picks the rule kind it reads
// (`uint32`, `string`, `repeated`, `duration`, …). A rule not implemented here becomes a notice.
import { isIP } from 'node:net';
import { Enum, type Field, Type } from 'protobufjs/light';
import { type EnvoyApi, enumNames, WRAPPED_SCALARS } from './definitions';
import { describe, isPlainObject, NANOS_PER_SECOND, type Scalar } from './json';
import type { Reporter } from './report';

/** A field's `(validate.rules)`: rule kind → that kind's rules. */
export type Rules = Record<string, unknown>;

/** Well-known types with PGV rule kinds of their own (besides `message`). */
const OWN_RULE_KINDS: Record<string, string> = {
  'google.protobuf.Duration': 'duration',
  'google.protobuf.Timestamp': 'timestamp',
  'google.protobuf.Any': 'any',
};

export class PgvRules {
  constructor(
    private readonly api: EnvoyApi,
    private readonly report: Reporter,
  ) {}

  /** Rule kinds this walker never reads for such a field (e.g. a future PGV kind) become notices. */
  checkRuleKinds(rules: Rules, field: Field, fieldPath: string): void {
    const resolved = this.api.fieldType(field);
    const valueKinds = field.map ? ['map'] : field.repeated ? ['repeated'] : [];
    if (!valueKinds.length) {
      if (resolved instanceof Type) {
        const typeName = this.api.nameOf(resolved);
        valueKinds.push('message', WRAPPED_SCALARS[typeName] ?? OWN_RULE_KINDS[typeName] ?? 'message');
      } else {
        valueKinds.push(resolved instanceof Enum ? 'enum' : field.type);
      }
    }
    for (const kind of Object.keys(rules)) {
      if (!valueKinds.includes(kind)) {
        this.report.notice(fieldPath, `skipped: ${kind}`, `PGV rules of kind "${kind}" are not checked on this field`);
      }
    }
  }

  /** An unset message: `message.required`, or the required rule of its own kind (`duration.required`, …). */
  checkRequired(rules: Rules | undefined, typeName: string, valuePath: string): void {
    const requiredBy = ['message', OWN_RULE_KINDS[typeName]].find((k) => k && kindRules(rules, k)?.required === true);
    if (requiredBy) this.report.problem(valuePath, `${requiredBy}.required`, `is required (${typeName})`);
  }

  /** A set message: `required` holds, any other message rule is not implemented. */
  checkMessage(rules: Rules | undefined, valuePath: string): void {
    const messageRules = kindRules(rules, 'message');
    if (messageRules) this.unsupportedRules(messageRules, ['required'], 'message', valuePath);
  }

  checkMap(rules: Rules | undefined, entryCount: number, fieldPath: string): void {
    const mapRules = kindRules(rules, 'map');
    if (!mapRules || (mapRules.ignore_empty === true && entryCount === 0)) return;
    this.unsupportedRules(mapRules, ['min_pairs', 'max_pairs', 'keys', 'values', 'no_sparse', 'ignore_empty'], 'map', fieldPath);
    if (typeof mapRules.min_pairs === 'number' && entryCount < mapRules.min_pairs) {
      this.report.problem(fieldPath, 'map.min_pairs', `needs at least ${mapRules.min_pairs} entr${mapRules.min_pairs === 1 ? 'y' : 'ies'}; got ${entryCount}`);
    }
    if (typeof mapRules.max_pairs === 'number' && entryCount > mapRules.max_pairs) {
      this.report.problem(fieldPath, 'map.max_pairs', `allows at most ${mapRules.max_pairs} entries; got ${entryCount}`);
    }
  }

  checkRepeated(rules: Rules | undefined, items: unknown[], fieldPath: string): void {
    const repeatedRules = kindRules(rules, 'repeated');
    if (!repeatedRules || (repeatedRules.ignore_empty === true && items.length === 0)) return;
    this.unsupportedRules(repeatedRules, ['min_items', 'max_items', 'unique', 'items', 'ignore_empty'], 'repeated', fieldPath);
    const { min_items: minItems, max_items: maxItems } = repeatedRules;
    if (typeof minItems === 'number' && items.length < minItems) {
      this.report.problem(fieldPath, 'repeated.min_items', `needs at least ${minItems} item${minItems === 1 ? '' : 's'}; got ${items.length}`);
    }
    if (typeof maxItems === 'number' && items.length > maxItems) {
      this.report.problem(fieldPath, 'repeated.max_items', `allows at most ${maxItems} items; got ${items.length}`);
    }
    if (repeatedRules.unique === true) {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) this.report.problem(`${fieldPath}[${i}]`, 'repeated.unique', `${describe(item)} appears more than once`);
        seen.add(key);
      });
    }
  }

  /** `value` is the enum as written (undefined when unset), `number` what it stands for. */
  checkEnum(value: unknown, number: number, enumType: Enum, rules: Rules | undefined, valuePath: string): void {
    const enumRules = kindRules(rules, 'enum');
    if (!enumRules) return;
    const enumName = this.api.nameOf(enumType);
    this.unsupportedRules(enumRules, ['const', 'defined_only', 'in', 'not_in'], 'enum', valuePath);
    const shown = value === undefined ? `nothing (unset means ${enumType.valuesById[0] ?? 0})` : describe(value);
    const nameOf = (n: number) => enumType.valuesById[n] ?? String(n);
    if (enumRules.defined_only === true && enumType.valuesById[number] === undefined) {
      this.report.problem(valuePath, 'enum.defined_only', `${number} is not a defined value of ${enumName}; allowed: ${enumNames(enumType)}`);
    }
    if (typeof enumRules.const === 'number' && number !== enumRules.const) {
      this.report.problem(valuePath, 'enum.const', `must be ${nameOf(enumRules.const)}; got ${shown}`);
    }
    if (Array.isArray(enumRules.in) && !enumRules.in.includes(number)) {
      this.report.problem(valuePath, 'enum.in', `must be one of ${enumRules.in.map(nameOf).join(', ')}; got ${shown}`);
    }
    if (Array.isArray(enumRules.not_in) && enumRules.not_in.includes(number)) {
      this.report.problem(valuePath, 'enum.not_in', `must not be ${nameOf(number)}; got ${shown}`);
    }
  }

  /** `text` is the duration as written (`"1.5s"`), `nanos` its value. */
  checkDuration(nanos: bigint, text: string, rules: Rules | undefined, valuePath: string): void {
    const durationRules = kindRules(rules, 'duration');
    if (!durationRules) return;
    this.unsupportedRules(durationRules, ['required', 'const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in'], 'duration', valuePath);
    this.checkComparisons(nanos, durationRules, 'duration', valuePath, text, durationBoundToNanos, formatNanos);
  }

  /** `text` is the time as written, `nanos` its nanoseconds since the epoch. */
  checkTimestamp(nanos: bigint, text: string, rules: Rules | undefined, valuePath: string): void {
    const timestampRules = kindRules(rules, 'timestamp');
    if (!timestampRules) return;
    this.unsupportedRules(timestampRules, ['required', 'const', 'lt', 'lte', 'gt', 'gte'], 'timestamp', valuePath);
    // PGV writes Timestamp bounds as {seconds, nanos} since the epoch, the shape of a Duration bound.
    const formatTime = (n: bigint) => new Date(Number(n / 1_000_000n)).toISOString();
    this.checkComparisons(nanos, timestampRules, 'timestamp', valuePath, text, durationBoundToNanos, formatTime);
  }

  checkAny(typeUrl: string, rules: Rules | undefined, valuePath: string): void {
    const anyRules = kindRules(rules, 'any');
    if (!anyRules) return;
    this.unsupportedRules(anyRules, ['required', 'in', 'not_in'], 'any', valuePath);
    if (Array.isArray(anyRules.in) && !anyRules.in.includes(typeUrl)) {
      this.report.problem(valuePath, 'any.in', `@type must be one of ${anyRules.in.join(', ')}; got ${typeUrl}`);
    }
    if (Array.isArray(anyRules.not_in) && anyRules.not_in.includes(typeUrl)) {
      this.report.problem(valuePath, 'any.not_in', `@type ${typeUrl} is not allowed here`);
    }
  }

  /** PGV rules for a scalar kind (numbers, bool, string, bytes). */
  checkScalar(value: Scalar, kind: string, rules: Rules, valuePath: string, rulePrefix = '', unset = false): void {
    const scalarRules = kindRules(rules, kind);
    if (!scalarRules) return;
    const shown = unset ? `nothing (unset means ${describeScalar(value)})` : describeScalar(value);
    const isEmpty = Buffer.isBuffer(value) ? value.length === 0 : value === '' || value === 0 || value === 0n || value === false;
    if (scalarRules.ignore_empty === true && isEmpty) return;
    const prefix = `${rulePrefix}${kind}`;
    if (typeof value === 'string') return this.checkStringRules(value, scalarRules, valuePath, prefix, shown);
    if (Buffer.isBuffer(value)) return this.checkBytesRules(value, scalarRules, valuePath, prefix, shown);
    if (typeof value === 'boolean') {
      this.unsupportedRules(scalarRules, ['const'], prefix, valuePath);
      if (typeof scalarRules.const === 'boolean' && value !== scalarRules.const) {
        this.report.problem(valuePath, `${prefix}.const`, `must be ${scalarRules.const}; got ${shown}`);
      }
      return;
    }
    this.unsupportedRules(scalarRules, ['const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in', 'ignore_empty'], prefix, valuePath);
    // 64-bit and 32-bit integers compare as bigint (the walker parses them to bigint), floats as number.
    if (typeof value === 'bigint') {
      this.checkComparisons(value, scalarRules, prefix, valuePath, shown, (b) => BigInt(b as number | string), String);
    } else {
      this.checkComparisons(value as number, scalarRules, prefix, valuePath, shown, Number, String);
    }
  }

  /** const / lt / lte / gt / gte / in / not_in, with PGV's meaning when both bounds are given. */
  private checkComparisons<T extends number | bigint>(
    value: T,
    rules: Rules,
    prefix: string,
    valuePath: string,
    shown: string,
    toComparable: (bound: unknown) => T,
    format: (v: T) => string,
  ): void {
    const bound = (key: string) => (rules[key] === undefined ? undefined : toComparable(rules[key]));
    const [gt, gte, lt, lte] = [bound('gt'), bound('gte'), bound('lt'), bound('lte')];
    const lower =
      gt !== undefined
        ? { key: 'gt', at: gt, ok: value > gt, text: `greater than ${format(gt)}` }
        : gte !== undefined
          ? { key: 'gte', at: gte, ok: value >= gte, text: `at least ${format(gte)}` }
          : undefined;
    const upper =
      lt !== undefined
        ? { key: 'lt', at: lt, ok: value < lt, text: `less than ${format(lt)}` }
        : lte !== undefined
          ? { key: 'lte', at: lte, ok: value <= lte, text: `at most ${format(lte)}` }
          : undefined;
    if (lower && upper && upper.at < lower.at) {
      // PGV: an upper bound below the lower bound means "outside this range".
      if (!lower.ok && !upper.ok) {
        this.report.problem(valuePath, `${prefix}.${lower.key}`, `must be ${lower.text} or ${upper.text}; got ${shown}`);
      }
    } else {
      if (lower && !lower.ok) this.report.problem(valuePath, `${prefix}.${lower.key}`, `must be ${lower.text}; got ${shown}`);
      if (upper && !upper.ok) this.report.problem(valuePath, `${prefix}.${upper.key}`, `must be ${upper.text}; got ${shown}`);
    }
    const constant = bound('const');
    if (constant !== undefined && value !== constant) {
      this.report.problem(valuePath, `${prefix}.const`, `must be ${format(constant)}; got ${shown}`);
    }
    const list = (key: string) => (Array.isArray(rules[key]) ? (rules[key] as unknown[]).map(toComparable) : undefined);
    const allowed = list('in');
    if (allowed && !allowed.some((a) => a === value)) {
      this.report.problem(valuePath, `${prefix}.in`, `must be one of ${allowed.map(format).join(', ')}; got ${shown}`);
    }
    const refused = list('not_in');
    if (refused?.some((r) => r === value)) this.report.problem(valuePath, `${prefix}.not_in`, `must not be ${shown}`);
  }

  private checkStringRules(value: string, rules: Rules, valuePath: string, prefix: string, shown: string): void {
    this.unsupportedRules(rules, [...Object.keys(STRING_CHECKS), 'pattern', 'well_known_regex', 'strict', 'ignore_empty'], prefix, valuePath);
    const measures = { chars: [...value].length, bytes: Buffer.byteLength(value, 'utf8') };
    for (const [rule, check] of Object.entries(STRING_CHECKS)) {
      if (rules[rule] === undefined || rules[rule] === false) continue;
      const failure = check(value, rules[rule], measures);
      if (failure) this.report.problem(valuePath, `${prefix}.${rule}`, `${failure}; got ${shown}`);
    }
    if (typeof rules.pattern === 'string') {
      const regex = compilePattern(rules.pattern);
      if (!regex) {
        this.report.notice(valuePath, `skipped: ${prefix}.pattern`, `the RE2 pattern ${JSON.stringify(rules.pattern)} has no JavaScript equivalent`);
      } else if (!regex.test(value)) {
        this.report.problem(valuePath, `${prefix}.pattern`, `must match ${rules.pattern}; got ${shown}`);
      }
    }
    if (typeof rules.well_known_regex === 'string') {
      const regex = headerRegex(rules.well_known_regex, rules.strict !== false);
      const what = rules.well_known_regex.toLowerCase().replace(/_/g, ' ');
      if (!regex) {
        this.report.notice(valuePath, `skipped: ${prefix}.well_known_regex`, `${rules.well_known_regex} is not implemented`);
      } else if (!regex.test(value)) this.report.problem(valuePath, `${prefix}.well_known_regex`, `must be a valid ${what}; got ${shown}`);
    }
  }

  private checkBytesRules(value: Buffer, rules: Rules, valuePath: string, prefix: string, shown: string): void {
    this.unsupportedRules(rules, ['len', 'min_len', 'max_len', 'ignore_empty'], prefix, valuePath);
    const fail = (rule: string, text: string) => this.report.problem(valuePath, `${prefix}.${rule}`, `${text}; got ${shown}`);
    if (typeof rules.len === 'number' && value.length !== rules.len) fail('len', `must be exactly ${rules.len} bytes`);
    if (typeof rules.min_len === 'number' && value.length < rules.min_len) fail('min_len', `must be at least ${rules.min_len} bytes`);
    if (typeof rules.max_len === 'number' && value.length > rules.max_len) fail('max_len', `must be at most ${rules.max_len} bytes`);
  }

  /** A rule this validator does not implement is a notice, never silently passed and never an error. */
  private unsupportedRules(rules: Rules, supported: readonly string[], prefix: string, valuePath: string): void {
    for (const key of Object.keys(rules)) {
      if (!supported.includes(key)) {
        this.report.notice(valuePath, `skipped: ${prefix}.${key}`, `the PGV rule ${prefix}.${key} is not implemented here`);
      }
    }
  }
}

/** The rules of one kind (`uint32`, `string`, `repeated`, …) from a field's `(validate.rules)`. */
export function kindRules(rules: Rules | undefined, kind: string): Rules | undefined {
  const found = rules?.[kind.replace(/^\./, '')];
  return isPlainObject(found) ? found : undefined;
}

/** PGV string rules: each returns what is wrong, or undefined when the value passes. */
type StringCheck = (value: string, bound: unknown, measures: { chars: number; bytes: number }) => string | undefined;
const count = (n: unknown, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const STRING_CHECKS: Record<string, StringCheck> = {
  const: (v, c) => (v !== c ? `must be ${JSON.stringify(c)}` : undefined),
  len: (_v, n, m) => (m.chars !== n ? `must be exactly ${count(n, 'character')}` : undefined),
  min_len: (_v, n, m) => (m.chars < Number(n) ? `must have at least ${count(n, 'character')}` : undefined),
  max_len: (_v, n, m) => (m.chars > Number(n) ? `must have at most ${count(n, 'character')}` : undefined),
  len_bytes: (_v, n, m) => (m.bytes !== n ? `must be exactly ${count(n, 'byte')}` : undefined),
  min_bytes: (_v, n, m) => (m.bytes < Number(n) ? `must be at least ${count(n, 'byte')}` : undefined),
  max_bytes: (_v, n, m) => (m.bytes > Number(n) ? `must be at most ${count(n, 'byte')}` : undefined),
  prefix: (v, p) => (!v.startsWith(String(p)) ? `must start with ${JSON.stringify(p)}` : undefined),
  suffix: (v, p) => (!v.endsWith(String(p)) ? `must end with ${JSON.stringify(p)}` : undefined),
  contains: (v, p) => (!v.includes(String(p)) ? `must contain ${JSON.stringify(p)}` : undefined),
  not_contains: (v, p) => (v.includes(String(p)) ? `must not contain ${JSON.stringify(p)}` : undefined),
  in: (v, list) => (!(list as unknown[]).includes(v) ? `must be one of ${JSON.stringify(list).slice(1, -1)}` : undefined),
  not_in: (v, list) => ((list as unknown[]).includes(v) ? 'is not allowed' : undefined),
  hostname: (v) => (!isHostname(v) ? 'must be a hostname' : undefined),
  ip: (v) => (!isIP(v) ? 'must be an IP address' : undefined),
  ipv4: (v) => (isIP(v) !== 4 ? 'must be an IPv4 address' : undefined),
  ipv6: (v) => (isIP(v) !== 6 ? 'must be an IPv6 address' : undefined),
  address: (v) => (!isIP(v) && !isHostname(v) ? 'must be an IP address or a hostname' : undefined),
  uuid: (v) => (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) ? 'must be a UUID' : undefined),
};

function describeScalar(value: Scalar): string {
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

function formatNanos(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  const fraction = (abs % NANOS_PER_SECOND).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${abs / NANOS_PER_SECOND}${fraction ? `.${fraction}` : ''}s`;
}

/** PGV writes duration bounds as Duration messages: `{seconds, nanos}`, `{}` for zero. */
function durationBoundToNanos(bound: unknown): bigint {
  const { seconds = 0, nanos = 0 } = (bound ?? {}) as { seconds?: number | string; nanos?: number };
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(nanos);
}

/** PGV's hostname rule: labels of letters, digits and inner hyphens, 253 characters at most. */
function isHostname(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (!name || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

/** PGV's HTTP header regexes; with strict: false both become its HEADER_STRING (no NUL, CR, LF; may be empty). */
function headerRegex(kind: string, strict: boolean): RegExp | undefined {
  if (kind !== 'HTTP_HEADER_NAME' && kind !== 'HTTP_HEADER_VALUE') return undefined;
  if (!strict) return /^[^\0\n\r]*$/;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters PGV's strict header value rule refuses
  return kind === 'HTTP_HEADER_NAME' ? /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/ : /^[^\0-\x08\n-\x1f\x7f]*$/;
}

const patternCache = new Map<string, RegExp | null>();
/** PGV patterns are RE2; the common subset compiles as a JavaScript regex. */
function compilePattern(pattern: string): RegExp | undefined {
  if (!patternCache.has(pattern)) {
    try {
      patternCache.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      patternCache.set(pattern, null);
    }
  }
  return patternCache.get(pattern) ?? undefined;
}
