// `npm run docs`: writes docs/configuration.md from the config schema (config/reference.ts).
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../config/load';
import { renderConfigurationReference } from '../config/reference';
import { appliesColumn } from '../synth/field-effects';

/** The reference as `npm run docs` writes it. */
export function configurationReference(): string {
  // The defaults, with the one field an internet-facing config must set (as the shipped base.yaml does):
  // a field's effect is read off the builders running on a real config.
  return renderConfigurationReference(appliesColumn(parseConfig({ envoy: { allowedOrigins: ['https://app.example.com'] }, alb: { allowPlainHttp: true } })));
}

export const CONFIGURATION_REFERENCE = path.join(__dirname, '..', 'docs', 'configuration.md');

if (require.main === module) {
  writeFileSync(CONFIGURATION_REFERENCE, configurationReference());
  console.log(`wrote ${path.relative(process.cwd(), CONFIGURATION_REFERENCE)}`);
}
