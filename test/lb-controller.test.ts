// The AWS Load Balancer Controller: its Helm values, the Argo CD Application that installs it,
// and the eksctl file that gives it an AWS role. One test per promise; bad input names field,
// value and what is allowed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { Testing } from 'cdk8s';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { LbControllerChart } from '../charts/lb-controller';
import { ConfigError } from '../config/errors';
import type { EdgeConfig, EdgeConfigInput } from '../config/schema';
import { SYNC_WAVE } from '../delivery/sync-waves';
import { buildEksctlClusterConfig, type EksctlClusterConfig, lbControllerRoleName, serializeEksctlConfig } from '../lb-controller/eksctl';
import { buildLbControllerValues, checkLbControllerValues, PROTECTED_VALUE_PATHS, REFUSED_VALUE_PATHS } from '../lb-controller/values';
import { configWith } from './helpers';

const config = (input: EdgeConfigInput = {}): EdgeConfig => configWith(input);

function applicationOf(cfg: EdgeConfig, project?: string): any {
  const objects = Testing.synth(new LbControllerChart(Testing.app(), 'lb-controller', { config: cfg, project }));
  expect(objects).toHaveLength(1);
  return objects[0];
}

/** The message of the error `run` throws (fails the test if nothing is thrown). */
function errorMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  }
  throw new Error('expected an error, got none');
}

/** Config errors from parsing plus building the values, whichever step reports them. */
const lbConfigError = (input: EdgeConfigInput) => errorMessage(() => buildLbControllerValues(configWith(input)));

// eksctl's published schema (draft-07), copied from eksctl v0.230.0 so the tests need nothing outside the repo.
// strict: false because it carries eksctl's own keywords (x-intellij-html-description and the like).
const eksctlSchema = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'eksctl-v0.230.0-ClusterConfig.schema.json'), 'utf8'));
const validateEksctl = new Ajv({ strict: false, allErrors: true }).compile(eksctlSchema);

