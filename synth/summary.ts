// The short report `npm run synth` prints: the config files read, each environment's files (written
// or unchanged) and the numbers derived for each replica.
import type { LoadedConfig } from '../config/load';
import { perReplicaLimits } from '../envoy/limits';
import { outputPaths } from './pipeline';
import type { WriteReport } from './write-outputs';

export function synthSummary({ loaded, report }: { loaded: LoadedConfig; report: WriteReport }): string {
  const lines = [`read ${loaded.files.join(', ')}`];
  const described = (prefix: string) => {
    const files = [...report.written].filter(([file]) => file === prefix || file.startsWith(`${prefix}/`));
    const changed = files.filter(([, state]) => state !== 'unchanged').map(([file, state]) => `${file} (${state})`);
    const removed = report.removed.filter((file) => file.startsWith(`${prefix}/`) || file === prefix);
    if (!changed.length && !removed.length) return `${prefix}: ${files.length} file${files.length === 1 ? '' : 's'} unchanged`;
    return [...changed, ...removed.map((f) => `${f} (removed)`)].join(', ');
  };
  for (const { name, config } of loaded.environments) {
    const limits = perReplicaLimits(config);
    const { rateLimit, replicas } = config.envoy;
    lines.push(
      `${name}: ${described(outputPaths(name).root)}; ${described(outputPaths(name).eksctl)}`,
      `  ${replicas} replicas, each: ${limits.maxConnections} backend connections (${limits.maxConnectionsPerBackendPod} per pod), ` +
        `a wait queue of ${limits.maxPendingRequests}, ${limits.maxDownstreamConnections} client connections; ` +
        `the fleet bucket (${rateLimit.maxTokens}, +${rateLimit.tokensPerFill} every ${rateLimit.fillInterval / 1000}s) is shared over the live replicas`,
    );
  }
  lines.push(described('argocd'));
  const covered = (file: string) =>
    loaded.environments.some((e) => file.startsWith(`${outputPaths(e.name).root}/`) || file === outputPaths(e.name).eksctl) || file.startsWith('argocd/');
  const elsewhere = report.removed.filter((file) => !covered(file));
  if (elsewhere.length) lines.push(`removed: ${elsewhere.join(', ')}`);
  return lines.join('\n');
}
