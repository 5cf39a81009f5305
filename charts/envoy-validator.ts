// Checks an Envoy bootstrap against Envoy's own API definitions before anything is written
// (DESIGN.md, "Fail before writing" and "The real thing, checked against the real schema").
//
// It parses the bootstrap the way Envoy does at start-up: proto3 JSON read strictly (unknown
// fields, wrong types, unknown enum names and two members of one oneof are errors), every Any
// resolved by its @type, then the protoc-gen-validate (PGV) rules carried on each field, then a
// few cross-references the protos cannot express. The definitions are imports/envoy-api.json,
// compiled by cli/import-envoy-api.ts from the descriptors in go-control-plane's Go module for the
// deployed Envoy release, read with protobufjs reflection.
//
// Field names: only proto names (snake_case) are accepted by default. Envoy's JSON parser also
// takes lowerCamel JSON names; this repository writes proto names everywhere, so a lowerCamel key
// is reported (rule "json name") unless `allowJsonNames` is set.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { Enum, Field, MapField, Type } from 'protobufjs/light';
import { configFieldFor, ENVOY_CONFIG_SOURCES, EnvoyConfigSource } from './envoy-config-sources';

/** One way the bootstrap would fail Envoy's start-up checks (or, for notices, a check that was skipped). */
export interface EnvoyProblem {
  /** Where in the bootstrap: `static_resources.clusters[0].connect_timeout`, map keys as `["key"]`. */
  readonly path: string;
  /** Which check failed: `unknown field`, `type: uint32`, `duration.gte`, `any: unknown @type`, … */
  readonly rule: string;
  readonly message: string;
  /** The config field that produced the value, when there is one. */
  readonly configField?: string;
}

export interface EnvoyPorts {
  /** The Envoy container's ports. */
  readonly containerPorts: readonly number[];
  /** The Service's target ports, resolved to numbers. */
  readonly serviceTargetPorts: readonly number[];
}

export interface EnvoyValidationOptions {
  /**
   * Which config field produced which bootstrap path.
   * @default ENVOY_CONFIG_SOURCES
   */
  readonly sources?: readonly EnvoyConfigSource[];
  /**
   * Ports the listeners must match; no port cross-check when absent.
   * @default undefined
   */
  readonly ports?: EnvoyPorts;
  /**
   * Accept lowerCamel JSON field names as Envoy's JSON parser does.
   * @default false
   */
  readonly allowJsonNames?: boolean;
}

export interface EnvoyValidationReport {
  /** Each of these would stop Envoy (or, for cross-references, the edge) from working. */
  readonly problems: EnvoyProblem[];
  /** Not errors: deprecated fields in use, and checks that were skipped (so nobody assumes they ran). */
  readonly notices: EnvoyProblem[];
}

/** Every problem that would make Envoy reject the bootstrap at start-up; empty when it is valid. */
export function validateEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): EnvoyProblem[] {
  return inspectEnvoyBootstrap(bootstrap, opts).problems;
}

/** Problems and notices; `validateEnvoyBootstrap` returns only the problems. */
export function inspectEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): EnvoyValidationReport {
  const api = loadEnvoyApi();
  const checker = new BootstrapChecker(api, opts);
  checker.checkBootstrap(bootstrap, api.lookupType(BOOTSTRAP_TYPE)!);
  return { problems: checker.problems, notices: checker.notices };
}

/** Thrown by assertValidEnvoyBootstrap; its message lists every problem, one per line. */
export class EnvoyBootstrapError extends Error {
  constructor(readonly problems: readonly EnvoyProblem[]) {
    super(`the Envoy bootstrap would be rejected:\n${problems.map((p) => `  - ${formatEnvoyProblem(p)}`).join('\n')}`);
    this.name = 'EnvoyBootstrapError';
  }
}

export function assertValidEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): void {
  const problems = validateEnvoyBootstrap(bootstrap, opts);
  if (problems.length) throw new EnvoyBootstrapError(problems);
}

/** `path: rule: message (config: field)`, the form the CLI and the synth print. */
export function formatEnvoyProblem(problem: EnvoyProblem): string {
  const source = problem.configField ? ` (config: ${problem.configField})` : '';
  return `${problem.path || '(top level)'}: ${problem.rule}: ${problem.message}${source}`;
}

/** Where the definitions come from (recorded by the generator). */
export function envoyApiSource(): { readonly definitions: string; readonly envoyApi: string } {
  return loadEnvoyApi().about;
}

// ---------------------------------------------------------------- the compiled definitions

const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';
const API_FILE = path.join(__dirname, '..', 'imports', 'envoy-api.json');
const TYPE_URL_PREFIX = 'type.googleapis.com/';

interface CompiledNode {
  fields?: Record<string, unknown>;
  oneofs?: Record<string, unknown>;
  reserved?: string[];
  values?: Record<string, number>;
  valuesOptions?: Record<string, Record<string, unknown>>;
  nested?: Record<string, CompiledNode>;
}

interface CompiledApi {
  about: { definitions: string; envoyApi: string; unavailableTypes: string[] };
  nested: Record<string, CompiledNode>;
}

/**
 * The definitions, indexed by full name. protobufjs reflection objects are built on first use:
 * building all ~1,100 types up front (Root.fromJSON) costs ~400 ms, a bootstrap touches ~100.
 */
class EnvoyApi {
  readonly about: CompiledApi['about'];
  private readonly unavailable: Set<string>;
  private readonly compiled = new Map<string, CompiledNode>();
  private readonly built = new Map<string, Type | Enum>();
  private readonly names = new WeakMap<Type | Enum, string>();
  private readonly jsonNames = new WeakMap<Type, Map<string, Field>>();