/** Every leaf path of a values object, e.g. "serviceAccount.create". */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('Helm values', () => {
  const values = buildLbControllerValues(config());

  test('GIVEN the defaults THEN the controller is told the cluster name, region and VPC id from the config', () => {
    const cfg = config({ cluster: { name: 'edge-prod', region: 'eu-central-1', vpcId: 'vpc-0fedcba9876543210' } });
    const v = buildLbControllerValues(cfg);
    expect(v.clusterName).toBe('edge-prod');
    expect(v.region).toBe('eu-central-1');
    expect(v.vpcId).toBe('vpc-0fedcba9876543210');
  });

  test('GIVEN the defaults THEN the chart uses the service account eksctl creates and does not create its own', () => {
    expect(values.serviceAccount).toEqual({ create: false, name: 'aws-load-balancer-controller' });
  });

  test('GIVEN the defaults THEN two replicas run and a disruption may take at most one of them', () => {
    expect(values.replicaCount).toBe(2);
    expect(values.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
  });

  test('GIVEN the defaults THEN the chart creates the alb IngressClass and leaves LoadBalancer Services alone', () => {
    expect(values.ingressClass).toBe('alb');
    expect(values.createIngressClassResource).toBe(true);
    expect(values.enableServiceMutatorWebhook).toBe(false);
  });

  test('GIVEN certManager true THEN the chart asks cert-manager for the webhook certificate; by default it does not', () => {
    expect(values.enableCertManager).toBe(false);
    expect(buildLbControllerValues(config({ lbController: { certManager: true } })).enableCertManager).toBe(true);
  });

  test('GIVEN user values that collide with none of ours THEN they are added and ours are unchanged', () => {
    const v = buildLbControllerValues(config({ lbController: { values: { logLevel: 'debug', serviceAccount: { annotations: { team: 'edge' } } } } }));
    expect(v.logLevel).toBe('debug');
    expect(v.serviceAccount).toEqual({ create: false, name: 'aws-load-balancer-controller', annotations: { team: 'edge' } });
    expect(v.clusterName).toBe('envoy-poc');
  });

  test('GIVEN the values we set THEN every one of their paths is protected, and nothing else is', () => {
    const covered = (leaf: string) => PROTECTED_VALUE_PATHS.some((p) => leaf === p || leaf.startsWith(`${p}.`));
    for (const leaf of leafPaths(values)) expect(covered(leaf)).toBe(true);
    for (const p of PROTECTED_VALUE_PATHS) {
      expect(leafPaths(values).some((leaf) => leaf === p || leaf.startsWith(`${p}.`))).toBe(true);
    }
  });

  test('GIVEN the same user values in another key order THEN the values are byte-identical', () => {
    const a = buildLbControllerValues(config({ lbController: { values: { logLevel: 'info', defaultTags: { b: '1', a: '2' } } } }));
    const b = buildLbControllerValues(config({ lbController: { values: { defaultTags: { a: '2', b: '1' }, logLevel: 'info' } } }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Object.keys(a).slice(0, 4)).toEqual(['clusterName', 'region', 'vpcId', 'serviceAccount']);
  });
});

describe('eksctl file and Helm values agree', () => {
  test.each(['irsa', 'podIdentity'] as const)(
    'GIVEN identity %s THEN the service account name and namespace, the cluster name and the region are the same in the eksctl file and the Helm values',
    (identity) => {
      const cfg = config({
        cluster: { name: 'edge-prod', region: 'ap-southeast-2' },
        lbController: { identity, serviceAccountName: 'lbc' },
      });
      const eksctl = buildEksctlClusterConfig(cfg) as any;
      const values = buildLbControllerValues(cfg);
      const app = applicationOf(cfg);
      const sa =
        identity === 'irsa'
          ? { name: eksctl.iam.serviceAccounts[0].metadata.name, namespace: eksctl.iam.serviceAccounts[0].metadata.namespace }
          : { name: eksctl.iam.podIdentityAssociations[0].serviceAccountName, namespace: eksctl.iam.podIdentityAssociations[0].namespace };
      expect(sa).toEqual({ name: values.serviceAccount.name, namespace: app.spec.destination.namespace });
      expect(sa).toEqual({ name: 'lbc', namespace: 'kube-system' });
      expect(eksctl.metadata).toEqual({ name: values.clusterName, region: values.region });
      expect(eksctl.metadata).toEqual({ name: 'edge-prod', region: 'ap-southeast-2' });
    },
  );

  test('GIVEN either identity THEN eksctl creates the service account and the chart never does', () => {
    const irsa = buildEksctlClusterConfig(config()) as any;
    const pod = buildEksctlClusterConfig(config({ lbController: { identity: 'podIdentity' } })) as any;
    expect(irsa.iam.serviceAccounts[0].roleName).toBe('envoy-poc-aws-load-balancer-controller');
    expect(pod.iam.podIdentityAssociations[0].createServiceAccount).toBe(true);
    expect(buildLbControllerValues(config({ lbController: { identity: 'podIdentity' } })).serviceAccount.create).toBe(false);
  });
});

describe('eksctl ClusterConfig', () => {
  test('GIVEN IRSA THEN the file is valid against eksctl v0.230.0 schema and asks for OIDC and the well-known controller policy', () => {
    const eksctl = buildEksctlClusterConfig(config());
    expect(validateEksctl(eksctl)).toBe(true);
    expect(validateEksctl.errors ?? []).toEqual([]);
    expect(eksctl).toEqual({
      apiVersion: 'eksctl.io/v1alpha5',
      kind: 'ClusterConfig',
      metadata: { name: 'envoy-poc', region: 'us-east-1' },
      // The VPC CNI's network policy agent: without it EKS does not enforce NetworkPolicies.
      addons: [{ name: 'vpc-cni', configurationValues: '{"enableNetworkPolicy":"true"}', resolveConflicts: 'preserve' }],
      iam: {
        withOIDC: true,
        serviceAccounts: [
          {
            metadata: { name: 'aws-load-balancer-controller', namespace: 'kube-system' },
            roleName: 'envoy-poc-aws-load-balancer-controller',
            wellKnownPolicies: { awsLoadBalancerController: true },
          },
        ],
      },
    });
  });

  test('GIVEN Pod Identity THEN the file is valid against the schema, adds the agent add-on and an association instead of IRSA', () => {
    const eksctl = buildEksctlClusterConfig(config({ lbController: { identity: 'podIdentity' } })) as any;
    expect(validateEksctl(eksctl)).toBe(true);
    expect(validateEksctl.errors ?? []).toEqual([]);
    expect(eksctl.addons).toEqual([
      { name: 'vpc-cni', configurationValues: '{"enableNetworkPolicy":"true"}', resolveConflicts: 'preserve' },
      { name: 'eks-pod-identity-agent' },
    ]);
    expect(eksctl.iam).toEqual({
      podIdentityAssociations: [
        {
          namespace: 'kube-system',
          serviceAccountName: 'aws-load-balancer-controller',
          createServiceAccount: true,
          roleName: 'envoy-poc-aws-load-balancer-controller',
          wellKnownPolicies: { awsLoadBalancerController: true },
        },
      ],
    });
  });

  test('GIVEN a misspelt field THEN the schema check rejects it (the validation is not vacuous)', () => {
    const broken = { ...buildEksctlClusterConfig(config()), iam: { withOIDC: true, serviceAccount: [] } };
    expect(validateEksctl(broken)).toBe(false);
    expect(validateEksctl.errors?.[0]).toMatchObject({ instancePath: '/iam', params: { additionalProperty: 'serviceAccount' } });
  });

  test('GIVEN a cluster name too long for IAM THEN the role name fits in 64 characters and still tells two clusters apart', () => {
    const a = lbControllerRoleName(`${'a'.repeat(99)}x`);
    const b = lbControllerRoleName(`${'a'.repeat(99)}y`);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(b.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
    expect(lbControllerRoleName(`${'a'.repeat(99)}x`)).toBe(a);
    expect(a).toMatch(/^[\w+=,.@-]+$/);
  });

  test('GIVEN the file as written THEN it starts with a generated-file header with the apply commands and parses back to the config', () => {
    const eksctl: EksctlClusterConfig = buildEksctlClusterConfig(config());
    const text = serializeEksctlConfig(eksctl, 'eksctl/prod.yaml');
    const header = text.split('\n').filter((l) => l.startsWith('#'));
    expect(header[0]).toMatch(/^# Generated by .*Do not edit by hand\.$/);
    expect(header).toContain('#   eksctl utils associate-iam-oidc-provider --config-file eksctl/prod.yaml --approve');
    expect(header).toContain('#   eksctl create iamserviceaccount --config-file eksctl/prod.yaml --approve');
    expect(parseYaml(text)).toEqual(eksctl);
    const pod = serializeEksctlConfig(buildEksctlClusterConfig(config({ lbController: { identity: 'podIdentity' } })), 'eksctl/prod.yaml');
    expect(pod).toContain('#   eksctl create podidentityassociation --config-file eksctl/prod.yaml');
  });
});

describe('Argo CD Application', () => {
  const app = applicationOf(config());

  test("GIVEN the defaults THEN one Application named after the environment's project lives in the environment's child namespace, in the controller's project", () => {
    expect(app.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(app.kind).toBe('Application');
    expect(app.metadata.name).toBe('envoy-edge-lb-controller');
    expect(app.metadata.namespace).toBe('envoy-edge-apps');
    expect(app.spec.project).toBe('envoy-edge-lb-controller');
  });

  test('GIVEN another release name, Argo CD namespace and project THEN the Application follows them', () => {
    const custom = applicationOf(
      config({ lbController: { releaseName: 'lbc' }, gitops: { argocdNamespace: 'gitops', project: 'platform' } }),
      'aws-lb-controller',
    );
    expect(custom.metadata.name).toBe('platform-lb-controller');
    expect(custom.metadata.namespace).toBe('platform-apps');
    expect(custom.spec.project).toBe('aws-lb-controller');
    expect(custom.spec.source.helm.releaseName).toBe('lbc');
  });

  test('GIVEN the defaults THEN the source is the pinned upstream chart with our values as an object', () => {
    expect(app.spec.source).toEqual({
      repoURL: 'https://aws.github.io/eks-charts',
      chart: 'aws-load-balancer-controller',
      targetRevision: '3.5.0',
      helm: { releaseName: 'aws-load-balancer-controller', valuesObject: expect.any(Object) },
    });
    expect(app.spec.source.helm.valuesObject).toEqual(buildLbControllerValues(config()));
    expect(app.spec.source.helm.values).toBeUndefined();
  });

  test('GIVEN another chart version THEN exactly that version is the target revision', () => {
    expect(applicationOf(config({ lbController: { chartVersion: '3.4.2' } })).spec.source.targetRevision).toBe('3.4.2');
  });

  test("GIVEN the defaults THEN the controller goes to kube-system in the environment's cluster (in-cluster by default)", () => {
    expect(app.spec.destination).toEqual({ name: 'in-cluster', namespace: 'kube-system' });
    expect(applicationOf(config({ gitops: { destinationName: 'staging' } })).spec.destination).toEqual({ name: 'staging', namespace: 'kube-system' });
  });

  test('GIVEN the defaults THEN sync is automated with prune and self-heal, retried with backoff, server-side, respecting ignored fields', () => {
    expect(app.spec.syncPolicy).toEqual({
      automated: { prune: true, selfHeal: true, allowEmpty: false },
      retry: { limit: 10, backoff: { duration: '5s', factor: 2, maxDuration: '3m' }, refresh: true },
      syncOptions: ['ServerSideApply=true', 'RespectIgnoreDifferences=true', 'CreateNamespace=false'],
    });
  });

  test('GIVEN the defaults THEN deleting the Application deletes what it installed, and it syncs in the controller wave', () => {
    expect(app.metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    expect(app.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': SYNC_WAVE.lbController });
    expect(SYNC_WAVE.lbController).toBe('-1');
  });

  test('GIVEN cert-manager mode off THEN Argo CD ignores the generated webhook caBundles and TLS Secret data', () => {
    expect(app.spec.ignoreDifferences).toEqual([
      {
        group: 'admissionregistration.k8s.io',
        kind: 'MutatingWebhookConfiguration',
        name: 'aws-load-balancer-webhook',
        jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
      },
      {
        group: 'admissionregistration.k8s.io',
        kind: 'ValidatingWebhookConfiguration',
        name: 'aws-load-balancer-webhook',
        jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
      },
      { kind: 'Secret', name: 'aws-load-balancer-tls', namespace: 'kube-system', jqPathExpressions: ['.data'] },
    ]);
  });

  test('GIVEN cert-manager mode on THEN nothing is ignored, since cert-manager keeps the certificate stable', () => {
    const withCertManager = applicationOf(config({ lbController: { certManager: true } }));
    expect(withCertManager.spec).not.toHaveProperty('ignoreDifferences');
    expect(withCertManager.spec.source.helm.valuesObject.enableCertManager).toBe(true);
  });

  test("GIVEN another release name THEN the ignored webhook and Secret names stay the chart's (they come from the chart name)", () => {
    const names = applicationOf(config({ lbController: { releaseName: 'lbc' } })).spec.ignoreDifferences.map((d: any) => d.name);
    expect(names).toEqual(['aws-load-balancer-webhook', 'aws-load-balancer-webhook', 'aws-load-balancer-tls']);
  });

  test('GIVEN two synths of the same config THEN the output is byte-identical and carries no key material', () => {
    const text = toYaml(app);
    expect(toYaml(applicationOf(config()))).toBe(text);
    expect(text).not.toMatch(/PRIVATE KEY|tls\.key|caBundle:/);
  });

  test('GIVEN a project prop that is not a DNS subdomain THEN the chart refuses it, naming the prop, the value and what is allowed', () => {
    const message = errorMessage(() => applicationOf(config(), 'Not A Project'));
    expect(message).toBe('LbControllerChart props.project: got "Not A Project"; allowed: an Argo CD project name (a DNS-1123 subdomain)');
  });
});

describe('bad input', () => {
  test.each(['^3.5.0', 'latest', '3.5', '~3.5.0', '3.5.x'])(
    'GIVEN chart version %s THEN the config is refused, naming the field, the value and what is allowed',
    (chartVersion) => {
      const message = lbConfigError({ lbController: { chartVersion } });
      expect(message).toContain(
        `lbController.chartVersion: got ${JSON.stringify(chartVersion)}; allowed: an exact chart version such as 3.5.0 (no ranges, no "latest")`,
      );
    },
  );

  test.each(['-edge', 'edge prod', 'edge.prod', ''])('GIVEN cluster name %j THEN the config is refused with field, value and rule', (name) => {
    expect(lbConfigError({ cluster: { name } })).toContain(
      `cluster.name: got ${JSON.stringify(name)}; allowed: an EKS cluster name: 1-100 letters, digits, "-" or "_", starting with a letter or digit`,
    );
  });

  test.each(['us-east', 'US-EAST-1', 'mars-north-1'])('GIVEN region %s THEN the config is refused with field, value and rule', (region) => {
    expect(lbConfigError({ cluster: { region } })).toContain(
      `cluster.region: got ${JSON.stringify(region)}; allowed: an AWS region such as us-east-1 or eu-central-1`,
    );
  });

  test.each(['vpc-123', 'vpc-0123456789ABCDEF0', 'subnet-0123456789abcdef0'])(
    'GIVEN VPC id %s THEN the config is refused with field, value and rule',
    (vpcId) => {
      expect(lbConfigError({ cluster: { vpcId } })).toContain(
        `cluster.vpcId: got ${JSON.stringify(vpcId)}; allowed: a VPC id: "vpc-" and 8 or 17 lowercase hex digits`,
      );
    },
  );

  test('GIVEN values.clusterName THEN it is refused: the cluster name comes from cluster.name', () => {
    const message = lbConfigError({ lbController: { values: { clusterName: 'x' } } });
    expect(message).toContain('lbController.values.clusterName: got "x"; allowed: nothing: clusterName is set by this project from cluster.name');
  });

  test('GIVEN values.serviceAccount.create true THEN it is refused: eksctl owns the service account', () => {
    const message = lbConfigError({ lbController: { values: { serviceAccount: { create: true } } } });
    expect(message).toContain(
      'lbController.values.serviceAccount.create: got true; allowed: nothing: serviceAccount.create is set by this project from lbController.identity (eksctl creates the service account)',
    );
  });

  test('GIVEN values.serviceAccount that is not a map THEN it is refused, naming the keys we set under it', () => {
    const message = lbConfigError({ lbController: { values: { serviceAccount: 'default' } } });
    expect(message).toContain(
      'lbController.values.serviceAccount: got "default"; allowed: a map of extra keys (serviceAccount.create, serviceAccount.name are set by this project)',
    );
  });

  test('GIVEN a key below a protected object THEN it is refused (minAvailable would break our PodDisruptionBudget)', () => {
    const message = lbConfigError({ lbController: { values: { podDisruptionBudget: { minAvailable: 1 } } } });
    expect(message).toContain(
      'lbController.values.podDisruptionBudget: got {"minAvailable":1}; allowed: nothing: podDisruptionBudget is set by this project from lbController.replicas (maxUnavailable: 1)',
    );
  });

  test.each(REFUSED_VALUE_PATHS)('GIVEN values.%s THEN it is refused with the reason', (key) => {
    const message = lbConfigError({ lbController: { values: { [key]: 'x' } } });
    expect(message).toMatch(new RegExp(`lbController\\.values\\.${key}: got "x"; allowed: nothing: .+`));
  });

  test('GIVEN several colliding values THEN every one is reported, in a stable order, as a ConfigError', () => {
    const cfg = configWith({ cluster: { name: 'ok' } });
    const withValues = { ...cfg, lbController: { ...cfg.lbController, values: { vpcId: 'vpc-1', region: 'x', logLevel: 'debug' } } };
    expect(checkLbControllerValues(withValues)).toEqual([
      'lbController.values.region: got "x"; allowed: nothing: region is set by this project from cluster.region',
      'lbController.values.vpcId: got "vpc-1"; allowed: nothing: vpcId is set by this project from cluster.vpcId',
    ]);
    expect(() => buildLbControllerValues(withValues)).toThrow(ConfigError);
  });
});

describe('snapshots', () => {
  test('snapshot: the controller Application chart', () => {
    expect(applicationOf(config())).toMatchSnapshot();
  });

  test('snapshot: the eksctl ClusterConfig', () => {
    expect(serializeEksctlConfig(buildEksctlClusterConfig(config()), 'eksctl/prod.yaml')).toMatchSnapshot();
  });
});
