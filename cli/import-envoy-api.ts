// Compiles Envoy's API definitions into imports/envoy-api.json (read by envoy/validate/ at
// synth time) and imports/envoy-types.ts (TypeScript types of Envoy's proto3 JSON form).
//
// The source is the Go module github.com/envoyproxy/go-control-plane/envoy, which embeds every
// .proto file's FileDescriptorProto, custom options included (protoc-gen-validate rules, Envoy's
// deprecation annotations), in its *.pb.go files; its dependencies hold the xds, udpa, validate,
// google.* and other imported files. Modules come from the Go module proxy through `go mod download`
// (checked against the Go checksum database) into a cache outside the repository.
//
//   npm run import:envoy             regenerate both files
//   npm run import:envoy -- --check  exit 1 if the committed files differ from a fresh import
//
// ENVOY_API_CACHE overrides the cache directory (default ~/.cache/envoy-edge-import).
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiModel } from './envoy-import/api-model';
import { compileNested, type JsonObject, serializeCompiled } from './envoy-import/compile-api';
import { createDescriptorDecoder, declaresOptions, type FileDescriptor, importClosure, readFileHeader } from './envoy-import/descriptors';
import { generateEnvoyTypes } from './envoy-import/generate-types';
import { extractRawDescriptors } from './envoy-import/go-literals';
import { type DownloadedModule, downloadGoModule, type GoModule, listPbGoFiles, readGoModRequirements, readModuleFile } from './envoy-import/go-modules';

// ---------------------------------------------------------------- what is imported (change versions here only)

/** The Envoy release whose API is imported; the deployed image must be this release. */
const ENVOY_API_VERSION = 'v1.40.0';
const ENVOY_MODULE = 'github.com/envoyproxy/go-control-plane/envoy';

/**
 * Each module, the version ENVOY_MODULE's go.mod requires (checked at import time), and the .proto
 * file names it is trusted for (some modules also embed test protos, which are ignored).
 */
interface SourceModule extends GoModule {
  readonly protoPrefixes: readonly string[];
}
const GO_MODULES: readonly SourceModule[] = [
  { path: ENVOY_MODULE, version: ENVOY_API_VERSION, protoPrefixes: ['envoy/'] },
  { path: 'github.com/cncf/xds/go', version: 'v0.0.0-20260202195803-dba9d589def2', protoPrefixes: ['xds/', 'udpa/'] },
  { path: 'github.com/envoyproxy/protoc-gen-validate', version: 'v1.3.3', protoPrefixes: ['validate/'] },
  { path: 'google.golang.org/protobuf', version: 'v1.36.12', protoPrefixes: ['google/protobuf/'] },
  { path: 'google.golang.org/genproto/googleapis/api', version: 'v0.0.0-20260720211330-0afa2a65878a', protoPrefixes: ['google/api/'] },
  { path: 'google.golang.org/genproto/googleapis/rpc', version: 'v0.0.0-20260720211330-0afa2a65878a', protoPrefixes: ['google/rpc/'] },
  { path: 'cel.dev/expr', version: 'v0.25.2', protoPrefixes: ['cel/expr/'] },
  { path: 'go.opentelemetry.io/proto/otlp', version: 'v1.11.0', protoPrefixes: ['opentelemetry/proto/'] },
  { path: 'github.com/prometheus/client_model', version: 'v0.6.3', protoPrefixes: ['io/prometheus/'] },
];

const CACHE_DIR = process.env.ENVOY_API_CACHE || path.join(homedir(), '.cache', 'envoy-edge-import');
const IMPORTS_DIR = path.join(__dirname, '..', 'imports');
const API_FILE = path.join(IMPORTS_DIR, 'envoy-api.json');
const TYPES_FILE = path.join(IMPORTS_DIR, 'envoy-types.ts');

// ---------------------------------------------------------------- selection rules

/** Files whose messages are candidates: Envoy's own API and the xds/udpa API it builds on. */
const CANDIDATE_FILE = /^(envoy|xds|udpa)\//;
/** The frozen v2 API (envoy/api/v2, …): Envoy dropped v2 configuration in v1.18. */
const V2_FILE = /(^|\/)v2[^/]*\//;
/** Packages that hold option definitions, never configuration; not usable as an Any @type. */
const ANNOTATION_PACKAGES = ['validate', 'envoy.annotations', 'udpa.annotations', 'xds.annotations'];
/** Transport and admin messages, not configuration; kept only where a config message refers to them. */
const NON_CONFIG_PACKAGES = ['envoy.service', 'envoy.admin'];
/** google.protobuf types with their own JSON form; all can appear as an Any @type (with a "value" key). */
const WELL_KNOWN_TYPES = [
  'Any',
  'Duration',
  'Timestamp',
  'Empty',
  'FieldMask',
  'Struct',
  'Value',
  'ListValue',
  'DoubleValue',
  'FloatValue',
  'Int64Value',
  'UInt64Value',
  'Int32Value',
  'UInt32Value',
  'BoolValue',
  'StringValue',
  'BytesValue',
].map((name) => `google.protobuf.${name}`);
/** The files defining them, decoded even where no candidate imports them. */
const WELL_KNOWN_FILES = ['any', 'duration', 'timestamp', 'empty', 'struct', 'wrappers', 'field_mask'].map((n) => `google/protobuf/${n}.proto`);
const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

