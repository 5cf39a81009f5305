// Changing the edge without cutting a WebSocket (docs/behaviour.md, "Changing the edge"): for each class
// of live field (rate limit, caps, health check, timeouts, DNS), the live ConfigMap is swapped the way
// the kubelet does it while WebSockets echo throughout. None is dropped, the new value is in force
// within 2 s (read from Envoy's stats and shown by what clients see), and the Deployment that Argo CD
// would apply is byte-for-byte the one before.
import WebSocket from 'ws';
import { parseLiveVersions, podStatsPath } from '../../cli/live-versions';
import { LIVE_FILES, LIVE_VERSION_STATS, type LiveFile } from '../../envoy/live';
import { backendDnsName } from '../../envoy/names';
import { closeAll, echo, httpRequest, upgrade } from './harness/clients';
import { type Edge, edgesStoppedAfterEachTest } from './harness/edge';
import { committedEdge, type SynthesizedEdge, synthesizedEdge } from './harness/envoy-fleet';
import { report, s, sleep, tally } from './harness/report';

const start = edgesStoppedAfterEachTest();

/** Live changes must be in force on every replica within this long after the kubelet's swap. */
const IN_FORCE_WITHIN_MS = 2000;

/** WebSockets that echo every 100 ms until stopped; counts echoes and every socket that dropped. */
class EchoingSockets {
  echoes = 0;
  failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(readonly sockets: WebSocket[]) {
    this.loops = sockets.map(async (socket, i) => {
      while (this.running) {
        try {
          if ((await echo(socket, `ping ${i}`)) === `ping ${i}`) this.echoes++;
          else this.failures.push(`socket ${i}: wrong echo`);
        } catch (err) {
          this.failures.push(`socket ${i}: ${(err as Error).message}`);
          return;
        }
        await sleep(100);
      }
    });
  }

  static async open(edge: Edge, count: number): Promise<EchoingSockets> {
    const results = await Promise.all(Array.from({ length: count }, (_, i) => upgrade(edge.roundRobin(i))));
    expect(results.map((r) => r.status)).toEqual(Array(count).fill(101));
    return new EchoingSockets(results.map((r) => r.socket!));
  }

  async stop(): Promise<{ echoes: number; failures: string[]; open: number }> {
    // Every socket echoes once more after whatever the test did, before the count is taken.
    const target = this.echoes + this.sockets.length;
    const deadline = performance.now() + 5000;
    while (this.echoes < target && this.failures.length === 0 && performance.now() < deadline) await sleep(50);
    this.running = false;
    await Promise.all(this.loops);
    const open = this.sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length;
    await closeAll(this.sockets);
    return { echoes: this.echoes, failures: this.failures, open };
  }
}

/** The live files whose version differs between two synthesized edges. */
function changedFiles(before: SynthesizedEdge, after: SynthesizedEdge): LiveFile[] {
  return (Object.keys(LIVE_FILES) as LiveFile[]).filter((f) => before.liveFiles[LIVE_FILES[f]].version_info !== after.liveFiles[LIVE_FILES[f]].version_info);
}

/**
 * Synthesizes `overrides` over the shipped config, checks that only the live ConfigMap changed, swaps
 * it on every replica the kubelet's way and waits until every replica serves the new versions.
 * Returns the new edge and how long that took.
 */
