// The configuration schema: the single source of truth for every name, port and limit. Each field
// carries its default (the seed's value) and a description; docs/configuration.md is generated
// from them (npm run docs), so neither can drift from the reference.
import { z } from 'zod';
import { bool, cidr, cpu, dnsLabel, duration, int, labelKey, labelValue, matching, memory, oneOf, port } from './kinds';

/** A field's meaning, for the reference; it keeps what its kind allows. `defaultText` explains a derived default. */
function described<T extends z.ZodType>(kind: T, description: string, extra: { defaultText?: string } = {}): T {
  return kind.meta({ ...kind.meta(), description, ...extra }) as T;
}

const section = <T extends z.core.$ZodLooseShape>(description: string, shape: T) => described(z.strictObject(shape), description);

const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

const cluster = section('The EKS cluster.', {
  name: described(
    matching(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'an EKS cluster name: 1-100 letters, digits, "-" or "_", starting with a letter or digit'),
    "EKS cluster name, in the controller's Helm values and the eksctl file.",
  ).prefault('envoy-poc'),
  region: described(
    matching(
      /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$/,
      'an AWS region such as us-east-1 or eu-central-1',
    ),
    'AWS region of the cluster.',
  ).prefault('us-east-1'),
  vpcId: described(
    matching(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id: "vpc-" and 8 or 17 lowercase hex digits'),
    'VPC of the cluster; the controller needs it.',
  ).prefault('vpc-0123456789abcdef0'),
  vpcCidr: described(cidr(), 'VPC CIDR; the default client range of the NetworkPolicy (the ALB lives there).').prefault('10.0.0.0/16'),
  controlPlaneCidrs: described(
    z.array(cidr(), { error: 'a list of IPv4 CIDRs' }).min(1, { error: 'at least one CIDR' }).meta({ allowed: 'a list of IPv4 CIDRs, at least one' }),
    "The subnets of the cluster's control-plane network interfaces (those given when the cluster was made): the API server's pod proxy (npm run status) reaches Envoy's ready port from there. The kubelet's probes need no rule: the VPC CNI's policy agent always admits the node's own address. Default: [cluster.vpcCidr].",
  ).optional(),
  kubeContext: described(
    matching(/^\S{1,253}$/, 'a kube context name, as `kubectl config get-contexts` lists it'),
    'The kube context of this cluster, for the day-2 commands. Unset: the current context, which must be this EKS cluster (named by `aws eks update-kubeconfig` or eksctl). The commands refuse any other.',
  ).optional(),
});

const backend = section('The WebSocket server, deployed by another part of the platform.', {
  serviceName: described(dnsLabel(), 'Name of the headless Service we create so Envoy resolves every backend pod by DNS.').prefault(
    'envoy-poc-app-server-service',
  ),
  namespace: described(dnsLabel(), 'Namespace of the WebSocket pods.').prefault('default'),
  selector: described(
    z
      .record(labelKey(), labelValue(), { error: 'a map of label keys to label values' })
      .refine((m) => Object.keys(m).length > 0, { error: 'at least one label' })
      .meta({ allowed: 'a map of label keys to label values, at least one' }),
    'Labels of the WebSocket pods.',
  ).prefault({ app: 'envoy-poc-app-server' }),
  port: described(port(), 'WebSocket port of the pods.').prefault(8080),
  healthPort: described(port(), "Port of the pods' health endpoint.").prefault(8081),
  healthPath: described(
    matching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'an absolute URL path such as /health'),
    'Path Envoy health-checks on each pod; 200-399 is healthy.',
  ).prefault('/health'),
});

const rateLimit = section('The fleet rate limit on new WebSockets: totals for all replicas together.', {
  maxTokens: described(
    int(1, 1_000_000),
    'Fleet burst of new WebSocket upgrades. Envoy shares it over the live replicas, so it must be at least the most replicas that run at once.',
  ).prefault(10),
  tokensPerFill: described(
    int(0, 1_000_000),
    "Tokens added to the fleet bucket every fill interval (0 is refused by Envoy's own rule, through the Envoy validator).",
  ).prefault(1),
  fillInterval: described(duration(50, 3_600_000), 'Fleet fill interval.').prefault('1s'),
});

