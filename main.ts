// Wires config → charts → outputs. Run by `npx cdk8s synth` and `npm run synth`.
import * as path from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { loadConfig } from './config/load';
import { ConfigError, EdgeConfig } from './config/schema';
import { buildEnvoyBootstrap } from './charts/envoy-bootstrap';
import { EnvoyEdgeChart } from './charts/envoy-edge';
import { EmptyOutputError, writeOutputsAtomically } from './scripts/write-outputs';

/** The folders a synth writes, relative to the project root. */
export const OUTPUT_DIRS = ['dist'] as const;

/** Builds every output under `root` (normally a staging folder). Pure apart from writing files there. */
export function synthesize(config: EdgeConfig, root: string): void {
  const bootstrap = buildEnvoyBootstrap(config);

  const dist = new App({ outdir: path.join(root, 'dist'), yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new EnvoyEdgeChart(dist, 'envoy-edge', { config, bootstrap });
  dist.synth();
}

/** Validates the config and writes all outputs atomically; throws before writing anything on bad input. */
export function synthesizeProject(root: string, configFile?: string): void {
  const config = loadConfig(configFile);
  writeOutputsAtomically(root, OUTPUT_DIRS, (staging) => synthesize(config, staging));
}

if (require.main === module) {
  try {
    synthesizeProject(process.cwd());
  } catch (err) {
    if (err instanceof ConfigError || err instanceof EmptyOutputError) {
      console.error(`synth stopped, nothing was written: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