async function swapLive(edge: Edge, overrides: Record<string, unknown>, what: string): Promise<{ after: SynthesizedEdge; inForceMs: number }> {
  const before = edge.edge;
  const after = synthesizedEdge(overrides);
  expect(after.deployment).toEqual(before.deployment);
  expect(after.bootstrap).toEqual(before.bootstrap);
  const files = changedFiles(before, after);
  expect(files.length).toBeGreaterThan(0);
  const modifiedBefore = await edge.fleetStat('listener_manager.listener_modified');
  const t0 = performance.now();
  for (const replica of edge.replicas) replica.swapLive(after.liveFiles);
  await Promise.all(
    edge.replicas.map((replica) =>
      replica.waitUntil(
        async () => {
          for (const f of files) if ((await replica.textStat(LIVE_VERSION_STATS[f])) !== after.liveFiles[LIVE_FILES[f]].version_info) return false;
          // A new backend cluster serves only once it has health-checked every pod (warming); until then the old one does.
          return (await replica.stat('cluster_manager.warming_clusters')) === 0;
        },
        10_000,
        `serves the new ${files.join(', ')}`,
      ),
    ),
  );
  const inForceMs = performance.now() - t0;
  expect(await edge.fleetStat('listener_manager.listener_modified')).toBe(modifiedBefore);
  report(
    `${what}: the Deployment and the bootstrap unchanged; ${files.join(' and ')} swapped; every replica serves the new version ${inForceMs.toFixed(0)} ms after the swap`,
  );
  expect(inForceMs).toBeLessThan(IN_FORCE_WITHIN_MS);
  return { after, inForceMs };
}

async function expectNoneDropped(held: EchoingSockets, what: string): Promise<void> {
  const { echoes, failures, open } = await held.stop();
  report(`${what}: ${held.sockets.length} WebSockets echoed ${echoes} times throughout, ${failures.length} dropped, ${open} still open`);
  expect(failures).toEqual([]);
  expect(open).toBe(held.sockets.length);
}

/** Fires `count` upgrades at once, round robin over the replicas; each closes as soon as it opens. */
async function burst(edge: Edge, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const r = await upgrade(edge.roundRobin(i));
      r.socket?.close(1000);
      return r.status;
    }),
  );
}

test('GIVEN open WebSockets WHEN the fleet rate limit is raised live THEN none drops, and the new burst admits exactly its new count', async () => {
  // Backend caps wide enough that only the bucket decides here.
  const connections = { maxTotal: 40, maxPerBackendPod: 10 };
  const edge = await start(synthesizedEdge({ envoy: { connections } }));
  const held = await EchoingSockets.open(edge, edge.replicas.length);
  const maxTokens = edge.config.envoy.rateLimit.maxTokens + 4;
  const { after } = await swapLive(edge, { envoy: { connections, rateLimit: { maxTokens } } }, `envoy.rateLimit.maxTokens → ${maxTokens}`);
  // A route reload refills every bucket (measured, docs/behaviour.md): the fleet has exactly the new burst.
  const statuses = await burst(edge, 2 * maxTokens);
  report(`then ${2 * maxTokens} upgrades at once: ${tally(statuses)} (the new fleet burst is ${after.config.envoy.rateLimit.maxTokens})`);
  expect(statuses.filter((st) => st === 101)).toHaveLength(maxTokens);
  expect(statuses.filter((st) => st === 429)).toHaveLength(maxTokens);
  await expectNoneDropped(held, 'rate limit');
});

test('GIVEN WebSockets holding backend slots WHEN the fleet cap is lowered live THEN none drops, and they keep counting: exactly the new cap is open, and the next upgrades get 503', async () => {
  const edge = await start(committedEdge());
  const { maxTotal } = edge.config.envoy.connections;
  const replicas = edge.replicas.length;
  const held = await EchoingSockets.open(edge, maxTotal / 2);
  const newCap = maxTotal - replicas;
  await swapLive(edge, { envoy: { connections: { maxTotal: newCap } } }, `envoy.connections.maxTotal ${maxTotal} → ${newCap}`);
  // A runtime change keeps the cluster, so the held sockets count against the new cap.
  const more = await Promise.all(Array.from({ length: newCap - held.sockets.length + replicas }, (_, i) => upgrade(edge.roundRobin(i))));
  const admitted = more.filter((r) => r.status === 101).length;
  const refused = more.filter((r) => r.status === 503);
  // Refused at once (max_requests, flag UO) or after the queue timeout: never admitted.
  report(
    `with ${held.sockets.length} open: ${more.length} more upgrades → ${tally(more.map((r) => r.status))}; open in all ${held.sockets.length + admitted} ` +
      `(new cap ${newCap}); the 503s after ${refused.map((r) => s(r.ms)).join(', ')}`,
  );
  expect(held.sockets.length + admitted).toBe(newCap);
  expect(refused).toHaveLength(replicas);
  await closeAll(more.map((r) => r.socket));
  await expectNoneDropped(held, 'connection cap');
});

