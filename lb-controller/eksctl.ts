// The eksctl ClusterConfig that gives the LB controller its AWS role, from the same config as the
// Helm values: cluster name, region, service-account name and namespace are written once.
// Shape checked against eksctl's published ClusterConfig schema (v0.230.0) in the tests.
import { createHash } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { EdgeConfig } from '../config/schema';
import { LB_CONTROLLER_CHART, LB_CONTROLLER_NAMESPACE } from '../k8s/names';

/** IAM role names are at most 64 characters. */
export const IAM_ROLE_NAME_MAX_LENGTH = 64;

export interface EksctlWellKnownPolicies {
  readonly awsLoadBalancerController: true;
}

/** iam.serviceAccounts[] entry (IRSA): eksctl creates the role and the annotated service account. */
export interface EksctlIrsaServiceAccount {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly roleName: string;
  readonly wellKnownPolicies: EksctlWellKnownPolicies;
}

/** iam.podIdentityAssociations[] entry (EKS Pod Identity). */
export interface EksctlPodIdentityAssociation {
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** eksctl creates the (unannotated) service account, as it does for IRSA; the chart never does. */
  readonly createServiceAccount: true;
  readonly roleName: string;
  readonly wellKnownPolicies: EksctlWellKnownPolicies;
}

export interface EksctlClusterConfig {
  readonly apiVersion: 'eksctl.io/v1alpha5';
  readonly kind: 'ClusterConfig';
  readonly metadata: { readonly name: string; readonly region: string };
  /** The VPC CNI with its network-policy agent on (so the NetworkPolicies are enforced), and in Pod Identity mode its agent. */
  readonly addons: ReadonlyArray<{ readonly name: string; readonly configurationValues?: string; readonly resolveConflicts?: 'preserve' }>;
  readonly iam:
    | { readonly withOIDC: true; readonly serviceAccounts: readonly EksctlIrsaServiceAccount[] }
    | { readonly podIdentityAssociations: readonly EksctlPodIdentityAssociation[] };
}

export interface EksctlInput {
  readonly cluster: Pick<EdgeConfig['cluster'], 'name' | 'region'>;
  readonly lbController: Pick<EdgeConfig['lbController'], 'identity' | 'serviceAccountName'>;
}

/** A ClusterConfig holding only what the LB controller needs; apply it to an existing or new cluster. */
export function buildEksctlClusterConfig(config: EksctlInput): EksctlClusterConfig {
  const { cluster, lbController } = config;
  const metadata = { name: cluster.name, region: cluster.region };
  const roleName = lbControllerRoleName(cluster.name);
  const wellKnownPolicies = { awsLoadBalancerController: true } as const;
  // EKS enforces NetworkPolicy only with the VPC CNI's network policy agent on (EKS docs, "Limit pod
  // traffic with Kubernetes network policies"); preserve keeps any other settings of an existing add-on.
  const vpcCni = { name: 'vpc-cni', configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }), resolveConflicts: 'preserve' } as const;

  if (lbController.identity === 'podIdentity') {
    return {
      apiVersion: 'eksctl.io/v1alpha5',
      kind: 'ClusterConfig',
      metadata,
      // Required for iam.podIdentityAssociations (eksctl docs, "EKS Pod Identity Associations").
      addons: [vpcCni, { name: 'eks-pod-identity-agent' }],
      iam: {
        podIdentityAssociations: [
          {
            namespace: LB_CONTROLLER_NAMESPACE,
            serviceAccountName: lbController.serviceAccountName,
            createServiceAccount: true,
            roleName,
            wellKnownPolicies,
          },
        ],
      },
    };
  }
  return {
    apiVersion: 'eksctl.io/v1alpha5',
    kind: 'ClusterConfig',
    metadata,
    addons: [vpcCni],
    iam: {
      withOIDC: true,
      serviceAccounts: [
        {
          metadata: { name: lbController.serviceAccountName, namespace: LB_CONTROLLER_NAMESPACE },
          roleName,
          wellKnownPolicies,
        },
      ],
    },
  };
}

/**
 * `<cluster>-aws-load-balancer-controller`, or, when that passes IAM's 64-character limit, its first
 * characters plus a hash of the whole name, so two long cluster names never share a role.
 */
export function lbControllerRoleName(clusterName: string): string {
  const full = `${clusterName}-${LB_CONTROLLER_CHART}`;
  if (full.length <= IAM_ROLE_NAME_MAX_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const head = full.slice(0, IAM_ROLE_NAME_MAX_LENGTH - hash.length - 1).replace(/[-_]+$/, '');
  return `${head}-${hash}`;
}

/** The file as written to `filePath` (eksctl/<environment>.yaml): a header saying how to apply it, then the YAML. */
export function serializeEksctlConfig(clusterConfig: EksctlClusterConfig, filePath: string): string {
  const file = `--config-file ${filePath}`;
  const podIdentity = 'podIdentityAssociations' in clusterConfig.iam;
  const existingCluster = podIdentity
    ? [
        `#   eksctl create addon ${file}      (or, for an add-on the cluster already has: eksctl update addon ${file})`,
        `#   eksctl create podidentityassociation ${file}`,
      ]
    : [
        `#   eksctl create addon ${file}      (or, for an add-on the cluster already has: eksctl update addon ${file})`,
        `#   eksctl utils associate-iam-oidc-provider ${file} --approve`,
        `#   eksctl create iamserviceaccount ${file} --approve`,
      ];
  const header = [
    '# Generated by `npm run synth` from the config (lb-controller/eksctl.ts). Do not edit by hand.',
    `# It gives the AWS Load Balancer Controller its IAM role (${podIdentity ? 'EKS Pod Identity' : 'IRSA'}), and turns on the VPC CNI's`,
    '# network policy agent, without which EKS does not enforce the NetworkPolicies in dist/.',
    '# Existing cluster:',
    ...existingCluster,
    `# New cluster: eksctl create cluster ${file}`,
    '# docs/lb-controller.md gives the minimum eksctl version and how to verify the role.',
  ];
  return `${header.join('\n')}\n${toYaml(clusterConfig, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
