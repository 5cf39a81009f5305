// The labels and annotations every Application of an environment carries: which environment it is
// (read by the notifications and by people), what its failure means for the rollout, and the
// notification triggers it subscribes to.
import { ENVIRONMENT_LABEL } from './names';
import { type ApplicationRole, subscriptionAnnotations } from './notifications';
import { ROLLOUT_ANNOTATION, rolloutNote, type Staged } from './stages';

export interface ApplicationMetadata {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** The part-of label of everything this repository makes in Argo CD. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'envoy-edge' } as const;

export function applicationMetadata(environments: readonly Staged[], environment: Staged, role: ApplicationRole): ApplicationMetadata {
  return {
    labels: { ...PART_OF, [ENVIRONMENT_LABEL]: environment.name },
    annotations: { [ROLLOUT_ANNOTATION]: rolloutNote(environments, environment), ...subscriptionAnnotations(role) },
  };
}
