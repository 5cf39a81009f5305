// Envoy's configuration, in two parts (docs/behaviour.md, "Changing the edge"):
// - the static bootstrap: what only a new process can take (node, admin, runtime layers, listeners,
//   the static clusters, the overload manager); a change to it rolls the pods;
// - the live resources (envoy/live.ts): routes, the backend cluster and its caps, which Envoy
//   reloads from a watched ConfigMap directory, leaving open WebSockets alone.
// Both are pure functions of the config, typed by Envoy's own API (imports/envoy-types.ts), so tsc
// refuses a misspelt field or a wrong shape. The chart only serializes them.
import { createHash } from 'node:crypto';
import type { Bootstrap } from '../imports/envoy-types';
import { type AdminClusterInput, adminCluster } from './clusters';
import { type ProcessLimitsInput, processLimits } from './limits';
import { type ReadyListenerInput, readyListener, type WebsocketListenerInput, websocketListener } from './listeners';
import { buildLiveResources, type EnvoyLiveResources, type LiveInput, liveConfigSource } from './live';
import { ENVOY_NAMES } from './names';
import { overloadManager } from './overload';
import { socketAddress } from './proto';
import { type PeersClusterInput, peersCluster } from './rate-limit';

export type EnvoyBootstrap = Bootstrap;

/** Everything Envoy is given: the static bootstrap and the live resources beside it. */
export interface EnvoyConfig {
  readonly bootstrap: Bootstrap;
  readonly live: EnvoyLiveResources;
}

/** What the static bootstrap reads: only config fields that need a new Envoy process (its listeners, clusters and sizing). */
export interface BootstrapInput {
  readonly envoy: WebsocketListenerInput & ReadyListenerInput & AdminClusterInput & PeersClusterInput['envoy'] & ProcessLimitsInput;
}

export function buildEnvoyConfig(config: BootstrapInput & LiveInput): EnvoyConfig {
  return { bootstrap: buildEnvoyBootstrap(config), live: buildLiveResources(config) };
}

/** The static bootstrap only; it reads only the config fields that need a new Envoy process. */
export function buildEnvoyBootstrap(config: BootstrapInput): Bootstrap {
  return withConfigRevision(assemble(config));
}

/** The name of the label every Envoy metric carries with the static bootstrap's revision. */
export const CONFIG_REVISION_TAG = 'config_revision';

/**
 * Tags every metric with a short hash of the rest of the bootstrap, so replicas running different
 * bootstraps show in Prometheus (the EnvoyConfigSkew alert).
 */
function withConfigRevision(bootstrap: Bootstrap): Bootstrap {
  const revision = createHash('sha256').update(JSON.stringify(bootstrap)).digest('hex').slice(0, 12);
  return { ...bootstrap, stats_config: { stats_tags: [{ tag_name: CONFIG_REVISION_TAG, fixed_value: revision }] } };
}

function assemble(config: BootstrapInput): Bootstrap {
  const { envoy } = config;
  return {
    node: { id: 'envoy-proxy', cluster: 'envoy-proxy' },
    admin: {
      // Admin can stop or drain Envoy: loopback only (docs/architecture.md, "Admin stays inside the pod").
      address: socketAddress('127.0.0.1', envoy.adminPort),
    },
    // The fleet rate limit divides its bucket by the number of hosts in this cluster, which must be static.
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
        // The backend's connection caps, live (envoy/clusters.ts, backendCapsRuntime).
        { name: ENVOY_NAMES.liveRuntimeLayer, rtds_layer: { name: ENVOY_NAMES.liveRuntimeLayer, rtds_config: liveConfigSource('runtime') } },
      ],
    },
    // The backend cluster, live.
    dynamic_resources: { cds_config: liveConfigSource('clusters') },
    static_resources: {
      listeners: [websocketListener(envoy), readyListener(envoy)],
      clusters: [adminCluster(envoy), peersCluster(config)],
    },
    overload_manager: overloadManager(processLimits(envoy)),
  };
}

/**
 * The bootstrap with the live resources written back inline: the form synth-time validation and
 * `envoy --mode validate` check, since Envoy's validate mode does not read path config sources.
 * The backend cluster comes first, as the validator's config-field table expects.
 */
export function inlineEnvoyConfig({ bootstrap, live }: EnvoyConfig): Bootstrap {
  const inline: Bootstrap = structuredClone(bootstrap);
  delete inline.dynamic_resources;
  inline.layered_runtime = {
    layers: (inline.layered_runtime?.layers ?? []).map((layer) => (layer.rtds_layer ? { name: layer.name, static_layer: { ...live.runtime.layer } } : layer)),
  };
  const hcm = inline.static_resources!.listeners![0].filter_chains![0].filters![0].typed_config as Record<string, unknown>;
  delete hcm.rds;
  hcm.route_config = structuredClone(live.routes);
  inline.static_resources!.clusters = [structuredClone(live.backendCluster), ...inline.static_resources!.clusters!];
  return inline;
}
