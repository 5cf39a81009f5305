// The "applies" column of docs/configuration.md is read off the builders (synth/field-effects.ts).
// Here it is checked against what a real synth does when the field alone changes: the pod template
// changes (the pods roll), or only the live ConfigMap does (Envoy reloads it), or neither.
import type { EdgeConfigInput } from '../config/schema';
import { fieldEffects } from '../synth/field-effects';
import { configWith, findObject, type K8sObject, synthEnvoyEdge } from './helpers';

const synth = (change: EdgeConfigInput) => synthEnvoyEdge(configWith(change));
const baseline = synth({});

function observed(objects: K8sObject[]): string {
  const template = (objs: K8sObject[]) => findObject(objs, 'Deployment').spec.template;
  const live = (objs: K8sObject[]) => findObject(objs, 'ConfigMap', 'envoy-proxy-live').data;
  if (JSON.stringify(template(objects)) !== JSON.stringify(template(baseline))) return 'rolls the pods';
  if (JSON.stringify(live(objects)) !== JSON.stringify(live(baseline))) return 'live';
  return '—';
}

const cases: [string, EdgeConfigInput][] = [
  // The ten fields the issue lists as live, then what must still roll, then fields Envoy never sees.
  ['envoy.rateLimit.maxTokens', { envoy: { rateLimit: { maxTokens: 20 } } }],
  ['envoy.rateLimit.fillInterval', { envoy: { rateLimit: { fillInterval: '2s' } } }],
  ['envoy.connections.maxTotal', { envoy: { connections: { maxTotal: 12 } } }],
  ['envoy.connections.maxPerBackendPod', { envoy: { connections: { maxPerBackendPod: 4 } } }],
  ['envoy.connections.queueTimeout', { envoy: { connections: { queueTimeout: '10s' } } }],
  ['envoy.healthCheck.interval', { envoy: { healthCheck: { interval: '10s' } } }],
  ['envoy.healthCheck.unhealthyThreshold', { envoy: { healthCheck: { unhealthyThreshold: 5 } } }],
  ['envoy.plainHttpTimeout', { envoy: { plainHttpTimeout: '30s' } }],
  ['envoy.streamIdleTimeout', { envoy: { streamIdleTimeout: '2h' } }],
  ['envoy.dnsRefreshRate', { envoy: { dnsRefreshRate: '10s' } }],
  ['backend.healthPath', { backend: { healthPath: '/healthz' } }],
  ['envoy.image', { envoy: { image: 'envoyproxy/envoy:v1.40.1' } }],
  ['envoy.resources.memoryLimit', { envoy: { resources: { memoryLimit: '512Mi', memoryRequest: '256Mi' } } }],
  ['envoy.connectionIdleTimeout', { envoy: { connectionIdleTimeout: '2h' } }],
  ['envoy.drainTime', { envoy: { drainTime: '30s' } }],
  ['envoy.maxDownstreamConnections', { envoy: { maxDownstreamConnections: 20_000 } }],
  ['alb.deregistrationDelaySeconds', { alb: { deregistrationDelaySeconds: 60 } }],
  ['alb.idleTimeoutSeconds', { alb: { idleTimeoutSeconds: 1800 } }],
  ['gitops.selfHeal', { gitops: { selfHeal: false } }],
];

const effects = fieldEffects(configWith());

test.each(cases)('GIVEN %s changed alone THEN the reference says what a real synth does to the Envoy pods', (field, change) => {
  const objects = synth(change);
  expect({ field, applies: effects.get(field) }).toEqual({ field, applies: observed(objects) });
  if (effects.get(field) === 'live') {
    // Live: the whole Deployment and the bootstrap stay byte-for-byte, not only the pod template.
    expect(findObject(objects, 'Deployment')).toEqual(findObject(baseline, 'Deployment'));
    expect(findObject(objects, 'ConfigMap', 'envoy-proxy-bootstrap')).toEqual(findObject(baseline, 'ConfigMap', 'envoy-proxy-bootstrap'));
  }
});

test("GIVEN the issue's ten limit, cap, health-check, timeout and DNS fields THEN every one is live, and the image and resources roll the pods", () => {
  const live = cases.slice(0, 10).map(([field]) => field);
  expect(live.filter((f) => effects.get(f) !== 'live')).toEqual([]);
  expect([effects.get('envoy.image'), effects.get('envoy.resources.memoryLimit')]).toEqual(['rolls the pods', 'rolls the pods']);
  expect(effects.size).toBeGreaterThan(50);
});
