// The rollout order (gitops.stage). Stage 1 follows the branch a push lands on (gitops.targetRevision,
// main); every later stage follows a branch of its own, which `npm run promote` moves only to a commit
// that every environment of the stage before runs Synced and Healthy (docs/gitops.md, "Promotion").
import type { EdgeConfig } from '../config/schema';

/** What the order is made from: an environment's name, stage and branch. */
export interface Staged {
  readonly name: string;
  readonly config: { readonly gitops: Pick<EdgeConfig['gitops'], 'stage' | 'targetRevision'> };
}

/** The annotation each of an environment's Applications carries: what its failure means for the rollout (read by the notifications). */
export const ROLLOUT_ANNOTATION = 'envoy-edge/rollout';

/** The environments of the stage just before `environment`'s (none for stage 1). */
export function previousStage<T extends Staged>(environments: readonly T[], environment: T): T[] {
  return environments.filter((e) => e.config.gitops.stage === environment.config.gitops.stage - 1);
}

/** The environments of every stage after `environment`'s, in order. */
export function laterStages<T extends Staged>(environments: readonly T[], environment: T): T[] {
  return environments
    .filter((e) => e.config.gitops.stage > environment.config.gitops.stage)
    .sort((a, b) => a.config.gitops.stage - b.config.gitops.stage || a.name.localeCompare(b.name));
}

/** The rollout annotation's text for `environment`: what waits on it, in words a person paged at night reads. */
export function rolloutNote(environments: readonly Staged[], environment: Staged): string {
  const next = environments.filter((e) => e.config.gitops.stage === environment.config.gitops.stage + 1).map((e) => e.name);
  const { stage } = environment.config.gitops;
  if (!next.length) return `stage ${stage} of ${stage}: no environment waits on ${environment.name}`;
  const who = next.join(', ');
  return (
    `stage ${stage}: the rollout stops here; ${who} keep${next.length === 1 ? 's' : ''} ${next.length === 1 ? 'its' : 'their'} revision ` +
    `until ${environment.name} runs a commit Synced and Healthy and npm run promote moves ${next.length === 1 ? 'it' : 'them'} there`
  );
}
