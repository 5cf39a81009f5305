// Argo CD's resource tracking id, synthesized into every object so that a live object equals its file.

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