test('GIVEN WebSockets open on every pod WHEN the per-pod cap changes live (it replaces the backend cluster) THEN none drops, and the new cluster counts afresh: at most the fleet cap more beside those open', async () => {
  // A bucket large enough that only the caps decide here; a short queue timeout for the refused ones.
  const rateLimit = { maxTokens: 100 };
  const connections = { queueTimeout: '1s' };
  const edge = await start(synthesizedEdge({ envoy: { rateLimit, connections } }));
  const { maxTotal, maxPerBackendPod } = edge.config.envoy.connections;
  const held = await EchoingSockets.open(edge, maxTotal / 2);
  const newPerPod = 2 * maxPerBackendPod;
  await swapLive(
    edge,
    { envoy: { rateLimit, connections: { ...connections, maxPerBackendPod: newPerPod } } },
    `envoy.connections.maxPerBackendPod ${maxPerBackendPod} → ${newPerPod}`,
  );
  const more = await Promise.all(Array.from({ length: maxTotal + edge.replicas.length }, (_, i) => upgrade(edge.roundRobin(i))));
  const admitted = more.filter((r) => r.status === 101).length;
  const perPod = edge.pods.map((p) => p.openConnections);
  report(
    `with ${held.sockets.length} open before the change: ${tally(more.map((r) => r.status))}; open in all ${held.sockets.length + admitted}, ` +
      `per pod ${perPod.join('/')} (bound: maxTotal ${maxTotal} + the ${held.sockets.length} open at the change; per pod ${newPerPod} + those)`,
  );
  // The bound documented in docs/behaviour.md: the new cluster admits up to the cap itself.
  expect(admitted).toBe(maxTotal);
  for (const open of perPod) expect(open).toBeLessThanOrEqual(newPerPod + maxPerBackendPod);
  await closeAll(more.map((r) => r.socket));
  await expectNoneDropped(held, 'per-pod cap');
});

test('GIVEN open WebSockets WHEN the health-check interval is shortened live THEN none drops, and a failing pod leaves after unhealthyThreshold checks at the new interval', async () => {
  const edge = await start(committedEdge());
  const held = await EchoingSockets.open(edge, edge.replicas.length);
  const interval = 1000;
  const { after } = await swapLive(edge, { envoy: { healthCheck: { interval: '1s', timeout: '500ms' } } }, `envoy.healthCheck.interval → ${s(interval)}`);
  const { unhealthyThreshold } = after.config.envoy.healthCheck;
  const failing = edge.pods[edge.pods.length - 1];
  // Held sockets may sit on that pod: a failed health check stops new traffic, it never closes a socket.
  failing.health = 'fail-503';
  const t0 = performance.now();
  await Promise.all(
    edge.replicas.map((r) =>
      r.waitUntil(async () => (await r.hostHealth('websocket_backend')).get(failing.options.address) === false, 20_000, 'ejects the failing pod'),
    ),
  );
  const ejectedMs = performance.now() - t0;
  const shipped = edge.config.envoy.healthCheck;
  report(
    `a pod answering 503 left every replica after ${s(ejectedMs)} (${unhealthyThreshold} checks at ${s(interval)}; ` +
      `at the shipped ${s(shipped.interval)} it takes ${s(shipped.unhealthyThreshold * shipped.interval)} or more)`,
  );
  expect(ejectedMs).toBeLessThan(unhealthyThreshold * interval + 1000);
  failing.health = 'ok';
  await expectNoneDropped(held, 'health check');
});

