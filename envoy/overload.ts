// The overload manager: a heap ceiling sized from the memory limit, and the per-replica cap on
// client connections (the ready listener is exempt from it).
import type { envoy_config_overload_v3_OverloadManager as OverloadManager } from '../imports/envoy-types';
import type { ProcessLimits } from './limits';
import { TYPE } from './names';

export function overloadManager(limits: ProcessLimits): OverloadManager {
  const heapAbove = (value: number) => [{ name: 'envoy.resource_monitors.fixed_heap', threshold: { value } }];
  return {
    refresh_interval: '0.250s',
    resource_monitors: [
      {
        name: 'envoy.resource_monitors.fixed_heap',
        typed_config: { '@type': TYPE.fixedHeap, max_heap_size_bytes: limits.maxHeapSizeBytes },
      },
      {
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: { '@type': TYPE.downstreamConnections, max_active_downstream_connections: limits.maxDownstreamConnections },
      },
    ],
    // Thresholds from Envoy's "edge proxy best practices".
    actions: [
      { name: 'envoy.overload_actions.shrink_heap', triggers: heapAbove(0.95) },
      { name: 'envoy.overload_actions.stop_accepting_requests', triggers: heapAbove(0.98) },
    ],
  };
}
