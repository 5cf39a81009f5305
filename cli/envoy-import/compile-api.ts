// The compiled definitions envoy/validate/ reads: protobufjs's JSON form (what
// Root.fromJSON / Type.fromJSON take), trimmed to what validation needs.
import { type ApiModel, type EnumDef, type FieldShape, isPlain, list, type MessageDef } from './api-model';
import type { Plain, PlainValue } from './descriptors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The `nested` tree of namespaces and types holding exactly the `kept` types. */
export function compileNested(model: ApiModel, kept: ReadonlySet<string>): JsonObject {
  const root: JsonObject = {};
  for (const fullName of [...kept].sort()) {
    const def = model.types.get(fullName)!;
    const node = nodeAt(root, fullName.split('.'));
    Object.assign(node, def.kind === 'message' ? compileMessage(model, def) : compileEnum(def));
  }
  return root;
}

/** The node for a dotted path, creating `{nested: {}}` parents on the way (packages, or unkept outer messages). */
function nodeAt(root: JsonObject, segments: string[]): JsonObject {
  let nested = root;
  let node: JsonObject = root;
  for (const segment of segments) {
    nested[segment] ??= {};
    node = nested[segment] as JsonObject;
    if (segment === segments[segments.length - 1]) continue;
    node.nested ??= {};
    nested = node.nested as JsonObject;
  }
  return node;
}

function compileMessage(model: ApiModel, message: MessageDef): JsonObject {
  const fieldShapes = model.fields(message);
  const fields: JsonObject = {};
  for (const field of fieldShapes) fields[field.name] = compileField(field);
  const out: JsonObject = { fields };
  const oneofs = compileOneofs(message, fieldShapes);
  if (Object.keys(oneofs).length) out.oneofs = oneofs;
  // Removed field names: the validator says "removed from the API" instead of just "unknown".
  const reserved = (message.descriptor.reserved_name ?? []) as string[];
  if (reserved.length) out.reserved = [...reserved];
  return out;
}

function compileField(field: FieldShape): JsonObject {
  const out: JsonObject = { type: field.type, id: field.number };
  if (field.keyType) out.keyType = field.keyType;
  else if (field.repeated) out.rule = 'repeated';
  const options = compileFieldOptions(field.options);
  if (options) out.options = options;
  return out;
}

/** Declared oneofs, with their members in declaration order; proto3 `optional` synthetic oneofs too, as protobufjs makes them. */
function compileOneofs(message: MessageDef, fields: FieldShape[]): JsonObject {
  const oneofs: JsonObject = {};
  list(message.descriptor.oneof_decl).forEach((decl, index) => {
    const members = fields.filter((f) => f.oneofIndex === index).map((f) => f.name);
    const compiled: JsonObject = { oneof: members };
    if (isPlain(decl.options) && decl.options['.validate.required'] === true) compiled.options = { '(validate.required)': true };
    oneofs[String(decl.name)] = compiled;
  });
  return oneofs;
}

function compileFieldOptions(options: Plain | undefined): JsonObject | undefined {
  if (!options) return undefined;
  const out: JsonObject = {};
  if (options['.validate.rules'] !== undefined) out['(validate.rules)'] = toJson(options['.validate.rules']);
  if (options.deprecated === true) out.deprecated = true;
  if (options['.envoy.annotations.disallowed_by_default'] === true) out['(envoy.annotations.disallowed_by_default)'] = true;
  const since = options['.envoy.annotations.deprecated_at_minor_version'];
  if (typeof since === 'string' && since) out['(envoy.annotations.deprecated_at_minor_version)'] = since;
  return Object.keys(out).length ? out : undefined;
}

function compileEnum(enumDef: EnumDef): JsonObject {
  const values: JsonObject = {};
  const valuesOptions: JsonObject = {};
  for (const value of list(enumDef.descriptor.value)) {
    const name = String(value.name);
    values[name] = Number(value.number);
    const options = compileEnumValueOptions(value.options);
    if (options) valuesOptions[name] = options;
  }
  const out: JsonObject = { values };
  if (Object.keys(valuesOptions).length) out.valuesOptions = valuesOptions;
  return out;
}

function compileEnumValueOptions(options: PlainValue | undefined): JsonObject | undefined {
  if (!isPlain(options)) return undefined;
  const out: JsonObject = {};
  if (options.deprecated === true) out.deprecated = true;
  if (options['.envoy.annotations.disallowed_by_default_enum'] === true) out['(envoy.annotations.disallowed_by_default_enum)'] = true;
  const since = options['.envoy.annotations.deprecated_at_minor_version_enum'];
  if (typeof since === 'string' && since) out['(envoy.annotations.deprecated_at_minor_version)'] = since;
  return Object.keys(out).length ? out : undefined;
}

function toJson(value: PlainValue): Json {
  return structuredClone(value) as Json;
}

/** One type per line: small diffs when the definitions move, and still quick to parse. */
export function serializeCompiled(compiled: JsonObject): string {
  const write = (value: Json, indent: string): string => {
    if (!isJsonObject(value) || 'fields' in value || 'values' in value) return JSON.stringify(sortKeys(value));
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${indent} ${JSON.stringify(key)}: ${write(value[key], `${indent} `)}`);
    return entries.length ? `{\n${entries.join(',\n')}\n${indent}}` : '{}';
  };
  return `${write(compiled, '')}\n`;
}

function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}