// ---------------------------------------------------------------- main

interface ImportOutput {
  readonly files: ReadonlyMap<string, string>;
  readonly summary: string;
}

function main(argv: string[]): number {
  let check: boolean;
  try {
    check = parseArgs({ args: argv, options: { check: { type: 'boolean' } }, strict: true }).values.check ?? false;
  } catch {
    console.error('usage: node --require tsx/cjs cli/import-envoy-api.ts [--check]');
    return 2;
  }
  let output: ImportOutput;
  try {
    output = runImport();
  } catch (err) {
    // Exit 2, not 1: with --check, 1 means "out of date", and a failed import is not that.
    console.error(`import:envoy failed: ${(err as Error).message}`);
    return 2;
  }
  if (check) return checkCommitted(output);
  for (const [file, text] of output.files) writeFileSync(file, text);
  console.log(`wrote ${[...output.files.keys()].map(relative).join(', ')}: ${output.summary}`);
  return 0;
}

function runImport(): ImportOutput {
  const modules = GO_MODULES.map((module) => ({ ...downloadGoModule(module, CACHE_DIR), protoPrefixes: module.protoPrefixes }));
  const envoyModule = modules[0];
  checkPinnedVersions(envoyModule);
  const rawFiles = collectDescriptorFiles(modules);
  const { loadable, missingImportOf } = candidateFiles(rawFiles);
  const decode = createDescriptorDecoder(
    rawFiles,
    [...rawFiles.keys()].filter((name) => declaresOptions(rawFiles.get(name)!)),
  );
  const decoded = importClosure([...loadable, ...WELL_KNOWN_FILES], rawFiles).map((name) => decode(rawFiles.get(name)!));
  const model = new ApiModel(decoded);
  const kept = reachableFrom(model, [...configTypes(model, loadable), ...WELL_KNOWN_TYPES]);
  // Decoding needs no imports, so the messages of a file with a missing import can still be listed.
  const unavailableTypes = [...missingImportOf.keys()].flatMap((name) => messageNamesOf(decode(rawFiles.get(name)!))).sort();

  const commit = readModuleFile(envoyModule, 'COMMIT').trim();
  const compiled: JsonObject = {
    about: {
      generatedBy: 'cli/import-envoy-api.ts (npm run import:envoy); do not edit',
      definitions: `${ENVOY_MODULE}@${ENVOY_API_VERSION} (file descriptors embedded in its *.pb.go) and the modules it requires`,
      envoyApi: `Envoy API ${ENVOY_API_VERSION} (envoyproxy/envoy commit ${commit}, from the module's COMMIT file)`,
      envoyCommit: commit,
      modules: Object.fromEntries(modules.map((m) => [m.path, { version: m.version, sum: m.sum }])),
      compiledWith: `protobufjs@${packageVersion('protobufjs')}`,
      typeCount: kept.size,
      filesWithMissingImports: Object.fromEntries([...missingImportOf].sort(byKey)),
      // Messages defined in the files above: valid in Envoy, but this validator cannot check them.
      unavailableTypes,
    },
    nested: compileNested(model, kept),
  };
  const apiJson = serializeCompiled(compiled);
  const types = generateEnvoyTypes(model, kept, {
    header: `Envoy API ${ENVOY_API_VERSION} (envoyproxy/envoy commit ${commit}), from ${ENVOY_MODULE}@${ENVOY_API_VERSION}`,
    rootType: BOOTSTRAP_TYPE,
  });
  return {
    files: new Map([
      [API_FILE, apiJson],
      [TYPES_FILE, types.text],
    ]),
    summary:
      `${kept.size} types from ${loadable.length} files (${missingImportOf.size} skipped for missing imports); ` +
      `envoy-api.json ${kilobytes(apiJson)}, envoy-types.ts ${kilobytes(types.text)} (${types.interfaceCount} interfaces, ${types.anyMemberCount} Any @types)`,
  };
}