  constructor(api: CompiledApi) {
    this.about = api.about;
    this.unavailable = new Set(api.about.unavailableTypes);
    const index = (nested: Record<string, CompiledNode>, prefix: string) => {
      for (const [name, node] of Object.entries(nested)) {
        const fullName = prefix + name;
        if (node.fields || node.values) this.compiled.set(fullName, node);
        if (node.nested) index(node.nested, `${fullName}.`);
      }
    };
    index(api.nested, '');
  }

  lookup(fullName: string): Type | Enum | undefined {
    const name = fullName.replace(/^\./, '');
    let built = this.built.get(name);
    if (built) return built;
    const node = this.compiled.get(name);
    if (!node) return undefined;
    const shortName = name.slice(name.lastIndexOf('.') + 1);
    built = node.fields
      ? Type.fromJSON(shortName, { fields: node.fields, oneofs: node.oneofs, reserved: node.reserved } as never)
      : Enum.fromJSON(shortName, { values: node.values, valuesOptions: node.valuesOptions } as never);
    this.built.set(name, built);
    this.names.set(built, name);
    return built;
  }

  lookupType(fullName: string): Type | undefined {
    const found = this.lookup(fullName);
    return found instanceof Type ? found : undefined;
  }

  /** The message or enum a field holds; undefined for scalars. */
  fieldType(field: Field): Type | Enum | undefined {
    return field.type.startsWith('.') ? this.lookup(field.type) : undefined;
  }

  nameOf(type: Type | Enum): string {
    return this.names.get(type) ?? type.name;
  }

  isUnavailable(fullName: string): boolean {
    return this.unavailable.has(fullName);
  }

  /** Type names that end like `fullName`, to suggest for an unknown @type (a v2 name, a typo in the package). */
  similarTypeNames(fullName: string): string[] {
    const shortName = fullName.slice(fullName.lastIndexOf('.') + 1).toLowerCase();
    return [...this.compiled.keys()].filter((name) => name.toLowerCase().endsWith(`.${shortName}`)).slice(0, 3);
  }

  fieldByJsonName(type: Type, key: string): Field | undefined {
    let byJsonName = this.jsonNames.get(type);
    if (!byJsonName) {
      byJsonName = new Map(type.fieldsArray.map((field) => [jsonNameOf(field.name), field]));
      this.jsonNames.set(type, byJsonName);
    }
    return byJsonName.get(key);
  }
}

let cachedApi: EnvoyApi | undefined;
function loadEnvoyApi(): EnvoyApi {
  cachedApi ??= new EnvoyApi(JSON.parse(readFileSync(API_FILE, 'utf8')) as CompiledApi);
  return cachedApi;
}

// ---------------------------------------------------------------- the walker

type Rules = Record<string, unknown>;
type Scalar = bigint | number | boolean | string | Buffer;

const INTEGER_RANGES: Record<string, readonly [bigint, bigint, string]> = {
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

/** Wrapper types are written as their bare value; PGV rules for the wrapped scalar apply to it. */
const WRAPPED_SCALARS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};
/** Well-known types with PGV rule kinds of their own (besides `message`). */
const OWN_RULE_KINDS: Record<string, string> = {
  'google.protobuf.Duration': 'duration',
  'google.protobuf.Timestamp': 'timestamp',
  'google.protobuf.Any': 'any',
};
/** Well-known types whose JSON form is not an object of fields; inside an Any they sit under "value". */
const SPECIAL_JSON_TYPES = new Set([
  ...Object.keys(WRAPPED_SCALARS),
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  'google.protobuf.Any',
]);
/** TypedStruct carries a config as a Struct plus its type URL; Envoy converts it to that message. */
const TYPED_STRUCT_TYPES = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

