// Local stand-ins for the WebSocket server's pods: each listens on its own loopback address with
// the config's WebSocket and health ports, echoes messages, names itself in an `x-pod` response
// header, counts the TCP connections Envoy holds to it, and can be told to fail /health.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export type HealthMode = 'ok' | 'fail-503' | 'hang';

export interface PodOptions {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly healthPort: number;
  readonly healthPath: string;
}

export class BackendPod {
  health: HealthMode = 'ok';
  /** TCP connections currently open to the WebSocket port, and the most seen at once. */
  openConnections = 0;
  maxOpenConnections = 0;
  /** Upgrades this pod has accepted, ever. */
  upgrades = 0;
  healthChecks = 0;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    readonly options: PodOptions,
    private readonly web: Server,
    private readonly healthServer: Server,
  ) {}

  get name(): string {
    return this.options.name;
  }

  static async start(options: PodOptions): Promise<BackendPod> {
    const web = createServer((req, res) => {
      res.setHeader('x-pod', options.name);
      // /slow?ms=N answers after N ms (at most 60 s): a backend that is slow to answer a plain request.
      const slowMs = req.url?.startsWith('/slow') ? Math.min(60_000, Number(new URL(req.url, 'http://pod').searchParams.get('ms') ?? 0)) : 0;
      req.resume();
      req.on('end', () => setTimeout(() => res.end(`plain HTTP answered by ${options.name}\n`), slowMs));
    });
    // Envoy's HTTP/1 pool keeps upstream connections alive between plain requests.
    web.keepAliveTimeout = 60_000;
    const healthServer = createServer((req, res) => pod.answerHealth(req, res));
    const pod = new BackendPod(options, web, healthServer);
    const wss = new WebSocketServer({ noServer: true });
    wss.on('headers', (headers) => headers.push(`x-pod: ${options.name}`));
    web.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        pod.upgrades++;
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
    });
    web.on('connection', (socket: Socket) => {
      pod.sockets.add(socket);
      pod.openConnections++;
      pod.maxOpenConnections = Math.max(pod.maxOpenConnections, pod.openConnections);
      socket.on('close', () => {
        pod.sockets.delete(socket);
        pod.openConnections--;
      });
    });
    await listen(web, options.address, options.port);
    await listen(healthServer, options.address, options.healthPort);
    return pod;
  }

  /** Forgets the high-water mark, so a test measures only its own traffic. */
  resetCounters(): void {
    this.maxOpenConnections = this.openConnections;
    this.upgrades = 0;
    this.healthChecks = 0;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([close(this.web), close(this.healthServer)]);
  }

  private answerHealth(req: IncomingMessage, res: ServerResponse): void {
    this.healthChecks++;
    if (req.url !== this.options.healthPath) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (this.health === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    res.statusCode = this.health === 'ok' ? 200 : 503;
    res.end();
  }
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startPods(count: number, opts: Omit<PodOptions, 'name' | 'address'>, subnet = '127.0.1'): Promise<BackendPod[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => BackendPod.start({ ...opts, name: `pod-${i + 1}`, address: `${subnet}.${i + 1}` })));
}
