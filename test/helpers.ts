// Shared test helpers: configs, synthesized objects, and throwaway project folders.
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { stringify as toYaml } from 'yaml';
import { parseConfig } from '../config/load';
import type { EdgeConfig, EdgeConfigInput } from '../config/schema';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The shipped defaults, optionally with a few fields changed. */
export function configWith(overrides: EdgeConfigInput = {}): EdgeConfig {
  return parseConfig(overrides);
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

/** A throwaway project root holding a config file and (optionally) a copy of some output folders. */
export function tempProject(config: unknown, copyDirs: string[] = []): { root: string; configFile: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'edge-test-'));
  const configFile = path.join(root, 'edge.yaml');
  writeFileSync(configFile, typeof config === 'string' ? config : toYaml(config));
  for (const dir of copyDirs) cpSync(path.join(PROJECT_ROOT, dir), path.join(root, dir), { recursive: true });
  return { root, configFile };
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
