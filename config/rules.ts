// Rules that involve more than one field. Each names the field it blames, in the one problem shape.

import { CHILD_APPLICATIONS_SUFFIX } from '../delivery/names';
import { problem } from './errors';
import { formatMs } from './kinds';
import type { EdgeConfig } from './schema';

/**
 * Extra replicas a rollout may start before an old one leaves: none with two or more, whose caps
 * are split per replica (docs/behaviour.md, "Rollout"), one for a single replica, which must surge
 * or serve nothing while it is replaced.
 */
export function rolloutSurge(replicas: number): number {
  return replicas === 1 ? 1 : 0;
}

/** Every cross-field problem of a well-typed config; empty when there is none. */
export function crossFieldProblems(config: EdgeConfig): string[] {
  const { envoy, backend } = config;
  const problems: string[] = [];
  const blame = (field: string, value: unknown, allowed: string) => problems.push(problem(field, value, allowed));
  const { replicas } = envoy;

  const evenShare = (value: number) =>
    `a multiple of envoy.replicas (${replicas}), so each replica gets an equal whole share, such as ${nearestMultiples(value, replicas).join(' or ')}`;
  if (envoy.connections.maxTotal % replicas !== 0) {
    blame('envoy.connections.maxTotal', envoy.connections.maxTotal, evenShare(envoy.connections.maxTotal));
  }
  if (envoy.connections.maxPerBackendPod % replicas !== 0) {
    blame('envoy.connections.maxPerBackendPod', envoy.connections.maxPerBackendPod, evenShare(envoy.connections.maxPerBackendPod));
  }
  if (envoy.connections.maxPerBackendPod > envoy.connections.maxTotal) {
    blame('envoy.connections.maxPerBackendPod', envoy.connections.maxPerBackendPod, `at most envoy.connections.maxTotal (${envoy.connections.maxTotal})`);
  }
  const mostReplicas = replicas + rolloutSurge(replicas);
  if (envoy.rateLimit.maxTokens < mostReplicas) {
    blame(
      'envoy.rateLimit.maxTokens',
      envoy.rateLimit.maxTokens,
      `at least ${mostReplicas}, the most Envoy replicas that run at once (envoy.replicas ${replicas}` +
        `${mostReplicas > replicas ? ' plus one during a rollout' : ''}): each replica's share of the fleet bucket must hold a whole token`,
    );
  }
  if (envoy.perClient.maxTokens < mostReplicas) {
    blame(
      'envoy.perClient.maxTokens',
      envoy.perClient.maxTokens,
      `at least ${mostReplicas}, the most Envoy replicas that run at once: Envoy shares each client's bucket over the replicas ` +
        "like the fleet's (measured), and a share below one token would refuse every upgrade",
    );
  }
  if (envoy.maxDownstreamConnections < replicas) {
    blame(
      'envoy.maxDownstreamConnections',
      envoy.maxDownstreamConnections,
      `at least envoy.replicas (${replicas}), so each replica accepts at least one client connection`,
    );
  }
  const ports = { listenerPort: envoy.listenerPort, readyPort: envoy.readyPort, adminPort: envoy.adminPort };
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(ports)) {
    const other = seen.get(value);
    if (other) blame(`envoy.${name}`, value, `a port different from envoy.${other} (${value})`);
    seen.set(value, name);
  }
  if (envoy.healthCheck.timeout >= envoy.healthCheck.interval) {
    blame(
      'envoy.healthCheck.timeout',
      formatMs(envoy.healthCheck.timeout),
      `shorter than envoy.healthCheck.interval (${formatMs(envoy.healthCheck.interval)})`,
    );
  }
  if (envoy.resources.cpuRequest.millicores > envoy.resources.cpuLimit.millicores) {
    blame('envoy.resources.cpuRequest', envoy.resources.cpuRequest.text, `at most envoy.resources.cpuLimit (${envoy.resources.cpuLimit.text})`);
  }
  if (envoy.resources.memoryRequest.bytes > envoy.resources.memoryLimit.bytes) {
    blame('envoy.resources.memoryRequest', envoy.resources.memoryRequest.text, `at most envoy.resources.memoryLimit (${envoy.resources.memoryLimit.text})`);
  }
  if (envoy.connectionIdleTimeout <= config.alb.idleTimeoutSeconds * 1000) {
    blame(
      'envoy.connectionIdleTimeout',
      formatMs(envoy.connectionIdleTimeout),
      `longer than alb.idleTimeoutSeconds (${config.alb.idleTimeoutSeconds}s): AWS requires a target to keep an idle connection open longer than the ALB, ` +
        'or the ALB may send a request on a connection Envoy is closing (a 502)',
    );
  }
  if (config.alb.scheme === 'internet-facing' && envoy.allowedOrigins === undefined) {
    blame(
      'envoy.allowedOrigins',
      undefined,
      'the origins of your web pages, such as [https://app.example.com], for an internet-facing ALB: without the list any site ' +
        'could open a WebSocket with your users\' cookies (cross-site WebSocket hijacking); ["*"] turns the check off',
    );
  }
  if (envoy.streamIdleTimeout < config.alb.idleTimeoutSeconds * 1000) {
    blame(
      'envoy.streamIdleTimeout',
      formatMs(envoy.streamIdleTimeout),
      `at least alb.idleTimeoutSeconds (${config.alb.idleTimeoutSeconds}s), or Envoy cuts idle WebSockets the ALB keeps`,
    );
  }
  if (backend.port === backend.healthPort) {
    blame('backend.healthPort', backend.healthPort, `a port different from backend.port (${backend.port})`);
  }
  if (config.alb.scheme === 'internet-facing' && !config.alb.certificateArn && !config.alb.allowPlainHttp) {
    blame(
      'alb.certificateArn',
      undefined,
      'an ACM certificate ARN for an internet-facing ALB (HTTPS on 443, a redirect from 80), or alb.allowPlainHttp: true for a trial in clear text',
    );
  }
  const certificateRegion = config.alb.certificateArn?.split(':')[3];
  if (certificateRegion && certificateRegion !== config.cluster.region) {
    blame(
      'alb.certificateArn',
      config.alb.certificateArn,
      `an ACM certificate in cluster.region (${config.cluster.region}): an ALB can only use certificates from its own region`,
    );
  }
  const wafRegion = config.alb.wafAclArn?.split(':')[3];
  if (wafRegion && wafRegion !== config.cluster.region) {
    blame(
      'alb.wafAclArn',
      config.alb.wafAclArn,
      `a regional web ACL in cluster.region (${config.cluster.region}): an ALB can only use a web ACL from its own region`,
    );
  }
  const childNamespace = `${config.gitops.project}${CHILD_APPLICATIONS_SUFFIX}`;
  if (childNamespace.length > 63) {
    blame(
      'gitops.project',
      config.gitops.project,
      `at most ${63 - CHILD_APPLICATIONS_SUFFIX.length} characters: the environment's child Applications live in namespace ` +
        `<gitops.project>${CHILD_APPLICATIONS_SUFFIX}, and a namespace name has at most 63`,
    );
  }
  if (childNamespace === config.gitops.argocdNamespace) {
    blame(
      'gitops.project',
      config.gitops.project,
      `a name whose namespace <gitops.project>${CHILD_APPLICATIONS_SUFFIX} is not Argo CD's own (gitops.argocdNamespace ${config.gitops.argocdNamespace}): ` +
        'child Applications there could name any project',
    );
  }
  if (/:distroless-v?\d/.test(envoy.image)) {
    blame(
      'envoy.image',
      envoy.image,
      "an image with a `sleep` binary, such as envoyproxy/envoy:v1.40.0 or :debug-v1.40.0: the pod's preStop hook sleeps while the ALB " +
        'drains it, and the distroless image has no `sleep` (Kubernetes 1.28 has no sleep action), so Envoy would be stopped at once',
    );
  }
  return problems;
}

