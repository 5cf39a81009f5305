// The edge against a hostile client, on the real Envoy (docs/security.md): each client has its own
// bucket beside the fleet's, a spoofed X-Forwarded-For changes nothing, a foreign Origin is refused
// before it spends a token, plain HTTP cannot hold the WebSockets' slots, buffers stay small, and the
// ready port has a cap of its own. The tests play the ALB: it appends the client's address to XFF.
import { connect, type Socket } from 'node:net';
import { closeAll, echo, httpRequest, newClientAddress, upgrade } from './harness/clients';
import { type Edge, edgesStoppedAfterEachTest } from './harness/edge';
import { committedEdge } from './harness/envoy-fleet';
import { report, s, tally } from './harness/report';

const start = edgesStoppedAfterEachTest();

/** `count` upgrades at once from one client, round robin over the replicas; each closes as soon as it opens. */
async function burstFrom(edge: Edge, count: number, client: () => { client?: string; spoofedXff?: string; origin?: string }) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const r = await upgrade(edge.roundRobin(i), '/', client());
      r.socket?.close(1000);
      return r;
    }),
  );
}

test('GIVEN one client flooding upgrades THEN it gets 429 past its own burst while another client still upgrades, and its refused upgrades spend no fleet token', async () => {
  const edge = await start(committedEdge());
  const { rateLimit, perClient } = edge.config.envoy;
  const flooder = newClientAddress();
  const flood = await burstFrom(edge, 4 * perClient.maxTokens, () => ({ client: flooder }));
  const admitted = flood.filter((r) => r.status === 101).length;
  const other = await upgrade(edge.target(0), '/', { client: newClientAddress() });
  other.socket?.close(1000);
  // What is left of the fleet bucket, spent by clients of their own.
  const rest = await burstFrom(edge, 2 * rateLimit.maxTokens, () => ({}));
  const restAdmitted = rest.filter((r) => r.status === 101).length;
  report(
    `one client, ${flood.length} upgrades at once over ${edge.replicas.length} replicas: ${tally(flood.map((r) => r.status))} ` +
      `(its bucket ${perClient.maxTokens}); another client meanwhile: ${other.status}; then ${rest.length} upgrades from new clients: ` +
      `${restAdmitted} admitted (fleet bucket ${rateLimit.maxTokens} - ${admitted} - 1 = ${rateLimit.maxTokens - admitted - 1})`,
  );
  // The client's bucket is shared over the peers like the fleet's: each replica rounds its share down.
  expect(admitted).toBeLessThanOrEqual(perClient.maxTokens);
  expect(admitted).toBeGreaterThanOrEqual(perClient.maxTokens - (edge.replicas.length - 1));
  expect(flood.filter((r) => r.status === 429)).toHaveLength(flood.length - admitted);
  expect(other.status).toBe(101);
  // The flooder's refused upgrades took no fleet token: the rest of the fleet bucket is exactly what is left.
  expect(restAdmitted).toBe(rateLimit.maxTokens - admitted - 1);
});

