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
