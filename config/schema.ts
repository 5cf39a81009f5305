// The configuration schema: the single source of truth for every name, port and limit.
// Each field's default is the seed's value, so `config/default.yaml` may stay almost empty.
// Each rule's message says what is allowed; `formatConfigIssues` adds the field and the value.
import { z } from 'zod';
import { checkLbControllerValues } from '../charts/lb-controller-values';

// ---------------------------------------------------------------- field kinds

const int = (min: number, max: number) =>
  z
    .number({ error: `an integer from ${min} to ${max}` })
    .int({ error: `an integer from ${min} to ${max}` })
    .min(min, { error: `an integer from ${min} to ${max}` })
    .max(max, { error: `an integer from ${min} to ${max}` });

const port = () => int(1, 65535);

const matching = (re: RegExp, allowed: string) =>
  z.string({ error: allowed }).regex(re, { error: allowed });

// RFC 1123 label: namespaces and Service names.
const dnsLabel = () =>
  matching(
    /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'a DNS-1123 label: 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit',
  );

const labelValue = () =>
  matching(
    /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    'a label value: 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  );

const labelKey = () =>
  matching(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'a label key: an optional DNS prefix and "/", then 1-63 letters, digits, "-", "_" or "."',
  );

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** A duration such as "500ms", "5s", "10m" or "1h"; parsed to milliseconds. */
const duration = (minMs: number, maxMs: number) => {
  const allowed = `a duration such as 500ms, 5s, 10m or 1h, from ${formatMs(minMs)} to ${formatMs(maxMs)}`;
  return matching(/^\d+(ms|s|m|h)$/, allowed)
    .transform((text) => {
      const [, amount, unit] = /^(\d+)(ms|s|m|h)$/.exec(text)!;
      return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    })
    .refine((ms) => ms >= minMs && ms <= maxMs, { error: allowed });
};

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const CPU_ALLOWED = 'a CPU quantity such as 250m, 0.5 or 1 (at least 10m)';
/** Kubernetes CPU quantity; parsed to millicores, kept as written for the manifest. */
const cpu = () =>
  matching(/^(\d+m|\d+(\.\d{1,3})?)$/, CPU_ALLOWED)
    .transform((text) => ({
      text,
      millicores: text.endsWith('m') ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000),
    }))
    .refine((q) => q.millicores >= 10, { error: CPU_ALLOWED });

const MEMORY_UNITS = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 } as const;
const MEMORY_ALLOWED = 'a memory quantity such as 256Mi or 1Gi (units Ki, Mi, Gi, K, M, G; at least 64Mi)';
/** Kubernetes memory quantity; parsed to bytes, kept as written for the manifest. */
const memory = () =>
  matching(/^\d+(Ki|Mi|Gi|K|M|G)$/, MEMORY_ALLOWED)
    .transform((text) => {
      const [, amount, unit] = /^(\d+)(Ki|Mi|Gi|K|M|G)$/.exec(text)!;
      return { text, bytes: Number(amount) * MEMORY_UNITS[unit as keyof typeof MEMORY_UNITS] };
    })
    .refine((q) => q.bytes >= 64 * 2 ** 20, { error: MEMORY_ALLOWED });

const CIDR_ALLOWED = 'an IPv4 CIDR such as 10.0.0.0/16 (four octets 0-255, prefix 0-32, no host bits set)';
const cidr = () =>
  matching(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, CIDR_ALLOWED).refine(isCanonicalIpv4Cidr, { error: CIDR_ALLOWED });

function isCanonicalIpv4Cidr(text: string): boolean {
  const [address, prefixText] = text.split('/');
  const octets = address.split('.').map(Number);
  const prefix = Number(prefixText);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  return value % hostBits === 0;
}

const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

// ---------------------------------------------------------------- the schema

const clusterSchema = z.strictObject({
  /** EKS cluster name, shared by the controller's Helm values and the eksctl file. */
  name: matching(
    /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/,
    'an EKS cluster name: 1-100 letters, digits, "-" or "_", starting with a letter or digit',
  ).prefault('envoy-poc'),
  region: matching(
    /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$/,
    'an AWS region such as us-east-1 or eu-central-1',
  ).prefault('us-east-1'),
  vpcId: matching(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, 'a VPC id: "vpc-" and 8 or 17 lowercase hex digits').prefault(
    'vpc-0123456789abcdef0',
  ),
  vpcCidr: cidr().prefault('10.0.0.0/16'),
});

