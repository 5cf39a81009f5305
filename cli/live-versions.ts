// What `npm run status` shows of the live config: for each Envoy replica, the version of each live
// file it serves, read through the API server's pod proxy from the read-only ready port (the admin
// interface stays on loopback), against the version the environment's committed output holds.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { LIVE_FILES, LIVE_VERSION_STATS, type LiveFile } from '../envoy/live';
import { EDGE_NAMES } from '../k8s/names';

export type LiveVersions = Record<LiveFile, string | undefined>;

const FILES = Object.keys(LIVE_FILES) as LiveFile[];

/** The version_info of each live file in dist/<environment>/edge/: what git holds and Argo CD syncs. */
export function liveVersionsInGit(projectRoot: string, environment: string): LiveVersions {
  const dir = path.join(projectRoot, 'dist', environment, 'edge');
  const text = readFileSync(path.join(dir, 'envoy-edge.k8s.yaml'), 'utf8');
  const configMap = parseAllDocuments(text)
    .map((d) => d.toJS())
    .find((o) => o?.kind === 'ConfigMap' && o.metadata?.name === EDGE_NAMES.liveConfigMap);
  if (!configMap) throw new Error(`${dir} holds no ConfigMap ${EDGE_NAMES.liveConfigMap}: run npm run synth`);
  return Object.fromEntries(FILES.map((f) => [f, parseYaml(configMap.data[LIVE_FILES[f]]).version_info])) as LiveVersions;
}

/** The API path that reads a pod's version stats through the pod proxy. */
export function podStatsPath(namespace: string, pod: string, readyPort: number): string {
  const filter = encodeURIComponent(`^(${FILES.map((f) => LIVE_VERSION_STATS[f].replace(/\./g, '\\.')).join('|')})$`);
  return `/api/v1/namespaces/${namespace}/pods/${pod}:${readyPort}/proxy/stats?filter=${filter}`;
}

/** Parses Envoy's plain /stats output (`name: "value"` for text stats). */
export function parseLiveVersions(stats: string): LiveVersions {
  const values = new Map([...stats.matchAll(/^([^:\n]+): "(.*)"$/gm)].map((m) => [m[1], m[2]]));
  return Object.fromEntries(FILES.map((f) => [f, values.get(LIVE_VERSION_STATS[f])])) as LiveVersions;
}

/** One table row per replica: each file's version, and whether it is git's. */
export function formatLiveVersions(rows: readonly { pod: string; versions?: LiveVersions; error?: string }[], git: LiveVersions): string[] {
  const cell = (served: string | undefined, expected: string | undefined) =>
    served === undefined ? 'none' : served === expected ? `${served} (= git)` : `${served} (git: ${expected})`;
  const table = [['POD', ...FILES.map((f) => f.toUpperCase())]];
  for (const row of rows) {
    table.push(row.versions ? [row.pod, ...FILES.map((f) => cell(row.versions![f], git[f]))] : [row.pod, `unreadable: ${row.error}`]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
  const behind = rows.filter((r) => !r.versions || FILES.some((f) => r.versions![f] !== git[f])).length;
  lines.push(
    behind
      ? `${behind} of ${rows.length} replicas do not serve git's live config yet (the kubelet updates a mounted ConfigMap within about a minute; longer: see EnvoyLiveConfigRejected in docs/monitoring.md)`
      : `all ${rows.length} replicas serve git's live config`,
  );
  return lines;
}
