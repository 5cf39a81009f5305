// The names of the objects this project creates or refers to, in one place: the charts create them,
// the day-2 commands act on them, operators' dashboards and runbooks refer to them.
import type { EdgeConfig } from '../config/schema';

/** Envoy's objects; fixed by the seed. */
export const EDGE_NAMES = {
  app: 'envoy-proxy',
  deployment: 'envoy-proxy',
  serviceAccount: 'envoy-proxy',
  bootstrapConfigMap: 'envoy-proxy-bootstrap',
  /** The live part of Envoy's config (routes, backend cluster, caps), reloaded without a restart. */
  liveConfigMap: 'envoy-proxy-live',
  service: 'envoy-proxy-service',
  /** Headless, over the ready Envoy pods: the members of the fleet rate limit. */
  peersService: 'envoy-proxy-peers',
  ingress: 'envoy-proxy-ingress',
  pdb: 'envoy-proxy',
  networkPolicy: 'envoy-proxy',
  /** Denies all traffic to and from the namespace's pods that no other policy admits. */
  defaultDenyPolicy: 'default-deny',
  bootstrapFile: 'envoy.yaml',
  bootstrapDir: '/etc/envoy',
  /** With monitoring on: the PodMonitor and PrometheusRule, in Envoy's namespace, and the dashboard. */
  podMonitor: 'envoy-proxy',
  prometheusRule: 'envoy-proxy',
  dashboardConfigMap: 'envoy-proxy-dashboard',
} as const;

/** Chart name in the eks-charts repository; also the root of the chart's resource names. */
export const LB_CONTROLLER_CHART = 'aws-load-balancer-controller';

/** The eks-charts Helm repository. */
export const EKS_CHARTS_REPO_URL = 'https://aws.github.io/eks-charts';

/** Namespace the controller runs in; eksctl's service account and the chart release live here. */
export const LB_CONTROLLER_NAMESPACE = 'kube-system';

/**
 * Prefix of the chart's webhook and TLS Secret names: the chart name without "-controller", unless
 * nameOverride is set (_helpers.tpl "aws-load-balancer-controller.namePrefix"). It does not depend
 * on the release name. We refuse nameOverride, so these names are fixed.
 */
const LB_CONTROLLER_NAME_PREFIX = LB_CONTROLLER_CHART.replace(/-controller$/, '');

/** Names of the objects the chart renders with a freshly generated CA on every `helm template`. */
export const LB_CONTROLLER_GENERATED_TLS = {
  /** MutatingWebhookConfiguration and ValidatingWebhookConfiguration: `<namePrefix>-webhook` (webhook.yaml). */
  webhookConfiguration: `${LB_CONTROLLER_NAME_PREFIX}-webhook`,
  /** kubernetes.io/tls Secret: `<namePrefix>-tls` (_helpers.tpl "webhookCertSecret"). */
  tlsSecret: `${LB_CONTROLLER_NAME_PREFIX}-tls`,
} as const;

/** The cluster Argo CD runs in, as Argo CD addresses it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** The ApplicationSet in argocd/: one root Application per environment. */
export const APPLICATIONSET_NAME = 'envoy-edge';

/** The label an environment's Argo CD objects carry, with the environment's name. */
export const ENVIRONMENT_LABEL = 'envoy-edge/environment';

/** Foreground cascading delete: deleting an Application deletes what it synced. */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** An environment's root Application (made by the ApplicationSet; it syncs dist/<environment>/), named after its project. */
export function rootApplicationName(config: EdgeConfig): string {
  return config.gitops.project;
}

/** Suffix of the namespace that holds an environment's child Applications. */
export const CHILD_APPLICATIONS_SUFFIX = '-apps';

/**
 * Where an environment's child Applications live, in Argo CD's cluster: not Argo CD's own namespace.
 * An Application in Argo CD's namespace may name any project, `default` included; one in another
 * namespace may only name a project that lists that namespace in its sourceNamespaces (Argo CD's
 * "Applications in any namespace"), and only the environment's two child projects list this one.
 * So a child Application committed under dist/<environment>/ cannot pick a wider project.
 */
export function childApplicationsNamespace(config: EdgeConfig): string {
  return `${config.gitops.project}${CHILD_APPLICATIONS_SUFFIX}`;
}

/**
 * The name Argo CD tracks a child Application's objects by (Application.InstanceName): outside
 * Argo CD's own namespace it is `<namespace>_<name>`.
 */
export function childInstanceName(config: EdgeConfig, application: string): string {
  return `${childApplicationsNamespace(config)}_${application}`;
}

/** The child Application that syncs Envoy's objects (dist/<environment>/edge/) into the environment's cluster. */
export function edgeApplicationName(config: EdgeConfig): string {
  return `${config.gitops.project}-edge`;
}

/** The child Application that installs the AWS Load Balancer Controller from its Helm chart. */
export function lbControllerApplicationName(config: EdgeConfig): string {
  return `${config.gitops.project}-lb-controller`;
}

/**
 * The root Application's project: it may create only Applications, only in Argo CD's namespace. The
 * environment's project (Envoy's objects) may no longer deploy into Argo CD's namespace at all, where a
 * ConfigMap such as argocd-rbac-cm would make a git writer an Argo CD admin.
 */
export function rootProjectName(config: EdgeConfig): string {
  return `${config.gitops.project}-root`;
}

/** The controller gets its own project: it needs cluster-wide kinds Envoy must never be allowed. */
export function lbControllerProjectName(config: EdgeConfig): string {
  return `${config.gitops.project}-lb-controller`;
}