const backendSchema = z.strictObject({
  /** The headless Service we create so Envoy resolves every backend pod by DNS. */
  serviceName: dnsLabel().prefault('envoy-poc-app-server-service'),
  namespace: dnsLabel().prefault('default'),
  /** Labels of the WebSocket server's pods (deployed elsewhere). */
  selector: z
    .record(labelKey(), labelValue(), { error: 'a map of label keys to label values' })
    .refine((m) => Object.keys(m).length > 0, { error: 'at least one label' })
    .prefault({}),
  port: port().prefault(8080),
  healthPort: port().prefault(8081),
  healthPath: matching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'an absolute URL path such as /health').prefault(
    '/health',
  ),
  /** How many backend pods run; the per-pod cap times this is the most the backend can take. */
  pods: int(1, 1000).prefault(4),
});

const rateLimitSchema = z.strictObject({
  /** Fleet-wide bucket size: the burst of new WebSocket upgrades the whole Envoy fleet admits. */
  maxTokens: int(1, 1_000_000).prefault(10),
  /** Fleet-wide tokens added every fillInterval. Envoy's TokenBucket rule (> 0) is checked by the Envoy validator. */
  tokensPerFill: int(0, 1_000_000).prefault(1),
  fillInterval: duration(50, 3_600_000).prefault('1s'),
});

const connectionsSchema = z.strictObject({
  /** Fleet-wide cap on backend connections, split evenly across Envoy replicas. */
  maxTotal: int(1, 1_000_000).prefault(8),
  /** Fleet-wide cap per backend pod, split evenly across Envoy replicas. */
  maxPerBackendPod: int(1, 1_000_000).prefault(2),
  /** How long a new upgrade may wait for a free backend slot before it is refused with 503. */
  queueTimeout: duration(1000, 60_000).prefault('5s'),
});

const healthCheckSchema = z.strictObject({
  interval: duration(1000, 300_000).prefault('5s'),
  timeout: duration(100, 60_000).prefault('2s'),
  healthyThreshold: int(1, 10).prefault(2),
  unhealthyThreshold: int(1, 10).prefault(3),
  /** Interval used while no traffic has gone to the cluster yet. Envoy's rule (> 0) is checked by the Envoy validator. */
  noTrafficInterval: duration(0, 300_000).prefault('10s'),
});

const envoySchema = z.strictObject({
  namespace: dnsLabel().prefault('envoy-proxy'),
  image: matching(
    /^[a-z0-9]+([._/-][a-z0-9]+)*(:v?\d+\.\d+\.\d+|@sha256:[a-f0-9]{64})$/,
    'an image pinned to an exact release (…:v1.40.0) or a sha256 digest; "latest" tags are not allowed',
  ).prefault('envoyproxy/envoy:v1.40.0'),
  replicas: int(1, 20).prefault(2),
  resources: z
    .strictObject({
      cpuLimit: cpu().prefault('250m'),
      memoryLimit: memory().prefault('256Mi'),
      cpuRequest: cpu().prefault('250m'),
      memoryRequest: memory().prefault('256Mi'),
    })
    .prefault({}),
  /** Unprivileged port Envoy's WebSocket listener binds (uid 1000 cannot bind 80). */
  listenerPort: int(1024, 65535).prefault(8080),
  /** Readiness and read-only admin pages for probes and the ALB health check. */
  readyPort: int(1024, 65535).prefault(9901),
  /** Envoy's admin interface, bound to 127.0.0.1 only. */
  adminPort: int(1024, 65535).prefault(19000),
  runAsUser: int(1, 2_147_483_647).prefault(1000),
  /** Idle time after which an open stream (a WebSocket) is closed; at least the ALB idle timeout. */
  streamIdleTimeout: duration(1000, 86_400_000).prefault('1h'),
  /** Idle time after which a downstream connection with no streams is closed. */
  connectionIdleTimeout: duration(1000, 86_400_000).prefault('1h'),
  /** The most a plain HTTP request (not an upgrade) may take, a wait for a backend slot included; then 504. */
  plainHttpTimeout: duration(1000, 3_600_000).prefault('15s'),
  /** How long Envoy drains listeners when asked to drain. */
  drainTime: duration(1000, 600_000).prefault('15s'),
  /** Fleet-wide cap on client connections, split across replicas (rounded down), enforced by the overload manager. */
  maxDownstreamConnections: int(1, 10_000_000).prefault(10_000),
  rateLimit: rateLimitSchema.prefault({}),
  connections: connectionsSchema.prefault({}),
  healthCheck: healthCheckSchema.prefault({}),
  /** How often Envoy re-resolves the headless Service to follow backend pods. */
  dnsRefreshRate: duration(1000, 300_000).prefault('5s'),
});

