// The synth pipeline: every environment's config → validation → pure builders → charts → files,
// all built in a staging folder and swapped in only when everything is valid
// (docs/architecture.md, "Fail before writing"). One process writes every environment.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ApiObject, App, YamlOutputType } from 'cdk8s';
import { EnvironmentsApplicationSetChart } from '../charts/argocd-applicationset';
import { AppProjectsChart } from '../charts/argocd-projects';
import { ARGOCD_SETTINGS_FILES, ArgocdSettingsChart } from '../charts/argocd-settings';
import { EdgeApplicationChart } from '../charts/edge-application';
import { EnvoyEdgeChart } from '../charts/envoy-edge';
import { LbControllerChart } from '../charts/lb-controller';
import { MonitoringChart } from '../charts/monitoring';
import { ConfigError } from '../config/errors';
import { type Environment, type LoadedConfig, loadEnvironments } from '../config/load';
import { applicationMetadata } from '../delivery/metadata';
import { childApplicationsNamespace, childInstanceName, edgeApplicationName, rootApplicationName } from '../delivery/names';
import { TRACKING_ID_ANNOTATION, trackingId } from '../delivery/tracking';
import { buildEnvoyConfig, inlineEnvoyConfig } from '../envoy/bootstrap';
import { assertValidEnvoyBootstrap } from '../envoy/validate';
import { objectLimitProblems } from '../k8s/object-limits';
import { buildEksctlClusterConfig, serializeEksctlConfig } from '../lb-controller/eksctl';
import { checkLbControllerValues } from '../lb-controller/values';
import { type WriteReport, writeOutputsAtomically } from './write-outputs';

/** The folders a synth writes, relative to the project root. */
export const OUTPUT_DIRS = ['dist', 'argocd', 'eksctl'] as const;

/** Where each environment's outputs go: derived from its name, never typed in the config. */
export const outputPaths = (environment: string) => ({
  /** What the environment's root Application syncs: its two child Applications. */
  root: `dist/${environment}`,
  /** What the edge Application syncs: Envoy's objects and the Ingress. */
  edge: `dist/${environment}/edge`,
  eksctl: `eksctl/${environment}.yaml`,
});

/** Every output of a project, built but not written: the cdk8s apps, and each environment's eksctl file. */
export interface BuiltOutputs {
  readonly apps: { readonly app: App; readonly environment?: Environment }[];
  readonly eksctl: { readonly file: string; readonly text: string }[];
}

/**
 * Runs the builders and the charts of every environment and of Argo CD's objects, into the apps
 * `app` makes; writes nothing. synth/field-owners.ts runs it on a traced config to tell which builder
 * reads which field.
 */
export function buildOutputs(environments: readonly Environment[], app: (dir: string) => App): BuiltOutputs {
  const valueProblems = environments.flatMap((e) => checkLbControllerValues(e.config).map((p) => `${e.files[e.files.length - 1]}: ${p}`));
  if (valueProblems.length) throw new ConfigError(valueProblems);
  const built: { app: App; environment?: Environment }[] = [];
  const eksctl: { file: string; text: string }[] = [];
  for (const environment of environments) {
    const { edge, children, eksctl: file } = buildEnvironment(environment, environments, app);
    built.push({ app: edge, environment }, { app: children, environment });
    eksctl.push(file);
  }

  // File names sort the projects before the ApplicationSet that uses them (kubectl applies in order).
  const argocd = app('argocd');
  new AppProjectsChart(argocd, 'app-projects', { environments });
  new EnvironmentsApplicationSetChart(argocd, 'applicationset', { environments, rootPath: (name) => outputPaths(name).root });
  const settings = app('argocd/settings');
  // One file per ConfigMap of Argo CD's, named after it.
  for (const id of ARGOCD_SETTINGS_FILES) new ArgocdSettingsChart(settings, id, { environments, configMap: id });
  built.push({ app: argocd }, { app: settings });
  return { apps: built, eksctl };
}

