// Every Kubernetes object that puts Envoy between the ALB and the WebSocket server.
// The chart places data from the pure builders; it decides no numbers of its own.
import { Chart, type ChartProps } from 'cdk8s';
// The 1.28 bindings alone: the rest of cdk8s-plus is not used, and loading it costs synth time.
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { stringify as toYaml } from 'yaml';
import type { EdgeConfig } from '../config/schema';
import { SYNC_WAVE, SYNC_WAVE_ANNOTATION } from '../delivery/sync-waves';
import type { EnvoyBootstrap, EnvoyConfig } from '../envoy/bootstrap';
import { LIVE_FILES, liveDiscoveryFiles } from '../envoy/live';
import { ENVOY_NAMES } from '../envoy/names';
import { envoyPodTemplate, rolloutStrategy } from '../envoy/pod';
import { lintExceptionAnnotations } from '../k8s/lint-exceptions';
import { EDGE_NAMES } from '../k8s/names';
import { albIngressAnnotations } from '../lb-controller/ingress';

/** The bootstrap file exactly as mounted into the pod. */
export function serializeBootstrap(bootstrap: EnvoyBootstrap): string {
  return toYaml(bootstrap, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The live ConfigMap's data: one DiscoveryResponse file per live resource type. */
export function serializeLiveFiles(envoyConfig: EnvoyConfig): Record<string, string> {
  const files = liveDiscoveryFiles(envoyConfig.live);
  return Object.fromEntries(
    (Object.keys(LIVE_FILES) as (keyof typeof LIVE_FILES)[]).map((key) => [
      LIVE_FILES[key],
      toYaml(files[key], { lineWidth: 0, aliasDuplicateObjects: false }),
    ]),
  );
}

export interface EnvoyEdgeChartProps extends ChartProps {
  readonly config: EdgeConfig;
  /** Envoy's static bootstrap and live resources, built by envoy/bootstrap.ts (buildEnvoyConfig). */
  readonly envoy: EnvoyConfig;
}

export class EnvoyEdgeChart extends Chart {
  constructor(scope: Construct, id: string, props: EnvoyEdgeChartProps) {
    super(scope, id, { ...props, labels: { 'app.kubernetes.io/part-of': 'envoy-edge', ...props.labels } });
    const { config } = props;
    const envoyConfig = props.envoy;
    const bootstrapText = serializeBootstrap(envoyConfig.bootstrap);
    const namespace = config.envoy.namespace;
    const podLabels = { app: EDGE_NAMES.app };
    const wave = { [SYNC_WAVE_ANNOTATION]: SYNC_WAVE.envoy };

    new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: namespace,
        annotations: wave,
        labels: {
          // The LB controller injects a readiness gate: a new pod is Ready only once the ALB sees it healthy.
          'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.28',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: EDGE_NAMES.serviceAccount, namespace, annotations: wave },
      automountServiceAccountToken: false,
    });

    new k8s.KubeConfigMap(this, 'bootstrap', {
      metadata: { name: EDGE_NAMES.bootstrapConfigMap, namespace, annotations: wave },
      data: { [EDGE_NAMES.bootstrapFile]: bootstrapText },
    });

    // Live: the kubelet updates the mounted files in place and Envoy reloads them; no pod restarts.
    new k8s.KubeConfigMap(this, 'live', {
      metadata: { name: EDGE_NAMES.liveConfigMap, namespace, annotations: wave },
      data: serializeLiveFiles(envoyConfig),
    });

    this.addDeployment(config, bootstrapText, podLabels, wave);

    new k8s.KubeService(this, 'service', {
      metadata: { name: EDGE_NAMES.service, namespace, annotations: wave },
      spec: {
        type: 'ClusterIP',
        selector: podLabels,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('websocket'), protocol: 'TCP' }],
      },
    });

    // Headless, over the ready Envoy pods: each replica counts its peers in DNS to take its share of the
    // fleet rate limit. Discovery only: Envoy never connects to it, the Ingress never routes to it,
    // and its port is the ready port the NetworkPolicy already admits.
    new k8s.KubeService(this, 'peers-service', {
      metadata: { name: EDGE_NAMES.peersService, namespace, annotations: wave },
      spec: {
        clusterIp: 'None',
        selector: podLabels,
        publishNotReadyAddresses: false,
        ports: [{ name: 'ready', port: config.envoy.readyPort, targetPort: k8s.IntOrString.fromString('ready'), protocol: 'TCP' }],
      },
    });

    // Headless: DNS returns every ready backend pod, so Envoy balances, limits and health-checks each one.
    new k8s.KubeService(this, 'backend-headless-service', {
      metadata: {
        name: config.backend.serviceName,
        namespace: config.backend.namespace,
        annotations: {
          ...wave,
          ...lintExceptionAnnotations({
            kubeScore: { 'service-targets-pod': 'selects the WebSocket server pods, which another part of the platform deploys' },
            kubeLinter: { 'dangling-service': 'selects the WebSocket server pods, which another part of the platform deploys' },
          }),
        },
      },
      spec: {
        clusterIp: 'None',
        selector: config.backend.selector,
        ports: [
          { name: 'websocket', port: config.backend.port, targetPort: k8s.IntOrString.fromNumber(config.backend.port) },
          { name: 'health', port: config.backend.healthPort, targetPort: k8s.IntOrString.fromNumber(config.backend.healthPort) },
        ],
      },
    });

    new k8s.KubeIngress(this, 'ingress', {
      metadata: {
        name: EDGE_NAMES.ingress,
        namespace,
        annotations: {
          [SYNC_WAVE_ANNOTATION]: SYNC_WAVE.ingress,
          ...albIngressAnnotations({ alb: config.alb, healthCheck: { port: config.envoy.readyPort, path: ENVOY_NAMES.readyPath } }),
        },
      },
      spec: {
        ingressClassName: 'alb',
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: EDGE_NAMES.service, port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: { name: EDGE_NAMES.pdb, namespace, annotations: wave },
      spec: { minAvailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });

    this.addNetworkPolicy(config, podLabels, wave);
  }

  private addDeployment(config: EdgeConfig, bootstrapText: string, podLabels: Record<string, string>, wave: Record<string, string>): void {
    const { envoy } = config;
    const spreadReason = 'replicas are kept on separate nodes by a DoNotSchedule topology spread on kubernetes.io/hostname';
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: {
        name: EDGE_NAMES.deployment,
        namespace: envoy.namespace,
        annotations: {
          ...wave,
          ...lintExceptionAnnotations({
            kubeScore: {
              'pod-probes-identical': 'both probes must read GET /ready on 9901 (the seed); liveness tolerates 3 misses 10 s apart',
              'container-image-pull-policy': 'the image is pinned to an exact release, so IfNotPresent always runs the same image',
              'container-security-context-user-group-id': 'the seed fixes uid 1000 for Envoy',
              'deployment-has-host-podantiaffinity': spreadReason,
            },
            kubeLinter: { 'no-anti-affinity': spreadReason },
          }),
        },
      },
      spec: {
        replicas: envoy.replicas,
        selector: { matchLabels: podLabels },
        ...rolloutStrategy(config),
        template: envoyPodTemplate(config, bootstrapText),
      },
    });
  }

  private addNetworkPolicy(config: EdgeConfig, podLabels: Record<string, string>, wave: Record<string, string>): void {
    const { envoy, backend, monitoring } = config;
    // The ALB connects from its subnets (alb.allowedCidrs); the API server's pod proxy (npm run status) from the
    // control plane's network interfaces. The kubelet's probes need no rule: the VPC CNI's policy agent always
    // admits the node's own address (aws/aws-network-policy-agent#65).
    const clientCidrs = config.alb.allowedCidrs ?? [config.cluster.vpcCidr];
    const readyCidrs = [...new Set([...clientCidrs, ...(config.cluster.controlPlaneCidrs ?? [config.cluster.vpcCidr])])];
    const tcp = (port: number): k8s.NetworkPolicyPort => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    // With monitoring on, the scraper (its namespace, and its pods' labels when given) reaches /stats/prometheus.
    const scraper: k8s.NetworkPolicyIngressRule[] = monitoring.enabled
      ? [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': monitoring.scraperNamespace } },
                ...(Object.keys(monitoring.scraperPodLabels).length ? { podSelector: { matchLabels: monitoring.scraperPodLabels } } : {}),
              },
            ],
            ports: [tcp(envoy.readyPort)],
          },
        ]
      : [];
    // Anything else in the namespace, now or added later, gets no traffic in or out unless a policy says so.
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: { name: EDGE_NAMES.defaultDenyPolicy, namespace: envoy.namespace, annotations: wave },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata: { name: EDGE_NAMES.networkPolicy, namespace: envoy.namespace, annotations: wave },
      spec: {
        podSelector: { matchLabels: podLabels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: clientCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(envoy.listenerPort)] },
          // The ready port (the ALB's health checks, the read-only admin pages): the ALB, the control plane, the scraper.
          { from: readyCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(envoy.readyPort)] },
          ...scraper,
        ],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
              { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
            ],
          },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': backend.namespace } },
                podSelector: { matchLabels: backend.selector },
              },
            ],
            ports: [tcp(backend.port), tcp(backend.healthPort)],
          },
        ],
      },
    });
  }
}
