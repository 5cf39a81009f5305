// Argo CD's names for an environment: its Applications, AppProjects, the namespace of its child
// Applications, labels and finalizers. Each takes only the environment's gitops.project.
import type { EdgeConfig } from '../config/schema';

/** What these names are made from: the environment's Argo CD project. */
type ProjectOf = Pick<EdgeConfig['gitops'], 'project'>;

/** The cluster Argo CD runs in, as Argo CD addresses it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** The ApplicationSet in argocd/: one root Application per environment. */
export const APPLICATIONSET_NAME = 'envoy-edge';

/** The label an environment's Argo CD objects carry, with the environment's name. */
export const ENVIRONMENT_LABEL = 'envoy-edge/environment';

/** Foreground cascading delete: deleting an Application deletes what it synced. */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** An environment's root Application (made by the ApplicationSet; it syncs dist/<environment>/), named after its project. */
export function rootApplicationName(gitops: ProjectOf): string {
  return gitops.project;
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
export function childApplicationsNamespace(gitops: ProjectOf): string {
  return `${gitops.project}${CHILD_APPLICATIONS_SUFFIX}`;
}

/**
 * The name Argo CD tracks a child Application's objects by (Application.InstanceName): outside
 * Argo CD's own namespace it is `<namespace>_<name>`.
 */
export function childInstanceName(gitops: ProjectOf, application: string): string {
  return `${childApplicationsNamespace(gitops)}_${application}`;
}

/** The child Application that syncs Envoy's objects (dist/<environment>/edge/) into the environment's cluster. */
export function edgeApplicationName(gitops: ProjectOf): string {
  return `${gitops.project}-edge`;
}

/** The child Application that installs the AWS Load Balancer Controller from its Helm chart. */
export function lbControllerApplicationName(gitops: ProjectOf): string {
  return `${gitops.project}-lb-controller`;
}

/**
 * The root Application's project: it may create only Applications, only in the child namespace. The
 * environment's project (Envoy's objects) may not deploy into Argo CD's namespace at all, where a
 * ConfigMap such as argocd-rbac-cm would make a git writer an Argo CD admin.
 */
export function rootProjectName(gitops: ProjectOf): string {
  return `${gitops.project}-root`;
}

/** The controller gets its own project: it needs cluster-wide kinds Envoy must never be allowed. */
export function lbControllerProjectName(gitops: ProjectOf): string {
  return `${gitops.project}-lb-controller`;
}
