// GitOps delivery: the ApplicationSet over environments, each environment's root and child
// Applications and AppProjects, sync order, and safe (atomic) synthesis.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EnvironmentsApplicationSetChart } from '../charts/argocd-applicationset';
import { AppProjectsChart } from '../charts/argocd-projects';
import { EdgeApplicationChart } from '../charts/edge-application';
import { LbControllerChart } from '../charts/lb-controller';
import { applicationMetadata } from '../delivery/metadata';
import { outputPaths, synthesizeProject } from '../synth/pipeline';
import { EmptyOutputError, writeOutputsAtomically } from '../synth/write-outputs';
import { environmentWith, findObject, type K8sObject, snapshotTree, synthEnvoyEdge, synthObjects, tempProject } from './helpers';

const repo = { repoURL: 'https://git.example.com/team/edge.git' };
const prod = environmentWith('prod', { gitops: { ...repo, targetRevision: 'release', destinationName: 'in-cluster' } });
const staging = environmentWith('staging', {
  cluster: { name: 'edge-staging' },
  gitops: { ...repo, destinationName: 'edge-staging', automatedSync: true, selfHeal: false, prune: false, argocdEnvironment: 'prod' },
});
const environments = [prod, staging];
const applicationSet = findObject(
  synthObjects((app) => new EnvironmentsApplicationSetChart(app, 'set', { environments, rootPath: (n) => outputPaths(n).root })),
  'ApplicationSet',
);
const projects = synthObjects((app) => new AppProjectsChart(app, 'projects', { environments }));
const children = (env = staging) =>
  synthObjects((app) => new LbControllerChart(app, 'lbc', { config: env.config, metadata: applicationMetadata(environments, env, 'child') })).concat(
    synthObjects(
      (app) =>
        new EdgeApplicationChart(app, 'edge', {
          config: env.config,
          sourcePath: outputPaths(env.name).edge,
          metadata: applicationMetadata(environments, env, 'child'),
        }),
    ),
  );
const elements: Record<string, any>[] = applicationSet.spec.generators[0].list.elements;

describe('the ApplicationSet: one root Application per environment', () => {
  test('GIVEN two environments THEN it lists each, with its own project, revision and derived folder', () => {
    expect(elements.map((e) => [e.environment, e.application, e.project, e.targetRevision, e.path])).toEqual([
      ['prod', 'envoy-edge-prod', 'envoy-edge-prod-root', 'release', 'dist/prod'],
      ['staging', 'envoy-edge-staging', 'envoy-edge-staging-root', 'main', 'dist/staging'],
    ]);
  });

  test("GIVEN a root THEN it lives in Argo CD's namespace and syncs its environment's folder into the environment's child namespace, not Argo CD's", () => {
    const { spec, metadata } = applicationSet.spec.template;
    expect(metadata.name).toBe('{{.application}}');
    expect(metadata.namespace).toBe('argocd');
    expect(spec.source).toEqual({ repoURL: '{{.repoURL}}', targetRevision: '{{.targetRevision}}', path: '{{.path}}', directory: { recurse: false } });
    expect(spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: '{{.childNamespace}}' });
    expect(elements.map((e) => [e.environment, e.childNamespace])).toEqual([
      ['prod', 'envoy-edge-prod-apps'],
      ['staging', 'envoy-edge-staging-apps'],
    ]);
    expect(metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });

  test("GIVEN each environment's sync settings THEN its element carries the very sync policy its children get, and the template patch puts it in whole (rendered by the real ApplicationSet controller in verify:gitops), never syncing an empty folder", () => {
    const edgeOf = (env: typeof prod) => findObject(children(env), 'Application', `envoy-edge-${env.name}-edge`);
    expect(elements.map((e) => e.syncPolicy)).toEqual([edgeOf(prod).spec.syncPolicy, edgeOf(staging).spec.syncPolicy]);
    expect(elements.map((e) => e.syncPolicy.automated)).toEqual([
      { prune: true, selfHeal: true, allowEmpty: false },
      { prune: false, selfHeal: false, allowEmpty: false },
    ]);
    expect(elements[0].syncPolicy.retry).toEqual({ limit: 10, backoff: { duration: '5s', factor: 2, maxDuration: '3m' }, refresh: true });
    expect(applicationSet.spec.templatePatch).toBe('{"spec": {"syncPolicy": {{ toJson .syncPolicy }}}}\n');
  });

  test("GIVEN automated sync off THEN the root's element has no automated policy either", () => {
    const manual = environmentWith('qa', { gitops: { automatedSync: false } });
    const set = findObject(
      synthObjects((app) => new EnvironmentsApplicationSetChart(app, 'a', { environments: [manual], rootPath: () => 'dist/qa' })),
      'ApplicationSet',
      'envoy-edge',
    );
    expect(set.spec.generators[0].list.elements[0].syncPolicy).toEqual({ retry: expect.any(Object), syncOptions: ['PruneLast=true'] });
  });

  test('GIVEN an environment taken out of the ApplicationSet THEN its root goes, but nothing it made (a safe destroy comes first)', () => {
    expect(applicationSet.spec.syncPolicy).toEqual({ preserveResourcesOnDeletion: true });
    expect(applicationSet.spec.goTemplateOptions).toEqual(['missingkey=error']);
  });
});

