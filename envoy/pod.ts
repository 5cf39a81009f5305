// The Envoy pod: everything that rolls the pods when it changes, decided here from the config (the
// container's arguments, its resources and security, the shutdown timing that lets the ALB drain a
// pod, the rollout strategy). A pure builder; charts/envoy-edge.ts places what it returns.
import { createHash } from 'node:crypto';
// The 1.28 bindings alone: the rest of cdk8s-plus is not used, and loading it costs synth time.
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import { rolloutSurge } from '../config/rules';
import type { EdgeConfig } from '../config/schema';
import { EDGE_NAMES } from '../k8s/names';
import { workerConcurrency } from './limits';
import { LIVE_DIR } from './live';
import { ENVOY_NAMES } from './names';

export const BOOTSTRAP_HASH_ANNOTATION = 'envoy-edge/bootstrap-sha256';

/** Envoy writes no files (read-only root, /tmp in memory): container logs are all it uses on the node's disk. */
const EPHEMERAL_STORAGE = '64Mi';

/** Seconds the LB controller may take to deregister a terminating pod before the ALB starts draining it. */
const DEREGISTRATION_PROPAGATION_SECONDS = 15;

/** The labels every Envoy pod carries; the Services, the PodDisruptionBudget and the NetworkPolicy select on them. */
export const ENVOY_POD_LABELS: Readonly<Record<string, string>> = { app: EDGE_NAMES.app };

/** A voluntary eviction (a node drain) never takes the last serving Envoy pod. */
export function disruptionBudget(): k8s.PodDisruptionBudgetSpec {
  return { minAvailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: ENVOY_POD_LABELS } };
}

/** How a pod leaves the ALB without cutting WebSockets before the ALB itself closes them. */
export interface ShutdownTiming {
  /** preStop sleep: the ALB's deregistration delay plus the controller's propagation time. */
  readonly preStopSleepSeconds: number;
  readonly drainSeconds: number;
  /** preStop + drain + a margin for Envoy to exit; the kubelet kills the pod after this. */
  readonly terminationGracePeriodSeconds: number;
}

export interface ShutdownTimingInput {
  readonly alb: Pick<EdgeConfig['alb'], 'deregistrationDelaySeconds'>;
  readonly envoy: Pick<EdgeConfig['envoy'], 'drainTime'>;
}

export function shutdownTiming(config: ShutdownTimingInput): ShutdownTiming {
  const preStopSleepSeconds = config.alb.deregistrationDelaySeconds + DEREGISTRATION_PROPAGATION_SECONDS;
  const drainSeconds = Math.ceil(config.envoy.drainTime / 1000);
  return { preStopSleepSeconds, drainSeconds, terminationGracePeriodSeconds: preStopSleepSeconds + drainSeconds + 5 };
}

export type EnvoyArgsInput = ShutdownTimingInput & { readonly envoy: Parameters<typeof workerConcurrency>[0] };

export function envoyArgs(config: EnvoyArgsInput): string[] {
  const concurrency = workerConcurrency(config.envoy);
  return [
    '--config-path',
    `${EDGE_NAMES.bootstrapDir}/${EDGE_NAMES.bootstrapFile}`,
    // One worker per whole CPU of the limit (250m gives 1); Envoy's default is one per host core.
    '--concurrency',
    String(concurrency),
    // Hot restart needs shared memory and a restarter process; Kubernetes replaces pods instead.
    '--disable-hot-restart',
    '--drain-time-s',
    String(shutdownTiming(config).drainSeconds),
    '--log-level',
    'info',
  ];
}

/**
 * How pods are replaced. The connection caps are split per replica, and Kubernetes does not count a
 * terminating pod (it keeps its WebSockets through preStop) against the rollout's limits. So with two
 * or more replicas one pod leaves at a time, and its replacement counts as available only after a
 * whole termination grace period, by when the pod before it has gone: at most one leaving pod holds
 * connections beside the serving ones (docs/behaviour.md, "Rollout", has the arithmetic). A single replica must
 * surge, or it would serve nothing while it is replaced.
 */
export type RolloutInput = ShutdownTimingInput & { readonly envoy: Pick<EdgeConfig['envoy'], 'replicas'> };