const albSchema = z.strictObject({
  scheme: z.enum(['internet-facing', 'internal'], { error: 'internet-facing or internal' }).prefault('internet-facing'),
  /** ALB idle timeout; the ALB default of 60 s drops idle WebSockets. */
  idleTimeoutSeconds: int(1, 4000).prefault(3600),
  /** How long the ALB keeps a deregistering target's open connections; the pod shutdown waits this long. */
  deregistrationDelaySeconds: int(0, 3600).prefault(120),
  /** ACM certificate ARN; when set, the ALB serves HTTPS on 443 and redirects 80 to it. */
  certificateArn: matching(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    'an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/…',
  ).optional(),
  /** Client CIDRs the NetworkPolicy admits to Envoy; default: the VPC CIDR (the ALB lives there). */
  allowedCidrs: z.array(cidr(), { error: 'a list of IPv4 CIDRs' }).min(1, { error: 'at least one CIDR' }).optional(),
});

const lbControllerSchema = z.strictObject({
  /** Exact chart version of aws-load-balancer-controller from the eks-charts repository. */
  chartVersion: matching(EXACT_VERSION, 'an exact chart version such as 3.5.0 (no ranges, no "latest")').prefault(
    '3.5.0',
  ),
  releaseName: dnsLabel().prefault('aws-load-balancer-controller'),
  /** The service account eksctl creates (IRSA) and the chart uses (serviceAccount.create: false). */
  serviceAccountName: dnsLabel().prefault('aws-load-balancer-controller'),
  replicas: int(1, 10).prefault(2),
  /** Let cert-manager (already installed) issue the webhook certificate instead of the chart. */
  certManager: z.boolean({ error: 'true or false' }).prefault(false),
  /** How the controller gets AWS credentials: IRSA (eksctl iam.serviceAccounts) or EKS Pod Identity. */
  identity: z.enum(['irsa', 'podIdentity'], { error: 'irsa or podIdentity' }).prefault('irsa'),
  /** Extra chart values; keys this project sets itself are refused. */
  values: z.record(z.string(), z.unknown(), { error: 'a map of chart values' }).prefault({}),
});

const gitopsSchema = z.strictObject({
  /** The team's Git repository that holds this project; Argo CD syncs dist/ from it. */
  repoURL: matching(
    /^(https:\/\/[^\s]+|ssh:\/\/[^\s]+|git@[^\s:]+:[^\s]+)$/,
    'a Git URL: https://…, ssh://… or git@host:org/repo.git',
  ).prefault('https://github.com/example-org/envoy-websocket-edge.git'),
  targetRevision: matching(/^[A-Za-z0-9._\/-]{1,200}$/, 'a branch, tag or commit such as main').prefault('main'),
  /** Path of the synthesized manifests inside the repository. */
  path: matching(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path such as dist').prefault('dist'),
  argocdNamespace: dnsLabel().prefault('argocd'),
  project: dnsLabel().prefault('envoy-edge'),
});

export const configSchema = z
  .strictObject({
    cluster: clusterSchema.prefault({}),
    backend: backendSchema.prefault({
      serviceName: 'envoy-poc-app-server-service',
      namespace: 'default',
      selector: { app: 'envoy-poc-app-server' },
      port: 8080,
      healthPort: 8081,
      healthPath: '/health',
      pods: 4,
    }),
    envoy: envoySchema.prefault({}),
    alb: albSchema.prefault({}),
    lbController: lbControllerSchema.prefault({}),
    gitops: gitopsSchema.prefault({}),
  });

export type EdgeConfigInput = z.input<typeof configSchema>;
export type EdgeConfig = z.output<typeof configSchema>;

/** Validates raw config data; throws a ConfigError naming every bad field, its value and what is allowed. */
export function parseConfig(raw: unknown): EdgeConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) throw new ConfigError(formatConfigIssues(result.error.issues));
  const crossFieldProblems = checkCrossFieldRules(result.data);
  if (crossFieldProblems.length) throw new ConfigError(crossFieldProblems);
  return result.data;
}