const perClient = section(
  "Each client's own bucket for new WebSockets, beside the fleet bucket. The client is the address the ALB appends to X-Forwarded-For (one trusted hop); what the client sends there itself changes nothing. A refused client spends no fleet token.",
  {
    maxTokens: described(int(1, 1_000_000), 'Burst of new WebSockets one client may open.').prefault(5),
    tokensPerFill: described(int(1, 1_000_000), "Tokens added to each client's bucket every fill interval.").prefault(1),
    fillInterval: described(duration(50, 3_600_000), "Fill interval of each client's bucket.").prefault('5s'),
    maxClients: described(
      int(1, 1_000_000),
      'Clients each replica keeps a bucket for (least recently used first out; a client pushed out starts again with a full bucket).',
    ).prefault(10_000),
  },
);

const plainHttp = section("Plain HTTP requests (not upgrades): a backend pool of their own, so they can never hold the WebSockets' slots.", {
  maxConnections: described(
    int(1, 1_000_000),
    'Fleet cap on backend connections for plain HTTP requests, split over the replicas (rounded down, at least 1 each); beside envoy.connections.maxTotal, never part of it. Up to 8 requests per connection may wait for one.',
  ).prefault(4),
  maxRequestBytes: described(
    int(1024, 10_485_760),
    'Largest plain request body: Envoy reads it whole before it takes a backend connection, so a slow upload holds none; larger gets 413.',
  ).prefault(65_536),
});

const connections = section('Caps on backend connections: fleet totals, split evenly over the replicas.', {
  maxTotal: described(int(1, 1_000_000), 'Fleet cap on backend connections; each open WebSocket holds one.').prefault(8),
  maxPerBackendPod: described(int(1, 1_000_000), 'Fleet cap on connections to one backend pod.').prefault(2),
  queueTimeout: described(
    duration(1000, 60_000),
    "How long an upgrade may wait for a free backend slot before a 503 (the upgrade route's timeout, which ends at the 101).",
  ).prefault('5s'),
});

const healthCheck = section('Active health checks of each backend pod.', {
  interval: described(duration(1000, 300_000), 'Time between checks.').prefault('5s'),
  timeout: described(duration(100, 60_000), 'A check with no answer by then fails; must be below the interval.').prefault('2s'),
  healthyThreshold: described(int(1, 10), 'Passes to mark a pod healthy.').prefault(2),
  unhealthyThreshold: described(int(1, 10), 'Consecutive failures (any status outside 200-399, or no answer) to mark a pod unhealthy.').prefault(3),
  noTrafficInterval: described(
    duration(0, 300_000),
    "Interval while the cluster has had no traffic yet (Envoy's rule, > 0, is checked by the Envoy validator).",
  ).prefault('10s'),
});

const resources = section("The Envoy container's resources.", {
  cpuLimit: described(cpu(), 'CPU limit; also sets --concurrency (1 worker per whole CPU, at least 1).').prefault('250m'),
  memoryLimit: described(memory(), "Memory limit; the overload manager's heap ceiling is 80% of it.").prefault('256Mi'),
  cpuRequest: described(cpu(), 'CPU request.').prefault('250m'),
  memoryRequest: described(memory(), 'Memory request.').prefault('256Mi'),
});

