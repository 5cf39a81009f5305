// argocd/app-projects: three AppProjects per environment keep the root's, Envoy's and the
// controller's permissions apart. A team applies argocd/ once by hand (npm run bootstrap).
import { Chart, type ChartProps } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import type { Environment } from '../config/load';
import { childApplicationsNamespace, ENVIRONMENT_LABEL, IN_CLUSTER_SERVER, lbControllerProjectName, rootProjectName } from '../delivery/names';
import { AppProject } from '../imports/argoproj.io';
import { EKS_CHARTS_REPO_URL, LB_CONTROLLER_NAMESPACE } from '../k8s/names';

type GroupKind = { group: string; kind: string };
const kinds = (group: string, ...names: string[]): GroupKind[] => names.map((kind) => ({ group, kind }));

/** Cluster-scoped kinds in an environment's Applications: only Envoy's Namespace. */
export const ENVOY_CLUSTER_KINDS: readonly GroupKind[] = kinds('', 'Namespace');

/** Namespaced kinds of Envoy's objects (the edge Application). */
export const ENVOY_NAMESPACED_KINDS: readonly GroupKind[] = [
  ...kinds('', 'ConfigMap', 'Service', 'ServiceAccount'),
  ...kinds('apps', 'Deployment'),
  ...kinds('networking.k8s.io', 'Ingress', 'NetworkPolicy'),
  ...kinds('policy', 'PodDisruptionBudget'),
];

/** The root Application creates its two child Applications, in the environment's child namespace: that kind only (the app-of-apps step). */
export const ROOT_KINDS: readonly GroupKind[] = kinds('argoproj.io', 'Application');

/** With monitoring.enabled: the Prometheus Operator's kinds (the dashboard is a ConfigMap). */
export const MONITORING_KINDS: readonly GroupKind[] = kinds('monitoring.coreos.com', 'PodMonitor', 'PrometheusRule');

/** What the aws-load-balancer-controller chart renders cluster-wide: far more than Envoy needs. */
export const LB_CONTROLLER_CLUSTER_KINDS: readonly GroupKind[] = [
  ...kinds('apiextensions.k8s.io', 'CustomResourceDefinition'),
  ...kinds('rbac.authorization.k8s.io', 'ClusterRole', 'ClusterRoleBinding'),
  ...kinds('admissionregistration.k8s.io', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'),
  ...kinds('networking.k8s.io', 'IngressClass'),
  ...kinds('elbv2.k8s.aws', 'IngressClassParams'),
];

/** What the chart renders in kube-system. */
export const LB_CONTROLLER_NAMESPACED_KINDS: readonly GroupKind[] = [
  ...kinds('', 'Secret', 'Service', 'ServiceAccount'),
  ...kinds('apps', 'Deployment'),
  ...kinds('rbac.authorization.k8s.io', 'Role', 'RoleBinding'),
  ...kinds('policy', 'PodDisruptionBudget'),
];

/** Only with lbController.certManager: the chart's webhook certificate, issued by cert-manager. */
export const CERT_MANAGER_KINDS: readonly GroupKind[] = kinds('cert-manager.io', 'Certificate', 'Issuer');

/** The dashboard may live outside Envoy's namespace, where Grafana's sidecar looks. */
function monitoringNamespaces(config: Environment['config']): string[] {
  return config.monitoring.enabled && config.monitoring.dashboardNamespace ? [config.monitoring.dashboardNamespace] : [];
}

export interface AppProjectsChartProps extends ChartProps {
  readonly environments: readonly Environment[];
}

/**
 * Per environment: the root's project, Envoy's project and the controller's project, and the namespace
 * of its child Applications. Only the two child projects list that namespace as a source namespace, so
 * an Application there may name no other project (`default` included); the root's project may create
 * Applications only there, never in Argo CD's own namespace.
 */
export class AppProjectsChart extends Chart {
  constructor(scope: Construct, id: string, props: AppProjectsChartProps) {
    super(scope, id, props);
    for (const { name: environment, config } of props.environments) {
      const { gitops } = config;
      const labels = { [ENVIRONMENT_LABEL]: environment };
      const inEnvironment = (namespace: string) => ({ name: gitops.destinationName, namespace });
      const children = childApplicationsNamespace(config.gitops);

      new k8s.KubeNamespace(this, `${environment}-child-applications-namespace`, { metadata: { name: children, labels } });

      new AppProject(this, `${environment}-root-project`, {
        metadata: { name: rootProjectName(config.gitops), namespace: gitops.argocdNamespace, labels },
        spec: {
          description: `Envoy WebSocket edge, ${environment}: the root Application, which creates the two child Applications in ${children}`,
          sourceRepos: [gitops.repoURL],
          // Applications only, in the child namespace only: nothing committed can replace argocd-cm or
          // argocd-rbac-cm, or put an Application in Argo CD's own namespace, where it could name any project.
          destinations: [{ server: IN_CLUSTER_SERVER, namespace: children }],
          clusterResourceWhitelist: [],
          namespaceResourceWhitelist: [...ROOT_KINDS],
        },
      });

      new AppProject(this, `${environment}-envoy-project`, {
        metadata: { name: gitops.project, namespace: gitops.argocdNamespace, labels },
        spec: {
          description: `Envoy WebSocket edge, ${environment}: Envoy's objects in the environment's cluster`,
          sourceRepos: [gitops.repoURL],
          sourceNamespaces: [children],
          destinations: [...new Set([config.envoy.namespace, config.backend.namespace, ...monitoringNamespaces(config)])].map(inEnvironment),
          clusterResourceWhitelist: [...ENVOY_CLUSTER_KINDS],
          // The monitoring kinds only where monitoring is on.
          namespaceResourceWhitelist: [...ENVOY_NAMESPACED_KINDS, ...(config.monitoring.enabled ? MONITORING_KINDS : [])],
        },
      });

      new AppProject(this, `${environment}-lb-controller-project`, {
        metadata: { name: lbControllerProjectName(config.gitops), namespace: gitops.argocdNamespace, labels },
        spec: {
          description: `AWS Load Balancer Controller, ${environment}, from the eks-charts Helm repository`,
          sourceRepos: [EKS_CHARTS_REPO_URL],
          sourceNamespaces: [children],
          destinations: [inEnvironment(LB_CONTROLLER_NAMESPACE)],
          clusterResourceWhitelist: [...LB_CONTROLLER_CLUSTER_KINDS],
          namespaceResourceWhitelist: [...LB_CONTROLLER_NAMESPACED_KINDS, ...(config.lbController.certManager ? CERT_MANAGER_KINDS : [])],
        },
      });
    }
  }
}
