// Which kube context is which environment's cluster. A day-2 command acts on an environment only
// when the current context is that environment's cluster: named in cluster.kubeContext, or, when
// that is unset, recognisably the EKS cluster (the names `aws eks update-kubeconfig` and eksctl give).
import type { Environment } from '../config/load';

/** What kubeconfig says of one context. */
export interface KubeContext {
  readonly name: string;
  /** The kubeconfig cluster entry the context uses (for EKS, usually the cluster's ARN). */
  readonly cluster: string;
  readonly server?: string;
}

/** The contexts of a kubeconfig, from `kubectl config view -o json`. */
export function contextsOf(kubeconfigJson: string): { current?: string; contexts: KubeContext[] } {
  const view = JSON.parse(kubeconfigJson) as {
    'current-context'?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
  };
  const servers = new Map((view.clusters ?? []).map((c) => [c.name, c.cluster?.server]));
  return {
    current: view['current-context'] || undefined,
    contexts: (view.contexts ?? []).map((c) => ({
      name: c.name,
      cluster: c.context?.cluster ?? '',
      server: servers.get(c.context?.cluster ?? ''),
    })),
  };
}

/** How an environment's cluster is recognised, in words, for error messages. */
export function describeCluster(environment: Environment): string {
  const { cluster } = environment.config;
  return cluster.kubeContext ? `the kube context "${cluster.kubeContext}" (cluster.kubeContext)` : `EKS cluster ${cluster.name} in ${cluster.region}`;
}

/** True when `context` is the environment's cluster. */
export function isEnvironmentContext(context: KubeContext, environment: Environment): boolean {
  const { cluster } = environment.config;
  if (cluster.kubeContext) return context.name === cluster.kubeContext;
  const escaped = cluster.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const region = cluster.region.replace(/-/g, '\\-');
  const eksArn = new RegExp(`^arn:aws[a-z-]*:eks:${region}:\\d{12}:cluster/${escaped}$`);
  const eksctl = new RegExp(`^([^@]+@)?${escaped}\\.${region}\\.eksctl\\.io$`);
  return [context.name, context.cluster].some((n) => eksArn.test(n) || eksctl.test(n));
}

export class ContextError extends Error {}

/**
 * The contexts a command for `environment` uses: the environment's (which must be the current
 * one) and Argo CD's (the current one too, unless Argo CD runs in another environment's cluster).
 */
export function resolveContexts(
  environment: Environment,
  argocdEnvironment: Environment,
  kubeconfig: { current?: string; contexts: KubeContext[] },
): { environment: string; argocd: string } {
  if (!kubeconfig.contexts.length) {
    throw new ContextError(
      `no kubeconfig found (no context in $KUBECONFIG or ~/.kube/config): add environment ${environment.name}'s cluster, ${describeCluster(environment)}, ` +
        'with aws eks update-kubeconfig, then run the command again',
    );
  }
  if (!kubeconfig.current) {
    throw new ContextError(
      `no current kube context: choose environment ${environment.name}'s cluster, ${describeCluster(environment)}, with kubectl config use-context <its context>`,
    );
  }
  const current = kubeconfig.contexts.find((c) => c.name === kubeconfig.current);
  if (!current || !isEnvironmentContext(current, environment)) {
    const what = current ? `"${current.name}" (cluster ${current.cluster})` : 'not set';
    throw new ContextError(
      `the current kube context is ${what}, which is not environment ${environment.name}'s cluster, ${describeCluster(environment)}; ` +
        'switch with `kubectl config use-context`, or set cluster.kubeContext',
    );
  }
  if (argocdEnvironment === environment) return { environment: current.name, argocd: current.name };
  const candidates = kubeconfig.contexts.filter((c) => isEnvironmentContext(c, argocdEnvironment));
  if (candidates.length !== 1) {
    throw new ContextError(
      `Argo CD runs in environment ${argocdEnvironment.name}'s cluster (${describeCluster(argocdEnvironment)}), and ` +
        `${candidates.length ? `${candidates.length} kube contexts match it (${candidates.map((c) => c.name).join(', ')})` : 'no kube context matches it'}; ` +
        `set cluster.kubeContext in config/environments/${argocdEnvironment.name}.yaml`,
    );
  }
  return { environment: current.name, argocd: candidates[0].name };
}
