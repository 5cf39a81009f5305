// Who may reach the Envoy pods and whom they may reach: the NetworkPolicies' specs, decided here from
// the config (the client and ready-port ranges, the scraper, the backend). A pure builder;
// charts/envoy-edge.ts places what it returns.
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { EdgeConfig } from '../config/schema';
import { ENVOY_POD_LABELS } from './pod';

export interface NetworkPolicyInput {
  readonly cluster: Pick<EdgeConfig['cluster'], 'vpcCidr' | 'controlPlaneCidrs'>;
  readonly alb: Pick<EdgeConfig['alb'], 'allowedCidrs'>;
  readonly envoy: Pick<EdgeConfig['envoy'], 'listenerPort' | 'readyPort'>;
  readonly backend: Pick<EdgeConfig['backend'], 'namespace' | 'selector' | 'port' | 'healthPort'>;
  readonly monitoring: Pick<EdgeConfig['monitoring'], 'enabled' | 'scraperNamespace' | 'scraperPodLabels'>;
}

/** Anything else in the namespace, now or added later, gets no traffic in or out unless a policy says so. */
export function defaultDenyPolicy(): k8s.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ['Ingress', 'Egress'] };
}

/** What the Envoy pods may receive (the ALB, the control plane, the scraper) and send (DNS, the backend pods). */
export function envoyNetworkPolicy(config: NetworkPolicyInput): k8s.NetworkPolicySpec {
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
  return {
    podSelector: { matchLabels: ENVOY_POD_LABELS },
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
  };
}
