// GitOps delivery: the root Application and AppProjects, sync order, and safe (atomic) synthesis.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AppProjectsChart, RootApplicationChart } from '../charts/argocd-root';
import { EnvoyEdgeChart } from '../charts/envoy-edge';
import { LbControllerChart } from '../charts/lb-controller';
import { synthesizeProject } from '../synth/pipeline';
import { EmptyOutputError, writeOutputsAtomically } from '../synth/write-outputs';
import { configWith, findObject, snapshotTree, synthObjects, tempProject } from './helpers';

const config = configWith({ gitops: { repoURL: 'https://git.example.com/team/edge.git', targetRevision: 'release' } });
const root = findObject(synthObjects((app) => new RootApplicationChart(app, 'root', { config })), 'Application');
const projects = synthObjects((app) => new AppProjectsChart(app, 'projects', { config }));
const envoyProject = findObject(projects, 'AppProject', 'envoy-edge');
const controllerProject = findObject(projects, 'AppProject', 'envoy-edge-lb-controller');

describe('root Application', () => {
  test('GIVEN the gitops config THEN the root syncs dist/ from the team repository at its revision', () => {
    expect(root.metadata.namespace).toBe('argocd');
    expect(root.spec.source).toEqual({
      repoURL: 'https://git.example.com/team/edge.git',
      targetRevision: 'release',
      path: 'dist',
      directory: { recurse: false },
    });
    expect(root.spec.destination).toEqual({ server: 'https://kubernetes.default.svc' });
    expect(root.spec.project).toBe('envoy-edge');
  });

  test('GIVEN a push THEN the root syncs automatically with prune and self-heal, but never an empty dist/', () => {
    expect(root.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true, allowEmpty: false });
  });

  test('GIVEN a failed sync THEN it is retried with backoff', () => {
    expect(root.spec.syncPolicy.retry.limit).toBeGreaterThanOrEqual(3);
    expect(root.spec.syncPolicy.retry.backoff).toEqual({ duration: '10s', factor: 2, maxDuration: '5m' });
  });

  test('GIVEN the root is deleted THEN the resources finalizer deletes what it synced', () => {
    expect(root.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });
});

