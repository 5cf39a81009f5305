// Reads and validates the configuration: config/base.yaml holds what every environment shares, and
// config/environments/<name>.yaml holds only what differs for one environment. Each environment is
// the base with its file merged over it, validated whole; a problem names the file that set the
// value, the field, the value as typed and what is allowed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Document, parseDocument } from 'yaml';
import { z } from 'zod';
import { AsTyped, ConfigError, describeValue, formatConfigIssues } from './errors';
import { crossEnvironmentProblems, crossFieldProblems } from './rules';
import { configSchema, EdgeConfig } from './schema';

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
}

export interface LoadedConfig {
  /** Every file read, base first, as paths relative to the project root. */
  readonly files: readonly string[];
  /** In name order. */
  readonly environments: readonly Environment[];
}

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
  const envFiles = existsSync(envDir) ? readdirSync(envDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (!envFiles.length) {
    problems.push(`${shown(envDir)}/: no environment files; allowed: one <name>.yaml per environment, such as prod.yaml`);
  }
  const environments: Environment[] = [];
  for (const fileName of envFiles) {
    const file = path.join(envDir, fileName);
    const name = fileName.replace(/\.ya?ml$/, '');
    if (!ENVIRONMENT_NAME.test(name)) {
      problems.push(`${shown(file)}: environment name ${describeValue(name)}; allowed: 1-20 lowercase letters, digits or "-", starting and ending with a letter or digit`);
      continue;
    }
    const overlay = readConfigFile(file, shown(file), problems);
    if (!base || !overlay) continue;
    const environment = validateEnvironment(name, [base, overlay], problems);
    if (environment) environments.push(environment);
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
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    problems.push(`${shown}: not valid YAML: ${doc.errors[0].message}`);
    return undefined;
  }
  const data = doc.toJS() as unknown;
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
    return undefined;
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
      out[key] = value;
      for (const known of [...origin.keys()]) if (known.startsWith(`${keyPath.join('.')}.`)) origin.delete(known);
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
