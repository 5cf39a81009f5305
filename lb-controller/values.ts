// The AWS Load Balancer Controller's Helm values, built field by field from the config.
// Every value this project sets is protected: user `lbController.values` may add chart values
// but never override one of ours (EKS Blueprints' add-on style: explicit values, no blind spread).
// Value names checked against the chart's values.yaml and README (aws/eks-charts,
// stable/aws-load-balancer-controller).
import { ConfigError, problem } from '../config/errors';
import type { EdgeConfig } from '../config/schema';

/** The Helm values we hand to the chart (plus any user values that collide with none of ours). */
export interface LbControllerValues {
  readonly clusterName: string;
  readonly region: string;
  readonly vpcId: string;
  readonly serviceAccount: { readonly create: false; readonly name: string; readonly [extra: string]: unknown };
  readonly replicaCount: number;
  readonly podDisruptionBudget: { readonly maxUnavailable: number };
  readonly ingressClass: string;
  readonly createIngressClassResource: boolean;
  readonly enableServiceMutatorWebhook: boolean;
  readonly enableCertManager: boolean;
  readonly [extra: string]: unknown;
}

/**
 * Every value path this project sets, with the config field it comes from (for error messages).
 * A user value at one of these paths, above it with a non-map, or below it, is a config error.
 */
export const PROTECTED_VALUES: Readonly<Record<string, string>> = {
  clusterName: 'cluster.name',
  region: 'cluster.region',
  vpcId: 'cluster.vpcId',
  'serviceAccount.create': 'lbController.identity (eksctl creates the service account)',
  'serviceAccount.name': 'lbController.serviceAccountName',
  replicaCount: 'lbController.replicas',
  // Whole object: the chart renders it verbatim, and minAvailable next to maxUnavailable is invalid.
  podDisruptionBudget: 'lbController.replicas (maxUnavailable: 1)',
  ingressClass: 'this project (alb, the class our Ingress uses)',
  createIngressClassResource: 'this project (true: our Ingress needs the alb IngressClass)',
  enableServiceMutatorWebhook: 'this project (false: no webhook on every LoadBalancer Service in the cluster)',
  enableCertManager: 'lbController.certManager',
};

/** Chart values we never pass through, and why. */
export const REFUSED_VALUES: Readonly<Record<string, string>> = {
  // ignoreDifferences names the chart's webhook and TLS Secret; these overrides would rename them.
  nameOverride: "nothing: the Argo CD ignoreDifferences entries assume the chart's default object names",
  fullnameOverride: "nothing: the Argo CD ignoreDifferences entries assume the chart's default object names",
  // A key in values would be committed to git (DESIGN principle 5: no secrets in git).
  webhookTLS: 'nothing: a webhook certificate and key in values would be committed to git; set lbController.certManager: true instead',
};

export const PROTECTED_VALUE_PATHS: readonly string[] = Object.keys(PROTECTED_VALUES);
export const REFUSED_VALUE_PATHS: readonly string[] = Object.keys(REFUSED_VALUES);

export interface LbControllerValuesInput {
  readonly cluster: Pick<EdgeConfig['cluster'], 'name' | 'region' | 'vpcId'>;
  readonly lbController: Pick<EdgeConfig['lbController'], 'serviceAccountName' | 'replicas' | 'certManager' | 'values'>;
}

/** The Helm values for the pinned chart; throws ConfigError if user values collide with ours. */
export function buildLbControllerValues(config: LbControllerValuesInput): LbControllerValues {
  const problems = checkLbControllerValues(config);
  if (problems.length) throw new ConfigError(problems);
  const { cluster, lbController } = config;

  const ours: LbControllerValues = {
    clusterName: cluster.name,
    region: cluster.region,
    // Given explicitly so the controller need not reach EC2 instance metadata (values.yaml, vpcId).
    vpcId: cluster.vpcId,
    // eksctl creates the service account (IRSA: with the role annotation), so the chart must not.
    serviceAccount: { create: false, name: lbController.serviceAccountName },
    // Leader election: one replica reconciles, the other takes over (chart README, "HA configuration").
    replicaCount: lbController.replicas,
    podDisruptionBudget: { maxUnavailable: 1 },
    ingressClass: 'alb',
    createIngressClassResource: true,
    // The Service mutator (on by default) would take over every new LoadBalancer Service in the cluster.
    enableServiceMutatorWebhook: false,
    enableCertManager: lbController.certManager,
  };
  return mergeUserValues(ours, lbController.values) as LbControllerValues;
}

/**
 * Problems with `lbController.values`, one line each in the config error format
 * (`field: got <value>; allowed: <what>`). Empty when the user values collide with nothing.
 */
export function checkLbControllerValues(config: { readonly lbController: Pick<EdgeConfig['lbController'], 'values'> }): string[] {
  const problems: string[] = [];
  walkUserValues(config.lbController.values, [], problems);
  return problems;
}

function walkUserValues(values: Record<string, unknown>, parent: string[], problems: string[]): void {
  for (const key of Object.keys(values).sort()) {
    const pathParts = [...parent, key];
    const path = pathParts.join('.');
    const value = values[key];
    const field = `lbController.values.${path}`;
    const refused = REFUSED_VALUES[path];
    if (refused) {
      problems.push(problem(field, value, refused));
      continue;
    }
    const covering = PROTECTED_VALUE_PATHS.find((p) => p === path || path.startsWith(`${p}.`));
    if (covering) {
      problems.push(problem(field, value, `nothing: ${covering} is set by this project from ${PROTECTED_VALUES[covering]}`));
      continue;
    }
    const protectedBelow = PROTECTED_VALUE_PATHS.filter((p) => p.startsWith(`${path}.`));
    if (protectedBelow.length) {
      if (isPlainMap(value)) walkUserValues(value, pathParts, problems);
      else {
        problems.push(problem(field, value, `a map of extra keys (${protectedBelow.join(', ')} are set by this project)`));
      }
    }
  }
}

/** Our values first (fixed order), then user keys sorted, so the output never depends on YAML key order. */
function mergeUserValues(ours: Record<string, unknown>, user: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...ours };
  for (const key of Object.keys(user).sort()) {
    const mine = merged[key];
    const theirs = user[key];
    // Only reachable for maps that hold protected keys below (checkLbControllerValues refused the rest).
    merged[key] = isPlainMap(mine) && isPlainMap(theirs) ? mergeUserValues(mine, theirs) : sortedCopy(theirs);
  }
  return merged;
}

function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (isPlainMap(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortedCopy(value[k])]),
    );
  }
  return value;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
