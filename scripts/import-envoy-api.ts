// Compiles Envoy's API definitions (.proto files with their protoc-gen-validate rules, shipped by
// @grpc/grpc-js-xds) into imports/envoy-api.json, which charts/envoy-validator.ts loads at synth time.
// Parsing ~400 .proto files takes over a second; loading the compiled JSON takes a fraction of that.
//
//   npm run import:envoy        (tsx scripts/import-envoy-api.ts)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

const XDS_PACKAGE_DIR = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const DEPS_DIR = path.join(XDS_PACKAGE_DIR, 'deps');
const INCLUDE_DIRS = [
  path.join(DEPS_DIR, 'envoy-api'),
  path.join(DEPS_DIR, 'xds'),
  path.join(DEPS_DIR, 'googleapis'),
  path.join(DEPS_DIR, 'protoc-gen-validate'),
  // google/protobuf/descriptor.proto (imported by the annotation protos) ships with protobufjs.
  path.dirname(require.resolve('protobufjs/package.json')),
];
const OUTPUT_FILE = path.join(__dirname, '..', 'imports', 'envoy-api.json');

/** protobufjs resolves these imports from its bundled copies of the well-known types. */
const BUNDLED_IMPORTS = new Set(
  ['any', 'duration', 'timestamp', 'empty', 'struct', 'wrappers', 'field_mask'].map((n) => `google/protobuf/${n}.proto`),
);

/** Packages that hold option definitions, never configuration; not usable as an Any @type. */
const ANNOTATION_PACKAGES = ['validate', 'envoy.annotations', 'udpa.annotations', 'xds.annotations'];
/** Transport and admin messages, not configuration; kept only where a config message refers to them. */
const NON_CONFIG_PACKAGES = ['envoy.service', 'envoy.admin'];
/** google.protobuf types with their own JSON form; all can appear as an Any @type (with a "value" key). */
const WELL_KNOWN_TYPES = [
  'Any', 'Duration', 'Timestamp', 'Empty', 'FieldMask', 'Struct', 'Value', 'ListValue',
  'DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue',
].map((name) => `google.protobuf.${name}`);

/**
 * What the definitions are, recorded in the JSON. grpc-js-xds names no data-plane-api commit; the
 * snapshot is dated by API additions listed in Envoy's changelogs (see README-envoy-validator.md).
 * The markers fail the import when a newer grpc-js-xds moves the snapshot, so this text is redone.
 */
const ENVOY_API_SNAPSHOT =
  'envoyproxy/data-plane-api snapshot from early in the Envoy v1.32 development cycle (after v1.31.0, before v1.32.0)';
const SNAPSHOT_MARKERS = {
  present: [
    // A v1.31.0 addition, and one of the first v1.32.0 additions.
    'envoy.config.listener.v3.Listener.bypass_overload_manager',
    'envoy.config.cluster.v3.UpstreamConnectionOptions.happy_eyeballs_config',
  ],
  absent: [
    // Later v1.32.0 additions.
    'envoy.config.cluster.v3.Cluster.dns_jitter',
    'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.http1_safe_max_connection_duration',
    'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.rate_limits',
  ],
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function main(): void {
  const candidates = [
    ...listProtoFiles(path.join(DEPS_DIR, 'envoy-api'), 'envoy'),
    ...listProtoFiles(path.join(DEPS_DIR, 'xds'), 'xds'),
    ...listProtoFiles(path.join(DEPS_DIR, 'xds'), 'udpa'),
  ];
  // The frozen v2 API: Envoy dropped v2 configuration in v1.18, and its imports are not shipped.
  const current = candidates.filter((file) => !file.split('/').some((segment) => /^v2/.test(segment)));
  const missingImportOf = new Map<string, string>();
  const loadable = current.filter((file) => {
    const missing = firstMissingImport(file, new Set());
    if (missing) missingImportOf.set(file, missing);
    return !missing;
  });

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => findInclude(target) ?? target;
  root.loadSync([...loadable, ...BUNDLED_IMPORTS], { keepCase: true });
  root.resolveAll();
  checkSnapshotMarkers(root);

  const configTypes = allReflectionObjects(root).filter(
    (obj): obj is protobuf.Type =>
      obj instanceof protobuf.Type &&
      /^(envoy|xds|udpa)\./.test(fullName(obj)) &&
      ![...ANNOTATION_PACKAGES, ...NON_CONFIG_PACKAGES].some((pkg) => fullName(obj).startsWith(`${pkg}.`)),
  );
  const kept = reachableFrom([...configTypes, ...WELL_KNOWN_TYPES.map((name) => root.lookupType(name))]);

  const compiled: JsonObject = {
    about: {
      generatedBy: 'scripts/import-envoy-api.ts (npm run import:envoy); do not edit',
      definitions: `@grpc/grpc-js-xds@${readPackageVersion(XDS_PACKAGE_DIR)} deps/ (envoy-api, xds, googleapis, protoc-gen-validate)`,
      envoyApi: ENVOY_API_SNAPSHOT,
      compiledWith: `protobufjs@${readPackageVersion(path.dirname(require.resolve('protobufjs/package.json')))}`,
      typeCount: kept.size,
      filesWithMissingImports: Object.fromEntries([...missingImportOf].sort(([a], [b]) => a.localeCompare(b))),
      // Messages defined in the files above: valid in Envoy, but this validator cannot check them.
      unavailableTypes: unavailableTypeNames([...missingImportOf.keys()]),
    },
    nested: compileNamespace(root, kept) ?? {},
  };
  writeFileSync(OUTPUT_FILE, `${serialize(compiled)}\n`);
  console.log(
    `wrote ${path.relative(process.cwd(), OUTPUT_FILE)}: ${kept.size} types from ${loadable.length} files ` +
      `(${missingImportOf.size} skipped for missing imports)`,
  );
}

function listProtoFiles(includeDir: string, subdir: string): string[] {
  const files: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.proto')) files.push(path.relative(includeDir, full).split(path.sep).join('/'));
    }
  };
  visit(path.join(includeDir, subdir));
  return files.sort();
}