describe("each environment's child Applications go to its own cluster", () => {
  test("GIVEN staging THEN the edge Application syncs dist/staging/edge/ into staging's cluster with staging's sync settings", () => {
    const edge = findObject(children(), 'Application', 'envoy-edge-staging-edge');
    expect(edge.spec.source).toEqual({ repoURL: repo.repoURL, targetRevision: 'main', path: 'dist/staging/edge' });
    expect(edge.spec.destination).toEqual({ name: 'edge-staging', namespace: 'envoy-proxy' });
    expect(edge.spec.project).toBe('envoy-edge-staging');
    expect(edge.spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: false, allowEmpty: false });
    expect(edge.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
  });

  test("GIVEN the child Applications THEN they live in the environment's child namespace, never Argo CD's (where an Application may name any project)", () => {
    for (const env of [prod, staging]) {
      expect(children(env).map((a) => [a.metadata.name, a.metadata.namespace])).toEqual(
        expect.arrayContaining([
          [`envoy-edge-${env.name}-edge`, `envoy-edge-${env.name}-apps`],
          [`envoy-edge-${env.name}-lb-controller`, `envoy-edge-${env.name}-apps`],
        ]),
      );
      expect(children(env)).toHaveLength(2);
    }
  });

  test("GIVEN staging THEN the controller Application installs the chart into staging's kube-system, in staging's controller project", () => {
    const controller = findObject(children(), 'Application', 'envoy-edge-staging-lb-controller');
    expect(controller.spec.destination).toEqual({ name: 'edge-staging', namespace: 'kube-system' });
    expect(controller.spec.project).toBe('envoy-edge-staging-lb-controller');
  });

  test('GIVEN the child Applications THEN Argo CD keeps their spec as written (the root that applies them stays Synced)', () => {
    // Argo CD's controller rewrites a live Application whose spec has zero-valued parts
    // (util/argo NormalizeApplicationSpec): it drops an empty directory/helm/kustomize source block and an
    // empty syncPolicy, and sets an empty project to "default". The root that applies the child would then
    // see it OutOfSync and re-apply it forever (verify:gitops saw this with `directory: { recurse: false }`).
    const zeroValued = (o: Record<string, any> | undefined) =>
      o !== undefined &&
      Object.values(o).every(
        (v) =>
          v === false ||
          v === '' ||
          v === null ||
          v === undefined ||
          (Array.isArray(v) && v.length === 0) ||
          (typeof v === 'object' && v !== null && Object.keys(v).length === 0),
      );
    for (const env of [prod, staging]) {
      for (const app of children(env)) {
        const { source, syncPolicy, project } = app.spec;
        const stripped = ['directory', 'helm', 'kustomize'].filter((k) => source[k] !== undefined && zeroValued(source[k]));
        expect({ app: app.metadata.name, stripped, emptySyncPolicy: syncPolicy !== undefined && zeroValued(syncPolicy), project }).toEqual({
          app: app.metadata.name,
          stripped: [],
          emptySyncPolicy: false,
          project: expect.stringMatching(/^envoy-edge-/),
        });
      }
    }
  });

  test('GIVEN automated sync off THEN a person syncs: no automated policy at all', () => {
    const manual = environmentWith('qa', { gitops: { automatedSync: false } });
    for (const app of children(manual)) expect(app.spec.syncPolicy.automated).toBeUndefined();
  });
});

