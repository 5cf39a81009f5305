// The documentation that is generated or linked must be true: the configuration reference is the
// schema's own, and every document the README links to exists.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configurationReference } from '../cli/docs';
import { parseConfig } from '../config/load';
import { configReference } from '../config/reference';
import { PROJECT_ROOT } from './helpers';

test('GIVEN the config schema THEN docs/configuration.md is exactly what `npm run docs` writes from it', () => {
  const committed = readFileSync(path.join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
  expect(committed).toBe(configurationReference());
});

test('GIVEN every field of the schema THEN the reference gives it a meaning and what it allows', () => {
  const fields = configReference().flatMap((s) => s.fields);
  expect(fields.filter((f) => !f.description || !f.allowed).map((f) => f.path)).toEqual([]);
  // Defaults in the reference are the values an empty config really gets.
  // An internal ALB needs none of the fields an internet-facing one must set, so every field keeps its default.
  const config = parseConfig({ alb: { scheme: 'internal' } }) as unknown as Record<string, Record<string, unknown>>;
  for (const f of fields.filter((f) => typeof f.default === 'number' || typeof f.default === 'boolean')) {
    const value = f.path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], config);
    expect({ field: f.path, value }).toEqual({ field: f.path, value: f.default });
  }
  expect(fields.length).toBeGreaterThan(50);
});

test('GIVEN the README THEN every document it links to exists', () => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\((?!https?:)([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(3);
  expect(links.filter((l) => !existsSync(path.join(PROJECT_ROOT, l)))).toEqual([]);
});
