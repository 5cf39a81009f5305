// The backend connection cap, on the real Envoy: 8 in the fleet, 2 per backend pod, a bounded wait
// for a slot, and no refusal while a slot is free.
import { closeAll, closed, echo, httpRequest, type UpgradeResult, upgrade } from './harness/clients';
import { edgesStoppedAfterEachTest } from './harness/edge';
import { committedEdge, synthesizedEdge } from './harness/envoy-fleet';
import { report, s, tally } from './harness/report';

const start = edgesStoppedAfterEachTest();

test('GIVEN the shipped edge WHEN clients hold WebSockets THEN the fleet holds exactly 8 backend connections, at most 2 per pod; the 9th upgrade waits the queue timeout and gets 503 with retry-after; a freed slot goes to the next upgrade', async () => {
  const edge = await start(committedEdge());
  const { maxTotal, maxPerBackendPod, queueTimeout } = edge.config.envoy.connections;

  const held = await Promise.all(Array.from({ length: maxTotal }, (_, i) => upgrade(edge.roundRobin(i))));
  expect(held.map((r) => r.status)).toEqual(Array(maxTotal).fill(101));
  const perPod = edge.pods.map((p) => p.openConnections);
  report(`${maxTotal} held: backend connections per pod ${perPod.join('/')}, total ${perPod.reduce((a, b) => a + b)}`);
  expect(perPod.reduce((a, b) => a + b)).toBe(maxTotal);
  for (const pod of edge.pods) expect(pod.maxOpenConnections).toBeLessThanOrEqual(maxPerBackendPod);

  const ninth = await upgrade(edge.target(0));
  report(`upgrade ${maxTotal + 1}: ${ninth.status} after ${s(ninth.ms)} (queue timeout ${s(queueTimeout)}), retry-after ${ninth.headers['retry-after']}`);
  expect(ninth.status).toBe(503);
  expect(ninth.headers['retry-after']).toMatch(/^\d+$/);
  expect(ninth.ms).toBeGreaterThanOrEqual(queueTimeout - 50);
  expect(ninth.ms).toBeLessThan(queueTimeout + 1000);

  // A slot frees on replica 1; the next upgrade to that replica gets it at once.
  const onReplica1 = held.filter((_, i) => i % 2 === 1);
  await closeAll([onReplica1[0].socket]);
  const next = await upgrade(edge.target(1));
  report(`after one socket closed, the next upgrade: ${next.status} in ${next.ms.toFixed(0)} ms, on ${next.pod}`);
  expect(next.status).toBe(101);
  expect(next.ms).toBeLessThan(1000);
  expect(next.pod).toBe(onReplica1[0].pod);
  await closeAll([...held, next].map((r) => r.socket));
});

test('GIVEN a replica holding some of its slots WHEN a socket closes on any pod THEN the next upgrade lands on that pod at once, never waiting while a slot is free (rate limit raised so only the cap is in play)', async () => {
  const edge = await start(synthesizedEdge({ envoy: { rateLimit: { maxTokens: 1000, tokensPerFill: 1000 } } }));
  const perReplica = edge.config.envoy.connections.maxTotal / edge.config.envoy.replicas;
  const sockets: UpgradeResult[] = [];
  for (let i = 0; i < perReplica; i++) sockets.push(await upgrade(edge.target(0)));
  expect(sockets.map((r) => r.status)).toEqual(Array(perReplica).fill(101));
  // Free slots in an order round robin would not follow: it kept picking pods at their limit.
  const order = [2, 0, 3, 1, 1, 3, 0, 2].map((i) => i % perReplica);
  const waits: number[] = [];
  for (const i of order) {
    const leaving = sockets[i];
    await closeAll([leaving.socket]);
    const next = await upgrade(edge.target(0));
    waits.push(next.ms);
    expect({ status: next.status, pod: next.pod }).toEqual({ status: 101, pod: leaving.pod });
    sockets[i] = next;
  }
  report(`${order.length} slots freed on chosen pods: each reused at once (longest wait ${Math.max(...waits).toFixed(0)} ms)`);
  expect(Math.max(...waits)).toBeLessThan(1000);
  await closeAll(sockets.map((r) => r.socket));
});