/** Rules that involve more than one field; each names the field it blames. Runs on a well-typed config. */
function checkCrossFieldRules(config: EdgeConfig): string[] {
  const { envoy, backend } = config;
  const problems: string[] = [];
  const blame = (path: string[], input: unknown, allowed: string) =>
    problems.push(`${path.join('.')}: got ${describeValue(input)}; allowed: ${allowed}`);
  const replicas = envoy.replicas;

  if (envoy.connections.maxTotal % replicas !== 0) {
    blame(['envoy', 'connections', 'maxTotal'], envoy.connections.maxTotal,
      `a multiple of envoy.replicas (${replicas}), so each replica gets an equal whole share`);
  }
  if (envoy.connections.maxPerBackendPod % replicas !== 0) {
    blame(['envoy', 'connections', 'maxPerBackendPod'], envoy.connections.maxPerBackendPod,
      `a multiple of envoy.replicas (${replicas}), so each replica gets an equal whole share`);
  }
  if (envoy.connections.maxPerBackendPod > envoy.connections.maxTotal) {
    blame(['envoy', 'connections', 'maxPerBackendPod'], envoy.connections.maxPerBackendPod,
      `at most envoy.connections.maxTotal (${envoy.connections.maxTotal})`);
  }
  const mostReplicas = replicas + rolloutSurge(replicas);
  if (envoy.rateLimit.maxTokens < mostReplicas) {
    blame(['envoy', 'rateLimit', 'maxTokens'], envoy.rateLimit.maxTokens,
      `at least ${mostReplicas}, the most Envoy replicas that run at once (envoy.replicas ${replicas}` +
        `${mostReplicas > replicas ? ' plus one during a rollout' : ''}): each replica's share of the fleet bucket must hold a whole token`);
  }
  if (envoy.maxDownstreamConnections < replicas) {
    blame(['envoy', 'maxDownstreamConnections'], envoy.maxDownstreamConnections,
      `at least envoy.replicas (${replicas}), so each replica accepts at least one client connection`);
  }
  const ports = { listenerPort: envoy.listenerPort, readyPort: envoy.readyPort, adminPort: envoy.adminPort };
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(ports)) {
    const other = seen.get(value);
    if (other) blame(['envoy', name], value, `a port different from envoy.${other} (${value})`);
    seen.set(value, name);
  }
  if (envoy.healthCheck.timeout >= envoy.healthCheck.interval) {
    blame(['envoy', 'healthCheck', 'timeout'], formatMs(envoy.healthCheck.timeout),
      `shorter than envoy.healthCheck.interval (${formatMs(envoy.healthCheck.interval)})`);
  }
  if (envoy.resources.cpuRequest.millicores > envoy.resources.cpuLimit.millicores) {
    blame(['envoy', 'resources', 'cpuRequest'], envoy.resources.cpuRequest.text,
      `at most envoy.resources.cpuLimit (${envoy.resources.cpuLimit.text})`);
  }
  if (envoy.resources.memoryRequest.bytes > envoy.resources.memoryLimit.bytes) {
    blame(['envoy', 'resources', 'memoryRequest'], envoy.resources.memoryRequest.text,
      `at most envoy.resources.memoryLimit (${envoy.resources.memoryLimit.text})`);
  }
  if (envoy.streamIdleTimeout < config.alb.idleTimeoutSeconds * 1000) {
    blame(['envoy', 'streamIdleTimeout'], formatMs(envoy.streamIdleTimeout),
      `at least alb.idleTimeoutSeconds (${config.alb.idleTimeoutSeconds}s), or Envoy cuts idle WebSockets the ALB keeps`);
  }
  if (backend.port === backend.healthPort) {
    blame(['backend', 'healthPort'], backend.healthPort, `a port different from backend.port (${backend.port})`);
  }
  problems.push(...checkLbControllerValues(config));
  return problems;
}

/**
 * Extra replicas a rollout may start before an old one leaves: none when there are two or more
 * (README, "Rollout": the connection caps are split per replica), one for a single replica.
 */
export function rolloutSurge(replicas: number): number {
  return replicas === 1 ? 1 : 0;
}

// ---------------------------------------------------------------- errors

/** Thrown for an invalid config; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatConfigIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const field = issue.path.length ? formatPath(issue.path) : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${field}.` : '';
      const allowed = allowedKeysAt(issue.path);
      return issue.keys
        .map((key) => `${where}${key}: unknown key "${key}"; allowed keys here: ${allowed.join(', ')}`)
        .join('\n  - ');
    }
    const value = 'input' in issue ? describeValue(issue.input) : 'missing';
    return `${field}: got ${value}; allowed: ${issue.message}`;
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : `${i ? '.' : ''}${String(step)}`)).join('');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value);
}

/** The keys the schema accepts at a path, for the "unknown key" message. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = configSchema;
  for (const step of [...path, null]) {
    // Unwrap defaults, optionals and refinements until an object is reached.
    for (;;) {
      const def = (schema as z.ZodType).def as unknown as Record<string, unknown>;
      if (def.type === 'object') break;
      const inner = (def.innerType ?? def.in ?? def.schema) as z.core.$ZodType | undefined;
      if (!inner) return [];
      schema = inner;
    }
    const shape = ((schema as z.ZodType).def as unknown as { shape: Record<string, z.core.$ZodType> }).shape;
    if (step === null) return Object.keys(shape);
    schema = shape[String(step)];
    if (!schema) return [];
  }
  return [];
}
