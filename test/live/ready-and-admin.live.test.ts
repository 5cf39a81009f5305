// The ready port (9901), on the real Envoy: /ready answers while the replica is saturated, the
// read-only admin pages are there, and nothing that can change Envoy is reachable through it.
import { connect, type Socket } from 'node:net';
import { READ_ONLY_ADMIN_PATHS } from '../../envoy/names';
import { httpRequest } from './harness/clients';
import { Edge } from './harness/edge';
import { committedEdge, synthesizedEdge } from './harness/envoy-fleet';
import { report, sleep } from './harness/report';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

/** Opens a TCP connection; resolves with it once connected, and records whether the server closed it. */
function openTcp(address: string, port: number): Promise<{ socket: Socket; closedByServer: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect({ host: address, port }, () => resolve({ socket, closedByServer: () => closed }));
    socket.on('close', () => (closed = true));
    socket.on('error', () => (closed = true));
    socket.once('error', reject);
  });
}

test('GIVEN a replica at its cap of client connections THEN a new client connection is refused but GET /ready still answers 200, so probes never restart a busy Envoy', async () => {
  // The shipped cap (5,000 per replica) would need 5,000 sockets; 10 per replica shows the same rule.
  edge = await Edge.start(synthesizedEdge({ envoy: { maxDownstreamConnections: 20 } }), { replicas: 1 });
  const { listenerPort, readyPort, maxDownstreamConnections, replicas } = edge.config.envoy;
  const perReplica = maxDownstreamConnections / replicas;
  const [replica] = edge.replicas;
  const clients = [];
  for (let i = 0; i < perReplica; i++) clients.push(await openTcp(replica.address, listenerPort));
  const extra = await openTcp(replica.address, listenerPort);
  await replica.waitUntil(async () => extra.closedByServer(), 2000, 'closes the connection over its cap');
  const ready = await Promise.all(Array.from({ length: 5 }, () => httpRequest({ address: replica.address, port: readyPort }, '/ready')));
  const overflow = [...(await replica.stats('downstream_global_cx_overflow')).values()].reduce((a, b) => a + b, 0);
  report(
    `${perReplica} client connections held: connection ${perReplica + 1} closed by Envoy; GET /ready ×5 → ${ready.map((r) => r.status).join(',')}; Envoy counted ${overflow} overflow(s)`,
  );
  expect(overflow).toBeGreaterThanOrEqual(1);
  expect(ready.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  expect(clients.every((c) => !c.closedByServer())).toBe(true);
  for (const c of [...clients, extra]) c.socket.destroy();
});

test('GIVEN the ready port THEN the read-only admin pages answer GET, and every admin page that can stop, drain or change Envoy is 404 there', async () => {
  edge = await Edge.start(committedEdge(), { replicas: 1 });
  const [replica] = edge.replicas;
  const ready = { address: replica.address, port: edge.config.envoy.readyPort };
  const readOnly = await Promise.all(READ_ONLY_ADMIN_PATHS.map((p) => httpRequest(ready, p)));
  expect(readOnly.map((r) => r.status)).toEqual(READ_ONLY_ADMIN_PATHS.map(() => 200));

  const mutations = ['/quitquitquit', '/healthcheck/fail', '/drain_listeners', '/runtime_modify?websocket.x=1', '/logging?level=trace', '/reset_counters'];
  const attempts = [];
  for (const path of mutations) {
    for (const method of ['POST', 'GET']) attempts.push({ what: `${method} ${path}`, ...(await httpRequest(ready, path, method)) });
  }
  // A read-only page is not writable either.
  attempts.push({ what: 'POST /stats', ...(await httpRequest(ready, '/stats', 'POST')) });
  await sleep(200);
  const stillReady = await httpRequest(ready, '/ready');
  report(`through the ready port: ${attempts.map((a) => `${a.what} → ${a.status}`).join('; ')}; then /ready → ${stillReady.status}`);
  for (const a of attempts) expect({ what: a.what, status: a.status }).toEqual({ what: a.what, status: 404 });
  expect(stillReady.status).toBe(200);
  expect(replica.exitCode).toBeUndefined();
});
