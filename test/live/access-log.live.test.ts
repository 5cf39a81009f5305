// JSON access logs on stdout, on the real Envoy: one parseable line per request, with the response
// code and Envoy's response flags for an upgrade (101), a rate-limited one (429) and one refused
// after waiting for a backend slot (503).
import { closeAll, upgrade } from './harness/clients';
import { Edge } from './harness/edge';
import { committedEdge } from './harness/envoy-fleet';
import { report, sleep } from './harness/report';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

test('GIVEN upgrades that succeed, are rate-limited, and wait for a slot in vain THEN stdout holds one JSON line for each, with its code and response flags', async () => {
  edge = await Edge.start(committedEdge());
  const { replicas, rateLimit, connections } = edge.config.envoy;
  const [first, second] = edge.replicas;
  // Replica 0: spend its share of the bucket on short-lived sockets, then one more is refused.
  const share = rateLimit.maxTokens / replicas;
  const quick = [];
  for (let i = 0; i < share; i++) {
    const r = await upgrade(edge.target(0));
    r.socket?.close(1000);
    quick.push(r.status);
  }
  const limited = await upgrade(edge.target(0));
  // Replica 1: hold its share of the backend slots, then one more waits in vain.
  const slots = connections.maxTotal / replicas;
  const held = await Promise.all(Array.from({ length: slots }, () => upgrade(edge!.target(1))));
  const waited = await upgrade(edge.target(1));
  expect([...quick, limited.status]).toEqual([...Array(share).fill(101), 429]);
  expect([...held.map((r) => r.status), waited.status]).toEqual([...Array(slots).fill(101), 503]);
  await closeAll(held.map((r) => r.socket));
  for (const [replica, lines] of [
    [first, share + 1],
    [second, slots + 1],
  ] as const) {
    await replica.waitUntil(async () => replica.accessLog.length >= lines, 5000, `logs ${lines} requests`);
  }
  await sleep(100);

  const log = [...first.accessLog, ...second.accessLog];
  const byCode = (code: number) => log.filter((l) => Number(l.response_code) === code);
  const flags = (code: number) => [...new Set(byCode(code).map((l) => l.response_flags))].sort().join(',');
  const details = (code: number) => [...new Set(byCode(code).map((l) => l.response_code_details))].sort().join(',');
  const stdout = [...first.stdoutLines, ...second.stdoutLines];
  report(
    `stdout: ${stdout.length} lines, ${log.length} of them JSON; flags and details: ` +
      [101, 429, 503].map((c) => `${c} "${flags(c)}" (${details(c)})`).join(', '),
  );
  expect(stdout.length).toBe(log.length);
  // A 101 is logged when the tunnel is established ("-") and again when it closes.
  const established = byCode(101).filter((l) => l.response_flags === '-');
  expect(established.length).toBe(share + slots);
  expect(byCode(429)).toHaveLength(1);
  expect(byCode(429)[0]).toMatchObject({ response_flags: 'RL', response_code_details: 'local_rate_limited' });
  expect(byCode(503)).toHaveLength(1);
  // The wait for a slot is the upgrade route's timeout (flag UT), answered 503 by the local reply mapper.
  expect(byCode(503)[0]).toMatchObject({ response_flags: 'UT', response_code_details: 'response_timeout' });
  for (const line of log) {
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining([
        'start_time',
        'method',
        'path',
        'response_code',
        'response_flags',
        'response_code_details',
        'upstream_host',
        'duration_ms',
        'upgrade',
      ]),
    );
  }
});
