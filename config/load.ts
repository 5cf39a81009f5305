// Reads and validates the configuration: config/base.yaml holds what every environment shares, and
// config/environments/<name>.yaml holds only what differs for one environment. Each environment is
// the base with its file merged over it, validated whole; a problem names the file that set the
// value, the field, the value as typed and what is allowed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type Document, isAlias, isScalar, isSeq, isMap as isYamlMap, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { AsTyped, ConfigError, describeValue, formatConfigIssues } from './errors';
import { crossEnvironmentProblems, crossFieldProblems } from './rules';
import { configSchema, type EdgeConfig } from './schema';

/**
 * The config folder: config/ beside this file, or $EDGE_CONFIG_DIR (to try a config without touching
 * the repository's). The synth bundle (cli/synth.cjs) names the project root in $EDGE_PROJECT_ROOT.
 */
export const DEFAULT_CONFIG_DIR = process.env.EDGE_CONFIG_DIR
  ? path.resolve(process.env.EDGE_CONFIG_DIR)
  : path.join(process.env.EDGE_PROJECT_ROOT ?? path.join(__dirname, '..'), 'config');
export const BASE_FILE = 'base.yaml';
export const ENVIRONMENTS_DIR = 'environments';

/** One environment: its name (its file's), its validated config, and the files it was read from. */
export interface Environment {
  readonly name: string;
  readonly config: EdgeConfig;
  readonly files: readonly string[];
  /** When its own file was last changed: a clash between two environments blames the newer file. */
  readonly modifiedMs?: number;
}

export interface LoadedConfig {
  /** Every file read, base first, as paths relative to the project root. */
  readonly files: readonly string[];
  /** In name order. */
  readonly environments: readonly Environment[];
}

/** Larger config files are refused before they are parsed: the shipped ones are about 1 KiB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** The longest string value: longer ones are refused, and errors show only their start. */
export const MAX_STRING_LENGTH = 16 * 1024;
/** YAML aliases one file may expand (a "billion laughs" file expands them exponentially). */
const MAX_ALIAS_COUNT = 100;
/** Keys that would reach an object's prototype when the YAML becomes JavaScript: never config. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A DNS label short enough to prefix the objects named after it. */
const ENVIRONMENT_NAME = /^(?=.{1,20}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Validates raw config data (one environment, no files); throws a ConfigError naming every bad field. */
export function parseConfig(raw: unknown): EdgeConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(formatConfigIssues(firstIssuePerPath(result.error.issues), configSchema));
  const problems = crossFieldProblems(result.data);
  if (problems.length) throw new ConfigError(problems);
  return result.data;
}

/** Every environment under `configDir`; throws one ConfigError listing every problem in every file. */
export function loadEnvironments(configDir: string = DEFAULT_CONFIG_DIR): LoadedConfig {
  const shown = (file: string) => path.relative(path.dirname(path.resolve(configDir)), file);
  const baseFile = path.join(configDir, BASE_FILE);
  const envDir = path.join(configDir, ENVIRONMENTS_DIR);
  const problems: string[] = [];
  const base = readConfigFile(baseFile, shown(baseFile), problems);
  const envFiles = existsSync(envDir)
    ? readdirSync(envDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];
  if (!envFiles.length) {
    problems.push(`${shown(envDir)}/: no environment files; allowed: one <name>.yaml per environment, such as prod.yaml`);
  }
  const environments: Environment[] = [];
  const fileOf = new Map<string, string>();
  for (const fileName of envFiles) {
    const file = path.join(envDir, fileName);
    const name = fileName.replace(/\.ya?ml$/, '');
    const other = fileOf.get(name);
    if (other) {
      problems.push(`${shown(file)}: environment ${name} is already ${shown(other)}; allowed: one file per environment (remove or rename one)`);
      continue;
    }
    fileOf.set(name, file);
    if (!ENVIRONMENT_NAME.test(name)) {
      problems.push(
        `${shown(file)}: environment name ${describeValue(name)}; allowed: 1-20 lowercase letters, digits or "-", starting and ending with a letter or digit`,
      );
      continue;
    }
    const overlay = readConfigFile(file, shown(file), problems);
    if (!base || !overlay) continue;
    const environment = validateEnvironment(name, [base, overlay], problems);
    if (environment) environments.push({ ...environment, modifiedMs: statSync(file).mtimeMs });
  }
  if (!problems.length) problems.push(...crossEnvironmentProblems(environments));
  if (problems.length) throw new ConfigError(problems);
  return { files: base ? [base.shown, ...environments.map((e) => e.files[1])] : [], environments };
}

