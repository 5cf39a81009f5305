// The strict proto3 JSON walk, as Envoy reads the bootstrap at start-up: unknown fields, wrong
// types, unknown enum names and two members of one oneof are errors, and every Any is resolved by
// its @type and read as that message. Each value, once parsed, goes to the PGV rule checks
// (pgv-rules.ts) with the rules its field carries; deprecated fields and enum values are noted.
//
// Field names: only proto names (snake_case) are accepted by default. Envoy's JSON parser also
// takes lowerCamel JSON names; this repository writes proto names everywhere, so a lowerCamel key
// is reported (rule "json name") unless `allowJsonNames` is set.
import { Enum, type Field, type MapField, Type } from 'protobufjs/light';
import { type EnvoyApi, enumNames, WRAPPED_SCALARS } from './definitions';
import { describe, isPlainObject, join, type Scalar } from './json';
import { closestName } from './names';
import { kindRules, PgvRules, type Rules } from './pgv-rules';
import { defaultScalar, INTEGER_RANGES, isDefaultScalar, parseDuration, parseScalarJson, parseTimestamp } from './proto-scalars';
import type { Reporter } from './report';

export interface WalkOptions {
  /** Accept lowerCamel JSON field names as Envoy's JSON parser does. */
  readonly allowJsonNames?: boolean;
  /** Called with each message once its fields are checked, with its full type name (the cross-references read it). */
  readonly onMessage?: (value: Record<string, unknown>, typeName: string, messagePath: string) => void;
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';

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

export class ProtoJsonWalker {
  private readonly pgv: PgvRules;

  constructor(
    private readonly api: EnvoyApi,
    private readonly report: Reporter,
    private readonly opts: WalkOptions,
  ) {
    this.pgv = new PgvRules(api, report);
  }

  // ---------------------------------------------------------------- messages and fields

  checkMessage(value: Record<string, unknown>, type: Type, path: string): void {
    const typeName = this.api.nameOf(type);
    const present = new Map<Field, unknown>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = this.fieldFor(type, key, join(path, key));
      if (!field) continue;
      if (present.has(field)) {
        this.report.problem(join(path, field.name), 'duplicate field', `${field.name} is set twice (by its proto and its JSON name)`);
        continue;
      }
      present.set(field, fieldValue);
    }
    const isSet = (field: Field) => present.has(field) && present.get(field) !== null;

    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray.filter(isSet);
      if (members.length > 1) {
        this.report.problem(
          join(path, members[1].name),
          'oneof: multiple members set',
          `${members.map((m) => m.name).join(' and ')} are members of oneof "${oneof.name}" in ${typeName}; set only one`,
        );
      } else if (members.length === 0 && oneof.options?.['(validate.required)'] === true) {
        this.report.problem(path, 'oneof.required', `one of ${oneof.oneof.join(', ')} (oneof "${oneof.name}") must be set`);
      }
    }

    for (const field of type.fieldsArray) {
      const fieldPath = join(path, field.name);
      if (isSet(field)) this.checkDeprecation(field, present.get(field), fieldPath, typeName);
      // PGV checks an unset oneof member not at all, an unset scalar as its default value.
      if (!isSet(field) && field.partOf) continue;
      this.checkField(isSet(field) ? present.get(field) : undefined, field, fieldPath);
    }