/** Builds every output under `root` (normally a staging folder). Pure apart from writing files there. */
export function synthesize(loaded: LoadedConfig, root: string): void {
  const { apps, eksctl } = buildOutputs(loaded.environments, (dir) => new App({ outdir: path.join(root, dir), yamlOutputType: YamlOutputType.FILE_PER_CHART }));
  for (const { app, environment } of apps) if (environment) assertWithinObjectLimits(app, environment);
  for (const { app } of apps) app.synth();
  for (const { file, text } of eksctl) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
}

/** The config a generated object is made from, for an error about its size. */
function sourceFieldOf(kind: string, name: string): string {
  if (kind === 'Application' && name.endsWith('-lb-controller')) return 'lbController.values';
  if (kind === 'ConfigMap' && name.endsWith('-dashboard')) return 'monitoring';
  if (kind === 'ConfigMap') return 'envoy and backend (the Envoy config)';
  return 'the config';
}

/** Kubernetes' own limits on every object of `app`, before anything is written; blamed on the environment's file. */
function assertWithinObjectLimits(app: App, environment: Environment): void {
  const problems = app.node
    .findAll()
    .filter((n): n is ApiObject => n instanceof ApiObject)
    .flatMap((object) => {
      const json = object.toJson();
      return objectLimitProblems(json, sourceFieldOf(json.kind, json.metadata.name));
    });
  if (problems.length) throw new ConfigError(problems.map((p) => `environment ${environment.name} (${environment.files.join(', ')}): ${p}`));
}

function buildEnvironment(
  environment: Environment,
  environments: readonly Environment[],
  app: (dir: string) => App,
): { edge: App; children: App; eksctl: { file: string; text: string } } {
  const { config } = environment;
  const paths = outputPaths(environment.name);
  const envoy = buildEnvoyConfig(config);
  // Checked against Envoy's own API definitions before any file is written, so a bad value stops here
  // rather than crash-looping the pods or being rejected by a running Envoy. The live resources are
  // checked written back inline. The container exposes both ports; the Service targets the listener.
  const { listenerPort, readyPort } = config.envoy;
  assertValidEnvoyBootstrap(inlineEnvoyConfig(envoy), {
    ports: { containerPorts: [listenerPort, readyPort], serviceTargetPorts: [listenerPort] },
  });

  const edge = app(paths.edge);
  new EnvoyEdgeChart(edge, 'envoy-edge', { config, envoy });
  if (config.monitoring.enabled) new MonitoringChart(edge, 'monitoring', { config });
  markTrackedBy(edge, { name: childInstanceName(config.gitops, edgeApplicationName(config.gitops)), destinationNamespace: config.envoy.namespace });

  const children = app(paths.root);
  const metadata = applicationMetadata(environments, environment, 'child');
  new LbControllerChart(children, 'lb-controller', { config, metadata });
  new EdgeApplicationChart(children, 'edge-application', { config, sourcePath: paths.edge, metadata });
  markTrackedBy(children, { name: rootApplicationName(config.gitops), destinationNamespace: childApplicationsNamespace(config.gitops) });

  return { edge, children, eksctl: { file: paths.eksctl, text: serializeEksctlConfig(buildEksctlClusterConfig(config), paths.eksctl) } };
}

/** Gives every object of `app` the tracking id that `application` will write on it when it syncs. */
function markTrackedBy(app: App, application: Parameters<typeof trackingId>[0]): void {
  for (const node of app.node.findAll()) {
    if (!(node instanceof ApiObject)) continue;
    const object = { apiVersion: node.apiVersion, kind: node.kind, namespace: node.metadata.namespace, name: node.name };
    node.metadata.addAnnotation(TRACKING_ID_ANNOTATION, trackingId(application, object));
  }
}

/** Validates every environment and writes all outputs atomically; throws before writing anything on bad input. */
export function synthesizeProject(root: string, configDir?: string): { loaded: LoadedConfig; report: WriteReport } {
  const loaded = loadEnvironments(configDir);
  const nonEmpty = [...OUTPUT_DIRS, ...loaded.environments.flatMap((e) => [outputPaths(e.name).root, outputPaths(e.name).edge])];
  const report = writeOutputsAtomically(root, OUTPUT_DIRS, (staging) => synthesize(loaded, staging), nonEmpty);
  return { loaded, report };
}
