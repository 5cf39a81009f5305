// Rules that involve more than one field. Each names the field it blames, in the one problem shape.
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

  const evenShare = `a multiple of envoy.replicas (${replicas}), so each replica gets an equal whole share`;
  if (envoy.connections.maxTotal % replicas !== 0) blame('envoy.connections.maxTotal', envoy.connections.maxTotal, evenShare);
  if (envoy.connections.maxPerBackendPod % replicas !== 0) {
    blame('envoy.connections.maxPerBackendPod', envoy.connections.maxPerBackendPod, evenShare);
  }
  if (envoy.connections.maxPerBackendPod > envoy.connections.maxTotal) {
    blame('envoy.connections.maxPerBackendPod', envoy.connections.maxPerBackendPod,
      `at most envoy.connections.maxTotal (${envoy.connections.maxTotal})`);
  }
  const mostReplicas = replicas + rolloutSurge(replicas);
  if (envoy.rateLimit.maxTokens < mostReplicas) {
    blame('envoy.rateLimit.maxTokens', envoy.rateLimit.maxTokens,
      `at least ${mostReplicas}, the most Envoy replicas that run at once (envoy.replicas ${replicas}` +
        `${mostReplicas > replicas ? ' plus one during a rollout' : ''}): each replica's share of the fleet bucket must hold a whole token`);
  }
  if (envoy.maxDownstreamConnections < replicas) {
    blame('envoy.maxDownstreamConnections', envoy.maxDownstreamConnections,
      `at least envoy.replicas (${replicas}), so each replica accepts at least one client connection`);
  }
  const ports = { listenerPort: envoy.listenerPort, readyPort: envoy.readyPort, adminPort: envoy.adminPort };
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(ports)) {
    const other = seen.get(value);
    if (other) blame(`envoy.${name}`, value, `a port different from envoy.${other} (${value})`);
    seen.set(value, name);
  }
  if (envoy.healthCheck.timeout >= envoy.healthCheck.interval) {
    blame('envoy.healthCheck.timeout', formatMs(envoy.healthCheck.timeout),
      `shorter than envoy.healthCheck.interval (${formatMs(envoy.healthCheck.interval)})`);
  }
  if (envoy.resources.cpuRequest.millicores > envoy.resources.cpuLimit.millicores) {
    blame('envoy.resources.cpuRequest', envoy.resources.cpuRequest.text, `at most envoy.resources.cpuLimit (${envoy.resources.cpuLimit.text})`);
  }
  if (envoy.resources.memoryRequest.bytes > envoy.resources.memoryLimit.bytes) {
    blame('envoy.resources.memoryRequest', envoy.resources.memoryRequest.text,
      `at most envoy.resources.memoryLimit (${envoy.resources.memoryLimit.text})`);
  }
  if (envoy.streamIdleTimeout < config.alb.idleTimeoutSeconds * 1000) {
    blame('envoy.streamIdleTimeout', formatMs(envoy.streamIdleTimeout),
      `at least alb.idleTimeoutSeconds (${config.alb.idleTimeoutSeconds}s), or Envoy cuts idle WebSockets the ALB keeps`);
  }
  if (backend.port === backend.healthPort) {
    blame('backend.healthPort', backend.healthPort, `a port different from backend.port (${backend.port})`);
  }
  return problems;
}