function findInclude(importPath: string): string | undefined {
  for (const dir of INCLUDE_DIRS) {
    const candidate = path.join(dir, importPath);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const importCheckMemo = new Map<string, string | undefined>();
/** The first import (transitively) that no include dir provides, e.g. opencensus or opentelemetry protos. */
function firstMissingImport(importPath: string, visiting: Set<string>): string | undefined {
  if (BUNDLED_IMPORTS.has(importPath) || visiting.has(importPath)) return undefined;
  if (importCheckMemo.has(importPath)) return importCheckMemo.get(importPath);
  const file = findInclude(importPath);
  if (!file) return importPath;
  visiting.add(importPath);
  let missing: string | undefined;
  for (const match of readFileSync(file, 'utf8').matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm)) {
    missing = firstMissingImport(match[1], visiting);
    if (missing) break;
  }
  visiting.delete(importPath);
  importCheckMemo.set(importPath, missing);
  return missing;
}

function unavailableTypeNames(files: string[]): string[] {
  const names: string[] = [];
  for (const file of files) {
    const parsed = protobuf.parse(readFileSync(findInclude(file)!, 'utf8'), { keepCase: true });
    for (const obj of allReflectionObjects(parsed.root)) if (obj instanceof protobuf.Type) names.push(fullName(obj));
  }
  return names.sort();
}

function checkSnapshotMarkers(root: protobuf.Root): void {
  const has = (dotted: string) => {
    const at = dotted.lastIndexOf('.');
    const type = root.lookup(dotted.slice(0, at));
    return type instanceof protobuf.Type && dotted.slice(at + 1) in type.fields;
  };
  const wrong = [
    ...SNAPSHOT_MARKERS.present.filter((f) => !has(f)).map((f) => `${f} is missing`),
    ...SNAPSHOT_MARKERS.absent.filter(has).map((f) => `${f} is now present`),
  ];
  if (wrong.length) {
    throw new Error(
      `the Envoy API snapshot moved (${wrong.join('; ')}): update ENVOY_API_SNAPSHOT, its markers and README-envoy-validator.md`,
    );
  }
}

function fullName(obj: protobuf.ReflectionObject): string {
  return obj.fullName.replace(/^\./, '');
}

function allReflectionObjects(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = [];
  for (const child of ns.nestedArray) {
    out.push(child);
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) out.push(...allReflectionObjects(child));
  }
  return out;
}

/** The given types plus every message and enum their fields refer to, transitively. */
function reachableFrom(start: protobuf.Type[]): Set<protobuf.ReflectionObject> {
  const seen = new Set<protobuf.ReflectionObject>();
  const queue: protobuf.ReflectionObject[] = [...start];
  while (queue.length) {
    const obj = queue.pop()!;
    if (seen.has(obj)) continue;
    seen.add(obj);
    if (!(obj instanceof protobuf.Type)) continue;
    for (const field of obj.fieldsArray) if (field.resolvedType) queue.push(field.resolvedType);
  }
  return seen;
}

// ---------------------------------------------------------------- compiled form

/** protobufjs's JSON form (Root.fromJSON reads it), trimmed to what validation needs. */
function compileNamespace(ns: protobuf.NamespaceBase, kept: Set<protobuf.ReflectionObject>): JsonObject | undefined {
  const nested: JsonObject = {};
  for (const child of ns.nestedArray) {
    let compiled: JsonObject | undefined;
    if (child instanceof protobuf.Type) {
      const inner = compileNamespace(child, kept);
      compiled = kept.has(child) ? compileType(child, inner) : inner && { nested: inner };
    } else if (child instanceof protobuf.Enum) {
      compiled = kept.has(child) ? compileEnum(child) : undefined;
    } else if (child instanceof protobuf.Namespace) {
      const inner = compileNamespace(child, kept);
      compiled = inner && { nested: inner };
    }
    if (compiled) nested[child.name] = compiled;
  }
  return Object.keys(nested).length ? nested : undefined;
}