/** One environment, by name: for the day-2 commands. */
export function loadEnvironment(name: string, configDir: string = DEFAULT_CONFIG_DIR): Environment {
  const { environments } = loadEnvironments(configDir);
  const found = environments.find((e) => e.name === name);
  if (!found) {
    throw new ConfigError([`--env: got ${describeValue(name)}; allowed: one of ${environments.map((e) => e.name).join(', ')} (config/environments/*.yaml)`]);
  }
  return found;
}

// ---------------------------------------------------------------- files and layers

interface ConfigFile {
  readonly shown: string;
  readonly text: string;
  readonly doc: Document;
  readonly data: Record<string, unknown>;
}

function readConfigFile(file: string, shown: string, problems: string[]): ConfigFile | undefined {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      problems.push(`${shown}: ${size} bytes; allowed: at most ${MAX_CONFIG_FILE_BYTES} bytes (1 MiB) per config file`);
      return undefined;
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
  // Duplicate keys are found by checkNodes: the yaml package's own uniqueKeys check is quadratic in a map's size.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length) {
    problems.push(`${shown}: not valid YAML: ${doc.errors[0].message}`);
    return undefined;
  }
  // Before the YAML becomes JavaScript: a key such as __proto__ would set an object's prototype there.
  const nodeProblems = checkNodes(doc.contents, []);
  if (nodeProblems.length) {
    problems.push(...nodeProblems.map((p) => `${shown}: ${p}`));
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (err) {
    problems.push(`${shown}: its YAML aliases expand to too much (${(err as Error).message}); allowed: at most ${MAX_ALIAS_COUNT} alias expansions`);
    return undefined;
  }
  if (data === null || data === undefined || (isMap(data) && Object.keys(data).length === 0)) {
    problems.push(`${shown}: holds no settings; allowed: a YAML mapping with at least one field (an empty file is a mistake, not "all defaults")`);
    return undefined;
  }
  if (!isMap(data)) {
    problems.push(`${shown}: got ${describeValue(data)}; allowed: a YAML mapping of config sections`);
    return undefined;
  }
  return { shown, text, doc, data };
}