/** The two multiples of `step` nearest to `value` (at least `step`). */
function nearestMultiples(value: number, step: number): number[] {
  const below = Math.floor(value / step) * step;
  return [...new Set([below, below + step])].filter((m) => m >= step);
}

/** What environments share must agree, and what one environment owns must not belong to another. */
export function crossEnvironmentProblems(
  environments: readonly { readonly name: string; readonly config: EdgeConfig; readonly files: readonly string[]; readonly modifiedMs?: number }[],
): string[] {
  const problems: string[] = [];
  const firstWith = new Map<string, { name: string; files: readonly string[] }>();
  const fileOf = (env: { files: readonly string[] }) => env.files[env.files.length - 1];
  const unique = (what: string, key: string, env: { name: string; files: readonly string[] }, field: string, value: unknown) => {
    const other = firstWith.get(`${what}\0${key}`);
    if (other) {
      problems.push(
        `${fileOf(env)}: ${problem(field, value, `a value no other environment uses (environment ${other.name}, ${fileOf(other)}, has it): ${what}`)}`,
      );
      return;
    }
    firstWith.set(`${what}\0${key}`, env);
  };
  const [first] = environments;
  // Oldest file first, so a clash blames the newer file (a copy of another environment's, say), naming both.
  for (const env of [...environments].sort((a, b) => (a.modifiedMs ?? 0) - (b.modifiedMs ?? 0) || a.name.localeCompare(b.name))) {
    const { gitops, cluster } = env.config;
    unique(
      'each environment is its own cluster, with its own controller and ALB',
      gitops.destinationName,
      env,
      'gitops.destinationName',
      gitops.destinationName,
    );
    unique('an EKS cluster belongs to one environment', `${cluster.name}/${cluster.region}`, env, 'cluster.name', cluster.name);
    unique('an Argo CD project belongs to one environment', gitops.project, env, 'gitops.project', gitops.project);
    const home = gitops.argocdEnvironment;
    const homeEnv = home === undefined ? env : environments.find((e) => e.name === home);
    if (!homeEnv) {
      problems.push(
        `${env.files[env.files.length - 1]}: ${problem(
          'gitops.argocdEnvironment',
          home,
          `one of the environments: ${environments.map((e) => e.name).join(', ')}`,
        )}`,
      );
    } else if (homeEnv !== env && homeEnv.config.gitops.argocdEnvironment !== undefined && homeEnv.config.gitops.argocdEnvironment !== homeEnv.name) {
      problems.push(
        `${env.files[env.files.length - 1]}: ${problem(
          'gitops.argocdEnvironment',
          home,
          `an environment whose cluster runs Argo CD itself (environment ${home} names ${homeEnv.config.gitops.argocdEnvironment})`,
        )}`,
      );
    }
    if (first && gitops.notifications.webhookUrl !== first.config.gitops.notifications.webhookUrl) {
      problems.push(
        `${fileOf(env)}: ${problem(
          'gitops.notifications.webhookUrl',
          gitops.notifications.webhookUrl,
          `${JSON.stringify(first.config.gitops.notifications.webhookUrl)}, as in environment ${first.name}: one Argo CD sends every environment's messages (argocd/settings/ is shared)`,
        )}`,
      );
    }
    if (first && gitops.argocdNamespace !== first.config.gitops.argocdNamespace) {
      problems.push(
        `${env.files[env.files.length - 1]}: ${problem(
          'gitops.argocdNamespace',
          gitops.argocdNamespace,
          `${JSON.stringify(first.config.gitops.argocdNamespace)}, as in environment ${first.name}: one Argo CD serves every environment (argocd/ is shared)`,
        )}`,
      );
    }
  }
  problems.push(...stageProblems(environments));
  return problems;
}

/**
 * The rollout order: stages 1, 2, … with none empty; every environment after stage 1 follows a branch of
 * its own (npm run promote moves it), never the branch a push lands on, or it would not wait.
 */
function stageProblems(environments: readonly { readonly name: string; readonly config: EdgeConfig; readonly files: readonly string[] }[]): string[] {
  const problems: string[] = [];
  const fileOf = (env: { files: readonly string[] }) => env.files[env.files.length - 1];
  const stages = new Set(environments.map((e) => e.config.gitops.stage));
  for (const env of environments) {
    const { stage, targetRevision } = env.config.gitops;
    if (stage > 1 && !stages.has(stage - 1)) {
      const used = [...stages].sort((a, b) => a - b).join(', ');
      problems.push(
        `${fileOf(env)}: ${problem('gitops.stage', stage, `a stage right after one in use (stages in use: ${used}): no environment is in stage ${stage - 1}, so nothing would gate this one`)}`,
      );
    }
    if (stage === 1) continue;
    if (/^[0-9a-f]{7,40}$/.test(targetRevision) || targetRevision === 'HEAD') {
      problems.push(
        `${fileOf(env)}: ${problem('gitops.targetRevision', targetRevision, `a branch of its own for stage ${stage}, such as deploy/${env.name}: npm run promote moves it`)}`,
      );
      continue;
    }
    const sharing = environments.filter((o) => o !== env && o.config.gitops.targetRevision === targetRevision);
    if (sharing.length) {
      const other = sharing[0];
      problems.push(
        `${fileOf(env)}: ${problem(
          'gitops.targetRevision',
          targetRevision,
          `a branch of its own for stage ${stage}, such as deploy/${env.name} (environment ${other.name}, ${fileOf(other)}, follows ${targetRevision} too, ` +
            `so a push would reach ${env.name} without waiting for stage ${stage - 1})`,
        )}`,
      );
    }
  }
  return problems;
}
