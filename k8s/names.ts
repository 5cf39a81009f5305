// The names of the Kubernetes objects this project creates or refers to in an environment's cluster, in
// one place: the charts create them, the day-2 commands act on them, dashboards and runbooks refer to
// them. Argo CD's own names (Applications, projects, namespaces) are in delivery/names.ts.

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
