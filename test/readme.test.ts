// The README's config reference must name every field the schema accepts.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configWith, PROJECT_ROOT } from './helpers';

/** Dotted paths of every config field, stopping at quantities and free-form maps. */
function fieldPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value as Record<string, unknown>);
  if ('text' in (value as object) || /selector|values$/.test(prefix)) return [prefix];
  return entries.flatMap(([key, v]) => fieldPaths(v, prefix ? `${prefix}.${key}` : key));
}

test('GIVEN the config schema THEN the README reference lists every field, optional ones included', () => {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const reference = readme.slice(readme.indexOf('## Configuration reference'), readme.indexOf('## Seed features'));
  const fields = [...fieldPaths(configWith()), 'alb.certificateArn', 'alb.allowedCidrs'];
  const missing = fields.filter((field) => {
    const leaf = field.split('.').pop()!;
    const parent = field.split('.').slice(0, -1).join('.');
    return !reference.includes(`\`${field}\``) && !(reference.includes(`\`${parent}.`) && reference.includes(`\`${leaf}\``));
  });
  expect(missing).toEqual([]);
});
