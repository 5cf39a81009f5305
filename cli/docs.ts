// `npm run docs`: writes docs/configuration.md from the config schema (config/reference.ts).
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderConfigurationReference } from '../config/reference';

export const CONFIGURATION_REFERENCE = path.join(__dirname, '..', 'docs', 'configuration.md');

if (require.main === module) {
  writeFileSync(CONFIGURATION_REFERENCE, renderConfigurationReference());
  console.log(`wrote ${path.relative(process.cwd(), CONFIGURATION_REFERENCE)}`);
}
