// Bad input: each invalid value stops synthesis with a message naming the field, the value and
// what is allowed, and the previous outputs stay byte-for-byte as they were.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/errors';
import { loadConfig, parseConfig } from '../config/load';
import { EnvoyBootstrapError } from '../envoy/validate';
import { OUTPUT_DIRS, synthesizeProject } from '../synth/pipeline';
import { snapshotTree, tempProject } from './helpers';

/** Synthesizes a good project, then the bad config over it; returns the error and whether outputs changed. */
function synthBadOverGood(badConfig: unknown): { error: Error; outputsUnchanged: boolean } {
  const good = tempProject({});
  synthesizeProject(good.root, good.configFile);
  const before = OUTPUT_DIRS.map((dir) => snapshotTree(path.join(good.root, dir)));
  const bad = tempProject(badConfig);
  let error: Error | undefined;
  try {
    synthesizeProject(good.root, bad.configFile);
  } catch (err) {
    error = err as Error;
  }
  if (!error) throw new Error('synthesis accepted a bad config');
  const after = OUTPUT_DIRS.map((dir) => snapshotTree(path.join(good.root, dir)));
  const leftovers = readdirSync(good.root).filter((name) => name.startsWith('.synth-staging'));
  return { error, outputsUnchanged: JSON.stringify(before) === JSON.stringify(after) && leftovers.length === 0 };
}

