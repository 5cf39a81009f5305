// Shared test helpers: configs, synthesized objects, and throwaway project folders.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { EnvoyEdgeChart } from '../charts/envoy-edge';
import { type Environment, parseConfig } from '../config/load';
import type { EdgeConfig, EdgeConfigInput } from '../config/schema';
import { buildEnvoyConfig, inlineEnvoyConfig } from '../envoy/bootstrap';
import type { Bootstrap } from '../imports/envoy-types';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** What an internet-facing config must say beyond the defaults, as the shipped base does: its allowed origins, and plain HTTP allowed. */
export const REQUIRED_FIELDS: EdgeConfigInput = { envoy: { allowedOrigins: ['https://app.example.com'] }, alb: { allowPlainHttp: true } };

/** The shipped defaults (with the fields an internet-facing config must set), optionally with a few fields changed. */
export function configWith(overrides: EdgeConfigInput = {}): EdgeConfig {
  return parseConfig(deepMerge(REQUIRED_FIELDS, overrides));
}

/** Envoy's edge chart for a config, with the Envoy config built from it, as the synth pipeline places it. */
export function synthEnvoyEdge(config: EdgeConfig): K8sObject[] {
  return synthObjects((app) => new EnvoyEdgeChart(app, 'envoy-edge', { config, envoy: buildEnvoyConfig(config) }));
}

/** The bootstrap with its live resources written back inline: the form the validator and `envoy --mode validate` check. */
export function inlineBootstrapFor(config: EdgeConfig): Bootstrap {
  return inlineEnvoyConfig(buildEnvoyConfig(config));
}

/** An environment as the loader makes it: its derived project name, and the fields changed. */
export function environmentWith(name: string, overrides: EdgeConfigInput = {}): Environment {
  const config = parseConfig(deepMerge(deepMerge(REQUIRED_FIELDS, { gitops: { project: `envoy-edge-${name}` } }), overrides));
  return { name, config, files: ['config/base.yaml', `config/environments/${name}.yaml`] };
}

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export function synthObjects(build: (app: ReturnType<typeof Testing.app>) => import('cdk8s').Chart): K8sObject[] {
  const app = Testing.app();
  return Testing.synth(build(app)) as K8sObject[];
}

export function findObject(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` named ${name}` : ''} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** The shipped config folder. */
export const SHIPPED_CONFIG = path.join(PROJECT_ROOT, 'config');

export interface ConfigFiles {
  /** base.yaml: an object, raw text, or undefined for the shipped one. */
  readonly base?: unknown;
  /** environments/<name>.yaml, each an object or raw text; undefined for the shipped ones. */
  readonly environments?: Readonly<Record<string, unknown>>;
}

/**
 * A throwaway project root with a config folder: the shipped files unless replaced. With `prod`,
 * the shipped prod file gets those overrides merged in (the common case in tests).
 */
export function tempProject(files: ConfigFiles & { readonly prod?: Record<string, unknown> } = {}): { root: string; configDir: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'edge-test-'));
  const configDir = path.join(root, 'config');
  mkdirSync(path.join(configDir, 'environments'), { recursive: true });
  const write = (file: string, content: unknown) => writeFileSync(path.join(configDir, file), typeof content === 'string' ? content : toYaml(content));
  // An object base gets the fields an internet-facing config must set, unless it says otherwise.
  write(
    'base.yaml',
    files.base === undefined
      ? readFileSync(path.join(SHIPPED_CONFIG, 'base.yaml'), 'utf8')
      : typeof files.base === 'string'
        ? files.base
        : deepMerge(REQUIRED_FIELDS, files.base),
  );
  const shippedEnvs = Object.fromEntries(
    readdirSync(path.join(SHIPPED_CONFIG, 'environments')).map((f) => [
      f.replace(/\.yaml$/, ''),
      parseYaml(readFileSync(path.join(SHIPPED_CONFIG, 'environments', f), 'utf8')) as Record<string, unknown>,
    ]),
  );
  const environments: Record<string, unknown> = files.environments ?? shippedEnvs;
  for (const [name, content] of Object.entries(environments)) {
    const merged = name === 'prod' && files.prod && typeof content === 'object' ? deepMerge(content, files.prod) : content;
    write(path.join('environments', /\.ya?ml$/.test(name) ? name : `${name}.yaml`), merged);
  }
  return { root, configDir };
}

export function deepMerge(base: any, overrides: any): any {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof overrides !== 'object' || overrides === null) return overrides;
  const merged = { ...base };
  for (const [k, v] of Object.entries(overrides)) merged[k] = deepMerge(base[k], v);
  return merged;
}

/** Every file under a folder with its bytes, keyed by relative path: for byte-identical comparisons. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}
