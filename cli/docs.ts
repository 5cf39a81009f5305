// `npm run docs`: writes docs/configuration.md from the config schema (config/reference.ts).
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Environment, parseConfig } from '../config/load';
import { renderConfigurationReference } from '../config/reference';
import type { EdgeConfig } from '../config/schema';
import { appliesColumn } from '../synth/field-effects';
import { ownersColumn } from '../synth/field-owners';

const ORIGINS = { allowedOrigins: ['https://app.example.com'] };

/** The defaults, with the one field an internet-facing config must set (as the shipped base.yaml does). */
const plainConfig = () => parseConfig({ envoy: ORIGINS, alb: { allowPlainHttp: true } });

/**
 * The projects the "built by → placed by" column is traced on: the defaults, and one that takes the
 * branches the defaults skip (the TLS listener, the WAF, monitoring on).
 */
export function referenceProjects(): Environment[][] {
  const full = parseConfig({
    envoy: ORIGINS,
    alb: {
      certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
      wafAclArn: 'arn:aws:wafv2:us-east-1:000000000000:regional/webacl/edge/00000000-0000-0000-0000-000000000000',
    },
    monitoring: { enabled: true },
  });
  const project = (name: string, config: EdgeConfig) => [{ name, files: [`config/environments/${name}.yaml`], config }];
  return [project('plain', plainConfig()), project('full', full)];
}

/** The reference as `npm run docs` writes it. */
export function configurationReference(): string {
  // A field's effect and owners are read off the builders running on real configs.
  return renderConfigurationReference(appliesColumn(plainConfig()), ownersColumn(referenceProjects()));
}

export const CONFIGURATION_REFERENCE = path.join(__dirname, '..', 'docs', 'configuration.md');

if (require.main === module) {
  writeFileSync(CONFIGURATION_REFERENCE, configurationReference());
  console.log(`wrote ${path.relative(process.cwd(), CONFIGURATION_REFERENCE)}`);
}