function compileType(type: protobuf.Type, nested: JsonObject | undefined): JsonObject {
  const fields: JsonObject = {};
  for (const field of type.fieldsArray) {
    const compiled: JsonObject = {
      // Absolute names, so lookups need not walk relative scopes at validation time.
      type: field.resolvedType ? field.resolvedType.fullName : field.type,
      id: field.id,
    };
    if (field.map) compiled.keyType = (field as unknown as protobuf.MapField).keyType;
    else if (field.repeated) compiled.rule = 'repeated';
    const options = compileFieldOptions(field);
    if (options) compiled.options = options;
    fields[field.name] = compiled;
  }
  const out: JsonObject = { fields };
  const oneofs: JsonObject = {};
  for (const oneof of type.oneofsArray) {
    const compiled: JsonObject = { oneof: oneof.oneof };
    if (mergedParsedOption(oneof, '(validate.required)') === true) compiled.options = { '(validate.required)': true };
    oneofs[oneof.name] = compiled;
  }
  if (Object.keys(oneofs).length) out.oneofs = oneofs;
  // Removed field names: the validator says "removed from the API" instead of just "unknown".
  const reservedNames = (type.reserved ?? []).filter((r): r is string => typeof r === 'string');
  if (reservedNames.length) out.reserved = reservedNames;
  if (nested) out.nested = nested;
  return out;
}

function compileEnum(enumType: protobuf.Enum): JsonObject {
  const out: JsonObject = { values: { ...enumType.values } };
  const valuesOptions: JsonObject = {};
  for (const [name, options] of Object.entries(enumType.valuesOptions ?? {})) {
    const kept = pickDeprecation(options as Record<string, unknown>, '(envoy.annotations.disallowed_by_default_enum)');
    if (kept) valuesOptions[name] = kept;
  }
  if (Object.keys(valuesOptions).length) out.valuesOptions = valuesOptions;
  return out;
}

function compileFieldOptions(field: protobuf.Field): JsonObject | undefined {
  const out: JsonObject = {};
  const rules = mergedParsedOption(field, '(validate.rules)');
  if (rules !== undefined) out['(validate.rules)'] = normalizeRules(rules);
  Object.assign(out, pickDeprecation(field.options ?? {}, '(envoy.annotations.disallowed_by_default)'));
  return Object.keys(out).length ? out : undefined;
}

function pickDeprecation(options: Record<string, unknown>, disallowedKey: string): JsonObject | undefined {
  const out: JsonObject = {};
  if (options.deprecated === true) out.deprecated = true;
  if (options[disallowedKey] === true) out[disallowedKey] = true;
  const since = options['(envoy.annotations.deprecated_at_minor_version)'] ?? options['(envoy.annotations.deprecated_at_minor_version_enum)'];
  if (typeof since === 'string') out['(envoy.annotations.deprecated_at_minor_version)'] = since;
  return Object.keys(out).length ? out : undefined;
}

/** `parsedOptions` keeps aggregate values such as `duration = {gt {}}` that the flat `options` lose. */
function mergedParsedOption(obj: protobuf.ReflectionObject, name: string): Json | undefined {
  let merged: Json | undefined;
  for (const entry of (obj.parsedOptions ?? []) as Record<string, Json>[]) {
    if (!(name in entry)) continue;
    merged = merged === undefined ? structuredClone(entry[name]) : deepMerge(merged, entry[name]);
  }
  return merged;
}

function deepMerge(a: Json, b: Json): Json {
  if (!isJsonObject(a) || !isJsonObject(b)) return b;
  const out: JsonObject = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = key in out ? deepMerge(out[key], value) : value;
  return out;
}

function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text format lets a repeated rule (`in`, `not_in`) be written once, unbracketed: make it a list. */
function normalizeRules(rules: Json): Json {
  if (!isJsonObject(rules)) return rules;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(rules)) {
    if ((key === 'in' || key === 'not_in') && !Array.isArray(value)) out[key] = [value];
    else out[key] = normalizeRules(value);
  }
  return out;
}

function readPackageVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** One type per line: small diffs when the definitions move, and still quick to parse. */
function serialize(compiled: JsonObject): string {
  const lines: string[] = [];
  const write = (value: Json, indent: string, depthLeft: number): string => {
    if (!isJsonObject(value) || depthLeft === 0 || 'fields' in value || 'values' in value) return JSON.stringify(sortKeys(value));
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${indent} ${JSON.stringify(key)}: ${write(value[key], `${indent} `, depthLeft - 1)}`);
    return entries.length ? `{\n${entries.join(',\n')}\n${indent}}` : '{}';
  };
  lines.push(write(compiled, '', 64));
  return lines.join('\n');
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}

main();
