// How an environment's Applications sync, from its gitops settings (automatedSync, selfHeal, prune):
// written once here, for its root (through the ApplicationSet) and its two children.
import type { EdgeConfig } from '../config/schema';

type SyncSettings = Pick<EdgeConfig['gitops'], 'automatedSync' | 'prune' | 'selfHeal'>;

/**
 * Retry, 10 attempts with Argo CD's own default backoff (5 s doubling, at most 3 minutes: the first
 * retry 10 s after a failed attempt, about 20 minutes for all ten): a first sync can race the
 * controller's CRDs and webhook. `refresh`: each retry
 * takes the newest commit, so a fix pushed while a bad commit is being retried is not held back for
 * the whole backoff (measured on Argo CD v3.5.7: a retrying sync otherwise keeps its first commit).
 */
export const SYNC_RETRY = { limit: 10, backoff: { duration: '5s', factor: 2, maxDuration: '3m' }, refresh: true } as const;

/** The sync options of the root and the edge Application: delete pruned objects only after everything else has synced. */
export const DEFAULT_SYNC_OPTIONS: readonly string[] = ['PruneLast=true'];

/** The automated policy, or undefined when a person syncs by hand. allowEmpty false: an empty folder is never synced. */
export function automatedSync(gitops: SyncSettings): { prune: boolean; selfHeal: boolean; allowEmpty: false } | undefined {
  const { automatedSync: enabled, prune, selfHeal } = gitops;
  return enabled ? { prune, selfHeal, allowEmpty: false } : undefined;
}

/** An environment's Application sync policy, with that Application's sync options. */
export function syncPolicy(gitops: SyncSettings, syncOptions: readonly string[] = DEFAULT_SYNC_OPTIONS) {
  return { automated: automatedSync(gitops), retry: SYNC_RETRY, syncOptions: [...syncOptions] };
}

/** The Application spec patch that sets a root's sync policy from its ApplicationSet element's `syncPolicy` parameter (Go template, sprig's toJson). */
export const SYNC_POLICY_TEMPLATE_PATCH = '{"spec": {"syncPolicy": {{ toJson .syncPolicy }}}}\n';