describe('AppProjects: least privilege, per environment', () => {
  const project = (name: string) => findObject(projects, 'AppProject', name);

  test("GIVEN staging's projects THEN both read only the team repository; the root's may put only Applications into staging's child namespace, Envoy's only into staging's namespaces", () => {
    for (const name of ['envoy-edge-staging', 'envoy-edge-staging-root']) expect(project(name).spec.sourceRepos).toEqual([repo.repoURL]);
    expect(project('envoy-edge-staging-root').spec.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'envoy-edge-staging-apps' }]);
    // Not a ConfigMap (argocd-cm, argocd-rbac-cm), Secret or anything else into Argo CD's namespace: a git writer cannot become its admin.
    expect(project('envoy-edge-staging-root').spec.namespaceResourceWhitelist).toEqual([{ group: 'argoproj.io', kind: 'Application' }]);
    expect(project('envoy-edge-staging-root').spec.clusterResourceWhitelist).toEqual([]);
    expect(project('envoy-edge-staging').spec.destinations).toEqual([
      { name: 'edge-staging', namespace: 'envoy-proxy' },
      { name: 'edge-staging', namespace: 'default' },
    ]);
  });

  test("GIVEN each environment's child namespace THEN only its two child projects list it as a source namespace, so a child Application there can name no other project", () => {
    const sourceNamespaces = Object.fromEntries(projects.filter((o) => o.kind === 'AppProject').map((p) => [p.metadata.name, p.spec.sourceNamespaces ?? []]));
    expect(sourceNamespaces).toEqual({
      'envoy-edge-prod-root': [],
      'envoy-edge-prod': ['envoy-edge-prod-apps'],
      'envoy-edge-prod-lb-controller': ['envoy-edge-prod-apps'],
      'envoy-edge-staging-root': [],
      'envoy-edge-staging': ['envoy-edge-staging-apps'],
      'envoy-edge-staging-lb-controller': ['envoy-edge-staging-apps'],
    });
    expect(projects.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).toEqual(['envoy-edge-prod-apps', 'envoy-edge-staging-apps']);
  });

  test("GIVEN certManager off THEN the controller's project admits no cert-manager kinds; on, it admits Certificate and Issuer", () => {
    const kindsOf = (p: any) => p.spec.namespaceResourceWhitelist.map((k: any) => k.group);
    expect(kindsOf(project('envoy-edge-staging-lb-controller'))).not.toContain('cert-manager.io');
    const withCertManager = synthObjects(
      (app) => new AppProjectsChart(app, 'p', { environments: [environmentWith('prod', { lbController: { certManager: true } })] }),
    );
    expect(kindsOf(findObject(withCertManager, 'AppProject', 'envoy-edge-prod-lb-controller'))).toContain('cert-manager.io');
  });

  test('GIVEN the Envoy project THEN its only cluster-scoped kind is the Namespace, and it lists exactly the kinds its Applications sync', () => {
    const envoyProject = project('envoy-edge-prod');
    expect(envoyProject.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
    const synced = synthEnvoyEdge(prod.config);
    const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
    const kinds = new Set(synced.filter((o) => o.kind !== 'Namespace').map((o) => `${groupOf(o.apiVersion)}/${o.kind}`));
    const allowed = new Set(envoyProject.spec.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`));
    expect([...allowed].sort()).toEqual([...kinds].sort());
  });

  test("GIVEN the controller chart needs cluster-wide RBAC, webhooks and CRDs THEN it gets its own project, limited to its cluster's kube-system and eks-charts", () => {
    const controllerProject = project('envoy-edge-staging-lb-controller');
    expect(controllerProject.spec.sourceRepos).toEqual(['https://aws.github.io/eks-charts']);
    expect(controllerProject.spec.destinations).toEqual([{ name: 'edge-staging', namespace: 'kube-system' }]);
    const clusterKinds = controllerProject.spec.clusterResourceWhitelist.map((k: any) => k.kind);
    expect(clusterKinds).toEqual(expect.arrayContaining(['ClusterRole', 'MutatingWebhookConfiguration', 'CustomResourceDefinition']));
    expect(project('envoy-edge-staging').spec.clusterResourceWhitelist.map((k: any) => k.kind)).not.toContain('ClusterRole');
  });
});

test('GIVEN the longest project name the config allows (58) THEN synthesis succeeds: its child namespace is 63 characters and the controller project is that name plus -lb-controller', () => {
  const longName = 'a'.repeat(58);
  const { root: projectRoot, configDir } = tempProject({ prod: { gitops: { project: longName } } });
  synthesizeProject(projectRoot, configDir);
  expect(snapshotTree(path.join(projectRoot, 'dist', 'prod'))['lb-controller.k8s.yaml']).toContain(`project: ${longName}-lb-controller`);
  expect(snapshotTree(path.join(projectRoot, 'argocd'))['app-projects.k8s.yaml']).toContain(`name: ${longName}-apps\n`);
});

test("GIVEN a project name of 59 characters, or one whose child namespace is Argo CD's own THEN it is refused, naming the field, the value and why", () => {
  const tooLong = tempProject({ prod: { gitops: { project: 'a'.repeat(59) } } });
  expect(() => synthesizeProject(tooLong.root, tooLong.configDir)).toThrow(
    `config/environments/prod.yaml: gitops.project: got "${'a'.repeat(59)}"; allowed: at most 58 characters`,
  );
  const clash = tempProject({ prod: { gitops: { project: 'argo', argocdNamespace: 'argo-apps' } }, environments: { prod: {} } });
  expect(() => synthesizeProject(clash.root, clash.configDir)).toThrow(
    'gitops.project: got "argo"; allowed: a name whose namespace <gitops.project>-apps is not Argo CD\'s own',
  );
});

describe('sync order', () => {
  const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

  test("GIVEN an environment's root THEN the controller Application syncs before the edge Application", () => {
    const apps = children();
    expect(wave(findObject(apps, 'Application', 'envoy-edge-staging-lb-controller'))).toBeLessThan(
      wave(findObject(apps, 'Application', 'envoy-edge-staging-edge')),
    );
  });

  test("GIVEN the edge Application THEN Envoy's objects sync first, then the Ingress", () => {
    const edge = synthEnvoyEdge(prod.config);
    const ingress = wave(findObject(edge, 'Ingress'));
    const envoyWaves = edge.filter((o) => o.kind !== 'Ingress').map(wave);
    expect(new Set(envoyWaves).size).toBe(1);
    expect(envoyWaves[0]).toBeLessThan(ingress);
  });
});

describe('safe synthesis', () => {
  test('GIVEN a build that writes an empty folder THEN it is refused and the previous outputs stay byte-identical', () => {
    const { root: projectRoot } = tempProject();
    for (const dir of ['dist', 'argocd', 'eksctl']) {
      mkdirSync(path.join(projectRoot, dir));
      writeFileSync(path.join(projectRoot, dir, 'previous.yaml'), `kind: ${dir}\n`);
    }
    const before = ['dist', 'argocd', 'eksctl'].map((d) => snapshotTree(path.join(projectRoot, d)));
    expect(() =>
      writeOutputsAtomically(
        projectRoot,
        ['dist', 'argocd', 'eksctl'],
        (staging) => {
          mkdirSync(path.join(staging, 'dist', 'prod', 'edge'), { recursive: true });
          writeFileSync(path.join(staging, 'dist', 'prod', 'children.yaml'), 'kind: children\n');
          for (const dir of ['argocd', 'eksctl']) {
            mkdirSync(path.join(staging, dir));
            writeFileSync(path.join(staging, dir, 'new.yaml'), 'kind: new\n');
          }
        },
        ['dist', 'argocd', 'eksctl', 'dist/prod', 'dist/prod/edge'],
      ),
    ).toThrow(new EmptyOutputError('refusing to write an empty dist/prod/edge/: synthesis produced no files for it'));
    expect(['dist', 'argocd', 'eksctl'].map((d) => snapshotTree(path.join(projectRoot, d)))).toEqual(before);
  });

  test('GIVEN a build that throws half-way THEN no output folder changes', () => {
    const { root: projectRoot } = tempProject();
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

  test("GIVEN a second synth THEN it reports every file unchanged, and a changed value changes exactly that environment's files", () => {
    const { root: projectRoot, configDir } = tempProject();
    synthesizeProject(projectRoot, configDir);
    const again = synthesizeProject(projectRoot, configDir).report;
    expect([...again.written.values()].every((state) => state === 'unchanged')).toBe(true);
    const changed = tempProject({ prod: { alb: { idleTimeoutSeconds: 1800 } } });
    const report = synthesizeProject(projectRoot, changed.configDir).report;
    expect([...report.written].filter(([, state]) => state !== 'unchanged').map(([file]) => file)).toEqual(['dist/prod/edge/envoy-edge.k8s.yaml']);
  });
});

describe('Argo CD resource tracking', () => {
  test('GIVEN every object an Application syncs THEN it already carries the tracking id Argo CD writes on it, so kubectl diff after a sync is empty', () => {
    const { root: projectRoot, configDir } = tempProject();
    synthesizeProject(projectRoot, configDir);
    const tree = snapshotTree(path.join(projectRoot, 'dist'));
    const ids = (file: string) =>
      parseAllDocuments(tree[file])
        .map((d) => d.toJS())
        .map((o) => `${o.kind}/${o.metadata.name} ${o.metadata.annotations?.['argocd.argoproj.io/tracking-id']}`);
    // Argo CD's format, <application>:<group>/<kind>:<namespace>/<name>; a cluster-scoped object
    // gets the Application's destination namespace (argo-cd v3.5.7 util/argo/resource_tracking.go).
    expect(ids('prod/edge/envoy-edge.k8s.yaml')).toEqual(
      expect.arrayContaining([
        // A child Application outside Argo CD's namespace tracks by <namespace>_<name> (Application.InstanceName).
        'Namespace/envoy-proxy envoy-edge-prod-apps_envoy-edge-prod-edge:/Namespace:envoy-proxy/envoy-proxy',
        'Deployment/envoy-proxy envoy-edge-prod-apps_envoy-edge-prod-edge:apps/Deployment:envoy-proxy/envoy-proxy',
        'Service/envoy-poc-app-server-service envoy-edge-prod-apps_envoy-edge-prod-edge:/Service:default/envoy-poc-app-server-service',
        'Ingress/envoy-proxy-ingress envoy-edge-prod-apps_envoy-edge-prod-edge:networking.k8s.io/Ingress:envoy-proxy/envoy-proxy-ingress',
      ]),
    );
    expect(ids('prod/edge-application.k8s.yaml')).toEqual([
      'Application/envoy-edge-prod-edge envoy-edge-prod:argoproj.io/Application:envoy-edge-prod-apps/envoy-edge-prod-edge',
    ]);
    const all = Object.keys(tree)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap(ids);
    expect(all.filter((line) => line.endsWith(' undefined'))).toEqual([]);
  });
});

describe('snapshots', () => {
  test('snapshot: the AppProjects chart', () => {
    expect(projects).toMatchSnapshot();
  });

  test('snapshot: the ApplicationSet', () => {
    expect(applicationSet).toMatchSnapshot();
  });
});
