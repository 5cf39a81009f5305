// The Kubernetes objects around Envoy: what each one guarantees on a real cluster.
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { EdgeConfig, EdgeConfigInput } from '../config/schema';
import { shutdownTiming } from '../envoy/pod';
import { configWith, findObject, type K8sObject, synthEnvoyEdge } from './helpers';

const synthEdge = (config: EdgeConfig = configWith()): K8sObject[] => synthEnvoyEdge(config);

const objects = synthEdge();
const deployment = findObject(objects, 'Deployment', 'envoy-proxy');
const podSpec = deployment.spec.template.spec;
const envoy = podSpec.containers[0];
const argValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test('snapshot: the Envoy edge chart', () => {
  expect(objects).toMatchSnapshot();
});

describe('namespace and identity', () => {
  test('GIVEN the Envoy namespace THEN the LB controller injects readiness gates and Pod Security enforces restricted', () => {
    const ns = findObject(objects, 'Namespace', 'envoy-proxy');
    expect(ns.metadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('GIVEN a different namespace in the config THEN every namespaced Envoy object moves there', () => {
    const moved = synthEdge(configWith({ envoy: { namespace: 'edge' } }));
    const envoyObjects = moved.filter((o) => o.kind !== 'Namespace' && o.metadata.name !== 'envoy-poc-app-server-service');
    for (const o of envoyObjects) expect(o.metadata.namespace).toBe('edge');
  });

  test('GIVEN the Envoy service account THEN no API token is mounted', () => {
    expect(findObject(objects, 'ServiceAccount', 'envoy-proxy').automountServiceAccountToken).toBe(false);
    expect(podSpec.automountServiceAccountToken).toBe(false);
  });
});

describe('deployment', () => {
  test('GIVEN the defaults THEN 2 replicas labelled app: envoy-proxy run a pinned, supported Envoy release', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'envoy-proxy' });
    expect(envoy.image).toMatch(/^envoyproxy\/envoy:v1\.(3[6-9]|[4-9]\d)\.\d+$/);
  });

  test('GIVEN a 250m CPU limit THEN Envoy runs 1 worker, without hot restart, with an explicit drain time', () => {
    expect(argValue(envoy.args, '--concurrency')).toBe('1');
    expect(envoy.args).toContain('--disable-hot-restart');
    expect(argValue(envoy.args, '--drain-time-s')).toBe('15');
  });

  test('GIVEN the pod limits THEN it gets 250m CPU and 256Mi, with requests', () => {
    expect(envoy.resources.limits).toMatchObject({ cpu: '250m', memory: '256Mi' });
    expect(envoy.resources.requests).toMatchObject({ cpu: '250m', memory: '256Mi' });
    expect(envoy.resources.limits['ephemeral-storage']).toBe(envoy.resources.requests['ephemeral-storage']);
  });

  test('GIVEN the restricted Pod Security level THEN Envoy runs as uid 1000 with a read-only root and no privileges', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(envoy.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  test('GIVEN the probes THEN liveness and readiness both GET /ready on the port that serves 9901', () => {
    const readyPort = envoy.ports.find((p: any) => p.containerPort === 9901);
    for (const probe of [envoy.livenessProbe, envoy.readinessProbe]) {
      expect(probe.httpGet.path).toBe('/ready');
      expect(probe.httpGet.port).toBe(readyPort.name);
    }
  });

  test('GIVEN a change to the static bootstrap THEN the pod template changes, so the pods roll', () => {
    const hashOf = (objs: K8sObject[]) => findObject(objs, 'Deployment').spec.template.metadata.annotations['envoy-edge/bootstrap-sha256'];
    const mounted = findObject(objects, 'ConfigMap', 'envoy-proxy-bootstrap').data['envoy.yaml'];
    expect(hashOf(objects)).toBe(createHash('sha256').update(mounted).digest('hex'));
    expect(hashOf(synthEdge(configWith({ envoy: { connectionIdleTimeout: '2h' } })))).not.toBe(hashOf(objects));
  });

  const deploymentOf = (objs: K8sObject[]) => findObject(objs, 'Deployment');
  const liveOf = (objs: K8sObject[]) => findObject(objs, 'ConfigMap', 'envoy-proxy-live').data;

  test.each([
    ['envoy.image', { envoy: { image: 'envoyproxy/envoy:v1.40.1' } }],
    ['envoy.resources.memoryLimit', { envoy: { resources: { memoryLimit: '512Mi', memoryRequest: '256Mi' } } }],
  ] as [string, EdgeConfigInput][])('GIVEN %s changed THEN the pod template changes, so the pods roll', (_field, change) => {
    expect(deploymentOf(synthEdge(configWith(change))).spec.template).not.toEqual(deploymentOf(objects).spec.template);
  });

  test('GIVEN the live ConfigMap THEN it is mounted as a directory of its own (a subPath mount never updates)', () => {
    const mount = envoy.volumeMounts.find((m: any) => m.name === 'live');
    expect(mount).toEqual({ name: 'live', mountPath: '/etc/envoy-live', readOnly: true });
    expect(podSpec.volumes.find((v: any) => v.name === 'live')).toEqual({ name: 'live', configMap: { name: 'envoy-proxy-live' } });
    expect(Object.keys(liveOf(objects)).sort()).toEqual(['clusters.yaml', 'routes.yaml', 'runtime.yaml']);
    for (const [file, text] of Object.entries(liveOf(objects) as Record<string, string>)) {
      const response = parseYaml(text);
      expect({ file, version: response.version_info }).toEqual({ file, version: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect(response.resources).toHaveLength(1);
    }
  });

  test('GIVEN the ConfigMap THEN it holds the bootstrap Envoy reads from its --config-path', () => {
    const mounted = parseYaml(findObject(objects, 'ConfigMap', 'envoy-proxy-bootstrap').data['envoy.yaml']);
    expect(mounted.admin.address.socket_address.address).toBe('127.0.0.1');
    const mount = envoy.volumeMounts.find((m: any) => m.name === 'bootstrap');
    expect(argValue(envoy.args, '--config-path')).toBe(`${mount.mountPath}/envoy.yaml`);
  });

  test('GIVEN several zones and nodes THEN replicas are spread across both', () => {
    const keys = podSpec.topologySpreadConstraints.map((c: any) => c.topologyKey);
    expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  });

  test('GIVEN a rollout THEN a pod keeps serving until the ALB has drained it, and is killed only after that', () => {
    for (const delay of [0, 120, 900]) {
      const config = configWith({ alb: { deregistrationDelaySeconds: delay } });
      const timing = shutdownTiming(config);
      const pod = findObject(synthEdge(config), 'Deployment').spec.template.spec;
      const sleep = Number(pod.containers[0].lifecycle.preStop.exec.command[1]);
      expect(sleep).toBe(timing.preStopSleepSeconds);
      expect(sleep).toBeGreaterThan(delay); // the ALB closes its WebSockets before Envoy gets SIGTERM
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + timing.drainSeconds);
    }
  });

  test('GIVEN 2 replicas THEN a rollout replaces one pod at a time, and a replacement counts as available only once the pod before it has surely gone', () => {
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(deployment.spec.minReadySeconds).toBe(podSpec.terminationGracePeriodSeconds);
  });

  test('GIVEN 1 replica THEN a rollout starts the new pod first, so the edge keeps serving', () => {
    const single = findObject(synthEdge(configWith({ envoy: { replicas: 1 } })), 'Deployment').spec;
    expect(single.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(single.minReadySeconds).toBeUndefined();
  });
});

describe('services', () => {
  test('GIVEN envoy-proxy-service THEN port 80 reaches the unprivileged listener port', () => {
    const service = findObject(objects, 'Service', 'envoy-proxy-service');
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 'websocket' })]);
    expect(envoy.ports.find((p: any) => p.name === 'websocket').containerPort).toBe(8080);
  });

  test('GIVEN the backend THEN a headless Service selects its pods, so DNS returns each pod', () => {
    const headless = findObject(objects, 'Service', 'envoy-poc-app-server-service');
    expect(headless.metadata.namespace).toBe('default');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.selector).toEqual({ app: 'envoy-poc-app-server' });
    expect(headless.spec.ports.map((p: any) => p.port)).toEqual([8080, 8081]);
  });
});

