// One edge on loopback: a DNS stand-in, the backend pods and N Envoy replicas, each fleet on
// addresses of its own (127.<n>.0.x for Envoy, 127.<n>.1.x for pods), so fleets never collide,
// also across Jest workers.
import { backendDnsName } from '../../../envoy/names';
import { type BackendPod, startPods } from './backend-pods';
import type { Target } from './clients';
import { DnsStandin } from './dns-standin';
import { ensureEnvoyBinary, envoyVersionOfImage } from './envoy-binary';
import { EnvoyReplica, type SynthesizedEdge } from './envoy-fleet';

let fleetsStarted = 0;
const worker = Number(process.env.JEST_WORKER_ID ?? '1');

function nextSubnet(): number {
  fleetsStarted++;
  // 40 fleets per worker, starting at 127.10.
  if (fleetsStarted > 40) throw new Error('more than 40 fleets in one test file: widen the subnet plan');
  return 10 + (worker - 1) * 40 + fleetsStarted;
}

/** The binary of the release the edge's image runs. */
export function envoyBinaryFor(edge: SynthesizedEdge): string {
  const version = envoyVersionOfImage(edge.image);
  if (!version) throw new Error(`cannot tell the Envoy release of image ${edge.image}: the live suite needs a vX.Y.Z tag`);
  return ensureEnvoyBinary(version, (line) => process.stderr.write(`[live] ${line}\n`));
}

/**
 * For a test file whose tests each start their own edges: returns Edge.start, and stops every edge
 * it started after each test, passed or failed. Call it at the top level of the file.
 */
export function edgesStoppedAfterEachTest(): typeof Edge.start {
  let edges: Edge[] = [];
  afterEach(async () => {
    await Promise.all(edges.map((e) => e.stop()));
    edges = [];
  });
  return async (...args) => {
    const edge = await Edge.start(...args);
    edges.push(edge);
    return edge;
  };
}

export class Edge {
  private constructor(
    readonly edge: SynthesizedEdge,
    readonly dns: DnsStandin,
    readonly pods: BackendPod[],
    readonly replicas: EnvoyReplica[],
    private readonly subnet: number,
    private readonly binary: string,
  ) {}

  static async start(edge: SynthesizedEdge, opts: { replicas?: number; pods?: number } = {}): Promise<Edge> {
    const subnet = nextSubnet();
    const binary = envoyBinaryFor(edge);
    const dns = await DnsStandin.start();
    const { backend } = edge.config;
    const pods = await startPods(opts.pods ?? 4, { port: backend.port, healthPort: backend.healthPort, healthPath: backend.healthPath }, `127.${subnet}.1`);
    dns.set(
      backendDnsName(edge.config),
      pods.map((p) => p.options.address),
    );
    const started = new Edge(edge, dns, pods, [], subnet, binary);
    try {
      for (let i = 0; i < (opts.replicas ?? edge.config.envoy.replicas); i++) await started.addReplica();
      await started.waitForHealthyBackends(pods.length);
      if (started.peersDnsName) await started.waitForPeerCount(started.replicas, started.replicas.length);
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  get config() {
    return this.edge.config;
  }

  /**
   * Starts one more replica on the next address. Like a pod that turns Ready, it is then added to
   * the peers Service's DNS answer, unless `announce` is false.
   */
  async addReplica(opts: { announce?: boolean } = {}): Promise<EnvoyReplica> {
    const index = this.replicas.length;
    const replica = await EnvoyReplica.start({
      binary: this.binary,
      edge: this.edge,
      name: `envoy-${index}`,
      address: `127.${this.subnet}.0.${10 + index}`,
      dns: this.dns,
    });
    this.replicas.push(replica);
    if (opts.announce ?? true) this.announcePeers(this.replicas.filter((r) => r.exitCode === undefined));
    return replica;
  }

  /** The DNS name of the Envoy peers (the local cluster of the fleet rate limit), if the bootstrap has one. */
  get peersDnsName(): string | undefined {
    const name = this.edge.bootstrap.cluster_manager?.local_cluster_name;
    const cluster = this.edge.bootstrap.static_resources.clusters.find((c: any) => c.name === name);
    return cluster?.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address;
  }

  /** Sets the peers Service's DNS answer: the replicas a fleet rate limit shares its bucket with. */
  announcePeers(replicas: readonly EnvoyReplica[]): void {
    if (this.peersDnsName)
      this.dns.set(
        this.peersDnsName,
        replicas.map((r) => r.address),
      );
  }

  /** Waits until every listed replica counts `count` peers. */
  async waitForPeerCount(replicas: readonly EnvoyReplica[], count: number, timeoutMs = 10_000): Promise<number[]> {
    const cluster = this.edge.bootstrap.cluster_manager?.local_cluster_name;
    return Promise.all(replicas.map((r) => r.waitUntil(async () => (await r.hostHealth(cluster)).size === count, timeoutMs, `counts ${count} peers`)));
  }

  /** The WebSocket listener of replica i, as the ALB would reach it. */
  target(i: number): Target {
    return { address: this.replicas[i].address, port: this.config.envoy.listenerPort };
  }

  /** Replica i for the n-th new connection: the ALB's round robin. */
  roundRobin(n: number): Target {
    return this.target(n % this.replicas.length);
  }

  async waitForHealthyBackends(count: number, timeoutMs = 15_000): Promise<void> {
    await Promise.all(
      this.replicas.map((r) =>
        r.waitUntil(
          async () => [...(await r.hostHealth('websocket_backend')).values()].filter(Boolean).length === count,
          timeoutMs,
          `sees ${count} healthy backend pods`,
        ),
      ),
    );
  }

  /** Sum of one stat over every running replica. */
  async fleetStat(name: string): Promise<number> {
    const values = await Promise.all(this.replicas.filter((r) => r.exitCode === undefined).map((r) => r.stat(name)));
    return values.reduce((a, b) => a + b, 0);
  }

  private stopping?: Promise<void>;

  /** Stops the replicas, then the pods and the DNS stand-in. Calling it again waits for the first call. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.replicas.map((r) => r.stop()));
      await Promise.all(this.pods.map((p) => p.stop()));
      await this.dns.stop();
    })();
    return this.stopping;
  }
}
