// `npm run bench:live`: what one Envoy replica costs and carries, on the real binary. A benchmark,
// not a test: it prints a results table (README, "Performance") and asserts nothing.
// The rate limit and the connection caps are raised in its config, or they would be all it measured.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import WebSocket from 'ws';
import { closeAll, echo, type Target, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { envoyVersionLine } from './harness/envoy-binary';
import { synthesizedEdge } from './harness/envoy-fleet';
import { sleep } from './harness/report';

const SOCKET_STEPS = [0, 1000, 5000];
// Each socket costs Envoy two descriptors (client and backend); the hard limit here is 20,000.
const MAX_SOCKETS = 9000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function echoLatencies(socket: WebSocket, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await echo(socket, 'x'.repeat(64));
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

async function upgradesPerSecond(target: Target, seconds: number, concurrency: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const r = await upgrade(target);
        if (r.status === 101) done++;
        await closeAll([r.socket]);
      }
    }),
  );
  return done / seconds;
}

async function main() {
  const edge = await Edge.start(
    synthesizedEdge({
      envoy: {
        replicas: 1,
        rateLimit: { maxTokens: 1_000_000, tokensPerFill: 1_000_000 },
        connections: { maxTotal: 20_000, maxPerBackendPod: 20_000 },
        maxDownstreamConnections: 20_000,
      },
    }),
  );
  try {
    const [replica] = edge.replicas;
    const pid = replica.pid;
    const rows: [string, string][] = [];
    rows.push(['Envoy', envoyVersionLine(replica.binary).replace(/^.*version: /, '')]);
    rows.push(['machine', `${cpus().length} × ${cpus()[0].model}, Node ${process.version}`]);

    const rate = await upgradesPerSecond(edge.target(0), 5, 20);
    rows.push(['upgrades per second (open and close, 20 clients, 5 s)', rate.toFixed(0)]);

    const viaEnvoy = (await upgrade(edge.target(0))).socket!;
    const pod = edge.pods[0].options;
    const direct = await new Promise<WebSocket>((resolve) => {
      const s = new WebSocket(`ws://${pod.address}:${pod.port}/`);
      s.on('open', () => resolve(s));
    });
    await echoLatencies(viaEnvoy, 200); // warm-up
    const through = await echoLatencies(viaEnvoy, 2000);
    const straight = await echoLatencies(direct, 2000);
    rows.push(['echo round trip p50 / p99, through Envoy', `${percentile(through, 50).toFixed(3)} / ${percentile(through, 99).toFixed(3)} ms`]);
    rows.push(['echo round trip p50 / p99, direct to the pod', `${percentile(straight, 50).toFixed(3)} / ${percentile(straight, 99).toFixed(3)} ms`]);
    rows.push([
      'added by Envoy, p50 / p99',
      `${(percentile(through, 50) - percentile(straight, 50)).toFixed(3)} / ${(percentile(through, 99) - percentile(straight, 99)).toFixed(3)} ms`,
    ]);
    await closeAll([viaEnvoy, direct]);
    await sleep(500);

    const held: WebSocket[] = [];
    const rssAt = new Map<number, number>();
    let overloadAt: number | undefined;
    const heapCeiling = edge.edge.bootstrap.overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes / 2 ** 20;
    const targets = [...SOCKET_STEPS, MAX_SOCKETS];
    for (const step of targets) {
      while (held.length < step && overloadAt === undefined) {
        const batch = await Promise.all(Array.from({ length: Math.min(200, step - held.length) }, () => upgrade(edge.target(0))));
        held.push(...batch.filter((r) => r.socket).map((r) => r.socket!));
        if (batch.some((r) => r.status !== 101)) overloadAt = held.length;
        const stats = await replica.stats('overload');
        if ([...stats.entries()].some(([name, value]) => name.endsWith('.active') && value > 0)) overloadAt ??= held.length;
      }
      await sleep(1000);
      rssAt.set(step, rssMiB(pid));
    }
    for (const step of SOCKET_STEPS) rows.push([`Envoy RSS with ${step.toLocaleString('en')} idle WebSockets`, `${rssAt.get(step)!.toFixed(1)} MiB`]);
    const perSocketKiB = ((rssAt.get(5000)! - rssAt.get(1000)!) / 4000) * 1024;
    rows.push(['memory per idle WebSocket (RSS, 1,000 → 5,000)', `${perSocketKiB.toFixed(1)} KiB`]);
    const heap = (await replica.stat('server.memory_heap_size')) / 2 ** 20;
    rows.push([
      `idle WebSockets before the overload manager acts (heap ceiling ${heapCeiling.toFixed(0)} MiB)`,
      overloadAt !== undefined
        ? `${overloadAt.toLocaleString('en')} (measured)`
        : `not reached at ${held.length.toLocaleString('en')} (RSS ${rssMiB(pid).toFixed(0)} MiB, heap ${heap.toFixed(0)} MiB); ` +
          `about ${Math.floor(((0.95 * heapCeiling - rssAt.get(0)!) * 1024) / perSocketKiB).toLocaleString('en')} by the per-socket figure`,
    ]);
    await closeAll(held);

    console.log('| measure | result |\n|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  } finally {
    await edge.stop();
  }
}

void main();