describe('peers Service (the members of the fleet rate limit)', () => {
  const peers = findObject(objects, 'Service', 'envoy-proxy-peers');

  test('GIVEN the Envoy pods THEN a headless Service lists the ready ones only', () => {
    expect(peers.spec.clusterIP).toBe('None');
    expect(peers.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(peers.spec.publishNotReadyAddresses).toBe(false);
  });

  test('GIVEN the peers Service THEN it opens no port the NetworkPolicy does not already admit, and the Ingress never routes to it', () => {
    const policy = findObject(objects, 'NetworkPolicy', 'envoy-proxy');
    const admitted = policy.spec.ingress.flatMap((rule: any) => rule.ports.map((p: any) => p.port));
    const targets = peers.spec.ports.map((p: any) => envoy.ports.find((c: any) => c.name === p.targetPort).containerPort);
    expect(targets).toEqual([9901]);
    for (const port of targets) expect(admitted).toContain(port);
    const ingress = findObject(objects, 'Ingress', 'envoy-proxy-ingress');
    expect(JSON.stringify(ingress.spec)).not.toContain('envoy-proxy-peers');
  });
});

describe('ingress', () => {
  const ingress = findObject(objects, 'Ingress', 'envoy-proxy-ingress');
  const annotations = ingress.metadata.annotations;

  test('GIVEN the Ingress THEN the LB controller makes an internet-facing ALB sending HTTP/1 to pod IPs', () => {
    expect(ingress.spec.ingressClassName).toBe('alb');
    expect(annotations['alb.ingress.kubernetes.io/scheme']).toBe('internet-facing');
    expect(annotations['alb.ingress.kubernetes.io/target-type']).toBe('ip');
    expect(annotations['alb.ingress.kubernetes.io/backend-protocol-version']).toBe('HTTP1');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'envoy-proxy-service', port: { number: 80 } });
  });

  test('GIVEN the ALB health check THEN it GETs /ready on 9901 and expects 200', () => {
    expect(annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/ready');
    expect(annotations['alb.ingress.kubernetes.io/healthcheck-port']).toBe('9901');
    expect(annotations['alb.ingress.kubernetes.io/success-codes']).toBe('200');
  });

  test('GIVEN WebSockets THEN the ALB idle timeout is 3600 s by default and follows the config, and the ALB drops invalid header fields', () => {
    expect(annotations['alb.ingress.kubernetes.io/load-balancer-attributes']).toBe(
      'idle_timeout.timeout_seconds=3600,routing.http.drop_invalid_header_fields.enabled=true',
    );
    const custom = findObject(synthEdge(configWith({ alb: { idleTimeoutSeconds: 1800 } })), 'Ingress');
    expect(custom.metadata.annotations['alb.ingress.kubernetes.io/load-balancer-attributes']).toContain('idle_timeout.timeout_seconds=1800');
  });

  test('GIVEN a certificate THEN HTTPS on 443 with a TLS 1.2+ policy by default (the configured one when set), a redirect from 80; and a WAF web ACL when given', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc-123';
    const waf = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/0123abcd-4567-89ef-0123-456789abcdef';
    const tls = findObject(synthEdge(configWith({ alb: { certificateArn: arn, allowPlainHttp: false, wafAclArn: waf } })), 'Ingress').metadata.annotations;
    expect(tls['alb.ingress.kubernetes.io/listen-ports']).toBe('[{"HTTP":80},{"HTTPS":443}]');
    expect(tls['alb.ingress.kubernetes.io/ssl-redirect']).toBe('443');
    expect(tls['alb.ingress.kubernetes.io/ssl-policy']).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
    expect(tls['alb.ingress.kubernetes.io/wafv2-acl-arn']).toBe(waf);
    const other = findObject(synthEdge(configWith({ alb: { certificateArn: arn, sslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' } })), 'Ingress');
    expect(other.metadata.annotations['alb.ingress.kubernetes.io/ssl-policy']).toBe('ELBSecurityPolicy-TLS13-1-3-2021-06');
    expect(annotations['alb.ingress.kubernetes.io/wafv2-acl-arn']).toBeUndefined();
  });

  test('GIVEN no certificate THEN the ALB listens on HTTP 80 only', () => {
    expect(annotations['alb.ingress.kubernetes.io/listen-ports']).toBe('[{"HTTP":80}]');
    expect(annotations['alb.ingress.kubernetes.io/certificate-arn']).toBeUndefined();
  });

  test('GIVEN an ACM certificate THEN the ALB serves HTTPS on 443 and redirects 80 to it', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';
    const https = findObject(synthEdge(configWith({ alb: { certificateArn: arn } })), 'Ingress').metadata.annotations;
    expect(https['alb.ingress.kubernetes.io/certificate-arn']).toBe(arn);
    expect(JSON.parse(https['alb.ingress.kubernetes.io/listen-ports'])).toEqual([{ HTTP: 80 }, { HTTPS: 443 }]);
    expect(https['alb.ingress.kubernetes.io/ssl-redirect']).toBe('443');
  });
});

describe('availability and network', () => {
  test('GIVEN voluntary disruptions THEN at least one Envoy stays up', () => {
    const pdb = findObject(objects, 'PodDisruptionBudget', 'envoy-proxy');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual({ app: 'envoy-proxy' });
  });

  test("GIVEN the NetworkPolicy THEN only the ALB's subnets reach the proxy port, and only they and the control plane reach 9901 (the VPC by default)", () => {
    const policy = findObject(objects, 'NetworkPolicy', 'envoy-proxy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 9901 }] },
    ]);
    const custom = findObject(
      synthEdge(configWith({ alb: { allowedCidrs: ['10.0.1.0/24', '10.0.2.0/24'] }, cluster: { controlPlaneCidrs: ['10.0.64.0/18'] } })),
      'NetworkPolicy',
      'envoy-proxy',
    );
    expect(custom.spec.ingress[0]).toEqual({
      from: [{ ipBlock: { cidr: '10.0.1.0/24' } }, { ipBlock: { cidr: '10.0.2.0/24' } }],
      ports: [{ protocol: 'TCP', port: 8080 }],
    });
    expect(custom.spec.ingress[1].from).toEqual(['10.0.1.0/24', '10.0.2.0/24', '10.0.64.0/18'].map((cidr) => ({ ipBlock: { cidr } })));
  });

  test('GIVEN the namespace THEN a default-deny policy covers every pod no other policy admits', () => {
    expect(findObject(objects, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  test('GIVEN the NetworkPolicy THEN Envoy may only send DNS queries and traffic to the backend ports', () => {
    const egress = findObject(objects, 'NetworkPolicy', 'envoy-proxy').spec.egress;
    const ports = egress.flatMap((rule: any) => rule.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
    expect(ports).toEqual(['TCP/53', 'TCP/8080', 'TCP/8081', 'UDP/53']);
    expect(egress[1].to[0].podSelector.matchLabels).toEqual({ app: 'envoy-poc-app-server' });
  });
});

describe('linter exceptions', () => {
  test("GIVEN any object that skips a linter check THEN the check is named in the linter's own annotation with a reason", () => {
    const skipped = objects.filter((o) => o.metadata.annotations?.['kube-score/ignore']);
    expect(skipped.map((o) => o.metadata.name).sort()).toEqual(['envoy-poc-app-server-service', 'envoy-proxy']);
    for (const o of skipped) {
      for (const check of o.metadata.annotations['kube-score/ignore'].split(',')) {
        expect(o.metadata.annotations[`kube-score-reason.envoy-edge/${check}`]).toMatch(/^.{20,}$/);
      }
    }
    expect(deployment.metadata.annotations['ignore-check.kube-linter.io/no-anti-affinity']).toMatch(/hostname/);
  });
});