/** Fields that name a cluster, by message type: each must be one of static_resources.clusters. */
const CLUSTER_NAME_FIELDS: Record<string, readonly string[]> = {
  'envoy.config.route.v3.RouteAction': ['cluster'],
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': ['name'],
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy': ['cluster'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': ['cluster'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': ['name'],
};

const DURATION_TEXT = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000n;
const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const NANOS_PER_SECOND = 1_000_000_000n;

class BootstrapChecker {
  readonly problems: EnvoyProblem[] = [];
  readonly notices: EnvoyProblem[] = [];
  /** Where a cluster is named by a route (or TCP proxy), checked once all clusters are known. */
  private readonly clusterReferences: { path: string; name: string }[] = [];
  private readonly sources: readonly EnvoyConfigSource[];

  constructor(
    private readonly api: EnvoyApi,
    private readonly opts: EnvoyValidationOptions,
  ) {
    this.sources = opts.sources ?? ENVOY_CONFIG_SOURCES;
  }

  private problem(path: string, rule: string, message: string): void {
    const configField = configFieldFor(path, this.sources);
    this.problems.push(configField ? { path, rule, message, configField } : { path, rule, message });
  }

  private notice(path: string, rule: string, message: string): void {
    this.notices.push({ path, rule, message });
  }

  checkBootstrap(bootstrap: unknown, bootstrapType: Type): void {
    if (!isPlainObject(bootstrap)) {
      this.problem('', 'type: message', `expected an object (${BOOTSTRAP_TYPE}); got ${describe(bootstrap)}`);
      return;
    }
    this.checkMessage(bootstrap, bootstrapType, '');
    this.checkCrossReferences(bootstrap);
  }

  // ---------------------------------------------------------------- messages and fields

  private checkMessage(value: Record<string, unknown>, type: Type, path: string): void {
    const typeName = this.api.nameOf(type);
    const present = new Map<Field, unknown>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = this.fieldFor(type, key, join(path, key));
      if (!field) continue;
      if (present.has(field)) {
        this.problem(
          join(path, field.name),
          'duplicate field',
          `${field.name} is set twice (by its proto and its JSON name)`,
        );
        continue;
      }
      present.set(field, fieldValue);
    }
    const isSet = (field: Field) => present.has(field) && present.get(field) !== null;

    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray.filter(isSet);
      if (members.length > 1) {
        this.problem(
          join(path, members[1].name),
          'oneof: multiple members set',
          `${members.map((m) => m.name).join(' and ')} are members of oneof "${oneof.name}" in ${typeName}; set only one`,
        );
      } else if (members.length === 0 && oneof.options?.['(validate.required)'] === true) {
        this.problem(path, 'oneof.required', `one of ${oneof.oneof.join(', ')} (oneof "${oneof.name}") must be set`);
      }
    }

    for (const field of type.fieldsArray) {
      const fieldPath = join(path, field.name);
      if (isSet(field)) this.checkDeprecation(field, present.get(field), fieldPath, typeName);
      // PGV checks an unset oneof member not at all, an unset scalar as its default value.
      if (!isSet(field) && field.partOf) continue;
      this.checkField(isSet(field) ? present.get(field) : undefined, field, fieldPath);
    }

    const clusterFields = CLUSTER_NAME_FIELDS[typeName];
    for (const name of clusterFields ?? []) {
      const cluster = value[name];
      if (typeof cluster === 'string' && cluster) this.clusterReferences.push({ path: join(path, name), name: cluster });
    }
  }

  private fieldFor(type: Type, key: string, keyPath: string): Field | undefined {
    const byProtoName = Object.prototype.hasOwnProperty.call(type.fields, key) ? type.fields[key] : undefined;
    if (byProtoName) return byProtoName;
    const byJsonName = this.api.fieldByJsonName(type, key);
    if (byJsonName && this.opts.allowJsonNames) return byJsonName;
    const typeName = this.api.nameOf(type);
    if (byJsonName) {
      this.problem(
        keyPath,
        'json name',
        `"${key}" is the JSON name of ${byJsonName.name}; this repository writes proto field names`,
      );
      // Envoy would accept it: check its value as that field, so one spelling slip is one problem.
      return byJsonName;
    }
    if (type.reserved?.includes(key)) {
      this.problem(keyPath, 'unknown field', `"${key}" was removed from ${typeName} (a reserved name)`);
    } else {
      const suggestion = closestName(key, Object.keys(type.fields));
      this.problem(
        keyPath,
        'unknown field',
        `"${key}" is not a field of ${typeName}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      );
    }
    return undefined;
  }

  private checkDeprecation(field: Field, value: unknown, fieldPath: string, typeName: string): void {
    if (field.options?.deprecated !== true || isDefaultScalar(value)) return;
    const since = field.options['(envoy.annotations.deprecated_at_minor_version)'];
    if (field.options['(envoy.annotations.disallowed_by_default)'] === true) {
      this.problem(
        fieldPath,
        'deprecated: disallowed by default',
        `${typeName}.${field.name} is deprecated and refused unless a runtime override allows it`,
      );
    } else {
      this.notice(
        fieldPath,
        'deprecated',
        `${typeName}.${field.name} is deprecated${since ? ` since API v${since}` : ''}; Envoy logs a warning`,
      );
    }
  }

  /** `value` undefined means unset: repeated and map fields are then empty, scalars their default. */
  private checkField(value: unknown, field: Field, fieldPath: string): void {
    const rules = field.options?.['(validate.rules)'] as Rules | undefined;
    // Unset and unconstrained: nothing to check (and no need to build its type).
    if (value === undefined && !rules) return;
    if (rules) this.unexpectedRuleKinds(rules, field, fieldPath);
    if (field.map) return this.checkMap(value, field, mapKeyType(field), rules, fieldPath);
    if (field.repeated) return this.checkRepeated(value, field, rules, fieldPath);
    this.checkSingular(value, this.api.fieldType(field), field.type, rules, fieldPath);
  }

  private checkMap(value: unknown, field: Field, keyType: string, rules: Rules | undefined, fieldPath: string): void {
    if (value !== undefined && !isPlainObject(value)) {
      this.problem(
        fieldPath,
        'type: map',
        `expected an object (map<${keyType}, ${shortType(field.type)}>); got ${describe(value)}`,
      );
      return;
    }
    const entries = Object.entries(value ?? {});
    const mapRules = kindRules(rules, 'map');
    const valueType = this.api.fieldType(field);
    for (const [key, entryValue] of entries) {
      const entryPath = `${fieldPath}[${JSON.stringify(key)}]`;
      const parsedKey = this.parseMapKey(key, keyType, entryPath);
      if (parsedKey !== undefined && mapRules?.keys) {
        this.applyScalarRules(parsedKey, keyType, mapRules.keys as Rules, entryPath, 'map.keys.');
      }
      if (entryValue === null) {
        this.problem(entryPath, `type: ${shortType(field.type)}`, 'a map value cannot be null');
        continue;
      }
      this.checkSingular(entryValue, valueType, field.type, mapRules?.values as Rules | undefined, entryPath);
    }
    if (!mapRules || (mapRules.ignore_empty === true && entries.length === 0)) return;
    this.unsupportedRules(mapRules, ['min_pairs', 'max_pairs', 'keys', 'values', 'no_sparse', 'ignore_empty'], 'map', fieldPath);
    if (typeof mapRules.min_pairs === 'number' && entries.length < mapRules.min_pairs) {
      this.problem(
        fieldPath,
        'map.min_pairs',
        `needs at least ${mapRules.min_pairs} entr${mapRules.min_pairs === 1 ? 'y' : 'ies'}; got ${entries.length}`,
      );
    }
    if (typeof mapRules.max_pairs === 'number' && entries.length > mapRules.max_pairs) {
      this.problem(fieldPath, 'map.max_pairs', `allows at most ${mapRules.max_pairs} entries; got ${entries.length}`);
    }
  }

  private parseMapKey(key: string, keyType: string, entryPath: string): Scalar | undefined {
    if (keyType === 'string') return key;
    if (keyType === 'bool') {
      if (key === 'true' || key === 'false') return key === 'true';
    } else if (/^-?\d+$/.test(key)) {
      const [min, max] = INTEGER_RANGES[keyType];
      const parsed = BigInt(key);
      if (parsed >= min && parsed <= max) return parsed;
    }
    this.problem(entryPath, 'type: map key', `"${key}" is not a ${keyType} key`);
    return undefined;
  }

  private checkRepeated(value: unknown, field: Field, rules: Rules | undefined, fieldPath: string): void {
    if (value !== undefined && !Array.isArray(value)) {
      this.problem(fieldPath, 'type: repeated', `expected a list of ${shortType(field.type)}; got ${describe(value)}`);
      return;
    }
    const items = (value ?? []) as unknown[];
    const repeatedRules = kindRules(rules, 'repeated');
    const itemType = this.api.fieldType(field);
    items.forEach((item, i) => {
      const itemPath = `${fieldPath}[${i}]`;
      if (item === null && field.type !== '.google.protobuf.Value') {
        this.problem(itemPath, `type: ${shortType(field.type)}`, 'a list item cannot be null');
      } else {
        this.checkSingular(item, itemType, field.type, repeatedRules?.items as Rules | undefined, itemPath);
      }
    });
    if (!repeatedRules || (repeatedRules.ignore_empty === true && items.length === 0)) return;
    this.unsupportedRules(repeatedRules, ['min_items', 'max_items', 'unique', 'items', 'ignore_empty'], 'repeated', fieldPath);
    const { min_items: minItems, max_items: maxItems } = repeatedRules;
    if (typeof minItems === 'number' && items.length < minItems) {
      this.problem(
        fieldPath,
        'repeated.min_items',
        `needs at least ${minItems} item${minItems === 1 ? '' : 's'}; got ${items.length}`,
      );
    }
    if (typeof maxItems === 'number' && items.length > maxItems) {
      this.problem(fieldPath, 'repeated.max_items', `allows at most ${maxItems} items; got ${items.length}`);
    }
    if (repeatedRules.unique === true) {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) this.problem(`${fieldPath}[${i}]`, 'repeated.unique', `${describe(item)} appears more than once`);
        seen.add(key);
      });
    }
  }

  /** One value of a message, enum or scalar type; `value` undefined means unset. */
  private checkSingular(
    value: unknown,
    resolved: Type | Enum | undefined,
    typeRef: string,
    rules: Rules | undefined,
    valuePath: string,
  ): void {
    if (value === null && typeRef !== '.google.protobuf.Value') value = undefined;
    if (resolved instanceof Type) return this.checkMessageValue(value, resolved, rules, valuePath);
    if (resolved instanceof Enum) return this.checkEnum(value, resolved, rules, valuePath);
    if (value === undefined) {
      if (kindRules(rules, typeRef)) this.applyScalarRules(defaultScalar(typeRef), typeRef, rules!, valuePath, '', true);
      return;
    }
    const parsed = this.parseScalar(value, typeRef, valuePath);
    if (parsed !== undefined && rules) this.applyScalarRules(parsed, typeRef, rules, valuePath);
  }

  private checkMessageValue(value: unknown, type: Type, rules: Rules | undefined, valuePath: string): void {
    const typeName = this.api.nameOf(type);
    if (value === undefined) {
      const requiredBy = ['message', OWN_RULE_KINDS[typeName]].find((k) => k && kindRules(rules, k)?.required === true);
      if (requiredBy) this.problem(valuePath, `${requiredBy}.required`, `is required (${typeName})`);
      return;
    }
    const messageRules = kindRules(rules, 'message');
    if (messageRules) this.unsupportedRules(messageRules, ['required'], 'message', valuePath);
    const wrapped = WRAPPED_SCALARS[typeName];
    if (wrapped) {
      const parsed = this.parseScalar(value, wrapped, valuePath);
      if (parsed !== undefined && rules) this.applyScalarRules(parsed, wrapped, rules, valuePath);
      return;
    }
    switch (typeName) {
      case 'google.protobuf.Duration':
        return this.checkDuration(value, kindRules(rules, 'duration'), valuePath);
      case 'google.protobuf.Timestamp':
        return this.checkTimestamp(value, kindRules(rules, 'timestamp'), valuePath);
      case 'google.protobuf.FieldMask':
        if (typeof value !== 'string') {
          this.problem(valuePath, 'type: FieldMask', `expected a string of comma-separated paths; got ${describe(value)}`);
        }
        return;
      case 'google.protobuf.Struct':
        if (!isPlainObject(value)) this.problem(valuePath, 'type: Struct', `expected an object; got ${describe(value)}`);
        else this.checkAnyJson(value, valuePath);
        return;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(value)) this.problem(valuePath, 'type: ListValue', `expected a list; got ${describe(value)}`);
        else this.checkAnyJson(value, valuePath);
        return;
      case 'google.protobuf.Value':
        return this.checkAnyJson(value, valuePath);
      case 'google.protobuf.Any':
        return this.checkAny(value, kindRules(rules, 'any'), valuePath);
    }
    if (!isPlainObject(value)) {
      this.problem(valuePath, 'type: message', `expected an object (${typeName}); got ${describe(value)}`);
      return;
    }
    this.checkMessage(value, type, valuePath);
  }

  /** Struct, Value and ListValue hold any JSON; only values JSON cannot carry are wrong. */
  private checkAnyJson(value: unknown, valuePath: string): void {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.problem(valuePath, 'type: Value', `${value} is not a JSON number`);
      return;
    }
    if (Array.isArray(value)) return value.forEach((item, i) => this.checkAnyJson(item, `${valuePath}[${i}]`));
    if (isPlainObject(value)) return Object.entries(value).forEach(([k, v]) => this.checkAnyJson(v, join(valuePath, k)));
    this.problem(valuePath, 'type: Value', `${describe(value)} is not JSON`);
  }

  // ---------------------------------------------------------------- Any and TypedStruct

  private checkAny(value: unknown, anyRules: Rules | undefined, valuePath: string): void {
    if (!isPlainObject(value)) {
      this.problem(valuePath, 'type: Any', `expected an object with "@type"; got ${describe(value)}`);
      return;
    }
    const typeUrl = value['@type'];
    if (typeUrl === undefined) {
      this.problem(
        valuePath,
        'any: missing @type',
        'a typed config needs "@type": "type.googleapis.com/<message full name>"',
      );
      return;
    }
    const type = this.resolveTypeUrl(typeUrl, join(valuePath, '@type'));
    if (anyRules) this.checkAnyRules(String(typeUrl), anyRules, valuePath);
    if (!type) return;
    const { '@type': _typeUrl, ...fields } = value;
    const typeName = this.api.nameOf(type);
    if (SPECIAL_JSON_TYPES.has(typeName)) {
      const extraKeys = Object.keys(fields).filter((k) => k !== 'value');
      for (const key of extraKeys) this.problem(join(valuePath, key), 'unknown field', `an Any holding ${typeName} has only "@type" and "value"`);
      this.checkSingular(fields.value, type, `.${typeName}`, undefined, join(valuePath, 'value'));
      return;
    }
    this.checkMessage(fields, type, valuePath);
    if (TYPED_STRUCT_TYPES.has(typeName)) this.checkTypedStruct(fields, valuePath);
  }

  /** Envoy turns a TypedStruct into the message its type_url names, as strictly as any other config. */
  private checkTypedStruct(fields: Record<string, unknown>, valuePath: string): void {
    if (fields.type_url === undefined) {
      this.problem(
        join(valuePath, 'type_url'),
        'typed_struct: missing type_url',
        'a TypedStruct needs the type URL of the config it carries',
      );
      return;
    }
    const inner = this.resolveTypeUrl(fields.type_url, join(valuePath, 'type_url'));
    if (!inner || !isPlainObject(fields.value ?? {})) return;
    this.checkSingular(fields.value ?? {}, inner, `.${this.api.nameOf(inner)}`, undefined, join(valuePath, 'value'));
  }

  private resolveTypeUrl(typeUrl: unknown, urlPath: string): Type | undefined {
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.problem(urlPath, 'any: bad @type', `expected "${TYPE_URL_PREFIX}<message full name>"; got ${describe(typeUrl)}`);
      return undefined;
    }
    const fullName = typeUrl.slice(TYPE_URL_PREFIX.length);
    if (this.api.isUnavailable(fullName)) {
      this.notice(
        urlPath,
        'skipped: any @type not bundled',
        `${fullName} imports definitions the import did not include; its content was not checked`,
      );
      return undefined;
    }
    const type = this.api.lookupType(fullName);
    if (!type) {
      const similar = this.api.similarTypeNames(fullName);
      this.problem(
        urlPath,
        'any: unknown @type',
        `${fullName} is not a message in Envoy's API${similar.length ? `; did you mean ${similar.join(' or ')}?` : ''}`,
      );
    }
    return type;
  }

  private checkAnyRules(typeUrl: string, anyRules: Rules, valuePath: string): void {
    this.unsupportedRules(anyRules, ['required', 'in', 'not_in'], 'any', valuePath);
    if (Array.isArray(anyRules.in) && !anyRules.in.includes(typeUrl)) {
      this.problem(valuePath, 'any.in', `@type must be one of ${anyRules.in.join(', ')}; got ${typeUrl}`);
    }
    if (Array.isArray(anyRules.not_in) && anyRules.not_in.includes(typeUrl)) {
      this.problem(valuePath, 'any.not_in', `@type ${typeUrl} is not allowed here`);
    }
  }

  // ---------------------------------------------------------------- Duration and Timestamp

  private checkDuration(value: unknown, durationRules: Rules | undefined, valuePath: string): void {
    const nanos = typeof value === 'string' ? parseDuration(value) : undefined;
    if (nanos === undefined) {
      this.problem(
        valuePath,
        'type: Duration',
        `expected a duration string such as "1.5s" or "0.250s" (seconds, up to 9 decimals); got ${describe(value)}`,
      );
      return;
    }
    if (!durationRules) return;
    this.unsupportedRules(durationRules, ['required', 'const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in'], 'duration', valuePath);
    this.checkComparisons(nanos, durationRules, 'duration', valuePath, String(value), durationBoundToNanos, formatNanos);
  }

  private checkTimestamp(value: unknown, timestampRules: Rules | undefined, valuePath: string): void {
    const nanos = typeof value === 'string' ? parseTimestamp(value) : undefined;
    if (nanos === undefined) {
      this.problem(
        valuePath,
        'type: Timestamp',
        `expected an RFC 3339 time such as "2025-01-31T12:00:00Z"; got ${describe(value)}`,
      );
      return;
    }
    if (!timestampRules) return;
    this.unsupportedRules(timestampRules, ['required', 'const', 'lt', 'lte', 'gt', 'gte'], 'timestamp', valuePath);
    // PGV writes Timestamp bounds as {seconds, nanos} since the epoch, the shape of a Duration bound.
    const formatTime = (n: bigint) => new Date(Number(n / 1_000_000n)).toISOString();
    this.checkComparisons(nanos, timestampRules, 'timestamp', valuePath, String(value), durationBoundToNanos, formatTime);
  }

  // ---------------------------------------------------------------- enums and scalars

  private checkEnum(value: unknown, enumType: Enum, rules: Rules | undefined, valuePath: string): void {
    const enumName = this.api.nameOf(enumType);
    let number: number;
    if (value === undefined) {
      number = 0;
    } else if (typeof value === 'string') {
      if (!Object.prototype.hasOwnProperty.call(enumType.values, value)) {
        this.problem(
          valuePath,
          'enum: unknown value',
          `"${value}" is not a value of ${enumName}; allowed: ${enumNames(enumType)}`,
        );
        return;
      }
      number = enumType.values[value];
      this.checkEnumValueDeprecation(enumType, value, valuePath);
    } else if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
      number = value;
      const name = enumType.valuesById[value];
      if (name) this.checkEnumValueDeprecation(enumType, name, valuePath);
    } else {
      this.problem(valuePath, 'type: enum', `expected a ${enumName} name (or its number); got ${describe(value)}`);
      return;
    }
    const enumRules = kindRules(rules, 'enum');
    if (!enumRules) return;
    this.unsupportedRules(enumRules, ['const', 'defined_only', 'in', 'not_in'], 'enum', valuePath);
    const shown = value === undefined ? `nothing (unset means ${enumType.valuesById[0] ?? 0})` : describe(value);
    const nameOf = (n: number) => enumType.valuesById[n] ?? String(n);
    if (enumRules.defined_only === true && enumType.valuesById[number] === undefined) {
      this.problem(
        valuePath,
        'enum.defined_only',
        `${number} is not a defined value of ${enumName}; allowed: ${enumNames(enumType)}`,
      );
    }
    if (typeof enumRules.const === 'number' && number !== enumRules.const) {
      this.problem(valuePath, 'enum.const', `must be ${nameOf(enumRules.const)}; got ${shown}`);
    }
    if (Array.isArray(enumRules.in) && !enumRules.in.includes(number)) {
      this.problem(valuePath, 'enum.in', `must be one of ${enumRules.in.map(nameOf).join(', ')}; got ${shown}`);
    }
    if (Array.isArray(enumRules.not_in) && enumRules.not_in.includes(number)) {
      this.problem(valuePath, 'enum.not_in', `must not be ${nameOf(number)}; got ${shown}`);
    }
  }

  private checkEnumValueDeprecation(enumType: Enum, name: string, valuePath: string): void {
    const options = enumType.valuesOptions?.[name];
    if (options?.deprecated !== true) return;
    if (options['(envoy.annotations.disallowed_by_default_enum)'] === true) {
      this.problem(
        valuePath,
        'deprecated: disallowed by default',
        `${name} is deprecated and refused unless a runtime override allows it`,
      );
    } else {
      this.notice(valuePath, 'deprecated', `${name} is deprecated; Envoy logs a warning`);
    }
  }

  /** proto3 JSON as Envoy's parser reads it; undefined (after reporting) when the value has the wrong type. */
  private parseScalar(value: unknown, kind: string, valuePath: string): Scalar | undefined {
    const wrong = (expected: string) => {
      this.problem(valuePath, `type: ${kind}`, `expected ${expected}; got ${describe(value)}`);
      return undefined;
    };
    const range = INTEGER_RANGES[kind];
    if (range) {
      const [min, max, what] = range;
      const parsed =
        typeof value === 'number' && Number.isInteger(value)
          ? BigInt(value)
          : typeof value === 'string' && /^-?\d+$/.test(value)
            ? BigInt(value)
            : undefined;
      if (parsed === undefined) return wrong(what);
      if (parsed < min || parsed > max) return wrong(`${what} from ${min} to ${max}`);
      return parsed;
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
        return parsed;
      }
      case 'bool':
        return typeof value === 'boolean' ? value : wrong('true or false (not a string)');
      case 'string':
        return typeof value === 'string' ? value : wrong('a string');
      case 'bytes':
        return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)
          ? Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64')
          : wrong('base64-encoded bytes');
    }
    return wrong(kind);
  }

  /** PGV rules for a scalar kind (numbers, bool, string, bytes). */
  private applyScalarRules(value: Scalar, kind: string, rules: Rules, valuePath: string, rulePrefix = '', unset = false): void {
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
        this.problem(valuePath, `${prefix}.const`, `must be ${scalarRules.const}; got ${shown}`);
      }
      return;
    }
    this.unsupportedRules(scalarRules, ['const', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in', 'ignore_empty'], prefix, valuePath);
    // 64-bit and 32-bit integers compare as bigint (parseScalar returns bigint), floats as number.
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
    const lower = gt !== undefined ? { key: 'gt', at: gt, ok: value > gt, text: `greater than ${format(gt)}` }
      : gte !== undefined ? { key: 'gte', at: gte, ok: value >= gte, text: `at least ${format(gte)}` } : undefined;
    const upper = lt !== undefined ? { key: 'lt', at: lt, ok: value < lt, text: `less than ${format(lt)}` }
      : lte !== undefined ? { key: 'lte', at: lte, ok: value <= lte, text: `at most ${format(lte)}` } : undefined;
    if (lower && upper && upper.at < lower.at) {
      // PGV: an upper bound below the lower bound means "outside this range".
      if (!lower.ok && !upper.ok) {
        this.problem(valuePath, `${prefix}.${lower.key}`, `must be ${lower.text} or ${upper.text}; got ${shown}`);
      }
    } else {
      if (lower && !lower.ok) this.problem(valuePath, `${prefix}.${lower.key}`, `must be ${lower.text}; got ${shown}`);
      if (upper && !upper.ok) this.problem(valuePath, `${prefix}.${upper.key}`, `must be ${upper.text}; got ${shown}`);
    }
    const constant = bound('const');
    if (constant !== undefined && value !== constant) {
      this.problem(valuePath, `${prefix}.const`, `must be ${format(constant)}; got ${shown}`);
    }
    const list = (key: string) => (Array.isArray(rules[key]) ? (rules[key] as unknown[]).map(toComparable) : undefined);
    const allowed = list('in');
    if (allowed && !allowed.some((a) => a === value)) {
      this.problem(valuePath, `${prefix}.in`, `must be one of ${allowed.map(format).join(', ')}; got ${shown}`);
    }
    const refused = list('not_in');
    if (refused?.some((r) => r === value)) this.problem(valuePath, `${prefix}.not_in`, `must not be ${shown}`);
  }

  private checkStringRules(value: string, rules: Rules, valuePath: string, prefix: string, shown: string): void {
    this.unsupportedRules(rules, [...Object.keys(STRING_CHECKS), 'pattern', 'well_known_regex', 'strict', 'ignore_empty'], prefix, valuePath);
    const measures = { chars: [...value].length, bytes: Buffer.byteLength(value, 'utf8') };
    for (const [rule, check] of Object.entries(STRING_CHECKS)) {
      if (rules[rule] === undefined || rules[rule] === false) continue;
      const failure = check(value, rules[rule], measures);
      if (failure) this.problem(valuePath, `${prefix}.${rule}`, `${failure}; got ${shown}`);
    }
    if (typeof rules.pattern === 'string') {
      const regex = compilePattern(rules.pattern);
      if (!regex) {
        this.notice(
          valuePath,
          `skipped: ${prefix}.pattern`,
          `the RE2 pattern ${JSON.stringify(rules.pattern)} has no JavaScript equivalent`,
        );
      } else if (!regex.test(value)) {
        this.problem(valuePath, `${prefix}.pattern`, `must match ${rules.pattern}; got ${shown}`);
      }
    }
    if (typeof rules.well_known_regex === 'string') {
      const regex = headerRegex(rules.well_known_regex, rules.strict !== false);
      const what = rules.well_known_regex.toLowerCase().replace(/_/g, ' ');
      if (!regex) {
        this.notice(valuePath, `skipped: ${prefix}.well_known_regex`, `${rules.well_known_regex} is not implemented`);
      }
      else if (!regex.test(value)) this.problem(valuePath, `${prefix}.well_known_regex`, `must be a valid ${what}; got ${shown}`);
    }
  }

  private checkBytesRules(value: Buffer, rules: Rules, valuePath: string, prefix: string, shown: string): void {
    this.unsupportedRules(rules, ['len', 'min_len', 'max_len', 'ignore_empty'], prefix, valuePath);
    const fail = (rule: string, text: string) => this.problem(valuePath, `${prefix}.${rule}`, `${text}; got ${shown}`);
    if (typeof rules.len === 'number' && value.length !== rules.len) fail('len', `must be exactly ${rules.len} bytes`);
    if (typeof rules.min_len === 'number' && value.length < rules.min_len) fail('min_len', `must be at least ${rules.min_len} bytes`);
    if (typeof rules.max_len === 'number' && value.length > rules.max_len) fail('max_len', `must be at most ${rules.max_len} bytes`);
  }

  /** Rule kinds this walker never reads for such a field (e.g. a future PGV kind) become notices. */
  private unexpectedRuleKinds(rules: Rules, field: Field, fieldPath: string): void {
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
        this.notice(fieldPath, `skipped: ${kind}`, `PGV rules of kind "${kind}" are not checked on this field`);
      }
    }
  }

  /** A rule this validator does not implement is a notice, never silently passed and never an error. */
  private unsupportedRules(rules: Rules, supported: readonly string[], prefix: string, valuePath: string): void {
    for (const key of Object.keys(rules)) {
      if (!supported.includes(key)) {
        this.notice(valuePath, `skipped: ${prefix}.${key}`, `the PGV rule ${prefix}.${key} is not implemented here`);
      }
    }
  }

  // ---------------------------------------------------------------- cross-references

  /** What the protos cannot say: names that must exist, ports that must agree, admin kept private. */
  private checkCrossReferences(bootstrap: Record<string, unknown>): void {
    const staticResources = isPlainObject(bootstrap.static_resources) ? bootstrap.static_resources : {};
    const clusters = Array.isArray(staticResources.clusters) ? staticResources.clusters : [];
    const listeners = Array.isArray(staticResources.listeners) ? staticResources.listeners : [];

    const clusterNames = this.uniqueNames(clusters, 'static_resources.clusters', 'cluster');
    this.uniqueNames(listeners, 'static_resources.listeners', 'listener');
    const dynamic = isPlainObject(bootstrap.dynamic_resources) && bootstrap.dynamic_resources.cds_config !== undefined;
    if (dynamic) {
      if (this.clusterReferences.length) {
        this.notice(
          'dynamic_resources.cds_config',
          'skipped: cluster: not defined',
          'clusters also come from CDS; route targets were not checked',
        );
      }
    } else {
      for (const ref of this.clusterReferences) {
        if (clusterNames.has(ref.name)) continue;
        const known = [...clusterNames].map((n) => `"${n}"`).join(', ') || 'none';
        this.problem(
          ref.path,
          'cluster: not defined',
          `"${ref.name}" is not one of static_resources.clusters (defined: ${known})`,
        );
      }
    }

    const adminAddress = socketAddressOf(isPlainObject(bootstrap.admin) ? bootstrap.admin.address : undefined);
    if (adminAddress && typeof adminAddress.address === 'string' && !isLoopback(adminAddress.address)) {
      this.problem('admin.address.socket_address.address', 'admin: not loopback',
        `admin can stop and drain Envoy, so it must listen on 127.0.0.1 or ::1 only; got ${describe(adminAddress.address)}`);
    }
    this.checkPorts(listeners, adminAddress);
  }

  private uniqueNames(items: unknown[], listPath: string, what: string): Set<string> {
    const names = new Set<string>();
    items.forEach((item, i) => {
      const name = isPlainObject(item) ? item.name : undefined;
      if (typeof name !== 'string') return;
      if (names.has(name)) {
        this.problem(`${listPath}[${i}].name`, `${what}: duplicate name`, `another ${what} is already named "${name}"`);
      }
      names.add(name);
    });
    return names;
  }

  private checkPorts(listeners: unknown[], adminAddress: Record<string, unknown> | undefined): void {
    const bound: { port: number; path: string; owner: string }[] = [];
    const adminPort = portOf(adminAddress);
    if (adminPort) bound.push({ port: adminPort, path: 'admin.address.socket_address.port_value', owner: 'admin' });
    listeners.forEach((listener, i) => {
      const address = socketAddressOf(isPlainObject(listener) ? listener.address : undefined);
      const port = portOf(address);
      if (!port) return;
      const name = isPlainObject(listener) && typeof listener.name === 'string' ? `listener "${listener.name}"` : `listener ${i}`;
      bound.push({ port, path: `static_resources.listeners[${i}].address.socket_address.port_value`, owner: name });
    });
    const firstOwner = new Map<number, string>();
    for (const { port, path: portPath, owner } of bound) {
      const other = firstOwner.get(port);
      if (other) this.problem(portPath, 'port: duplicate', `${owner} binds port ${port}, which ${other} already binds`);
      else firstOwner.set(port, owner);
    }

    const ports = this.opts.ports;
    if (!ports) return;
    const listenerPorts = bound.filter((b) => b.owner !== 'admin');
    for (const { port, path: portPath, owner } of listenerPorts) {
      if (!ports.containerPorts.includes(port)) {
        this.problem(
          portPath,
          'port: not a container port',
          `${owner} binds ${port}, but the container declares ${ports.containerPorts.join(', ') || 'no ports'}`,
        );
      }
    }
    const bindsPort = (port: number) => listenerPorts.some((b) => b.port === port);
    for (const port of ports.containerPorts) {
      if (!bindsPort(port)) {
        this.problem(
          'static_resources.listeners',
          'port: container port without listener',
          `the container declares port ${port}, but no listener binds it`,
        );
      }
    }
    for (const port of ports.serviceTargetPorts) {
      if (!bindsPort(port)) {
        this.problem(
          'static_resources.listeners',
          'port: Service target port without listener',
          `the Service targets port ${port}, but no listener binds it`,
        );
      }
    }
  }
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