test('GIVEN open WebSockets WHEN the queue timeout, the plain HTTP timeout and the stream idle timeout change live THEN none drops, and new requests get the new timeouts', async () => {
  const edge = await start(synthesizedEdge({ alb: { idleTimeoutSeconds: 1 } }));
  const { maxTotal, queueTimeout } = edge.config.envoy.connections;
  // Every backend slot held: an upgrade must wait for the queue timeout.
  const held = await EchoingSockets.open(edge, maxTotal);

  await swapLive(
    edge,
    { alb: { idleTimeoutSeconds: 1 }, envoy: { connections: { queueTimeout: '2s' } } },
    `envoy.connections.queueTimeout ${s(queueTimeout)} → 2.0 s`,
  );
  const waited = await upgrade(edge.target(0));
  report(`an upgrade with every slot held: ${waited.status} after ${s(waited.ms)}, retry-after ${waited.headers['retry-after']}`);
  expect(waited.status).toBe(503);
  expect(waited.headers['retry-after']).toBe('1');
  expect(waited.ms).toBeGreaterThanOrEqual(1900);
  expect(waited.ms).toBeLessThan(3000);

  await swapLive(
    edge,
    { alb: { idleTimeoutSeconds: 1 }, envoy: { connections: { queueTimeout: '2s' }, plainHttpTimeout: '3s' } },
    'envoy.plainHttpTimeout 15.0 s → 3.0 s',
  );
  const plain = await httpRequest(edge.target(0), '/slow?ms=10000');
  report(`a plain GET the backend answers after 10 s: ${plain.status} after ${s(plain.ms)}`);
  expect(plain.status).toBe(504);
  expect(plain.ms).toBeGreaterThanOrEqual(2900);
  expect(plain.ms).toBeLessThan(4000);
  await expectNoneDropped(held, 'queue and plain HTTP timeouts');

  // With slots free again: a new WebSocket left idle gets the new stream idle timeout; the busy ones do not.
  const busy = await EchoingSockets.open(edge, edge.replicas.length);
  await swapLive(
    edge,
    { alb: { idleTimeoutSeconds: 1 }, envoy: { connections: { queueTimeout: '2s' }, plainHttpTimeout: '3s', streamIdleTimeout: '2s' } },
    'envoy.streamIdleTimeout 1 h → 2.0 s',
  );
  const idle = (await upgrade(edge.target(0))).socket!;
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => idle.once('close', resolve));
  const idleMs = performance.now() - t0;
  report(`a new WebSocket left idle closed after ${s(idleMs)} (code ${code}); stream idle timeout 2.0 s + delayed close 1.0 s`);
  expect(idleMs).toBeGreaterThanOrEqual(2900);
  expect(idleMs).toBeLessThan(3600);
  await expectNoneDropped(busy, 'stream idle timeout');
});

test('GIVEN open WebSockets WHEN the backend DNS refresh is shortened live THEN none drops, and each replica re-resolves at the new rate and sees a new pod within it', async () => {
  const edge = await start(committedEdge());
  const held = await EchoingSockets.open(edge, edge.replicas.length);
  const refreshMs = 1000;
  await swapLive(edge, { envoy: { dnsRefreshRate: '1s' } }, `envoy.dnsRefreshRate ${s(edge.config.envoy.dnsRefreshRate)} → ${s(refreshMs)}`);
  const name = backendDnsName(edge.config);
  const queriesBefore = edge.dns.queries.get(name) ?? 0;
  const windowMs = 3000;
  const t0 = performance.now();
  // A new pod in DNS (Envoy keeps a removed host until it fails its health checks, so an added one shows the refresh).
  const added = edge.pods[0].options.address.replace(/\.\d+$/, '.99');
  const addresses = [...edge.pods.map((p) => p.options.address), added];
  edge.dns.set(name, addresses);
  await Promise.all(
    edge.replicas.map((r) => r.waitUntil(async () => (await r.hostHealth('websocket_backend')).has(added), 10_000, `sees the added backend pod`)),
  );
  const seenMs = performance.now() - t0;
  await sleep(Math.max(0, windowMs - (performance.now() - t0)));
  const queries = (edge.dns.queries.get(name) ?? 0) - queriesBefore;
  const expected = (edge.replicas.length * windowMs) / refreshMs;
  report(
    `a pod added to DNS was known to every replica after ${s(seenMs)}; ${queries} lookups in ${s(windowMs)} by ${edge.replicas.length} replicas ` +
      `(${expected} at one per ${s(refreshMs)}; the shipped ${s(edge.config.envoy.dnsRefreshRate)} would make ${(edge.replicas.length * windowMs) / edge.config.envoy.dnsRefreshRate})`,
  );
  expect(seenMs).toBeLessThan(refreshMs + 1000);
  expect(queries).toBeGreaterThanOrEqual(expected - edge.replicas.length);
  expect(queries).toBeLessThanOrEqual(expected + 2 * edge.replicas.length);
  await expectNoneDropped(held, 'DNS refresh');
});

