// The synth pipeline: config → validation → pure builders → charts → files, all built in a staging
// folder and swapped in only when everything is valid (docs/architecture.md, "Fail before writing").
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { AppProjectsChart, RootApplicationChart } from '../charts/argocd-root';
import { EnvoyEdgeChart } from '../charts/envoy-edge';
import { LbControllerChart } from '../charts/lb-controller';
import { ConfigError } from '../config/errors';
import { loadConfig } from '../config/load';
import type { EdgeConfig } from '../config/schema';
import { buildEnvoyBootstrap } from '../envoy/bootstrap';
import { assertValidEnvoyBootstrap } from '../envoy/validate';
import { lbControllerProjectName } from '../k8s/names';
import { buildEksctlClusterConfig, EKSCTL_CONFIG_PATH, serializeEksctlConfig } from '../lb-controller/eksctl';
import { checkLbControllerValues } from '../lb-controller/values';
import { writeOutputsAtomically } from './write-outputs';

/** The folders a synth writes, relative to the project root. */
export const OUTPUT_DIRS = ['dist', 'argocd', 'eksctl'] as const;

/** Builds every output under `root` (normally a staging folder). Pure apart from writing files there. */
export function synthesize(config: EdgeConfig, root: string): void {
  const valueProblems = checkLbControllerValues(config);
  if (valueProblems.length) throw new ConfigError(valueProblems);
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
