// The Envoy bootstrap: a pure function of the config, typed by Envoy's own API (imports/envoy-types.ts),
// so tsc refuses a misspelt field or a wrong shape. Each concern has its file: listeners, clusters,
// the fleet rate limit, the overload manager. The chart only serializes the result.
import { createHash } from 'node:crypto';
import type { EdgeConfig } from '../config/schema';
import type { Bootstrap } from '../imports/envoy-types';
import { adminCluster, backendCluster } from './clusters';
import { perReplicaLimits } from './limits';
import { readyListener, websocketListener } from './listeners';
import { ENVOY_NAMES } from './names';
import { overloadManager } from './overload';
import { socketAddress } from './proto';
import { peersCluster } from './rate-limit';

export type EnvoyBootstrap = Bootstrap;

export function buildEnvoyBootstrap(config: EdgeConfig): Bootstrap {
  return withConfigRevision(assemble(config));
}

/** The name of the label every Envoy metric carries with the bootstrap's revision. */
export const CONFIG_REVISION_TAG = 'config_revision';

/**
 * Tags every metric with a short hash of the rest of the bootstrap, so replicas running different
 * bootstraps show in Prometheus (the EnvoyConfigSkew alert).
 */
function withConfigRevision(bootstrap: Bootstrap): Bootstrap {
  const revision = createHash('sha256').update(JSON.stringify(bootstrap)).digest('hex').slice(0, 12);
  return { ...bootstrap, stats_config: { stats_tags: [{ tag_name: CONFIG_REVISION_TAG, fixed_value: revision }] } };
}

function assemble(config: EdgeConfig): Bootstrap {
  const limits = perReplicaLimits(config);
  return {
    node: { id: 'envoy-proxy', cluster: 'envoy-proxy' },
    admin: {
      // Admin can stop or drain Envoy: loopback only (docs/architecture.md, "Admin stays inside the pod").
      address: socketAddress('127.0.0.1', config.envoy.adminPort),
    },
    // The fleet rate limit divides its bucket by the number of hosts in this cluster.
    cluster_manager: { local_cluster_name: ENVOY_NAMES.peersCluster },
    layered_runtime: {
      layers: [
        {
          name: 'static',
          static_layer: {
            // Least request counts streams still waiting for their connection; without it, upgrades that
            // arrive together can all pick one idle pod and wait behind its per-pod limit (envoy#44989).
            'envoy.reloadable_features.least_request_lb_count_pending_requests': true,
          },
        },
      ],
    },
    static_resources: {
      listeners: [websocketListener(config), readyListener(config)],
      clusters: [backendCluster(config, limits), adminCluster(config), peersCluster(config)],
    },
    overload_manager: overloadManager(limits),
  };
}