const envoy = section('Envoy, the WebSocket edge.', {
  namespace: described(dnsLabel(), "Namespace for Envoy's objects.").prefault('envoy-proxy'),
  image: described(
    matching(
      /^[a-z0-9]+([._/-][a-z0-9]+)*(:([a-z]+-)?v?\d+\.\d+\.\d+|@sha256:[a-f0-9]{64})$/,
      'an image pinned to an exact release (…:v1.40.0, …:debug-v1.40.0) or a sha256 digest; "latest" tags are not allowed',
    ),
    'Envoy image, pinned to an exact release or digest; the live suite runs the same release.',
  ).prefault('envoyproxy/envoy:v1.40.0'),
  replicas: described(int(1, 20), 'Envoy pods.').prefault(2),
  resources: resources.prefault({}),
  listenerPort: described(int(1024, 65535), 'Unprivileged port of the WebSocket listener (Service port 80 maps to it).').prefault(8080),
  readyPort: described(int(1024, 65535), '/ready and the read-only admin pages, for probes and the ALB health check.').prefault(9901),
  adminPort: described(int(1024, 65535), "Envoy's admin interface, bound to 127.0.0.1 only.").prefault(19000),
  runAsUser: described(int(1, 2_147_483_647), 'uid and gid of the Envoy process.').prefault(1000),
  streamIdleTimeout: described(
    duration(1000, 86_400_000),
    'An open WebSocket with no traffic for this long is closed; at least the ALB idle timeout.',
  ).prefault('1h'),
  connectionIdleTimeout: described(
    duration(1000, 86_400_000),
    'A client connection with no open stream for this long is closed; longer than alb.idleTimeoutSeconds, since AWS requires a target to keep an idle connection open longer than the ALB does.',
  ).prefault('61m'),
  plainHttpTimeout: described(
    duration(1000, 3_600_000),
    'The most a plain HTTP request (not an upgrade) may take, a wait for a backend slot included; then 504.',
  ).prefault('15s'),
  drainTime: described(duration(1000, 600_000), "Envoy's --drain-time-s.").prefault('15s'),
  maxDownstreamConnections: described(
    int(1, 10_000_000),
    'Fleet cap on client connections (overload manager), split per replica (rounded down); /ready is exempt.',
  ).prefault(10_000),
  rateLimit: rateLimit.prefault({}),
  perClient: perClient.prefault({}),
  allowedOrigins: described(
    z
      .array(
        matching(
          /^(\*|https?:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?)$/,
          'an origin such as https://app.example.com (scheme and host, lower case, an optional port, no path), or "*"',
        ),
        { error: 'a list of origins' },
      )
      .min(1, { error: 'at least one origin' })
      .refine((list) => !list.includes('*') || list.length === 1, { error: '"*" alone, or a list of origins without it' })
      .meta({ allowed: 'a list of origins such as https://app.example.com, or ["*"] for any' }),
    'Origins whose pages may open a WebSocket (the browser sends Origin; cross-site WebSocket hijacking). An upgrade from any other origin gets 403 before it spends a token. Required for an internet-facing ALB; ["*"] turns the check off.',
  ).optional(),
  allowMissingOrigin: described(
    bool(),
    'Admit upgrades without an Origin header: clients that are not browsers send none, and a browser always does, so this does not weaken the check against cross-site hijacking.',
  ).prefault(true),
  plainHttp: plainHttp.prefault({}),
  readyMaxConnections: described(
    int(8, 100_000),
    "Per replica: open connections to the ready port (probes, the ALB's health checks, the scraper). It is exempt from the client connection cap, so it has a cap of its own.",
  ).prefault(64),
  connections: connections.prefault({}),
  healthCheck: healthCheck.prefault({}),
  dnsRefreshRate: described(duration(1000, 300_000), "How often Envoy re-resolves the backend's headless Service (its peers: every 1 s).").prefault('5s'),
});

const alb = section('The ALB that the AWS Load Balancer Controller makes from our Ingress.', {
  scheme: described(oneOf(['internet-facing', 'internal'] as const), 'ALB scheme.').prefault('internet-facing'),
  idleTimeoutSeconds: described(int(1, 4000), 'ALB idle timeout; the ALB default of 60 s drops idle WebSockets.').prefault(3600),
  deregistrationDelaySeconds: described(int(0, 3600), "How long the ALB keeps a leaving pod's WebSockets; the pod's shutdown waits for it.").prefault(120),
  certificateArn: described(
    matching(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
      'an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/…',
    ),
    'ACM certificate: HTTPS on 443 and a redirect from 80. An internet-facing ALB needs one, unless alb.allowPlainHttp says otherwise.',
  ).optional(),
  allowPlainHttp: described(
    bool(),
    'Let an internet-facing ALB listen on HTTP 80 only, with no certificate: for a trial; WebSockets then travel in clear text (ws://).',
  ).prefault(false),
  sslPolicy: described(
    matching(/^ELBSecurityPolicy-[A-Za-z0-9-]+$/, 'an ALB security policy name such as ELBSecurityPolicy-TLS13-1-2-2021-06'),
    "TLS policy of the HTTPS listener (the controller's own default, ELBSecurityPolicy-2016-08, still allows TLS 1.0).",
  ).prefault('ELBSecurityPolicy-TLS13-1-2-2021-06'),
  wafAclArn: described(
    matching(
      /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]+\/[a-f0-9-]+$/,
      'a regional AWS WAF web ACL ARN such as arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/…',
    ),
    'AWS WAF web ACL to attach to the ALB (rate-based rules per IP, AWS managed rule groups). None by default.',
  ).optional(),
  allowedCidrs: described(
    z.array(cidr(), { error: 'a list of IPv4 CIDRs' }).min(1, { error: 'at least one CIDR' }).meta({ allowed: 'a list of IPv4 CIDRs, at least one' }),
    "The ALB's subnets: the only sources the NetworkPolicy admits to Envoy's WebSocket port (and, with cluster.controlPlaneCidrs and the scraper, its ready port). Default: [cluster.vpcCidr].",
  ).optional(),
});