/** The versions above must be the ones the Envoy module's go.mod requires: no silent mix of releases. */
function checkPinnedVersions(envoyModule: DownloadedModule): void {
  const required = readGoModRequirements(readModuleFile(envoyModule, 'go.mod'));
  const wrong = GO_MODULES.slice(1)
    .filter((m) => required.get(m.path) !== m.version)
    .map((m) => `${m.path}: pinned ${m.version}, ${ENVOY_MODULE}@${ENVOY_API_VERSION} requires ${required.get(m.path) ?? 'nothing'}`);
  if (wrong.length) throw new Error(`update GO_MODULES in cli/import-envoy-api.ts:\n  ${wrong.join('\n  ')}`);
}

/** Every serialized FileDescriptorProto the modules embed, by .proto file name. */
function collectDescriptorFiles(modules: readonly (DownloadedModule & SourceModule)[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const module of modules) {
    for (const goFile of listPbGoFiles(module.dir)) {
      for (const raw of extractRawDescriptors(readModuleFile(module, goFile))) {
        const { name } = readFileHeader(raw.bytes);
        if (!module.protoPrefixes.some((prefix) => name.startsWith(prefix))) continue;
        const existing = files.get(name);
        if (existing && !existing.equals(raw.bytes)) throw new Error(`${name} is embedded twice, with different contents (${module.path}/${goFile})`);
        files.set(name, raw.bytes);
      }
    }
  }
  return new Map([...files].sort(byKey));
}

/** Candidate files that can be loaded, and for the others the first import no module provides. */
function candidateFiles(files: ReadonlyMap<string, Buffer>): { loadable: string[]; missingImportOf: Map<string, string> } {
  const missingImportOf = new Map<string, string>();
  const memo = new Map<string, string | undefined>();
  const firstMissing = (name: string, visiting: Set<string>): string | undefined => {
    if (memo.has(name)) return memo.get(name);
    const bytes = files.get(name);
    if (!bytes) return name;
    if (visiting.has(name)) return undefined;
    visiting.add(name);
    const missing = readFileHeader(bytes)
      .dependency.map((dep) => firstMissing(dep, visiting))
      .find(Boolean);
    visiting.delete(name);
    memo.set(name, missing);
    return missing;
  };
  const loadable = [...files.keys()].filter((name) => {
    if (!CANDIDATE_FILE.test(name) || V2_FILE.test(name)) return false;
    const missing = firstMissing(name, new Set());
    if (missing) missingImportOf.set(name, missing);
    return !missing;
  });
  return { loadable, missingImportOf };
}

/** Messages of the loadable candidate files, outside option-only and transport packages. */
function configTypes(model: ApiModel, loadable: readonly string[]): string[] {
  const excluded = [...ANNOTATION_PACKAGES, ...NON_CONFIG_PACKAGES];
  const inFiles = loadable.flatMap((file) => allNestedNames(model, model.typesOfFile.get(file) ?? []));
  return inFiles.filter((name) => model.types.get(name)?.kind === 'message' && !excluded.some((pkg) => name.startsWith(`${pkg}.`)));
}

function allNestedNames(model: ApiModel, names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const def = model.types.get(name);
    return [name, ...(def?.kind === 'message' ? allNestedNames(model, def.nested) : [])];
  });
}

/** The given types plus every message and enum their fields refer to, transitively. */
function reachableFrom(model: ApiModel, start: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    if (!model.types.has(name)) throw new Error(`${name} is referred to but not defined`);
    seen.add(name);
    const message = model.message(name);
    if (message) queue.push(...model.referencedTypes(message));
  }
  return seen;
}

function messageNamesOf(file: FileDescriptor): string[] {
  const model = new ApiModel([file]);
  return [...model.types.values()].filter((def) => def.kind === 'message').map((def) => def.fullName);
}

// ---------------------------------------------------------------- --check and helpers

function checkCommitted(output: ImportOutput): number {
  const stale = [...output.files].filter(([file, text]) => readIfExists(file) !== text).map(([file]) => relative(file));
  if (!stale.length) {
    console.log(`up to date: ${[...output.files.keys()].map(relative).join(', ')} (${output.summary})`);
    return 0;
  }
  console.error(`out of date: ${stale.join(', ')} differ from a fresh import; run npm run import:envoy and commit the result`);
  return 1;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** Code-unit order, the same in every locale (localeCompare is not), so the output is stable. */
function byKey([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function relative(file: string): string {
  return path.relative(process.cwd(), file);
}

function kilobytes(text: string): string {
  return `${Math.round(Buffer.byteLength(text) / 1000)} KB`;
}

process.exitCode = main(process.argv.slice(2));
