// Reads the config file named by EDGE_CONFIG (default config/default.yaml) and validates it.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, EdgeConfig, parseConfig } from './schema';

export const DEFAULT_CONFIG_PATH = path.join(__dirname, 'default.yaml');

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