/** Prototype keys and overlong strings, anywhere in a file, with their paths; aliases are not expanded here. */
function checkNodes(node: Node | null | undefined, at: readonly (string | number)[]): string[] {
  const field = (p: readonly (string | number)[]) => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i ? '.' : ''}${s}`)).join('') || '(top level)';
  if (!node || isAlias(node)) return [];
  if (isScalar(node)) {
    return typeof node.value === 'string' && node.value.length > MAX_STRING_LENGTH
      ? [`${field(at)}: got ${describeValue(node.value)}; allowed: at most ${MAX_STRING_LENGTH} characters`]
      : [];
  }
  if (isSeq(node)) return node.items.flatMap((item, i) => checkNodes(item as Node, [...at, i]));
  if (isYamlMap(node)) {
    const seen = new Set<string>();
    return node.items.flatMap((pair) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (seen.has(key)) return [`${field([...at, key])}: the key "${key}" appears twice in one map; allowed: each key once (YAML keeps only one of them)`];
      seen.add(key);
      if (PROTOTYPE_KEYS.has(key)) {
        return [`${field([...at, key])}: unknown key "${key}"; allowed: config fields (keys such as __proto__, constructor and prototype are never config)`];
      }
      return [...checkNodes(pair.key as Node, [...at, '(key)']), ...checkNodes(pair.value as Node, [...at, key])];
    });
  }
  return [];
}

/** Merges the layers (later ones win; maps merge key by key, anything else is replaced) and validates. */
function validateEnvironment(name: string, layers: readonly ConfigFile[], problems: string[]): Environment | undefined {
  const origin = new Map<string, ConfigFile>();
  let merged: Record<string, unknown> = {};
  for (const layer of layers) merged = mergeLayer(merged, layer.data, layer, origin, []);
  // Derived default: each environment gets Argo CD projects of its own.
  const gitops = isMap(merged.gitops) ? merged.gitops : {};
  if (gitops.project === undefined) merged = { ...merged, gitops: { ...gitops, project: `envoy-edge-${name}` } };

  const where = (fieldPath: string) => {
    for (let p = fieldPath; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
      const file = origin.get(p);
      if (file) return file;
    }
    // A key that holds a map (an unknown section, say): the file of a value inside it, the last one set.
    const inside = [...origin.entries()].filter(([p]) => p.startsWith(`${fieldPath}.`));
    return inside.length ? inside[inside.length - 1][1] : undefined;
  };
  const result = configSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    for (const issue of firstIssuePerPath(result.error.issues)) {
      const [line] = formatConfigIssues([withTypedInput(issue, where)], configSchema);
      const field = issue.code === 'unrecognized_keys' ? [issuePath(issue), issue.keys[0]].filter(Boolean).join('.') : issuePath(issue);
      problems.push(`${where(field)?.shown ?? `environment ${name}, a default`}: ${line}`);
    }
    return undefined;
  }
  const fieldProblems = crossFieldProblems(result.data);
  for (const line of fieldProblems) {
    const field = line.slice(0, line.indexOf(':'));
    problems.push(`${where(field)?.shown ?? `environment ${name}, a default`}: ${line}`);
  }
  if (fieldProblems.length) return undefined;
  return { name, config: result.data, files: layers.map((l) => l.shown) };
}

function mergeLayer(
  into: Record<string, unknown>,
  layer: Record<string, unknown>,
  file: ConfigFile,
  origin: Map<string, ConfigFile>,
  at: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...into };
  for (const [key, value] of Object.entries(layer)) {
    const keyPath = [...at, key];
    if (isMap(value) && !isFreeFormMap(keyPath)) {
      out[key] = mergeLayer(isMap(out[key]) ? (out[key] as Record<string, unknown>) : {}, value, file, origin, keyPath);
    } else {
      // A value (or a list, or a free-form map) replaces what was there: it is this file's, whole.
      // Only a map that was there had values of other files under it (scanning every time is quadratic).
      if (isMap(out[key])) for (const known of [...origin.keys()]) if (known.startsWith(`${keyPath.join('.')}.`)) origin.delete(known);
      out[key] = value;
      origin.set(keyPath.join('.'), file);
    }
  }
  return out;
}

/** Maps whose keys are data, not fields: an environment replaces them whole. */
function isFreeFormMap(keyPath: readonly string[]): boolean {
  const p = keyPath.join('.');
  return p === 'backend.selector';
}

// ---------------------------------------------------------------- issues

/** zod may report one value twice (not an integer, and too big): keep the first problem per field. */
function firstIssuePerPath(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    if (issue.code === 'unrecognized_keys') return true;
    const key = issuePath(issue);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.');
}

/** A number as the user typed it (99999999999999999999, not 100000000000000000000). */
function withTypedInput(issue: z.core.$ZodIssue, where: (field: string) => ConfigFile | undefined): z.core.$ZodIssue {
  if (!('input' in issue) || typeof issue.input !== 'number') return issue;
  const file = where(issuePath(issue));
  const node = file?.doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
  if (!file || !node?.range) return issue;
  const typed = file.text.slice(node.range[0], node.range[1]);
  return { ...issue, input: new AsTyped(typed) } as z.core.$ZodIssue;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
