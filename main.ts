// Wires config → charts → outputs. Run by `npx cdk8s synth` and `npm run synth`.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { loadConfig } from './config/load';
import { ConfigError, EdgeConfig } from './config/schema';
import { AppProjectsChart, lbControllerProjectName, RootApplicationChart } from './charts/argocd-root';
import { buildEksctlClusterConfig, EKSCTL_CONFIG_PATH, serializeEksctlConfig } from './charts/eksctl-cluster-config';
import { buildEnvoyBootstrap } from './charts/envoy-bootstrap';
import { EnvoyEdgeChart } from './charts/envoy-edge';
import { assertValidEnvoyBootstrap, EnvoyBootstrapError } from './charts/envoy-validator';
import { LbControllerChart } from './charts/lb-controller';
import { EmptyOutputError, writeOutputsAtomically } from './scripts/write-outputs';

/** The folders a synth writes, relative to the project root. */
export const OUTPUT_DIRS = ['dist', 'argocd', 'eksctl'] as const;

/** Builds every output under `root` (normally a staging folder). Pure apart from writing files there. */
export function synthesize(config: EdgeConfig, root: string): void {
  const bootstrap = buildEnvoyBootstrap(config);
  // Checked against Envoy's own API definitions before any file is written, so a bad value stops here
  // rather than crash-looping the pods. The container exposes both ports; the Service targets the listener.
  const { listenerPort, readyPort } = config.envoy;
  assertValidEnvoyBootstrap(bootstrap, {
    ports: { containerPorts: [listenerPort, readyPort], serviceTargetPorts: [listenerPort] },
  });

  const app = (dir: string) => new App({ outdir: path.join(root, dir), yamlOutputType: YamlOutputType.FILE_PER_CHART });

  const dist = app('dist');
  new LbControllerChart(dist, 'lb-controller', { config, project: lbControllerProjectName(config) });
  new EnvoyEdgeChart(dist, 'envoy-edge', { config, bootstrap });
  dist.synth();

  // File names sort the projects before the Application that uses them (kubectl applies in order).
  const argocd = app('argocd');
  new AppProjectsChart(argocd, 'app-projects', { config });
  new RootApplicationChart(argocd, 'root-application', { config });
  argocd.synth();

  const eksctlFile = path.join(root, EKSCTL_CONFIG_PATH);
  mkdirSync(path.dirname(eksctlFile), { recursive: true });
  writeFileSync(eksctlFile, serializeEksctlConfig(buildEksctlClusterConfig(config)));
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
    if (err instanceof ConfigError || err instanceof EnvoyBootstrapError || err instanceof EmptyOutputError) {
      console.error(`synth stopped, nothing was written: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