const lbController = section('The AWS Load Balancer Controller, delivered by Argo CD from its Helm chart.', {
  chartVersion: described(
    matching(EXACT_VERSION, 'an exact chart version such as 3.5.0 (no ranges, no "latest")'),
    'Exact version of the aws-load-balancer-controller chart from eks-charts.',
  ).prefault('3.5.0'),
  releaseName: described(dnsLabel(), 'Helm release name.').prefault('aws-load-balancer-controller'),
  serviceAccountName: described(dnsLabel(), 'Service account, in both eksctl (which creates it) and the Helm values (serviceAccount.create: false).').prefault(
    'aws-load-balancer-controller',
  ),
  replicas: described(int(1, 10), 'Controller replicas (with a PodDisruptionBudget).').prefault(2),
  certManager: described(bool(), 'Let cert-manager (already installed) issue the webhook certificate.').prefault(false),
  identity: described(oneOf(['irsa', 'podIdentity'] as const), 'How the controller gets AWS credentials: IRSA or EKS Pod Identity.').prefault('irsa'),
  values: described(
    z.record(z.string(), z.unknown(), { error: 'a map of chart values' }).meta({ allowed: 'a map of chart values' }),
    'Extra chart values; keys this project sets are refused.',
  ).prefault({}),
});

const gitops = section('Argo CD, which syncs the outputs to the cluster.', {
  repoURL: described(
    matching(/^(https:\/\/[^\s]+|ssh:\/\/[^\s]+|git@[^\s:]+:[^\s]+)$/, 'a Git URL: https://…, ssh://… or git@host:org/repo.git'),
    'Your clone of this repository.',
  ).prefault('https://github.com/example-org/envoy-websocket-edge.git'),
  targetRevision: described(matching(/^[A-Za-z0-9._/-]{1,200}$/, 'a branch, tag or commit such as main'), 'Branch Argo CD follows.').prefault('main'),
  argocdNamespace: described(dnsLabel(), 'Where Argo CD runs; the same for every environment (argocd/ is shared).').prefault('argocd'),
  project: described(
    dnsLabel(),
    'Argo CD project of this environment, and the name of its Applications; at most 58 characters, as its child Applications live in namespace `<project>-apps` (docs/gitops.md).',
    { defaultText: 'envoy-edge-<environment>' },
  ).prefault('envoy-edge'),
  destinationName: described(
    dnsLabel(),
    "Argo CD's name for this environment's cluster: in-cluster when Argo CD runs in it, else the name given to `argocd cluster add`.",
  ).prefault('in-cluster'),
  automatedSync: described(bool(), 'Argo CD syncs every push by itself; false: a person presses Sync.').prefault(true),
  selfHeal: described(bool(), 'With automated sync, Argo CD undoes changes made in the cluster by hand.').prefault(true),
  prune: described(bool(), 'With automated sync, Argo CD deletes objects that left the synthesized files.').prefault(true),
  argocdEnvironment: described(
    matching(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'the name of an environment (a file in config/environments/)'),
    "The environment whose cluster runs Argo CD, for the day-2 commands. Unset: this environment's own cluster.",
  ).optional(),
  stage: described(
    int(1, 9),
    'Where the environment stands in the rollout: stage 1 follows the branch you push to; a later stage follows a branch of its own ' +
      '(gitops.targetRevision), which `npm run promote` moves only to a commit every environment of the stage before runs Synced and Healthy.',
  ).prefault(1),
  notifications: section('Argo CD notifications: one message per failed sync or Degraded Application (argocd/settings/).', {
    webhookUrl: described(
      matching(
        /^(https:\/\/[^\s]+|\$[A-Za-z0-9][-._A-Za-z0-9]*)$/,
        'an https:// URL, or $<key> to read the URL from that key of Secret argocd-notifications-secret',
      ),
      'Where each message is POSTed as JSON. A `$key` keeps a secret URL (a chat webhook) out of git.',
    ).prefault('$envoy-edge-webhook-url'),
  }).prefault({}),
});