test('GIVEN a client that sends its own X-Forwarded-For, different each time THEN it is still the one client the ALB saw', async () => {
  const edge = await start(committedEdge());
  const { perClient } = edge.config.envoy;
  const client = newClientAddress();
  let n = 0;
  const spoofing = await burstFrom(edge, 4 * perClient.maxTokens, () => ({ client, spoofedXff: `203.0.113.${++n}` }));
  const admitted = spoofing.filter((r) => r.status === 101).length;
  report(`${spoofing.length} upgrades, each with another spoofed X-Forwarded-For: ${tally(spoofing.map((r) => r.status))} (its bucket ${perClient.maxTokens})`);
  expect(admitted).toBeLessThanOrEqual(perClient.maxTokens);
  expect(spoofing.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(spoofing.length - perClient.maxTokens);
});

test('GIVEN an upgrade from an Origin not allowed THEN it gets 403 before it spends a token, and its access-log line says why; an allowed Origin and none pass', async () => {
  const edge = await start(committedEdge(), { replicas: 1 });
  const { allowedOrigins, rateLimit } = edge.config.envoy;
  const replica = edge.replicas[0];
  const foreign = await burstFrom(edge, 3 * rateLimit.maxTokens, () => ({ origin: 'https://evil.example.net' }));
  const limited = await replica.stat('http.websocket_upgrades.local_rate_limit.rate_limited');
  const allowed = await upgrade(edge.target(0), '/', { origin: allowedOrigins![0].toUpperCase() });
  const none = await upgrade(edge.target(0));
  await closeAll([allowed.socket, none.socket]);
  const rest = await burstFrom(edge, 2 * rateLimit.maxTokens, () => ({}));
  // Envoy flushes its access log at least every 10 s (--file-flush-interval-msec).
  await replica.waitUntil(async () => replica.accessLog.filter((l) => String(l.response_code) === '403').length >= foreign.length, 12_000, 'logs every 403');
  const line = replica.accessLog.find((l) => String(l.response_code) === '403')!;
  report(
    `${foreign.length} upgrades from https://evil.example.net: ${tally(foreign.map((r) => r.status))}, rate-limited ${limited}; ` +
      `allowed origin (upper case): ${allowed.status}; no Origin: ${none.status}; then ${rest.filter((r) => r.status === 101).length} of ${rest.length} from new clients; ` +
      `log: ${line.response_code} ${line.response_code_details} origin ${line.origin}`,
  );
  expect(foreign.map((r) => r.status)).toEqual(Array(foreign.length).fill(403));
  expect(limited).toBe(0);
  expect([allowed.status, none.status]).toEqual([101, 101]);
  // The fleet bucket lost only the two admitted upgrades.
  expect(rest.filter((r) => r.status === 101)).toHaveLength(rateLimit.maxTokens - 2);
  expect(line.response_code_details).toContain('rbac_access_denied');
  expect(line.origin).toBe('https://evil.example.net');
});

/** A POST whose body trickles in: headers, then one byte every `everyMs`, until stopped. */
function trickle(target: { address: string; port: number }, client: string, everyMs: number): { socket: Socket; stop: () => void; closed: Promise<string> } {
  const socket = connect(target.port, target.address);
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  socket.write(`POST /upload HTTP/1.1\r\nhost: edge\r\nx-forwarded-for: ${client}\r\ncontent-length: 1000000\r\n\r\n`);
  const timer = setInterval(() => socket.writable && socket.write('x'), everyMs);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer.split('\r\n')[0] || '(closed without an answer)')));
  socket.on('error', () => undefined);
  return {
    socket,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
    closed,
  };
}

test("GIVEN slow uploads and slow plain answers filling plain HTTP's pool THEN upgrades are still admitted at once: plain requests cannot hold the WebSockets' slots", async () => {
  const edge = await start(committedEdge());
  const { plainHttp, replicas } = edge.config.envoy;
  // The shape measured before this change: 19 slow POSTs per replica made every upgrade fail with 503.
  const uploads = Array.from({ length: 19 * replicas }, (_, i) => trickle(edge.roundRobin(i), newClientAddress(), 200));
  const slowGets = Array.from({ length: 2 * plainHttp.maxConnections * replicas }, (_, i) => httpRequest(edge.roundRobin(i), '/slow?ms=3000'));
  // Every upload and GET has arrived at Envoy (the uploads wait for their bodies, the GETs for the backend).
  await Promise.all(
    edge.replicas.map((r) =>
      r.waitUntil(
        async () => (await r.stat('http.websocket.downstream_rq_active')) >= (uploads.length + slowGets.length) / replicas,
        5000,
        'has every slow request',
      ),
    ),
  );
  const active = await edge.fleetStat('cluster.websocket_backend.upstream_rq_active');
  const upgrades = await Promise.all(Array.from({ length: edge.config.envoy.connections.maxTotal }, (_, i) => upgrade(edge.roundRobin(i))));
  report(
    `${uploads.length} trickling uploads and ${slowGets.length} slow GETs (backend requests active: ${active}); ` +
      `then ${upgrades.length} upgrades: ${tally(upgrades.map((r) => r.status))} in at most ${Math.max(...upgrades.map((r) => r.ms)).toFixed(0)} ms`,
  );
  expect(upgrades.map((r) => r.status)).toEqual(Array(upgrades.length).fill(101));
  for (const r of upgrades) expect(r.ms).toBeLessThan(1000);
  for (const u of uploads) u.stop();
  await closeAll(upgrades.map((r) => r.socket));
  await Promise.all(slowGets);
});