test('GIVEN bursts within the limits (as many upgrades as the bucket holds, each closing after its echo) THEN none is refused with a 503, burst after burst', async () => {
  const rounds: string[] = [];
  for (let round = 0; round < 3; round++) {
    const edge = await start(committedEdge());
    const { maxTokens } = edge.config.envoy.rateLimit;
    const results = await Promise.all(
      Array.from({ length: maxTokens }, async (_, i) => {
        const r = await upgrade(edge.roundRobin(i));
        if (r.socket) {
          await echo(r.socket, `burst ${i}`);
          const done = closed(r.socket);
          r.socket.close(1000);
          await done;
        }
        return r;
      }),
    );
    rounds.push(tally(results.map((r) => r.status)));
    expect(results.map((r) => r.status)).toEqual(Array(maxTokens).fill(101));
    await edge.stop();
  }
  report(`3 bursts of ${committedEdge().config.envoy.rateLimit.maxTokens} upgrades: ${rounds.join(' | ')}`);
});

test('GIVEN every WebSocket slot of a replica held THEN a plain GET is still answered from its own pool; GIVEN that pool held by slow answers THEN they get 504 at envoy.plainHttpTimeout, and the next request waits for a slot until then', async () => {
  const edge = await start(synthesizedEdge({ envoy: { plainHttpTimeout: '2s' } }), { replicas: 1 });
  const { envoy } = edge.config;
  const wsPerReplica = envoy.connections.maxTotal / envoy.replicas;
  const held = await Promise.all(Array.from({ length: wsPerReplica }, () => upgrade(edge.target(0))));
  expect(held.map((r) => r.status)).toEqual(Array(wsPerReplica).fill(101));
  const beside = await httpRequest(edge.target(0), '/plain');
  report(`plain GET with every WebSocket slot held: ${beside.status} after ${s(beside.ms)}`);
  expect(beside.status).toBe(200);

  // The plain pool: this replica's share of envoy.plainHttp.maxConnections. Envoy still opens one connection to a
  // pod its pool has none to (so a pool never deadlocks), so the pool is full once every pod has one as well.
  const plainPerReplica = envoy.plainHttp.maxConnections / envoy.replicas;
  const plainSlots = Math.max(plainPerReplica, edge.pods.length);
  const start0 = performance.now();
  const slow = Array.from({ length: plainSlots }, () => httpRequest(edge.target(0), '/slow?ms=4000'));
  await edge.replicas[0].waitUntil(
    async () => (await edge.replicas[0].stat('cluster.websocket_backend.upstream_rq_active')) >= wsPerReplica + plainSlots,
    5000,
    'holds every plain slot',
  );
  const t0 = performance.now();
  const plain = await httpRequest(edge.target(0), '/plain');
  const slowResults = await Promise.all(slow);
  report(
    `plain GET with the plain pool held (${plainSlots} slow answers: cap ${plainPerReplica}, and one per pod at least): ` +
      `the slow ones ${[...new Set(slowResults.map((r) => r.status))].join('/')} after ${s(Math.max(...slowResults.map((r) => r.ms)))}; the next got ${plain.status} after ${s(plain.ms)} ` +
      `(plainHttpTimeout ${s(envoy.plainHttpTimeout)})`,
  );
  // A slow backend answer is cut at plainHttpTimeout...
  expect(slowResults.map((r) => r.status)).toEqual(Array(plainSlots).fill(504));
  for (const r of slowResults) expect(r.ms).toBeLessThan(envoy.plainHttpTimeout + 1000);
  // ...and the next request waited for a slot until then (the pool was full), and no longer than its own timeout.
  expect(plain.ms).toBeGreaterThanOrEqual(Math.min(...slowResults.map((r) => r.ms)) - (t0 - start0) - 100);
  expect(plain.ms).toBeLessThan(envoy.plainHttpTimeout + 1000);
  await closeAll(held.map((r) => r.socket));
});