const labelMap = (description: string) =>
  described(
    z.record(labelKey(), labelValue(), { error: 'a map of label keys to label values' }).meta({ allowed: 'a map of label keys to label values' }),
    description,
  );

const alerts = section('Alert thresholds: a team tunes these to what its clients tolerate.', {
  rateLimitedRatio: described(
    z
      .number({ error: 'a number above 0 and at most 1' })
      .gt(0, { error: 'a number above 0 and at most 1' })
      .max(1, { error: 'a number above 0 and at most 1' })
      .meta({ allowed: 'a number above 0 and at most 1' }),
    'EnvoyUpgradesRateLimited fires when this share of WebSocket upgrades gets 429, over 5 minutes.',
  ).prefault(0.25),
  refusedPerMinute: described(
    z.number({ error: 'a number above 0' }).gt(0, { error: 'a number above 0' }).meta({ allowed: 'a number above 0' }),
    'EnvoyUpgradesRefused fires when more upgrades than this per minute get 503 (a full backend: queue timeout or queue overflow), over 5 minutes.',
  ).prefault(1),
  for: described(duration(0, 3_600_000), 'How long a condition must hold before its alert fires.').prefault('5m'),
  saturatedFor: described(
    duration(0, 3_600_000),
    'EnvoyBackendConnectionsSaturated fires when every backend connection of the fleet is in use for this long.',
  ).prefault('10m'),
  configSkewFor: described(
    duration(0, 86_400_000),
    'EnvoyConfigSkew fires when replicas run different bootstraps for this long: longer than a rollout (about 6 minutes with 2 replicas).',
  ).prefault('20m'),
});

const monitoring = section('Monitoring as code: a PodMonitor, a PrometheusRule and a Grafana dashboard (Prometheus Operator).', {
  enabled: described(bool(), "Emit the monitoring objects; the cluster needs the Prometheus Operator's CRDs.").prefault(false),
  scrapeInterval: described(duration(1000, 300_000), 'How often Prometheus scrapes each Envoy pod.').prefault('30s'),
  scraperNamespace: described(dnsLabel(), 'Namespace of the Prometheus pods; the NetworkPolicy admits them to the ready port.').prefault('monitoring'),
  scraperPodLabels: labelMap('Labels of the Prometheus pods, to admit only them from that namespace. Empty: the whole namespace.').prefault({}),
  labels: labelMap("Labels on the PodMonitor and PrometheusRule, for your Prometheus's selectors (kube-prometheus-stack: release: <its release>).").prefault(
    {},
  ),
  dashboardNamespace: described(dnsLabel(), "Namespace of the dashboard ConfigMap (where Grafana's sidecar looks).", {
    defaultText: 'envoy.namespace',
  }).optional(),
  dashboardLabels: labelMap("Labels that make Grafana's sidecar load the dashboard.").prefault({ grafana_dashboard: '1' }),
  alerts: alerts.prefault({}),
});

export const configSchema = z.strictObject({
  cluster: cluster.prefault({}),
  backend: backend.prefault({}),
  envoy: envoy.prefault({}),
  alb: alb.prefault({}),
  lbController: lbController.prefault({}),
  gitops: gitops.prefault({}),
  monitoring: monitoring.prefault({}),
});

export type EdgeConfigInput = z.input<typeof configSchema>;
export type EdgeConfig = z.output<typeof configSchema>;