describe('bad input stops synthesis and leaves the outputs untouched', () => {
  test.each([
    ['replicas 0', { envoy: { replicas: 0 } }, 'envoy.replicas: got 0; allowed: an integer from 1 to 20'],
    [
      'a connection cap that does not split evenly over 2 replicas',
      { envoy: { connections: { maxTotal: 9 } } },
      'envoy.connections.maxTotal: got 9; allowed: a multiple of envoy.replicas (2)',
    ],
    ['zero tokens', { envoy: { rateLimit: { maxTokens: 0 } } }, 'envoy.rateLimit.maxTokens: got 0; allowed: an integer from 1 to 1000000'],
    [
      'a fleet bucket smaller than the replica count, where no upgrade would ever be admitted',
      { envoy: { replicas: 3, rateLimit: { maxTokens: 2 }, connections: { maxTotal: 9, maxPerBackendPod: 3 } } },
      'envoy.rateLimit.maxTokens: got 2; allowed: at least 3, the most Envoy replicas that run at once (envoy.replicas 3)',
    ],
    [
      'one replica with a one-token bucket (a rollout runs two)',
      { envoy: { replicas: 1, rateLimit: { maxTokens: 1 } } },
      'envoy.rateLimit.maxTokens: got 1; allowed: at least 2, the most Envoy replicas that run at once (envoy.replicas 1 plus one during a rollout)',
    ],
    ['a port out of range', { backend: { healthPort: 70000 } }, 'backend.healthPort: got 70000; allowed: an integer from 1 to 65535'],
    [
      'an invalid DNS name',
      { backend: { serviceName: 'Backend_Service' } },
      'backend.serviceName: got "Backend_Service"; allowed: a DNS-1123 label',
    ],
    ['an unknown key', { envoy: { replica: 3 } }, 'envoy.replica: unknown key "replica"; allowed keys here: namespace, image, replicas'],
    [
      'a malformed memory quantity',
      { envoy: { resources: { memoryLimit: '256MB' } } },
      'envoy.resources.memoryLimit: got "256MB"; allowed: a memory quantity such as 256Mi or 1Gi',
    ],
    ['a malformed CPU quantity', { envoy: { resources: { cpuLimit: '250 m' } } }, 'envoy.resources.cpuLimit: got "250 m"; allowed: a CPU quantity'],
    [
      'a malformed duration',
      { envoy: { rateLimit: { fillInterval: '1 second' } } },
      'envoy.rateLimit.fillInterval: got "1 second"; allowed: a duration such as 500ms, 5s, 10m or 1h, from 50ms to 1h',
    ],
    [
      'a malformed CIDR',
      { cluster: { vpcCidr: '10.0.0.0/33' } },
      'cluster.vpcCidr: got "10.0.0.0/33"; allowed: an IPv4 CIDR such as 10.0.0.0/16',
    ],
    ['a CIDR with host bits set', { alb: { allowedCidrs: ['10.0.0.1/16'] } }, 'alb.allowedCidrs[0]: got "10.0.0.1/16"; allowed: an IPv4 CIDR'],
    [
      'an unpinned Envoy image',
      { envoy: { image: 'envoyproxy/envoy:v1.29-latest' } },
      'envoy.image: got "envoyproxy/envoy:v1.29-latest"; allowed: an image pinned to an exact release',
    ],
  ])('GIVEN %s WHEN synthesizing THEN it stops with a message naming field, value and what is allowed', (_name, bad, message) => {
    const { error, outputsUnchanged } = synthBadOverGood(bad);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
    expect(outputsUnchanged).toBe(true);
  });

  test.each([
    [
      'zero tokens per fill',
      { envoy: { rateLimit: { tokensPerFill: 0 } } },
      'token_bucket.tokens_per_fill: uint32.gt: must be greater than 0; got 0 (config: envoy.rateLimit.tokensPerFill)',
    ],
    [
      'a zero no-traffic health check interval',
      { envoy: { healthCheck: { noTrafficInterval: '0s' } } },
      'health_checks[0].no_traffic_interval: duration.gt: must be greater than 0s; got 0s (config: envoy.healthCheck.noTrafficInterval)',
    ],
  ])('GIVEN %s, which only Envoy\'s API rules refuse, WHEN synthesizing THEN the Envoy validator stops it and nothing is written', (_name, bad, message) => {
    const { error, outputsUnchanged } = synthBadOverGood(bad);
    expect(error).toBeInstanceOf(EnvoyBootstrapError);
    expect(error.message).toContain('the Envoy bootstrap would be rejected');
    expect(error.message).toContain(message);
    expect(outputsUnchanged).toBe(true);
  });

  test('GIVEN a stream idle timeout shorter than the ALB idle timeout THEN it is refused, since Envoy would cut idle sockets', () => {
    expect(() => parseConfig({ envoy: { streamIdleTimeout: '10m' } })).toThrow(
      'envoy.streamIdleTimeout: got "10m"; allowed: at least alb.idleTimeoutSeconds (3600s)',
    );
  });

  test('GIVEN a fleet bucket that does not divide by the replica count THEN it is accepted: Envoy shares it over the peers', () => {
    const config = parseConfig({ envoy: { replicas: 3, rateLimit: { maxTokens: 10 }, connections: { maxTotal: 9, maxPerBackendPod: 3 } } });
    expect(config.envoy.rateLimit.maxTokens).toBe(10);
  });

  test('GIVEN two Envoy ports that collide THEN it is refused naming the second one', () => {
    expect(() => parseConfig({ envoy: { adminPort: 9901 } })).toThrow('envoy.adminPort: got 9901; allowed: a port different from envoy.readyPort');
  });

  test('GIVEN a YAML file with a duplicated key THEN loading fails instead of silently keeping one', () => {
    const { configFile } = tempProject('envoy:\n  replicas: 2\n  replicas: 3\n');
    expect(() => loadConfig(configFile)).toThrow(/not valid YAML/);
  });

  test('GIVEN no config file at the path THEN the error names the path', () => {
    expect(() => loadConfig('/nonexistent/edge.yaml')).toThrow('cannot read config file /nonexistent/edge.yaml');
  });

  test('GIVEN an empty config file THEN every field takes the seed default', () => {
    const { configFile } = tempProject('');
    const config = loadConfig(configFile);
    expect(config.envoy.replicas).toBe(2);
    expect(config.backend.serviceName).toBe('envoy-poc-app-server-service');
    expect(config.alb.idleTimeoutSeconds).toBe(3600);
  });

  test('GIVEN a bad config on a fresh clone with no outputs yet THEN nothing is created', () => {
    const { root, configFile } = tempProject({ envoy: { replicas: 0 } });
    expect(() => synthesizeProject(root, configFile)).toThrow(ConfigError);
    for (const dir of OUTPUT_DIRS) expect(existsSync(path.join(root, dir))).toBe(false);
  });
});
