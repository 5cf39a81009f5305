// The "built by → placed by" column of docs/configuration.md is read off the code (synth/field-owners.ts):
// for a field, the builders that read it and the charts that place what they made. The expected owners
// below are the traces docs/architecture.md gives by hand, and the fields the schema says are for the
// config rules or the day-2 commands only.
import { referenceProjects } from '../cli/docs';
import { fieldOwners } from '../synth/field-owners';

const owners = fieldOwners(referenceProjects());

test('GIVEN envoy.rateLimit.maxTokens THEN envoy/rate-limit.ts builds it into the upgrade route, and charts/envoy-edge.ts places it (docs/architecture.md)', () => {
  const o = owners.get('envoy.rateLimit.maxTokens');
  expect(o?.builders).toContain('envoy/rate-limit.ts');
  expect(o?.charts).toContain('charts/envoy-edge.ts');
});

test("GIVEN cluster.name THEN lb-controller/values.ts and lb-controller/eksctl.ts build it, placed in the controller's Application and the eksctl file (docs/architecture.md)", () => {
  expect(owners.get('cluster.name')).toEqual({
    builders: ['lb-controller/eksctl.ts', 'lb-controller/values.ts'],
    charts: ['charts/lb-controller.ts', 'eksctl/<env>.yaml'],
  });
});

test('GIVEN the pod decisions THEN envoy/pod.ts builds them and charts/envoy-edge.ts only places them', () => {
  for (const field of ['envoy.image', 'envoy.runAsUser', 'envoy.drainTime', 'envoy.resources.cpuRequest']) {
    expect({ field, ...owners.get(field) }).toEqual({ field, builders: ['envoy/pod.ts'], charts: ['charts/envoy-edge.ts'] });
  }
});

test('GIVEN every config field THEN each reaches a builder or a chart, but the three that are not outputs: the day-2 kube context, the plain-HTTP consent and where Argo CD runs', () => {
  const unread = [...owners].filter(([, o]) => !o.builders.length && !o.charts.length).map(([field]) => field);
  expect(unread).toEqual(['cluster.kubeContext', 'alb.allowPlainHttp', 'gitops.argocdEnvironment']);
});
