// argocd/applicationset: one ApplicationSet that makes each environment's root Application. The root
// syncs dist/<environment>/ (the environment's two child Applications) into namespace <project>-apps;
// each child then syncs into the environment's cluster. Destination, project and sync settings
// come from each environment's config.
import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Environment } from '../config/load';
import { PART_OF } from '../delivery/metadata';
import {
  APPLICATIONSET_NAME,
  ARGOCD_RESOURCES_FINALIZER,
  childApplicationsNamespace,
  ENVIRONMENT_LABEL,
  IN_CLUSTER_SERVER,
  rootApplicationName,
  rootProjectName,
} from '../delivery/names';
import { subscriptionAnnotations } from '../delivery/notifications';
import { ROLLOUT_ANNOTATION, rolloutNote } from '../delivery/stages';
import { SYNC_POLICY_TEMPLATE_PATCH, syncPolicy } from '../delivery/sync-policy';
import { ApplicationSet } from '../imports/argoproj.io';

export interface ApplicationSetChartProps extends ChartProps {
  readonly environments: readonly Environment[];
  /** The folder each environment's root syncs, such as dist/prod: derived by the synth, never typed. */
  readonly rootPath: (environment: string) => string;
}

export class EnvironmentsApplicationSetChart extends Chart {
  constructor(scope: Construct, id: string, props: ApplicationSetChartProps) {
    super(scope, id, props);
    const [first] = props.environments;
    const namespace = first.config.gitops.argocdNamespace;
    new ApplicationSet(this, 'applicationset', {
      metadata: { name: APPLICATIONSET_NAME, namespace },
      spec: {
        goTemplate: true,
        // A misspelt parameter fails the generation instead of rendering "<no value>".
        goTemplateOptions: ['missingkey=error'],
        generators: [{ list: { elements: props.environments.map((e) => element(e, props.environments, props.rootPath(e.name))) } }],
        template: {
          metadata: {
            name: '{{.application}}',
            namespace,
            // The labels and annotations its children carry too (delivery/metadata.ts), from the element.
            labels: { ...PART_OF, [ENVIRONMENT_LABEL]: '{{.environment}}' },
            annotations: { [ROLLOUT_ANNOTATION]: '{{.rollout}}', ...subscriptionAnnotations('root') },
            // Deleting a root by hand deletes its children and what they synced (npm run destroy goes first).
            finalizers: [ARGOCD_RESOURCES_FINALIZER],
          },
          spec: {
            project: '{{.project}}',
            // recurse: false (the default, written out because it matters): the root reads only
            // dist/<env>/*.yaml, the two child Applications, never dist/<env>/edge/, which is the edge
            // Application's. The children leave the block out (charts/edge-application.ts says why).
            source: { repoUrl: '{{.repoURL}}', targetRevision: '{{.targetRevision}}', path: '{{.path}}', directory: { recurse: false } },
            // The root holds only the environment's child Applications, which live in its child namespace.
            destination: { server: IN_CLUSTER_SERVER, namespace: '{{.childNamespace}}' },
          },
        },
        // The sync policy is per environment and not all strings: each element carries it as an object,
        // and the template patch puts it in whole (the same policy the children get, delivery/sync-policy.ts).
        templatePatch: SYNC_POLICY_TEMPLATE_PATCH,
        // Taking an environment out of the ApplicationSet deletes its root but never what the root made:
        // npm run destroy removes an environment in a safe order.
        syncPolicy: { preserveResourcesOnDeletion: true },
      },
    });
  }
}

/** One environment's parameters for the template. */
function element(environment: Environment, environments: readonly Environment[], path: string): Record<string, unknown> {
  const { gitops } = environment.config;
  return {
    environment: environment.name,
    application: rootApplicationName(environment.config.gitops),
    project: rootProjectName(environment.config.gitops),
    childNamespace: childApplicationsNamespace(environment.config.gitops),
    repoURL: gitops.repoURL,
    targetRevision: gitops.targetRevision,
    path,
    syncPolicy: syncPolicy(gitops),
    rollout: rolloutNote(environments, environment),
  };
}
