// Reads and validates a config: from raw data, or from the file named by EDGE_CONFIG
// (default config/default.yaml).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, formatConfigIssues } from './errors';
import { crossFieldProblems } from './rules';
import { configSchema, EdgeConfig } from './schema';

export const DEFAULT_CONFIG_PATH = path.join(__dirname, 'default.yaml');

/** Validates raw config data; throws a ConfigError naming every bad field, its value and what is allowed. */
export function parseConfig(raw: unknown): EdgeConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(formatConfigIssues(result.error.issues, configSchema));
  const problems = crossFieldProblems(result.data);
  if (problems.length) throw new ConfigError(problems);
  return result.data;
}

/** The config file to use: $EDGE_CONFIG when set, else the shipped default. */
export function configPathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.EDGE_CONFIG ? path.resolve(env.EDGE_CONFIG) : DEFAULT_CONFIG_PATH;
}

export function loadConfig(file: string = configPathFromEnv()): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([`${file} is not valid YAML: ${(err as Error).message}`]);
  }
  return parseConfig(raw);
}