describe('AppProjects: least privilege', () => {
  test('GIVEN the Envoy project THEN it may read only the team repository and deploy only to our namespaces in-cluster', () => {
    expect(envoyProject.spec.sourceRepos).toEqual(['https://git.example.com/team/edge.git']);
    expect(envoyProject.spec.destinations).toEqual(
      ['envoy-proxy', 'default', 'argocd'].map((namespace) => ({ namespace, server: 'https://kubernetes.default.svc' })),
    );
  });

  test('GIVEN the Envoy project THEN its only cluster-scoped kind is the Namespace, and it lists exactly the kinds in dist/', () => {
    expect(envoyProject.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
    const dist = synthObjects((app) => new EnvoyEdgeChart(app, 'edge', { config }))
      .concat(synthObjects((app) => new LbControllerChart(app, 'lbc', { config })));
    const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
    const inDist = new Set(dist.filter((o) => o.kind !== 'Namespace').map((o) => `${groupOf(o.apiVersion)}/${o.kind}`));
    const allowed = new Set(envoyProject.spec.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`));
    expect([...allowed].sort()).toEqual([...inDist].sort());
  });

  test('GIVEN the controller chart needs cluster-wide RBAC, webhooks and CRDs THEN it gets its own project limited to kube-system and eks-charts', () => {
    expect(controllerProject.spec.sourceRepos).toEqual(['https://aws.github.io/eks-charts']);
    expect(controllerProject.spec.destinations).toEqual([{ namespace: 'kube-system', server: 'https://kubernetes.default.svc' }]);
    const clusterKinds = controllerProject.spec.clusterResourceWhitelist.map((k: any) => k.kind);
    expect(clusterKinds).toEqual(expect.arrayContaining(['ClusterRole', 'MutatingWebhookConfiguration', 'CustomResourceDefinition']));
    expect(envoyProject.spec.clusterResourceWhitelist.map((k: any) => k.kind)).not.toContain('ClusterRole');
    const controllerApp = findObject(synthObjects((app) => new LbControllerChart(app, 'lbc', { config, project: 'envoy-edge-lb-controller' })), 'Application');
    expect(controllerApp.spec.project).toBe(controllerProject.metadata.name);
  });
});

test('GIVEN the longest project name the config allows (63) THEN synthesis succeeds and the controller project is that name plus -lb-controller', () => {
  const longName = 'a'.repeat(63);
  const { root: projectRoot, configFile } = tempProject({ gitops: { project: longName } });
  synthesizeProject(projectRoot, configFile);
  expect(snapshotTree(path.join(projectRoot, 'dist'))['lb-controller.k8s.yaml']).toContain(`project: ${longName}-lb-controller`);
});

describe('sync order inside dist/', () => {
  const wave = (o: any) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
  const dist = synthObjects((app) => new LbControllerChart(app, 'lbc', { config }))
    .concat(synthObjects((app) => new EnvoyEdgeChart(app, 'edge', { config })));

  test('GIVEN dist/ THEN the controller Application syncs first, then Envoy objects, then the Ingress', () => {
    const controller = wave(findObject(dist, 'Application'));
    const ingress = wave(findObject(dist, 'Ingress'));
    const envoyWaves = dist.filter((o) => !['Application', 'Ingress'].includes(o.kind)).map(wave);
    expect(Math.max(...envoyWaves.map((w) => Math.abs(w - envoyWaves[0])))).toBe(0);
    expect(controller).toBeLessThan(envoyWaves[0]);
    expect(envoyWaves[0]).toBeLessThan(ingress);
  });
});

describe('safe synthesis', () => {
  test('GIVEN a build that writes an empty dist/ THEN it is refused and the previous outputs stay byte-identical', () => {
    const { root: projectRoot } = tempProject({});
    for (const dir of ['dist', 'argocd', 'eksctl']) {
      mkdirSync(path.join(projectRoot, dir));
      writeFileSync(path.join(projectRoot, dir, 'previous.yaml'), `kind: ${dir}\n`);
    }
    const before = ['dist', 'argocd', 'eksctl'].map((d) => snapshotTree(path.join(projectRoot, d)));
    expect(() =>
      writeOutputsAtomically(projectRoot, ['dist', 'argocd', 'eksctl'], (staging) => {
        mkdirSync(path.join(staging, 'dist'));
        for (const dir of ['argocd', 'eksctl']) {
          mkdirSync(path.join(staging, dir));
          writeFileSync(path.join(staging, dir, 'new.yaml'), 'kind: new\n');
        }
      }),
    ).toThrow(new EmptyOutputError('refusing to write an empty dist/: synthesis produced no files for it'));
    expect(['dist', 'argocd', 'eksctl'].map((d) => snapshotTree(path.join(projectRoot, d)))).toEqual(before);
  });

  test('GIVEN a build that throws half-way THEN no output folder changes', () => {
    const { root: projectRoot } = tempProject({});
    mkdirSync(path.join(projectRoot, 'dist'));
    writeFileSync(path.join(projectRoot, 'dist', 'previous.yaml'), 'kind: previous\n');
    expect(() =>
      writeOutputsAtomically(projectRoot, ['dist'], (staging) => {
        mkdirSync(path.join(staging, 'dist'));
        writeFileSync(path.join(staging, 'dist', 'half.yaml'), 'kind: half\n');
        throw new Error('validation failed');
      }),
    ).toThrow('validation failed');
    expect(snapshotTree(path.join(projectRoot, 'dist'))).toEqual({ 'previous.yaml': 'kind: previous\n' });
  });
});

describe('snapshots', () => {
  test('snapshot: the AppProjects chart', () => {
    expect(projects).toMatchSnapshot();
  });

  test('snapshot: the root Application chart', () => {
    expect(root).toMatchSnapshot();
  });
});
