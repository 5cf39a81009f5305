// The child Application that syncs Envoy's objects (dist/<environment>/edge/) into the environment's
// cluster. It sits in the environment's root beside the controller's Application, one wave after it.
import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { EdgeConfig } from '../config/schema';
import type { ApplicationMetadata } from '../delivery/metadata';
import { ARGOCD_RESOURCES_FINALIZER, childApplicationsNamespace, edgeApplicationName } from '../delivery/names';
import { syncPolicy } from '../delivery/sync-policy';
import { SYNC_WAVE, SYNC_WAVE_ANNOTATION } from '../delivery/sync-waves';
import { Application } from '../imports/argoproj.io';

export interface EdgeApplicationChartProps extends ChartProps {
  readonly config: EdgeConfig;
  /** Where Envoy's objects are in the repository, such as dist/prod/edge: derived by the synth, never typed. */
  readonly sourcePath: string;
  /** The environment's labels, and its rollout note and notification subscriptions (delivery/metadata.ts). */
  readonly metadata: ApplicationMetadata;
}

export class EdgeApplicationChart extends Chart {
  constructor(scope: Construct, id: string, props: EdgeApplicationChartProps) {
    super(scope, id, props);
    const { config } = props;
    new Application(this, 'application', {
      metadata: {
        name: edgeApplicationName(config.gitops),
        // Not Argo CD's own namespace: here it may only name the projects that list this one (k8s/names.ts).
        namespace: childApplicationsNamespace(config.gitops),
        labels: props.metadata.labels,
        annotations: { ...props.metadata.annotations, [SYNC_WAVE_ANNOTATION]: SYNC_WAVE.edge },
        // Deleting it deletes Envoy's objects (destroy removes the Ingress first, so the ALB goes cleanly).
        finalizers: [ARGOCD_RESOURCES_FINALIZER],
      },
      spec: {
        project: config.gitops.project,
        source: {
          repoUrl: config.gitops.repoURL,
          targetRevision: config.gitops.targetRevision,
          path: props.sourcePath,
          // No `directory: { recurse: false }`: it is the default, and Argo CD's controller strips a
          // zero-valued source block from a live Application (NormalizeApplicationSpec), so the root
          // that applies this one would stay OutOfSync and re-sync it forever (seen on v3.5.7).
        },
        // Every object names its own namespace; Argo CD still checks the destination's against the
        // project, which lists only our namespaces, so it must not be empty.
        destination: { name: config.gitops.destinationName, namespace: config.envoy.namespace },
        syncPolicy: syncPolicy(config.gitops),
      },
    });
  }
}
