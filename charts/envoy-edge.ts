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
import { defaultDenyPolicy, envoyNetworkPolicy } from '../envoy/network-policy';
import { disruptionBudget, ENVOY_POD_LABELS, envoyPodTemplate, rolloutStrategy } from '../envoy/pod';
import { lintExceptionAnnotations } from '../k8s/lint-exceptions';
import { EDGE_NAMES } from '../k8s/names';
import { albIngressAnnotations } from '../lb-controller/ingress';

/** The Envoy Service's port (the seed's), which the Ingress routes to; it maps to the WebSocket listener's port. */
const SERVICE_PORT = 80;

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
    const podLabels = ENVOY_POD_LABELS;
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
        ports: [{ name: 'http', port: SERVICE_PORT, targetPort: k8s.IntOrString.fromString('websocket'), protocol: 'TCP' }],
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
                  backend: { service: { name: EDGE_NAMES.service, port: { number: SERVICE_PORT } } },
                },
              ],
            },
          },
        ],
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: { name: EDGE_NAMES.pdb, namespace, annotations: wave },
      spec: disruptionBudget(),
    });

    this.addNetworkPolicies(config, wave);
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

  private addNetworkPolicies(config: EdgeConfig, wave: Record<string, string>): void {
    const namespace = config.envoy.namespace;
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: { name: EDGE_NAMES.defaultDenyPolicy, namespace, annotations: wave },
      spec: defaultDenyPolicy(),
    });
    new k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata: { name: EDGE_NAMES.networkPolicy, namespace, annotations: wave },
      spec: envoyNetworkPolicy(config),
    });
  }
}