    this.opts.onMessage?.(value, typeName, path);
  }

  private fieldFor(type: Type, key: string, keyPath: string): Field | undefined {
    const byProtoName = Object.hasOwn(type.fields, key) ? type.fields[key] : undefined;
    if (byProtoName) return byProtoName;
    const byJsonName = this.api.fieldByJsonName(type, key);
    if (byJsonName && this.opts.allowJsonNames) return byJsonName;
    const typeName = this.api.nameOf(type);
    if (byJsonName) {
      this.report.problem(keyPath, 'json name', `"${key}" is the JSON name of ${byJsonName.name}; this repository writes proto field names`);
      // Envoy would accept it: check its value as that field, so one spelling slip is one problem.
      return byJsonName;
    }
    if (type.reserved?.includes(key)) {
      this.report.problem(keyPath, 'unknown field', `"${key}" was removed from ${typeName} (a reserved name)`);
    } else {
      const suggestion = closestName(key, Object.keys(type.fields));
      this.report.problem(keyPath, 'unknown field', `"${key}" is not a field of ${typeName}${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
    }
    return undefined;
  }

  private checkDeprecation(field: Field, value: unknown, fieldPath: string, typeName: string): void {
    if (field.options?.deprecated !== true || isDefaultScalar(value)) return;
    const since = field.options['(envoy.annotations.deprecated_at_minor_version)'];
    if (field.options['(envoy.annotations.disallowed_by_default)'] === true) {
      this.report.problem(
        fieldPath,
        'deprecated: disallowed by default',
        `${typeName}.${field.name} is deprecated and refused unless a runtime override allows it`,
      );
    } else {
      this.report.notice(fieldPath, 'deprecated', `${typeName}.${field.name} is deprecated${since ? ` since API v${since}` : ''}; Envoy logs a warning`);
    }
  }

  /** `value` undefined means unset: repeated and map fields are then empty, scalars their default. */
  private checkField(value: unknown, field: Field, fieldPath: string): void {
    const rules = field.options?.['(validate.rules)'] as Rules | undefined;
    // Unset and unconstrained: nothing to check (and no need to build its type).
    if (value === undefined && !rules) return;
    if (rules) this.pgv.checkRuleKinds(rules, field, fieldPath);
    if (field.map) return this.checkMap(value, field, mapKeyType(field), rules, fieldPath);
    if (field.repeated) return this.checkRepeated(value, field, rules, fieldPath);
    this.checkSingular(value, this.api.fieldType(field), field.type, rules, fieldPath);
  }

  private checkMap(value: unknown, field: Field, keyType: string, rules: Rules | undefined, fieldPath: string): void {
    if (value !== undefined && !isPlainObject(value)) {
      this.report.problem(fieldPath, 'type: map', `expected an object (map<${keyType}, ${shortType(field.type)}>); got ${describe(value)}`);
      return;
    }
    const entries = Object.entries(value ?? {});
    const mapRules = kindRules(rules, 'map');
    const valueType = this.api.fieldType(field);
    for (const [key, entryValue] of entries) {
      const entryPath = `${fieldPath}[${JSON.stringify(key)}]`;
      const parsedKey = this.parseMapKey(key, keyType, entryPath);
      if (parsedKey !== undefined && mapRules?.keys) {
        this.pgv.checkScalar(parsedKey, keyType, mapRules.keys as Rules, entryPath, 'map.keys.');
      }
      if (entryValue === null) {
        this.report.problem(entryPath, `type: ${shortType(field.type)}`, 'a map value cannot be null');
        continue;
      }
      this.checkSingular(entryValue, valueType, field.type, mapRules?.values as Rules | undefined, entryPath);
    }
    this.pgv.checkMap(rules, entries.length, fieldPath);
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
    this.report.problem(entryPath, 'type: map key', `"${key}" is not a ${keyType} key`);
    return undefined;
  }

  private checkRepeated(value: unknown, field: Field, rules: Rules | undefined, fieldPath: string): void {
    if (value !== undefined && !Array.isArray(value)) {
      this.report.problem(fieldPath, 'type: repeated', `expected a list of ${shortType(field.type)}; got ${describe(value)}`);
      return;
    }
    const items = (value ?? []) as unknown[];
    const repeatedRules = kindRules(rules, 'repeated');
    const itemType = this.api.fieldType(field);
    items.forEach((item, i) => {
      const itemPath = `${fieldPath}[${i}]`;
      if (item === null && field.type !== '.google.protobuf.Value') {
        this.report.problem(itemPath, `type: ${shortType(field.type)}`, 'a list item cannot be null');
      } else {
        this.checkSingular(item, itemType, field.type, repeatedRules?.items as Rules | undefined, itemPath);
      }
    });
    this.pgv.checkRepeated(rules, items, fieldPath);
  }

  /** One value of a message, enum or scalar type; `value` undefined means unset. */
  private checkSingular(value: unknown, resolved: Type | Enum | undefined, typeRef: string, rules: Rules | undefined, valuePath: string): void {
    if (value === null && typeRef !== '.google.protobuf.Value') value = undefined;
    if (resolved instanceof Type) return this.checkMessageValue(value, resolved, rules, valuePath);
    if (resolved instanceof Enum) return this.checkEnum(value, resolved, rules, valuePath);
    if (value === undefined) {
      if (kindRules(rules, typeRef)) this.pgv.checkScalar(defaultScalar(typeRef), typeRef, rules!, valuePath, '', true);
      return;
    }
    const parsed = this.parseScalar(value, typeRef, valuePath);
    if (parsed !== undefined && rules) this.pgv.checkScalar(parsed, typeRef, rules, valuePath);
  }

  private checkMessageValue(value: unknown, type: Type, rules: Rules | undefined, valuePath: string): void {
    const typeName = this.api.nameOf(type);
    if (value === undefined) {
      this.pgv.checkRequired(rules, typeName, valuePath);
      return;
    }
    this.pgv.checkMessage(rules, valuePath);
    const wrapped = WRAPPED_SCALARS[typeName];
    if (wrapped) {
      const parsed = this.parseScalar(value, wrapped, valuePath);
      if (parsed !== undefined && rules) this.pgv.checkScalar(parsed, wrapped, rules, valuePath);
      return;
    }
    switch (typeName) {
      case 'google.protobuf.Duration':
        return this.checkDuration(value, rules, valuePath);
      case 'google.protobuf.Timestamp':
        return this.checkTimestamp(value, rules, valuePath);
      case 'google.protobuf.FieldMask':
        if (typeof value !== 'string') {
          this.report.problem(valuePath, 'type: FieldMask', `expected a string of comma-separated paths; got ${describe(value)}`);
        }
        return;
      case 'google.protobuf.Struct':
        if (!isPlainObject(value)) this.report.problem(valuePath, 'type: Struct', `expected an object; got ${describe(value)}`);
        else this.checkAnyJson(value, valuePath);
        return;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(value)) this.report.problem(valuePath, 'type: ListValue', `expected a list; got ${describe(value)}`);
        else this.checkAnyJson(value, valuePath);
        return;
      case 'google.protobuf.Value':
        return this.checkAnyJson(value, valuePath);
      case 'google.protobuf.Any':
        return this.checkAny(value, rules, valuePath);
    }
    if (!isPlainObject(value)) {
      this.report.problem(valuePath, 'type: message', `expected an object (${typeName}); got ${describe(value)}`);
      return;
    }
    this.checkMessage(value, type, valuePath);
  }

  /** Struct, Value and ListValue hold any JSON; only values JSON cannot carry are wrong. */
  private checkAnyJson(value: unknown, valuePath: string): void {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.report.problem(valuePath, 'type: Value', `${value} is not a JSON number`);
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) this.checkAnyJson(item, `${valuePath}[${i}]`);
      return;
    }
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) this.checkAnyJson(v, join(valuePath, k));
      return;
    }
    this.report.problem(valuePath, 'type: Value', `${describe(value)} is not JSON`);
  }

  // ---------------------------------------------------------------- Any and TypedStruct

  private checkAny(value: unknown, rules: Rules | undefined, valuePath: string): void {
    if (!isPlainObject(value)) {
      this.report.problem(valuePath, 'type: Any', `expected an object with "@type"; got ${describe(value)}`);
      return;
    }
    const typeUrl = value['@type'];
    if (typeUrl === undefined) {
      this.report.problem(valuePath, 'any: missing @type', 'a typed config needs "@type": "type.googleapis.com/<message full name>"');
      return;
    }
    const type = this.resolveTypeUrl(typeUrl, join(valuePath, '@type'));
    this.pgv.checkAny(String(typeUrl), rules, valuePath);
    if (!type) return;
    const { '@type': _typeUrl, ...fields } = value;
    const typeName = this.api.nameOf(type);
    if (SPECIAL_JSON_TYPES.has(typeName)) {
      const extraKeys = Object.keys(fields).filter((k) => k !== 'value');
      for (const key of extraKeys) this.report.problem(join(valuePath, key), 'unknown field', `an Any holding ${typeName} has only "@type" and "value"`);
      this.checkSingular(fields.value, type, `.${typeName}`, undefined, join(valuePath, 'value'));
      return;
    }
    this.checkMessage(fields, type, valuePath);
    if (TYPED_STRUCT_TYPES.has(typeName)) this.checkTypedStruct(fields, valuePath);
  }

  /** Envoy turns a TypedStruct into the message its type_url names, as strictly as any other config. */
  private checkTypedStruct(fields: Record<string, unknown>, valuePath: string): void {
    if (fields.type_url === undefined) {
      this.report.problem(join(valuePath, 'type_url'), 'typed_struct: missing type_url', 'a TypedStruct needs the type URL of the config it carries');
      return;
    }
    const inner = this.resolveTypeUrl(fields.type_url, join(valuePath, 'type_url'));
    if (!inner || !isPlainObject(fields.value ?? {})) return;
    this.checkSingular(fields.value ?? {}, inner, `.${this.api.nameOf(inner)}`, undefined, join(valuePath, 'value'));
  }

  private resolveTypeUrl(typeUrl: unknown, urlPath: string): Type | undefined {
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.report.problem(urlPath, 'any: bad @type', `expected "${TYPE_URL_PREFIX}<message full name>"; got ${describe(typeUrl)}`);
      return undefined;
    }
    const fullName = typeUrl.slice(TYPE_URL_PREFIX.length);
    if (this.api.isUnavailable(fullName)) {
      this.report.notice(urlPath, 'skipped: any @type not bundled', `${fullName} imports definitions the import did not include; its content was not checked`);
      return undefined;
    }
    const type = this.api.lookupType(fullName);
    if (!type) {
      const similar = this.api.similarTypeNames(fullName);
      this.report.problem(
        urlPath,
        'any: unknown @type',
        `${fullName} is not a message in Envoy's API${similar.length ? `; did you mean ${similar.join(' or ')}?` : ''}`,
      );
    }
    return type;
  }

  // ---------------------------------------------------------------- Duration and Timestamp

  private checkDuration(value: unknown, rules: Rules | undefined, valuePath: string): void {
    const nanos = typeof value === 'string' ? parseDuration(value) : undefined;
    if (nanos === undefined) {
      this.report.problem(
        valuePath,
        'type: Duration',
        `expected a duration string such as "1.5s" or "0.250s" (seconds, up to 9 decimals); got ${describe(value)}`,
      );
      return;
    }
    this.pgv.checkDuration(nanos, String(value), rules, valuePath);
  }

  private checkTimestamp(value: unknown, rules: Rules | undefined, valuePath: string): void {
    const nanos = typeof value === 'string' ? parseTimestamp(value) : undefined;
    if (nanos === undefined) {
      this.report.problem(valuePath, 'type: Timestamp', `expected an RFC 3339 time such as "2025-01-31T12:00:00Z"; got ${describe(value)}`);
      return;
    }
    this.pgv.checkTimestamp(nanos, String(value), rules, valuePath);
  }

  // ---------------------------------------------------------------- enums and scalars

  private checkEnum(value: unknown, enumType: Enum, rules: Rules | undefined, valuePath: string): void {
    const enumName = this.api.nameOf(enumType);
    let number: number;
    if (value === undefined) {
      number = 0;
    } else if (typeof value === 'string') {
      if (!Object.hasOwn(enumType.values, value)) {
        this.report.problem(valuePath, 'enum: unknown value', `"${value}" is not a value of ${enumName}; allowed: ${enumNames(enumType)}`);
        return;
      }
      number = enumType.values[value];
      this.checkEnumValueDeprecation(enumType, value, valuePath);
    } else if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) {
      number = value;
      const name = enumType.valuesById[value];
      if (name) this.checkEnumValueDeprecation(enumType, name, valuePath);
    } else {
      this.report.problem(valuePath, 'type: enum', `expected a ${enumName} name (or its number); got ${describe(value)}`);
      return;
    }
    this.pgv.checkEnum(value, number, enumType, rules, valuePath);
  }

  private checkEnumValueDeprecation(enumType: Enum, name: string, valuePath: string): void {
    const options = enumType.valuesOptions?.[name];
    if (options?.deprecated !== true) return;
    if (options['(envoy.annotations.disallowed_by_default_enum)'] === true) {
      this.report.problem(valuePath, 'deprecated: disallowed by default', `${name} is deprecated and refused unless a runtime override allows it`);
    } else {
      this.report.notice(valuePath, 'deprecated', `${name} is deprecated; Envoy logs a warning`);
    }
  }

  /** proto3 JSON as Envoy's parser reads it; undefined (after reporting) when the value has the wrong type. */
  private parseScalar(value: unknown, kind: string, valuePath: string): Scalar | undefined {
    const parsed = parseScalarJson(value, kind);
    if ('expected' in parsed) {
      this.report.problem(valuePath, `type: ${kind}`, `expected ${parsed.expected}; got ${describe(value)}`);
      return undefined;
    }
    return parsed.value;
  }
}

/** protobufjs types map fields as MapField, which does not extend Field in its typings. */
function mapKeyType(field: Field): string {
  return (field as unknown as MapField).keyType;
}

function shortType(typeRef: string): string {
  return typeRef.replace(/^\./, '');
}