test('GIVEN 32 KiB buffers per connection THEN a 1 MiB WebSocket message still passes whole (streamed), and oversized request headers get 431', async () => {
  const edge = await start(committedEdge(), { replicas: 1 });
  const ws = await upgrade(edge.target(0), '/', { maxPayload: 4 * 1024 * 1024 });
  const big = 'x'.repeat(1024 * 1024);
  const t0 = performance.now();
  const back = await echo(ws.socket!, big);
  const ms = performance.now() - t0;
  const huge = await httpRequest(edge.target(0), '/plain', 'GET', 10_000, { headers: { 'x-filler': 'y'.repeat(70 * 1024) } });
  report(`a 1 MiB message echoed whole in ${ms.toFixed(0)} ms through 32 KiB buffers; a request with 70 KiB of headers: ${huge.status}`);
  expect(back.length).toBe(big.length);
  expect(back === big).toBe(true);
  expect(huge.status).toBe(431);
  await closeAll([ws.socket]);
});

test('GIVEN the ready port at its own cap of connections THEN a connection past it is closed at once, and /ready answers again as soon as one closes', async () => {
  const edge = await start(committedEdge(), { replicas: 1 });
  const replica = edge.replicas[0];
  const { readyPort, readyMaxConnections } = edge.config.envoy;
  const heapBefore = await replica.stat('server.memory_allocated');
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const sock = connect(readyPort, replica.address, () => resolve(sock));
      sock.on('error', reject);
    });
  const idle: Socket[] = [];
  for (let i = 0; i < readyMaxConnections; i++) idle.push(await open());
  await replica.waitUntil(
    async () => (await replica.stat('connection_limit.ready.active_connections')) === readyMaxConnections,
    5000,
    'counts every idle connection',
  );
  const heapAt = await replica.stat('server.memory_allocated');
  const t0 = performance.now();
  const atCap = await httpRequest({ address: replica.address, port: readyPort }, '/ready');
  const refusedMs = performance.now() - t0;
  idle.pop()!.destroy();
  await replica.waitUntil(async () => (await replica.stat('connection_limit.ready.active_connections')) < readyMaxConnections, 5000, 'frees a slot');
  const after = await httpRequest({ address: replica.address, port: readyPort }, '/ready');
  const limited = await replica.stat('connection_limit.ready.limited_connections');
  report(
    `${readyMaxConnections} idle connections on the ready port (heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAt / 2 ** 20).toFixed(1)} MiB): ` +
      `the next got ${atCap.status || 'closed'} in ${refusedMs.toFixed(0)} ms (limited ${limited}); after one closed, /ready ${after.status}`,
  );
  expect(atCap.status).toBe(0);
  expect(refusedMs).toBeLessThan(500);
  expect(limited).toBeGreaterThanOrEqual(1);
  expect(after.status).toBe(200);
  for (const sock of idle) sock.destroy();
});

test('GIVEN a plain request that trickles in (hand-edited request_timeout of 2 s: the shipped one is 65 s) THEN it is cut with 408, not told to retry with 503', async () => {
  const shipped = committedEdge();
  const bootstrap = structuredClone(shipped.bootstrap);
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  expect(hcm.request_timeout).toBe('65s');
  hcm.request_timeout = '2s';
  const edge = await start({ ...shipped, bootstrap }, { replicas: 1 });
  const upload = trickle(edge.target(0), newClientAddress(), 200);
  const t0 = performance.now();
  const status = await upload.closed;
  const ms = performance.now() - t0;
  upload.stop();
  report(`a trickled POST with request_timeout 2 s: "${status}" after ${s(ms)}`);
  expect(status).toMatch(/^HTTP\/1\.1 408 /);
  expect(ms).toBeLessThan(3500);
});