export function rolloutStrategy(config: RolloutInput): Pick<k8s.DeploymentSpec, 'strategy' | 'minReadySeconds'> {
  const surge = rolloutSurge(config.envoy.replicas);
  return {
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: {
        maxSurge: k8s.IntOrString.fromNumber(surge),
        maxUnavailable: k8s.IntOrString.fromNumber(surge ? 0 : 1),
      },
    },
    minReadySeconds: surge ? undefined : shutdownTiming(config).terminationGracePeriodSeconds,
  };
}

export type PodTemplateInput = EnvoyArgsInput & {
  readonly envoy: Pick<EdgeConfig['envoy'], 'image' | 'listenerPort' | 'readyPort' | 'runAsUser' | 'resources'>;
};

/**
 * The Envoy pod template: everything that rolls the pods when it changes. A pure function of the
 * config and the static bootstrap text (the live ConfigMap is mounted, never hashed in).
 */
export function envoyPodTemplate(config: PodTemplateInput, bootstrapText: string): k8s.PodTemplateSpec {
  const { envoy } = config;
  const podLabels = ENVOY_POD_LABELS;
  const timing = shutdownTiming(config);
  const readyProbe = (periodSeconds: number, failureThreshold: number): k8s.Probe => ({
    httpGet: { path: ENVOY_NAMES.readyPath, port: k8s.IntOrString.fromString('ready') },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  const spread = (topologyKey: string, whenUnsatisfiable: string): k8s.TopologySpreadConstraint => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable,
    labelSelector: { matchLabels: podLabels },
  });
  return {
    metadata: {
      labels: podLabels,
      // A change of the static bootstrap changes this hash, which rolls the pods; the live ConfigMap is not in it.
      annotations: { [BOOTSTRAP_HASH_ANNOTATION]: createHash('sha256').update(bootstrapText).digest('hex') },
    },
    spec: {
      serviceAccountName: EDGE_NAMES.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: timing.terminationGracePeriodSeconds,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: envoy.runAsUser,
        runAsGroup: envoy.runAsUser,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      topologySpreadConstraints: [spread('topology.kubernetes.io/zone', 'ScheduleAnyway'), spread('kubernetes.io/hostname', 'DoNotSchedule')],
      containers: [
        {
          name: 'envoy',
          image: envoy.image,
          imagePullPolicy: 'IfNotPresent',
          args: envoyArgs(config),
          ports: [
            { name: 'websocket', containerPort: envoy.listenerPort, protocol: 'TCP' },
            { name: 'ready', containerPort: envoy.readyPort, protocol: 'TCP' },
          ],
          resources: {
            limits: {
              cpu: k8s.Quantity.fromString(envoy.resources.cpuLimit.text),
              memory: k8s.Quantity.fromString(envoy.resources.memoryLimit.text),
              'ephemeral-storage': k8s.Quantity.fromString(EPHEMERAL_STORAGE),
            },
            requests: {
              cpu: k8s.Quantity.fromString(envoy.resources.cpuRequest.text),
              memory: k8s.Quantity.fromString(envoy.resources.memoryRequest.text),
              'ephemeral-storage': k8s.Quantity.fromString(EPHEMERAL_STORAGE),
            },
          },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: envoy.runAsUser,
            runAsGroup: envoy.runAsUser,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          readinessProbe: readyProbe(5, 2),
          livenessProbe: readyProbe(10, 3),
          lifecycle: {
            // Keep serving while the ALB drains this target; it closes the WebSockets it still holds
            // when deregistration_delay ends, and only then does Envoy get SIGTERM.
            preStop: { exec: { command: ['sleep', String(timing.preStopSleepSeconds)] } },
          },
          volumeMounts: [
            { name: 'bootstrap', mountPath: EDGE_NAMES.bootstrapDir, readOnly: true },
            // Its own volume, not a subPath: subPath mounts never see the kubelet's updates.
            { name: 'live', mountPath: LIVE_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'bootstrap', configMap: { name: EDGE_NAMES.bootstrapConfigMap } },
        { name: 'live', configMap: { name: EDGE_NAMES.liveConfigMap } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
      ],
    },
  };
}
