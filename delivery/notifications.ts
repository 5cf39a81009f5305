// Argo CD notifications for our Applications: the triggers, templates and webhook service that go into
// argocd-notifications-cm (argocd/settings/, merged into Argo CD's install like the other settings), and
// the subscription annotations each Application carries. One message per failure: a sync that failed
// (at its first retry, not after the whole backoff) and a degraded child Application. A failure in an
// environment that a later stage waits on says that the rollout stops there (delivery/stages.ts).
import type { EdgeConfig } from '../config/schema';
import { ENVIRONMENT_LABEL } from './names';
import { ROLLOUT_ANNOTATION } from './stages';

/** Argo CD's notification settings: where the triggers live, and the Secret a `$key` in them reads. */
export const NOTIFICATIONS = { configMap: 'argocd-notifications-cm', secret: 'argocd-notifications-secret' } as const;

/** Our names in that shared ConfigMap, prefixed so that they never take the place of a team's own. */
export const NOTIFICATION_SERVICE = 'envoy-edge';
export const TRIGGERS = { syncFailed: 'envoy-edge-on-sync-failed', degraded: 'envoy-edge-on-degraded' } as const;
const TEMPLATES = { syncFailed: 'envoy-edge-sync-failed', degraded: 'envoy-edge-degraded' } as const;

/** The runbook sections of docs/gitops.md each message links to (GitHub's anchors of their headings). */
export const RUNBOOK_FILE = 'docs/gitops.md';
export const RUNBOOK_ANCHORS = { syncFailed: 'a-sync-failed', degraded: 'an-application-is-degraded' } as const;

/** Which of an environment's Applications hears which trigger. */
export type ApplicationRole = 'root' | 'child';

/**
 * The subscription annotations of an Application. The root's health is the worst of its children's
 * (argocd-cm's Application health check), so only the children report Degraded: one message per
 * failure. A root's sync fails on its own (a child Application refused), so every Application reports that.
 */
export function subscriptionAnnotations(role: ApplicationRole): Record<string, string> {
  const triggers = role === 'root' ? [TRIGGERS.syncFailed] : [TRIGGERS.syncFailed, TRIGGERS.degraded];
  return Object.fromEntries(triggers.map((t) => [`notifications.argoproj.io/subscribe.${t}.${NOTIFICATION_SERVICE}`, '']));
}

type NotificationSettings = Pick<EdgeConfig['gitops']['notifications'], 'webhookUrl'>;

/** Go template (sprig) pieces: each value JSON-encoded, so a message with quotes stays valid JSON. */
const app = {
  environment: `(index .app.metadata.labels "${ENVIRONMENT_LABEL}")`,
  name: '(printf "%s/%s" .app.metadata.namespace .app.metadata.name)',
  rollout: `(index .app.metadata.annotations "${ROLLOUT_ANNOTATION}")`,
  // The commit the failed attempt synced (a retry with refresh may already be on a newer one).
  operationRevision: '(dig "status" "operationState" "syncResult" "revision" (dig "status" "operationState" "operation" "sync" "revision" "" .app) .app)',
  operationMessage: '(dig "status" "operationState" "message" "" .app)',
  syncRevision: '(dig "status" "sync" "revision" "" .app)',
  healthMessage: '(dig "status" "health" "message" "" .app)',
};

function body(event: string, revision: string, message: string, what: string, runbook: string): string {
  // Argo CD gives a Degraded Application no message of its own (its resources' health is not kept in its status): then none is said.
  const said = `(ternary (printf ": %s" (trimSuffix "." ${message})) "" (ne ${message} ""))`;
  const text = `(printf "%s: %s %s at %s%s. %s. Runbook: %s" ${app.environment} ${app.name} "${what}" (trunc 7 ${revision}) ${said} ${app.rollout} "${runbook}")`;
  return [
    '{',
    `  "event": "${event}",`,
    `  "environment": {{ ${app.environment} | toJson }},`,
    `  "application": {{ ${app.name} | toJson }},`,
    `  "revision": {{ ${revision} | toJson }},`,
    `  "message": {{ ${message} | toJson }},`,
    `  "rollout": {{ ${app.rollout} | toJson }},`,
    `  "runbook": "${runbook}",`,
    `  "text": {{ ${text} | toJson }}`,
    '}',
  ].join('\n');
}

function template(json: string): string {
  return `${[`webhook:`, `  ${NOTIFICATION_SERVICE}:`, `    method: POST`, `    body: |`, ...json.split('\n').map((l) => `      ${l}`)].join('\n')}\n`;
}

/**
 * The keys of argocd-notifications-cm. `runbook` is where docs/gitops.md is read (a browser URL, or the
 * repository path when the repository URL names no browsable host).
 */
export function notificationSettings(settings: NotificationSettings, runbook: (anchor: string) => string): Record<string, string> {
  return {
    [`service.webhook.${NOTIFICATION_SERVICE}`]: [
      // A $key reads that key of argocd-notifications-secret, so a secret URL never enters git.
      `url: ${settings.webhookUrl}`,
      'headers:',
      '  - name: Content-Type',
      '    value: application/json',
      '',
    ].join('\n'),
    [`template.${TEMPLATES.syncFailed}`]: template(
      body('sync-failed', app.operationRevision, app.operationMessage, 'sync failed', runbook(RUNBOOK_ANCHORS.syncFailed)),
    ),
    [`template.${TEMPLATES.degraded}`]: template(body('degraded', app.syncRevision, app.healthMessage, 'is Degraded', runbook(RUNBOOK_ANCHORS.degraded))),
    // Argo CD retries a failed automated sync with backoff (delivery/sync-policy.ts), and the operation
    // stays Running meanwhile: the first retry is when a person should hear of it, not the last.
    [`trigger.${TRIGGERS.syncFailed}`]: [
      '- description: A sync of an envoy-edge Application failed (and Argo CD retries it)',
      // A failed attempt waiting for its retry is Running with finishedAt set (Argo CD v3.5's controller);
      // once the retry starts, finishedAt and syncResult are cleared.
      "  when: app.status.operationState != nil and (app.status.operationState.phase in ['Error', 'Failed'] or (app.status.operationState.phase == 'Running' and app.status.operationState.finishedAt != nil))",
      // The failed attempt's commit: one message per commit that fails.
      '  oncePer: app.status.operationState?.syncResult?.revision',
      `  send: [${TEMPLATES.syncFailed}]`,
      '',
    ].join('\n'),
    [`trigger.${TRIGGERS.degraded}`]: [
      '- description: An envoy-edge Application is Degraded',
      "  when: app.status.health.status == 'Degraded'",
      '  oncePer: app.status.sync.revision',
      `  send: [${TEMPLATES.degraded}]`,
      '',
    ].join('\n'),
  };
}
