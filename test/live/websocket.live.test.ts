// WebSocket upgrade and idle behaviour, on the real Envoy.
import { closeAll, closed, echo, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { committedEdge, synthesizedEdge } from './harness/envoy-fleet';
import { report, s, sleep, tally } from './harness/report';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

test('GIVEN the shipped edge WHEN clients upgrade through both replicas THEN each gets 101 and its echo, and the sockets spread evenly over all four pods', async () => {
  edge = await Edge.start(committedEdge());
  const { maxTotal, maxPerBackendPod } = edge.config.envoy.connections;
  const results = await Promise.all(Array.from({ length: maxTotal }, (_, i) => upgrade(edge!.roundRobin(i))));
  expect(results.map((r) => r.status)).toEqual(Array(maxTotal).fill(101));
  const echoes = await Promise.all(results.map((r, i) => echo(r.socket!, `hello ${i}`)));
  expect(echoes).toEqual(results.map((_, i) => `hello ${i}`));
  report(`${maxTotal} upgrades: sockets per pod ${tally(results.map((r) => r.pod!))}`);
  for (const pod of edge.pods) expect(results.filter((r) => r.pod === pod.name)).toHaveLength(maxPerBackendPod);
  await closeAll(results.map((r) => r.socket));
});

test("GIVEN an open WebSocket WHEN it stays idle past its route's timeout (the queue timeout, which ends at the 101) THEN it still echoes", async () => {
  edge = await Edge.start(committedEdge(), { replicas: 1 });
  const socket = (await upgrade(edge.target(0))).socket!;
  const idleMs = 1.5 * edge.config.envoy.connections.queueTimeout;
  await sleep(idleMs);
  expect(await echo(socket, 'still here')).toBe('still here');
  const { queueTimeout } = edge.config.envoy.connections;
  expect(idleMs).toBeGreaterThan(queueTimeout);
  report(`idle for ${s(idleMs)} (upgrade route timeout ${s(queueTimeout)}, stream idle timeout ${s(edge.config.envoy.streamIdleTimeout)}): still echoes`);
  await closeAll([socket]);
});

test('GIVEN a short stream idle timeout in a test config THEN an idle WebSocket is closed when it expires, and a busy one is not', async () => {
  edge = await Edge.start(synthesizedEdge({ alb: { idleTimeoutSeconds: 1 }, envoy: { streamIdleTimeout: '2s' } }), { replicas: 1 });
  const { streamIdleTimeout } = edge.config.envoy;
  // Envoy resets the idle stream, then waits delayed_close_timeout for the client to close first.
  const hcm = edge.edge.bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const delayedCloseMs = Number(hcm.delayed_close_timeout.replace(/s$/, '')) * 1000;
  const closesAfter = streamIdleTimeout + delayedCloseMs;
  const idle = (await upgrade(edge.target(0))).socket!;
  const busy = (await upgrade(edge.target(0))).socket!;
  const start = performance.now();
  const idleClosed = closed(idle, start);
  let busyEchoes = 0;
  const keepBusy = (async () => {
    while (performance.now() < start + 2 * streamIdleTimeout) {
      await echo(busy, 'ping');
      busyEchoes++;
      await sleep(streamIdleTimeout / 4);
    }
  })();
  const { code, ms } = await idleClosed;
  await keepBusy;
  report(
    `stream idle timeout ${s(streamIdleTimeout)} + delayed close ${s(delayedCloseMs)}: the idle socket closed after ${s(ms)} (code ${code}); ` +
      `the busy one echoed ${busyEchoes} times over ${s(2 * streamIdleTimeout)} and is open`,
  );
  expect(ms).toBeGreaterThanOrEqual(closesAfter - 100);
  expect(ms).toBeLessThan(closesAfter + 500);
  expect(busy.readyState).toBe(busy.OPEN);
  await closeAll([busy]);
});
