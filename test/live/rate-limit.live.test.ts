// The fleet rate limit on new WebSockets, on the real Envoy: a burst of maxTokens, then
// tokensPerFill every fillInterval, for the whole fleet at 1, 2 and 3 replicas.
import { httpRequest, upgrade } from './harness/clients';
import { type Edge, edgesStoppedAfterEachTest } from './harness/edge';
import { committedEdge } from './harness/envoy-fleet';
import { report, s, sleep, tally } from './harness/report';

const start = edgesStoppedAfterEachTest();

/** Fires `count` upgrades at once, round robin over the replicas; each closes as soon as it opens. */
async function burst(edge: Edge, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const r = await upgrade(edge.roundRobin(i));
      r.socket?.close(1000);
      return r;
    }),
  );
}

interface FleetMeasurement {
  readonly replicas: number;
  readonly burst: number;
  /** ms since the burst began, for every admitted upgrade after it. */
  readonly later: number[];
  readonly windowMs: number;
}

/** A burst of 3× the bucket, then one attempt every 100 ms (round robin) for `windowMs`. */
async function measureFleet(edge: Edge, windowMs: number): Promise<FleetMeasurement> {
  const { maxTokens } = edge.config.envoy.rateLimit;
  const t0 = performance.now();
  const first = await burst(edge, 3 * maxTokens);
  const burstEnd = performance.now();
  const later: number[] = [];
  const attempts: Promise<void>[] = [];
  for (let i = 0; performance.now() - burstEnd < windowMs; i++) {
    attempts.push(
      upgrade(edge.roundRobin(i)).then((r) => {
        if (r.status === 101) later.push(performance.now() - t0);
        r.socket?.close(1000);
      }),
    );
    await sleep(100);
  }
  await Promise.all(attempts);
  return { replicas: edge.replicas.length, burst: first.filter((r) => r.status === 101).length, later: later.sort((a, b) => a - b), windowMs };
}

test('GIVEN 1, 2 and 3 replicas THEN the fleet admits a burst of at most maxTokens, then about tokensPerFill per fillInterval, over 12 s', async () => {
  const shipped = committedEdge();
  const { maxTokens, tokensPerFill, fillInterval } = shipped.config.envoy.rateLimit;
  const windowMs = 12_000;
  const fleets = await Promise.all([1, 2, 3].map((replicas) => start(shipped, { replicas })));
  const results = await Promise.all(fleets.map((edge) => measureFleet(edge, windowMs)));
  for (const m of results) {
    const perSecond = m.later.length / (m.later[m.later.length - 1] / 1000);
    report(`${m.replicas} replica(s): a fleet burst of ${m.burst}, then ${m.later.length} in ${s(m.windowMs)} (${perSecond.toFixed(2)} per second)`);
    // The bucket: at most maxTokens at once; each replica rounds its share down, losing less than one each.
    expect(m.burst).toBeLessThanOrEqual(maxTokens);
    expect(m.burst).toBeGreaterThanOrEqual(maxTokens - (m.replicas - 1));
    // Never more than the bucket plus what its fills have added by then (fill timers run from start-up).
    for (const [i, t] of m.later.entries()) expect(m.burst + i + 1).toBeLessThanOrEqual(maxTokens + tokensPerFill * Math.ceil(t / fillInterval));
    // And no fewer than the fills of the window, less one fill and one request per replica of rounding.
    expect(m.later.length).toBeGreaterThanOrEqual((tokensPerFill * windowMs) / fillInterval - tokensPerFill - m.replicas);
  }
});

test('GIVEN a refused upgrade THEN it gets 429 at once, with x-ratelimit-limit, -remaining, -reset and retry-after; plain HTTP requests spend no tokens', async () => {
  const edge = await start(committedEdge());
  const { maxTokens } = edge.config.envoy.rateLimit;
  const plain = await Promise.all(Array.from({ length: 2 * maxTokens }, (_, i) => httpRequest(edge.roundRobin(i), '/plain')));
  expect(plain.map((r) => r.status)).toEqual(Array(2 * maxTokens).fill(200));

  const results = await burst(edge, maxTokens + 5);
  const refused = results.filter((r) => r.status === 429);
  report(
    `after ${plain.length} plain GETs, ${results.length} upgrades: ${tally(results.map((r) => r.status))}; ` +
      `slowest 429 in ${Math.max(...refused.map((r) => r.ms)).toFixed(0)} ms; headers ${JSON.stringify(pick(refused[0].headers))}`,
  );
  expect(results.filter((r) => r.status === 101)).toHaveLength(maxTokens);
  expect(refused).toHaveLength(5);
  for (const r of refused) {
    expect(r.ms).toBeLessThan(500);
    expect(pick(r.headers)).toEqual({
      'x-ratelimit-limit': expect.stringMatching(/^\d+/),
      'x-ratelimit-remaining': expect.stringMatching(/^\d+$/),
      'x-ratelimit-reset': expect.stringMatching(/^\d+$/),
      'retry-after': expect.stringMatching(/^[1-9]\d*$/),
    });
  }
});

