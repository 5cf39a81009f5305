// Every object in dist/ and argocd/ is valid, strictly, against the Kubernetes and Argo CD schemas.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OUTPUT_DIRS, synthesizeProject } from '../synth/pipeline';
import { configWith, findObject, snapshotTree, tempProject } from './helpers';
import { KubeSchemas } from './kube-schemas';

const schemas = new KubeSchemas();

function synthesizedObjects(prod: Record<string, unknown> = {}): any[] {
  const { root, configDir } = tempProject({ prod });
  synthesizeProject(root, configDir);
  return (['dist', 'argocd'] as const).flatMap((dir) =>
    Object.entries(snapshotTree(path.join(root, dir))).flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS())),
  );
}

const defaults = synthesizedObjects();

test('GIVEN the shipped config THEN every object in dist/ and argocd/ matches its schema, unknown fields included', () => {
  expect(OUTPUT_DIRS).toContain('dist');
  expect(defaults.length).toBeGreaterThan(10);
  expect(defaults.flatMap((o) => schemas.validate(o))).toEqual([]);
});

test('GIVEN HTTPS, cert-manager and pod identity THEN the objects still match their schemas', () => {
  const objects = synthesizedObjects({
    alb: { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab' },
    lbController: { certManager: true, identity: 'podIdentity' },
  });
  expect(objects.flatMap((o) => schemas.validate(o))).toEqual([]);
});

describe('the checker itself can fail', () => {
  const deployment = () => structuredClone(findObject(defaults, 'Deployment', 'envoy-proxy'));

  test('GIVEN a misspelled container field THEN it is reported with its path', () => {
    const bad = deployment();
    bad.spec.template.spec.containers[0].readinesProbe = bad.spec.template.spec.containers[0].readinessProbe;
    expect(schemas.validate(bad)).toContainEqual({
      object: 'Deployment/envoy-proxy',
      message: '/spec/template/spec/containers/0 must NOT have additional properties: readinesProbe',
    });
  });

  test('GIVEN a string where Kubernetes wants an integer THEN it is reported', () => {
    const bad = deployment();
    bad.spec.replicas = 'two';
    expect(schemas.validate(bad)).toContainEqual({ object: 'Deployment/envoy-proxy', message: '/spec/replicas must be integer' });
  });

  test('GIVEN an Application with an unknown syncPolicy field THEN the Argo CD CRD schema rejects it', () => {
    const app = structuredClone(defaults.find((o) => o.kind === 'Application'));
    app.spec.syncPolicy.automated.pruneEverything = true;
    expect(schemas.validate(app)).toContainEqual(
      expect.objectContaining({ message: '/spec/syncPolicy/automated must NOT have additional properties: pruneEverything' }),
    );
  });

  test('GIVEN a kind with no schema THEN that is a problem, not a pass', () => {
    expect(schemas.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      { object: 'Widget/w', message: 'no schema for example.com/v1 Widget' },
    ]);
  });
});

test('GIVEN the committed fixtures THEN they are the upstream files, untouched', () => {
  // Guards against someone "fixing" a schema to make a test pass.
  const k8s = readFileSync(path.join(__dirname, 'fixtures', 'kubernetes-v1.28.0-definitions.json'), 'utf8');
  expect(JSON.parse(k8s).definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([
    { group: 'apps', kind: 'Deployment', version: 'v1' },
  ]);
  expect(configWith().envoy.replicas).toBe(2);
});
