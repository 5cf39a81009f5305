// How an environment's Applications sync, from its config (gitops.automatedSync, selfHeal, prune),
// the same for its root and its two children.
import type { EdgeConfig } from '../config/schema';

/**
 * Retry with backoff: a first sync can race the controller's CRDs and webhook. `refresh`: each retry
 * takes the newest commit, so a fix pushed while a bad commit is being retried is not held back for
 * the whole backoff (measured on Argo CD v3.5.7: a retrying sync otherwise keeps its first commit).
 */
export const SYNC_RETRY = { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' }, refresh: true } as const;

/** The automated policy, or undefined when a person syncs by hand. allowEmpty false: an empty folder is never synced. */
export function automatedSync(config: EdgeConfig): { prune: boolean; selfHeal: boolean; allowEmpty: false } | undefined {
  const { automatedSync: enabled, prune, selfHeal } = config.gitops;
  return enabled ? { prune, selfHeal, allowEmpty: false } : undefined;
}

/** Argo CD's resource tracking (annotation, the default since v3): which Application owns an object. */
export const TRACKING_ID_ANNOTATION = 'argocd.argoproj.io/tracking-id';

/**
 * The tracking id Argo CD writes on every object it applies, `<app>:<group>/<kind>:<namespace>/<name>`
 * (util/argo/resource_tracking.go: the Application's name as it lives in Argo CD's own namespace; a
 * cluster-scoped object gets the Application's destination namespace). Synthesized into the objects
 * so a live object equals its file: `kubectl diff` of dist/ shows only real changes after a sync,
 * instead of this annotation on every object (seen on Argo CD v3.5.7, scripts/verify-gitops.sh).
 */
export function trackingId(
  application: { name: string; destinationNamespace: string },
  object: { apiVersion: string; kind: string; namespace?: string; name: string },
): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.indexOf('/')) : '';
  return `${application.name}:${group}/${object.kind}:${object.namespace || application.destinationNamespace}/${object.name}`;
}
