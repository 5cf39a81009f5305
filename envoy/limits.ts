// The numbers each Envoy replica enforces so that the whole fleet enforces the configured totals.
import type { EdgeConfig } from '../config/schema';

/** Share of the memory limit the overload manager treats as the heap ceiling; the rest is for non-heap memory. */
const HEAP_SHARE_OF_MEMORY_LIMIT = 0.8;

/**
 * The backend caps of one replica (live: runtime keys and the backend cluster). Circuit breakers cannot
 * follow membership, so the connection caps are split evenly; the rate limit needs no split: Envoy
 * shares the fleet bucket over the live peers itself (envoy/rate-limit.ts).
 */
export interface BackendLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerBackendPod: number;
  /**
   * Requests that may wait for a backend connection. Every upgrade waits here while its own
   * connection opens, so the queue holds every upgrade the bucket can admit within one queue
   * timeout (a replica alone may hold the whole bucket); plain HTTP queues here too.
   */
  readonly maxPendingRequests: number;
  /** Plain HTTP's own backend connections (the HIGH priority pool), beside the WebSockets'. */
  readonly plainMaxConnections: number;
  /** Plain requests that may wait for one of those; past it, 503 at once (flag UO). */
  readonly plainMaxPendingRequests: number;
}

/** Plain requests that may wait per plain backend connection. */
const PLAIN_PENDING_PER_CONNECTION = 8;

/** What one Envoy process is sized to (static: the bootstrap and the container). */
export interface ProcessLimits {
  readonly maxDownstreamConnections: number;
  /** Worker threads: one per whole CPU of the limit, at least one. */
  readonly concurrency: number;
  readonly maxHeapSizeBytes: number;
}

export type PerReplicaLimits = BackendLimits & ProcessLimits;

/** Splits the fleet-wide backend totals across replicas. The config rules have already refused uneven splits. */
type Envoy = EdgeConfig['envoy'];

export type BackendLimitsInput = Pick<Envoy, 'replicas' | 'rateLimit' | 'connections'> & { readonly plainHttp: Pick<Envoy['plainHttp'], 'maxConnections'> };

export function backendLimits(envoy: BackendLimitsInput): BackendLimits {
  const { replicas, rateLimit, connections } = envoy;
  // Rounded down, at least one: plain HTTP is a side door, never a reason to refuse a replica count.
  const plainMaxConnections = Math.max(1, Math.floor(envoy.plainHttp.maxConnections / replicas));
  return {
    plainMaxConnections,
    plainMaxPendingRequests: plainMaxConnections * PLAIN_PENDING_PER_CONNECTION,
    maxConnections: connections.maxTotal / replicas,
    maxConnectionsPerBackendPod: connections.maxPerBackendPod / replicas,
    maxPendingRequests: rateLimit.maxTokens + Math.ceil(connections.queueTimeout / rateLimit.fillInterval) * rateLimit.tokensPerFill,
  };
}

export type ProcessLimitsInput = Pick<Envoy, 'replicas' | 'maxDownstreamConnections'> & {
  readonly resources: Pick<Envoy['resources'], 'cpuLimit' | 'memoryLimit'>;
};

export function processLimits(envoy: ProcessLimitsInput): ProcessLimits {
  const { replicas, resources } = envoy;
  return {
    // Rounded down, so the fleet never accepts more than the configured total.
    maxDownstreamConnections: Math.floor(envoy.maxDownstreamConnections / replicas),
    concurrency: workerConcurrency(envoy),
    maxHeapSizeBytes: Math.floor(resources.memoryLimit.bytes * HEAP_SHARE_OF_MEMORY_LIMIT),
  };
}

/** Envoy's worker threads: one per whole CPU of the limit, at least one (Envoy's default is one per host core). */
export function workerConcurrency(envoy: { readonly resources: Pick<Envoy['resources'], 'cpuLimit'> }): number {
  return Math.max(1, Math.floor(envoy.resources.cpuLimit.millicores / 1000));
}

export function perReplicaLimits(config: { readonly envoy: BackendLimitsInput & ProcessLimitsInput }): PerReplicaLimits {
  return { ...backendLimits(config.envoy), ...processLimits(config.envoy) };
}
