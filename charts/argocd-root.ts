// argocd/: what a team applies once by hand to start the GitOps loop. The root Application
// syncs dist/; two AppProjects keep Envoy's and the controller's permissions apart.
import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import type { EdgeConfig } from '../config/schema';
import { Application, AppProject } from '../imports/argoproj.io';
import {
  ARGOCD_RESOURCES_FINALIZER,
  EKS_CHARTS_REPO_URL,
  IN_CLUSTER_SERVER,
  LB_CONTROLLER_NAMESPACE,
  lbControllerProjectName,
  rootApplicationName,
} from '../k8s/names';

type GroupKind = { group: string; kind: string };
const kinds = (group: string, ...names: string[]): GroupKind[] => names.map((kind) => ({ group, kind }));

/** Cluster-scoped kinds in dist/: only Envoy's Namespace. */
export const ENVOY_CLUSTER_KINDS: readonly GroupKind[] = kinds('', 'Namespace');

/** Namespaced kinds in dist/, including the controller's Application (the app-of-apps step). */
export const ENVOY_NAMESPACED_KINDS: readonly GroupKind[] = [
  ...kinds('', 'ConfigMap', 'Service', 'ServiceAccount'),
  ...kinds('apps', 'Deployment'),
  ...kinds('networking.k8s.io', 'Ingress', 'NetworkPolicy'),
  ...kinds('policy', 'PodDisruptionBudget'),
  ...kinds('argoproj.io', 'Application'),
];

/** What the aws-load-balancer-controller chart renders cluster-wide: far more than Envoy needs. */
export const LB_CONTROLLER_CLUSTER_KINDS: readonly GroupKind[] = [
  ...kinds('apiextensions.k8s.io', 'CustomResourceDefinition'),
  ...kinds('rbac.authorization.k8s.io', 'ClusterRole', 'ClusterRoleBinding'),
  ...kinds('admissionregistration.k8s.io', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'),
  ...kinds('networking.k8s.io', 'IngressClass'),
  ...kinds('elbv2.k8s.aws', 'IngressClassParams'),
];

/** What the chart renders in kube-system (cert-manager kinds only in certManager mode). */
export const LB_CONTROLLER_NAMESPACED_KINDS: readonly GroupKind[] = [
  ...kinds('', 'Secret', 'Service', 'ServiceAccount'),
  ...kinds('apps', 'Deployment'),
  ...kinds('rbac.authorization.k8s.io', 'Role', 'RoleBinding'),
  ...kinds('policy', 'PodDisruptionBudget'),
  ...kinds('cert-manager.io', 'Certificate', 'Issuer'),
];

export interface ArgoCdRootChartProps extends ChartProps {
  readonly config: EdgeConfig;
}

/** The two AppProjects. Applied before the root Application (file order in argocd/). */
export class AppProjectsChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoCdRootChartProps) {
    super(scope, id, props);
    const { config } = props;
    const namespace = config.gitops.argocdNamespace;
    const toInCluster = (ns: string) => ({ server: IN_CLUSTER_SERVER, namespace: ns });

    new AppProject(this, 'envoy-project', {
      metadata: { name: config.gitops.project, namespace },
      spec: {
        description: 'Envoy WebSocket edge: the objects in dist/ and the controller Application',
        sourceRepos: [config.gitops.repoURL],
        destinations: [
          ...new Set([config.envoy.namespace, config.backend.namespace, config.gitops.argocdNamespace]),
        ].map(toInCluster),
        clusterResourceWhitelist: [...ENVOY_CLUSTER_KINDS],
        namespaceResourceWhitelist: [...ENVOY_NAMESPACED_KINDS],
      },
    });

    new AppProject(this, 'lb-controller-project', {
      metadata: { name: lbControllerProjectName(config), namespace },
      spec: {
        description: 'AWS Load Balancer Controller from the eks-charts Helm repository',
        sourceRepos: [EKS_CHARTS_REPO_URL],
        destinations: [toInCluster(LB_CONTROLLER_NAMESPACE)],
        clusterResourceWhitelist: [...LB_CONTROLLER_CLUSTER_KINDS],
        namespaceResourceWhitelist: [...LB_CONTROLLER_NAMESPACED_KINDS],
      },
    });
  }
}

/** The root Application: syncs dist/ from the team's repository on every push. */
export class RootApplicationChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoCdRootChartProps) {
    super(scope, id, props);
    const { config } = props;
    new Application(this, 'root', {
      metadata: {
        name: rootApplicationName(config),
        namespace: config.gitops.argocdNamespace,
        // Deleting the root deletes what it synced (after destroy has removed the Ingress first).
        finalizers: [ARGOCD_RESOURCES_FINALIZER],
      },
      spec: {
        project: config.gitops.project,
        source: {
          repoUrl: config.gitops.repoURL,
          targetRevision: config.gitops.targetRevision,
          path: config.gitops.path,
          directory: { recurse: false },
        },
        // Every object in dist/ names its own namespace.
        destination: { server: IN_CLUSTER_SERVER },
        syncPolicy: {
          // allowEmpty false: an empty dist/ is never synced, so a bad push cannot prune production.
          automated: { prune: true, selfHeal: true, allowEmpty: false },
          retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
          syncOptions: ['PruneLast=true'],
        },
      },
    });
  }
}
