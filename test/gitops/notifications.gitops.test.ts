// The Degraded notification on the real argocd-notifications. Argo CD calls a Deployment Degraded only
// once its progress deadline has passed (600 s unless set), too long to wait for with the edge's own
// Deployment, so this scenario uses a stand-in child: an Application beside the edge's, in the same
// namespace and project, carrying the edge Application's own labels and annotations (its environment,
// rollout note and subscriptions), whose Deployment cannot be scheduled and has a 5 s deadline.
import { dailyLoopEnvironment, Gitops, report, waitFor, webhookReceiver } from './harness';

const gitops = new Gitops();
const environment = dailyLoopEnvironment(gitops.ctx);
const env = gitops.ctx.environments[environment];
const APPS = 'applications.argoproj.io';
const NAME = 'verify-degraded';
const PATH = 'verify/degraded';
const receiver = webhookReceiver(gitops);

afterAll(async () => {
  await receiver.close();
  gitops.argocdCluster('-n', env.appsNamespace, 'delete', APPS, NAME, '--ignore-not-found', '--wait=true', '--timeout=60s');
  if (gitops.exists(`${PATH}/deployment.yaml`)) {
    gitops.remove(`${PATH}/deployment.yaml`);
    gitops.push('the Degraded stand-in removed');
  }
});

test(`GIVEN a child Application of ${environment} that turns Degraded THEN one message says so, with the environment, the commit, the rollout note and the runbook`, async () => {
  await receiver.ready;
  gitops.write(
    `${PATH}/deployment.yaml`,
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      `metadata: {name: ${NAME}, namespace: ${env.envoyNamespace}}`,
      'spec:',
      '  replicas: 1',
      '  progressDeadlineSeconds: 5',
      `  selector: {matchLabels: {app: ${NAME}}}`,
      '  template:',
      `    metadata: {labels: {app: ${NAME}}}`,
      '    spec:',
      '      nodeSelector: {verify-gitops/no-such-node: "true"}',
      `      containers: [{name: c, image: "registry.invalid/${NAME}:1"}]`,
      '',
    ].join('\n'),
  );
  const pushed = gitops.push(`a Deployment that cannot be scheduled, for the Degraded stand-in`);
  const edge = JSON.parse(gitops.argocdCluster('-n', env.appsNamespace, 'get', APPS, env.edgeApp.split('/')[1], '-o', 'json'));
  const annotations = Object.fromEntries(
    Object.entries(edge.metadata.annotations as Record<string, string>).filter(
      ([k]) => !k.startsWith('argocd.argoproj.io/') && !k.startsWith('notified.') && k !== 'kubectl.kubernetes.io/last-applied-configuration',
    ),
  );
  const application = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: NAME, namespace: env.appsNamespace, labels: edge.metadata.labels, annotations, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
    spec: {
      project: edge.spec.project,
      source: { repoURL: edge.spec.source.repoURL, targetRevision: 'main', path: PATH },
      destination: edge.spec.destination,
      syncPolicy: { automated: { prune: true } },
    },
  };
  const seen = receiver.messages.length;
  gitops.applyToArgocd(JSON.stringify(application));
  const created = performance.now();
  const message = await waitFor(`a degraded message for ${env.appsNamespace}/${NAME}`, 60_000, () =>
    receiver.messages.slice(seen).find((m) => m.event === 'degraded' && m.application === `${env.appsNamespace}/${NAME}`),
  );
  const notifiedMs = performance.now() - created;
  // Once per commit: the Application is reconciled again (a refresh) and stays Degraded; no second message.
  const reconciled = gitops.app(`${env.appsNamespace}/${NAME}`, '{.status.reconciledAt}');
  gitops.refresh(`${env.appsNamespace}/${NAME}`);
  await waitFor('one more reconciliation, still Degraded', 30_000, () =>
    gitops.app(`${env.appsNamespace}/${NAME}`, '{.status.reconciledAt} {.status.health.status}').split(' ')[0] !== reconciled ? true : undefined,
  );
  const ours = receiver.messages.slice(seen).filter((m) => m.application === `${env.appsNamespace}/${NAME}`);
  report(`degraded: one message ${(notifiedMs / 1000).toFixed(1)} s after the stand-in child was created: ${message.text}`);
  expect(message).toMatchObject({
    environment,
    revision: pushed.sha,
    runbook: expect.stringMatching(/docs\/gitops\.md#an-application-is-degraded$/),
    rollout: edge.metadata.annotations['envoy-edge/rollout'],
  });
  expect(message.text).toContain(`${env.appsNamespace}/${NAME} is Degraded at ${pushed.sha.slice(0, 7)}. `);
  expect(ours.map((m) => m.event)).toEqual(['degraded']);
});
