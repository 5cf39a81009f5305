// The live part of Envoy's configuration: what Envoy reloads from a watched ConfigMap directory
// without a restart (docs/behaviour.md, "Changing the edge"). The routes (RDS), the backend cluster
// (CDS) and the backend's connection caps (an RTDS runtime layer), each one file holding a
// DiscoveryResponse whose version_info is a hash of its resources.
import { createHash } from 'node:crypto';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_core_v3_ConfigSource as ConfigSource,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
} from '../imports/envoy-types';
import { type BackendClusterInput, backendCapsRuntime, backendCluster } from './clusters';
import { type BackendLimitsInput, backendLimits } from './limits';
import { ENVOY_NAMES } from './names';
import { type RoutesInput, websocketRoutes } from './routes';

/** Where the live ConfigMap is mounted: its own volume, never a subPath (subPath mounts never update). */
export const LIVE_DIR = '/etc/envoy-live';

/** The live ConfigMap's keys: one file per discovery service. */
export const LIVE_FILES = { routes: 'routes.yaml', clusters: 'clusters.yaml', runtime: 'runtime.yaml' } as const;
export type LiveFile = keyof typeof LIVE_FILES;

export const LIVE_TYPE = {
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  // Not in the generated types (a service proto): { name, layer } with the layer a JSON object.
  runtime: 'type.googleapis.com/envoy.service.runtime.v3.Runtime',
} as const;

export interface RuntimeResource {
  readonly name: string;
  readonly layer: Record<string, number>;
}

/** The live resources, as data; envoy/bootstrap.ts points Envoy at their files. */
export interface EnvoyLiveResources {
  readonly routes: RouteConfiguration;
  readonly backendCluster: Cluster;
  readonly runtime: RuntimeResource;
}

export interface DiscoveryFile {
  readonly version_info: string;
  readonly resources: readonly Record<string, unknown>[];
}

/** What the live resources read: the routes', the backend cluster's and the per-replica caps' fields. */
export type LiveInput = BackendClusterInput & { readonly envoy: RoutesInput & BackendLimitsInput };

export function buildLiveResources(config: LiveInput): EnvoyLiveResources {
  const limits = backendLimits(config.envoy);
  return {
    routes: websocketRoutes(config.envoy),
    backendCluster: backendCluster(config, limits),
    runtime: { name: ENVOY_NAMES.liveRuntimeLayer, layer: backendCapsRuntime(limits) },
  };
}

/** Each live file's content: a DiscoveryResponse, versioned by a hash of its resources. */
export function liveDiscoveryFiles(live: EnvoyLiveResources): Record<LiveFile, DiscoveryFile> {
  const file = (type: string, resources: readonly object[]): DiscoveryFile => {
    const typed = resources.map((r) => ({ '@type': type, ...r }));
    return { version_info: contentVersion(typed), resources: typed };
  };
  return {
    routes: file(LIVE_TYPE.routes, [live.routes]),
    clusters: file(LIVE_TYPE.clusters, [live.backendCluster]),
    runtime: file(LIVE_TYPE.runtime, [live.runtime]),
  };
}

/** A short, stable hash of what a file holds: what `npm run status` and the alerts compare. */
export function contentVersion(resources: unknown): string {
  return createHash('sha256').update(JSON.stringify(resources)).digest('hex').slice(0, 12);
}

/**
 * A file source that Envoy re-reads when the kubelet swaps the ConfigMap: the kubelet writes a new
 * `..<timestamp>` directory and renames the `..data` symlink onto it, a move Envoy watches for.
 */
export function liveConfigSource(file: LiveFile): ConfigSource {
  return {
    path_config_source: { path: `${LIVE_DIR}/${LIVE_FILES[file]}`, watched_directory: { path: LIVE_DIR } },
    resource_api_version: 'V3',
  };
}

/** The admin stat that holds the version_info each live file was last accepted at, by file. */
export const LIVE_VERSION_STATS: Record<LiveFile, string> = {
  routes: `http.${ENVOY_NAMES.websocketStatPrefix}.rds.${ENVOY_NAMES.websocketRouteConfig}.version_text`,
  clusters: 'cluster_manager.cds.version_text',
  runtime: 'runtime.version_text',
};