test('GIVEN open WebSockets WHEN a broken live file is swapped in THEN Envoy rejects it, keeps serving the last good config, and no socket drops', async () => {
  const edge = await start(committedEdge());
  const held = await EchoingSockets.open(edge, edge.replicas.length);
  const good = edge.edge.liveFiles;
  const broken = structuredClone(good);
  // Envoy refuses a zero connect timeout (its own PGV rule); the config never writes one.
  broken[LIVE_FILES.clusters].resources[0].connect_timeout = '0s';
  broken[LIVE_FILES.clusters].version_info = 'broken';
  const rejectedBefore = await edge.fleetStat('cluster_manager.cds.update_rejected');
  for (const replica of edge.replicas) replica.swapLive(broken);
  await Promise.all(
    edge.replicas.map((r) => r.waitUntil(async () => (await r.stat('cluster_manager.cds.update_rejected')) > 0, 10_000, 'rejects the broken clusters file')),
  );
  const rejected = (await edge.fleetStat('cluster_manager.cds.update_rejected')) - rejectedBefore;
  const versions = await Promise.all(edge.replicas.map((r) => r.textStat(LIVE_VERSION_STATS.clusters)));
  const fresh = await Promise.all(Array.from({ length: edge.replicas.length }, (_, i) => upgrade(edge.roundRobin(i))));
  report(
    `a clusters file with connect_timeout 0s: rejected ${rejected} times (once per replica); versions served ${versions.join(', ')} ` +
      `(the last good is ${good[LIVE_FILES.clusters].version_info}); new upgrades ${tally(fresh.map((r) => r.status))}`,
  );
  expect(rejected).toBe(edge.replicas.length);
  expect(versions).toEqual(edge.replicas.map(() => good[LIVE_FILES.clusters].version_info));
  expect(fresh.map((r) => r.status)).toEqual(edge.replicas.map(() => 101));
  await closeAll(fresh.map((r) => r.socket));
  await expectNoneDropped(held, 'broken swap');
});

test('GIVEN a replica THEN its ready port answers the stats `npm run status` reads through the pod proxy, and after a swap they name the new versions', async () => {
  const edge = await start(committedEdge(), { replicas: 1 });
  const replica = edge.replicas[0];
  // The same path the API server's pod proxy forwards to the pod's ready port.
  const statsPath = podStatsPath(edge.config.envoy.namespace, 'envoy-proxy-x', edge.config.envoy.readyPort).replace(/^.*\/proxy/, '');
  const read = async () => parseLiveVersions(await (await fetch(`http://${replica.address}:${edge.config.envoy.readyPort}${statsPath}`)).text());
  const git = (e: SynthesizedEdge) => Object.fromEntries(Object.entries(LIVE_FILES).map(([f, file]) => [f, e.liveFiles[file].version_info]));
  const before = await read();
  expect(before).toEqual(git(edge.edge));
  const { after } = await swapLive(edge, { envoy: { rateLimit: { maxTokens: 12 } } }, 'envoy.rateLimit.maxTokens → 12');
  const served = await read();
  report(`GET ${statsPath.slice(0, 40)}… on the ready port: ${JSON.stringify(before)} before, ${JSON.stringify(served)} after the swap`);
  expect(served).toEqual(git(after));
});