// ---------------------------------------------------------------- helpers

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** protobufjs types map fields as MapField, which does not extend Field in its typings. */
function mapKeyType(field: Field): string {
  return (field as unknown as MapField).keyType;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The rules of one kind (`uint32`, `string`, `repeated`, …) from a field's `(validate.rules)`. */
function kindRules(rules: Rules | undefined, kind: string): Rules | undefined {
  const found = rules?.[kind.replace(/^\./, '')];
  return isPlainObject(found) ? found : undefined;
}

/** An enum's names in number order, as the .proto file lists them. */
function enumNames(enumType: Enum): string {
  return Object.entries(enumType.values).sort(([, a], [, b]) => a - b).map(([name]) => name).join(', ');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeScalar(value: Scalar): string {
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

function shortType(typeRef: string): string {
  return typeRef.replace(/^\./, '');
}

function defaultScalar(kind: string): Scalar {
  if (kind in INTEGER_RANGES) return 0n;
  if (kind === 'bool') return false;
  if (kind === 'string') return '';
  if (kind === 'bytes') return Buffer.alloc(0);
  return 0;
}

function isDefaultScalar(value: unknown): boolean {
  return value === 0 || value === '' || value === false || value === '0';
}

/** protobuf's lowerCamel JSON name: drop each "_" and upper-case the letter after it. */
function jsonNameOf(protoName: string): string {
  return protoName.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
}

function closestName(key: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 4)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function parseDuration(text: string): bigint | undefined {
  const match = DURATION_TEXT.exec(text);
  if (!match) return undefined;
  const seconds = BigInt(match[2]);
  if (seconds > MAX_DURATION_SECONDS) return undefined;
  const nanos = seconds * NANOS_PER_SECOND + BigInt((match[3] ?? '').padEnd(9, '0'));
  return match[1] ? -nanos : nanos;
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

function parseTimestamp(text: string): bigint | undefined {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return undefined;
  const millis = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(millis)) return undefined;
  return BigInt(millis / 1000) * NANOS_PER_SECOND + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** PGV's hostname rule: labels of letters, digits and inner hyphens, 253 characters at most. */
function isHostname(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (!name || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

/** PGV's HTTP header regexes; with strict: false both become its HEADER_STRING (no NUL, CR, LF; may be empty). */
function headerRegex(kind: string, strict: boolean): RegExp | undefined {
  if (kind !== 'HTTP_HEADER_NAME' && kind !== 'HTTP_HEADER_VALUE') return undefined;
  if (!strict) return /^[^\0\n\r]*$/;
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

/** A bound port (proto3 JSON allows "8080" as well as 8080); undefined for none or 0 (any free port). */
function portOf(socketAddress: Record<string, unknown> | undefined): number | undefined {
  const port = Number(socketAddress?.port_value);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function socketAddressOf(address: unknown): Record<string, unknown> | undefined {
  return isPlainObject(address) && isPlainObject(address.socket_address) ? address.socket_address : undefined;
}