function pick(headers: Record<string, unknown>) {
  const names = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];
  return Object.fromEntries(names.map((n) => [n, headers[n]]));
}

test('GIVEN a replica that serves before the peers Service lists it (scale-up) THEN the fleet admits more until DNS catches up; each replica sees a change within the peers DNS refresh interval', async () => {
  const shipped = committedEdge();
  const { maxTokens } = shipped.config.envoy.rateLimit;
  const refreshMs = peersRefreshMs(shipped.bootstrap);

  // Excess: a third replica serves while the peers Service still lists two.
  const stale = await start(shipped, { replicas: 2 });
  await stale.addReplica({ announce: false });
  await stale.waitForPeerCount(stale.replicas, 2);
  const staleBurst = (await burst(stale, 3 * maxTokens)).filter((r) => r.status === 101).length;
  report(`3 replicas serving, peers Service listing 2: a fleet burst of ${staleBurst} (limit ${maxTokens})`);
  expect(staleBurst).toBeGreaterThan(maxTokens);

  // Lag: a fresh fleet of 2; the third joins the peers Service, then leaves it.
  const edge = await start(shipped, { replicas: 2 });
  const joining = await edge.addReplica({ announce: false });
  const t0 = performance.now();
  edge.announcePeers(edge.replicas);
  await edge.waitForPeerCount(edge.replicas, 3);
  const joinLag = performance.now() - t0;
  const settledBurst = (await burst(edge, 3 * maxTokens)).filter((r) => r.status === 101).length;

  const t1 = performance.now();
  edge.announcePeers(edge.replicas.filter((r) => r !== joining));
  await joining.stop();
  const remaining = edge.replicas.filter((r) => r !== joining);
  await edge.waitForPeerCount(remaining, 2);
  const leaveLag = performance.now() - t1;
  report(
    `peers DNS refresh ${s(refreshMs)}: a joining replica counted by all within ${joinLag.toFixed(0)} ms, ` +
      `a leaving one dropped within ${leaveLag.toFixed(0)} ms; burst once all count 3: ${settledBurst}`,
  );
  expect(joinLag).toBeLessThan(refreshMs + 1000);
  expect(leaveLag).toBeLessThan(refreshMs + 1000);
  expect(settledBurst).toBeLessThanOrEqual(maxTokens);
});

function peersRefreshMs(bootstrap: Record<string, any>): number {
  const name = bootstrap.cluster_manager.local_cluster_name;
  const cluster = bootstrap.static_resources.clusters.find((c: any) => c.name === name);
  return Number(cluster.cluster_type.typed_config.dns_refresh_rate.replace(/s$/, '')) * 1000;
}

test('GIVEN a fleet bucket smaller than the replica count (hand-edited: the config refuses it) THEN no upgrade is ever admitted', async () => {
  const shipped = committedEdge();
  const liveFiles = structuredClone(shipped.liveFiles);
  const replicas = 3;
  const limit = liveFiles['routes.yaml'].resources[0].virtual_hosts[0].routes[0].typed_per_filter_config['envoy.filters.http.local_ratelimit'];
  limit.token_bucket.max_tokens = replicas - 1;
  const edge = await start({ ...shipped, liveFiles }, { replicas });
  const results = await burst(edge, 6);
  await sleep(2 * shipped.config.envoy.rateLimit.fillInterval);
  results.push(...(await burst(edge, 6)));
  report(`a bucket of ${replicas - 1} over ${replicas} replicas: ${tally(results.map((r) => r.status))}`);
  expect(results.filter((r) => r.status === 101)).toHaveLength(0);
});
