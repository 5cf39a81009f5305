// What the protos cannot say: names that must exist, ports that must agree, admin kept private.
// The walker reports each message it reads (onMessage), so cluster names are found wherever they
// sit, inside typed configs too; they are checked once all clusters are known.
import { isIP } from 'node:net';
import { describe, isPlainObject, join } from './json';
import type { Reporter } from './report';

export interface EnvoyPorts {
  /** The Envoy container's ports. */
  readonly containerPorts: readonly number[];
  /** The Service's target ports, resolved to numbers. */
  readonly serviceTargetPorts: readonly number[];
}

/** Fields that name a cluster, by message type: each must be one of static_resources.clusters. */
const CLUSTER_NAME_FIELDS: Record<string, readonly string[]> = {
  'envoy.config.route.v3.RouteAction': ['cluster'],
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': ['name'],
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy': ['cluster'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': ['cluster'],
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': ['name'],
};

export class CrossReferences {
  /** Where a cluster is named by a route (or TCP proxy), checked once all clusters are known. */
  private readonly clusterReferences: { path: string; name: string }[] = [];

  constructor(
    private readonly report: Reporter,
    private readonly ports: EnvoyPorts | undefined,
  ) {}

  /** One message the walker has read, with its full type name: keeps the cluster names it holds. */
  noteMessage(value: Record<string, unknown>, typeName: string, path: string): void {
    const clusterFields = CLUSTER_NAME_FIELDS[typeName];
    for (const name of clusterFields ?? []) {
      const cluster = value[name];
      if (typeof cluster === 'string' && cluster) this.clusterReferences.push({ path: join(path, name), name: cluster });
    }
  }

  /** Once the whole bootstrap has been walked. */
  check(bootstrap: Record<string, unknown>): void {
    const staticResources = isPlainObject(bootstrap.static_resources) ? bootstrap.static_resources : {};
    const clusters = Array.isArray(staticResources.clusters) ? staticResources.clusters : [];
    const listeners = Array.isArray(staticResources.listeners) ? staticResources.listeners : [];

    const clusterNames = this.uniqueNames(clusters, 'static_resources.clusters', 'cluster');
    this.uniqueNames(listeners, 'static_resources.listeners', 'listener');
    const dynamic = isPlainObject(bootstrap.dynamic_resources) && bootstrap.dynamic_resources.cds_config !== undefined;
    if (dynamic) {
      if (this.clusterReferences.length) {
        this.report.notice('dynamic_resources.cds_config', 'skipped: cluster: not defined', 'clusters also come from CDS; route targets were not checked');
      }
    } else {
      for (const ref of this.clusterReferences) {
        if (clusterNames.has(ref.name)) continue;
        const known = [...clusterNames].map((n) => `"${n}"`).join(', ') || 'none';
        this.report.problem(ref.path, 'cluster: not defined', `"${ref.name}" is not one of static_resources.clusters (defined: ${known})`);
      }
    }

    const adminAddress = socketAddressOf(isPlainObject(bootstrap.admin) ? bootstrap.admin.address : undefined);
    if (adminAddress && typeof adminAddress.address === 'string' && !isLoopback(adminAddress.address)) {
      this.report.problem(
        'admin.address.socket_address.address',
        'admin: not loopback',
        `admin can stop and drain Envoy, so it must listen on 127.0.0.1 or ::1 only; got ${describe(adminAddress.address)}`,
      );
    }
    this.checkPorts(listeners, adminAddress);
  }

  private uniqueNames(items: unknown[], listPath: string, what: string): Set<string> {
    const names = new Set<string>();
    items.forEach((item, i) => {
      const name = isPlainObject(item) ? item.name : undefined;
      if (typeof name !== 'string') return;
      if (names.has(name)) {
        this.report.problem(`${listPath}[${i}].name`, `${what}: duplicate name`, `another ${what} is already named "${name}"`);
      }
      names.add(name);
    });
    return names;
  }

  private checkPorts(listeners: unknown[], adminAddress: Record<string, unknown> | undefined): void {
    const bound: { port: number; path: string; owner: string }[] = [];
    const adminPort = portOf(adminAddress);
    if (adminPort) bound.push({ port: adminPort, path: 'admin.address.socket_address.port_value', owner: 'admin' });
    listeners.forEach((listener, i) => {
      const address = socketAddressOf(isPlainObject(listener) ? listener.address : undefined);
      const port = portOf(address);
      if (!port) return;
      const name = isPlainObject(listener) && typeof listener.name === 'string' ? `listener "${listener.name}"` : `listener ${i}`;
      bound.push({ port, path: `static_resources.listeners[${i}].address.socket_address.port_value`, owner: name });
    });
    const firstOwner = new Map<number, string>();
    for (const { port, path: portPath, owner } of bound) {
      const other = firstOwner.get(port);
      if (other) this.report.problem(portPath, 'port: duplicate', `${owner} binds port ${port}, which ${other} already binds`);
      else firstOwner.set(port, owner);
    }

    const ports = this.ports;
    if (!ports) return;
    const listenerPorts = bound.filter((b) => b.owner !== 'admin');
    for (const { port, path: portPath, owner } of listenerPorts) {
      if (!ports.containerPorts.includes(port)) {
        this.report.problem(
          portPath,
          'port: not a container port',
          `${owner} binds ${port}, but the container declares ${ports.containerPorts.join(', ') || 'no ports'}`,
        );
      }
    }
    const bindsPort = (port: number) => listenerPorts.some((b) => b.port === port);
    for (const port of ports.containerPorts) {
      if (!bindsPort(port)) {
        this.report.problem(
          'static_resources.listeners',
          'port: container port without listener',
          `the container declares port ${port}, but no listener binds it`,
        );
      }
    }
    for (const port of ports.serviceTargetPorts) {
      if (!bindsPort(port)) {
        this.report.problem(
          'static_resources.listeners',
          'port: Service target port without listener',
          `the Service targets port ${port}, but no listener binds it`,
        );
      }
    }
  }
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}

/** A bound port (proto3 JSON allows "8080" as well as 8080); undefined for none or 0 (any free port). */
function portOf(socketAddress: Record<string, unknown> | undefined): number | undefined {
  const port = Number(socketAddress?.port_value);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function socketAddressOf(address: unknown): Record<string, unknown> | undefined {
  return isPlainObject(address) && isPlainObject(address.socket_address) ? address.socket_address : undefined;
}
