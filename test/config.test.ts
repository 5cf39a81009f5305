// Bad input: each invalid value stops synthesis with a message naming the file, the field, the value
// and what is allowed, and the previous outputs stay byte-for-byte as they were.
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/errors';
import { loadEnvironments, parseConfig } from '../config/load';
import { EnvoyBootstrapError } from '../envoy/validate';
import { OUTPUT_DIRS, synthesizeProject } from '../synth/pipeline';
import { type ConfigFiles, configWith, PROJECT_ROOT, snapshotTree, tempProject } from './helpers';

/** Synthesizes the shipped project, then a bad config over it; returns the error and whether outputs changed. */
function synthBadOverGood(bad: ConfigFiles & { prod?: Record<string, unknown> }): { error: Error; outputsUnchanged: boolean } {
  const good = tempProject();
  synthesizeProject(good.root, good.configDir);
  const before = OUTPUT_DIRS.map((dir) => snapshotTree(path.join(good.root, dir)));
  const badProject = tempProject(bad);
  let error: Error | undefined;
  try {
    synthesizeProject(good.root, badProject.configDir);
  } catch (err) {
    error = err as Error;
  }
  if (!error) throw new Error('synthesis accepted a bad config');
  const after = OUTPUT_DIRS.map((dir) => snapshotTree(path.join(good.root, dir)));
  const leftovers = readdirSync(good.root).filter((name) => name.startsWith('.synth-staging'));
  return { error, outputsUnchanged: JSON.stringify(before) === JSON.stringify(after) && leftovers.length === 0 };
}

const PROD = 'config/environments/prod.yaml';

describe('bad input stops synthesis and leaves the outputs untouched', () => {
  test.each([
    ['replicas 0', { envoy: { replicas: 0 } }, `${PROD}: envoy.replicas: got 0; allowed: an integer from 1 to 20`],
    [
      'a connection cap that does not split evenly over 2 replicas',
      { envoy: { connections: { maxTotal: 9 } } },
      `${PROD}: envoy.connections.maxTotal: got 9; allowed: a multiple of envoy.replicas (2), so each replica gets an equal whole share, such as 8 or 10`,
    ],
    ['zero tokens', { envoy: { rateLimit: { maxTokens: 0 } } }, `${PROD}: envoy.rateLimit.maxTokens: got 0; allowed: an integer from 1 to 1000000`],
    [
      'a huge number, reported once and as typed',
      { envoy: { replicas: '__HUGE__' } },
      `${PROD}: envoy.replicas: got 99999999999999999999; allowed: an integer from 1 to 20`,
    ],
    [
      'a fleet bucket smaller than the replica count, where no upgrade would ever be admitted',
      { envoy: { replicas: 3, rateLimit: { maxTokens: 2 }, connections: { maxTotal: 9, maxPerBackendPod: 3 } } },
      `${PROD}: envoy.rateLimit.maxTokens: got 2; allowed: at least 3, the most Envoy replicas that run at once (envoy.replicas 3)`,
    ],
    [
      'one replica with a one-token bucket (a rollout runs two)',
      { envoy: { replicas: 1, rateLimit: { maxTokens: 1 } } },
      `${PROD}: envoy.rateLimit.maxTokens: got 1; allowed: at least 2, the most Envoy replicas that run at once (envoy.replicas 1 plus one during a rollout)`,
    ],
    ['a port out of range', { backend: { healthPort: 70000 } }, `${PROD}: backend.healthPort: got 70000; allowed: an integer from 1 to 65535`],
    ['an invalid DNS name', { backend: { serviceName: 'Backend_Service' } }, `${PROD}: backend.serviceName: got "Backend_Service"; allowed: a DNS-1123 label`],
    ['an unknown key', { envoy: { replica: 3 } }, `${PROD}: envoy.replica: unknown key "replica"; allowed keys here: namespace, image, replicas`],
    ['a field nothing reads any more', { backend: { pods: 4 } }, `${PROD}: backend.pods: unknown key "pods"`],
    [
      'a malformed memory quantity',
      { envoy: { resources: { memoryLimit: '256MB' } } },
      `${PROD}: envoy.resources.memoryLimit: got "256MB"; allowed: a memory quantity such as 256Mi or 1Gi`,
    ],
    ['a malformed CPU quantity', { envoy: { resources: { cpuLimit: '250 m' } } }, `${PROD}: envoy.resources.cpuLimit: got "250 m"; allowed: a CPU quantity`],
    [
      'a malformed duration',
      { envoy: { rateLimit: { fillInterval: '1 second' } } },
      `${PROD}: envoy.rateLimit.fillInterval: got "1 second"; allowed: a duration such as 500ms, 5s, 10m or 1h, from 50ms to 1h`,
    ],
    ['a malformed CIDR', { cluster: { vpcCidr: '10.0.0.0/33' } }, `${PROD}: cluster.vpcCidr: got "10.0.0.0/33"; allowed: an IPv4 CIDR such as 10.0.0.0/16`],
    ['a CIDR with host bits set', { alb: { allowedCidrs: ['10.0.0.1/16'] } }, `${PROD}: alb.allowedCidrs[0]: got "10.0.0.1/16"; allowed: an IPv4 CIDR`],
    [
      'an unpinned Envoy image',
      { envoy: { image: 'envoyproxy/envoy:v1.29-latest' } },
      `${PROD}: envoy.image: got "envoyproxy/envoy:v1.29-latest"; allowed: an image pinned to an exact release`,
    ],
    [
      'the distroless image, which has no sleep for the preStop hook',
      { envoy: { image: 'envoyproxy/envoy:distroless-v1.40.0' } },
      `${PROD}: envoy.image: got "envoyproxy/envoy:distroless-v1.40.0"; allowed: an image with a \`sleep\` binary`,
    ],
    [
      'a certificate from another region',
      { alb: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123' } },
      `${PROD}: alb.certificateArn: got "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"; allowed: an ACM certificate in cluster.region (us-east-1)`,
    ],
    [
      'an alert ratio above 1',
      { monitoring: { enabled: true, alerts: { rateLimitedRatio: 1.5 } } },
      `${PROD}: monitoring.alerts.rateLimitedRatio: got 1.5; allowed: a number above 0 and at most 1`,
    ],
    [
      'a scrape interval of zero',
      { monitoring: { enabled: true, scrapeInterval: '0s' } },
      `${PROD}: monitoring.scrapeInterval: got "0s"; allowed: a duration such as 500ms, 5s, 10m or 1h, from 1s to 5m`,
    ],
    [
      'a label key Kubernetes refuses',
      { monitoring: { enabled: true, labels: { 'bad key!': 'x' } } },
      `${PROD}: monitoring.labels: got the key "bad key!"; allowed: a label key: an optional DNS prefix and "/", then 1-63 letters, digits, "-", "_" or "."`,
    ],
  ])('GIVEN %s WHEN synthesizing THEN it stops with a message naming file, field, value and what is allowed', (_name, bad, message) => {
    const prod = JSON.parse(JSON.stringify(bad));
    const { error, outputsUnchanged } = synthBadOverGood(
      prod.envoy?.replicas === '__HUGE__'
        ? {
            environments: {
              prod: 'cluster:\n  name: envoy-poc\nenvoy:\n  replicas: 99999999999999999999\n',
              staging: { cluster: { name: 'x' }, gitops: { destinationName: 'x' } },
            },
          }
        : { prod },
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(message);
    // One problem per field: never the same value reported twice.
    const lines = error.message.split('\n').filter((l) => l.startsWith('  - '));
    expect(new Set(lines.map((l) => l.slice(0, l.indexOf('; allowed')))).size).toBe(lines.length);
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
  ])("GIVEN %s, which only Envoy's API rules refuse, WHEN synthesizing THEN the Envoy validator stops it and nothing is written", (_name, bad, message) => {
    const { error, outputsUnchanged } = synthBadOverGood({ prod: bad });
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

  test('GIVEN an internet-facing ALB without envoy.allowedOrigins THEN it is refused, naming the field and the ["*"] way out; an internal ALB needs none', () => {
    expect(() => parseConfig({})).toThrow(
      'envoy.allowedOrigins: got nothing; allowed: the origins of your web pages, such as [https://app.example.com], for an internet-facing ALB',
    );
    expect(() => parseConfig({})).toThrow('["*"] turns the check off');
    expect(parseConfig({ alb: { scheme: 'internal' } }).envoy.allowedOrigins).toBeUndefined();
    expect(configWith({ envoy: { allowedOrigins: ['*'] } }).envoy.allowedOrigins).toEqual(['*']);
  });

  test.each([
    [['app.example.com'], 'envoy.allowedOrigins[0]: got "app.example.com"; allowed: an origin such as https://app.example.com'],
    [['https://app.example.com/path'], 'envoy.allowedOrigins[0]: got "https://app.example.com/path"; allowed: an origin'],
    [['*', 'https://a.example.com'], '"*" alone, or a list of origins without it'],
    [[], 'at least one origin'],
  ])('GIVEN envoy.allowedOrigins %j THEN it is refused with what is allowed', (origins, message) => {
    expect(() => parseConfig({ envoy: { allowedOrigins: origins } })).toThrow(message);
  });

  test("GIVEN Envoy's connection idle timeout not longer than the ALB's THEN it is refused: AWS requires the target to keep idle connections longer", () => {
    expect(() => configWith({ envoy: { connectionIdleTimeout: '1h' } })).toThrow(
      'envoy.connectionIdleTimeout: got "1h"; allowed: longer than alb.idleTimeoutSeconds (3600s)',
    );
    expect(configWith({ alb: { idleTimeoutSeconds: 1800 }, envoy: { connectionIdleTimeout: '1h' } }).envoy.connectionIdleTimeout).toBe(3_600_000);
  });

  test('GIVEN an internet-facing ALB with no certificate THEN it is refused unless alb.allowPlainHttp says so; an internal ALB may listen on HTTP', () => {
    const origins = { envoy: { allowedOrigins: ['https://app.example.com'] } };
    expect(() => parseConfig(origins)).toThrow('alb.certificateArn: got nothing; allowed: an ACM certificate ARN for an internet-facing ALB');
    expect(() => parseConfig(origins)).toThrow('or alb.allowPlainHttp: true');
    expect(parseConfig({ ...origins, alb: { allowPlainHttp: true } }).alb.allowPlainHttp).toBe(true);
    expect(parseConfig({ alb: { scheme: 'internal' } }).alb.certificateArn).toBeUndefined();
  });

  test.each([
    ['sslPolicy', 'TLS-1-2', 'an ALB security policy name such as ELBSecurityPolicy-TLS13-1-2-2021-06'],
    ['wafAclArn', 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1', 'a regional AWS WAF web ACL ARN'],
  ])('GIVEN alb.%s %j THEN it is refused with what is allowed', (field, value, allowed) => {
    expect(() => configWith({ alb: { [field]: value } })).toThrow(`alb.${field}: got ${JSON.stringify(value)}; allowed: ${allowed}`);
  });

  test("GIVEN a WAF web ACL in another region THEN it is refused: an ALB uses only its own region's", () => {
    expect(() => configWith({ alb: { wafAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/0123abcd-4567' } })).toThrow(
      'alb.wafAclArn: got "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/0123abcd-4567"; allowed: a regional web ACL in cluster.region (us-east-1)',
    );
  });

  test("GIVEN a client bucket smaller than the replica count THEN it is refused: each replica's share would be no token", () => {
    expect(() => configWith({ envoy: { replicas: 3, perClient: { maxTokens: 2 } } })).toThrow('envoy.perClient.maxTokens: got 2; allowed: at least 3');
  });

  test('GIVEN a fleet bucket that does not divide by the replica count THEN it is accepted: Envoy shares it over the peers', () => {
    const config = configWith({ envoy: { replicas: 3, rateLimit: { maxTokens: 10 }, connections: { maxTotal: 9, maxPerBackendPod: 3 } } });
    expect(config.envoy.rateLimit.maxTokens).toBe(10);
  });

  test('GIVEN two Envoy ports that collide THEN it is refused naming the second one', () => {
    expect(() => parseConfig({ envoy: { adminPort: 9901 } })).toThrow('envoy.adminPort: got 9901; allowed: a port different from envoy.readyPort');
  });

  test('GIVEN an official debug image tag THEN it is accepted', () => {
    expect(configWith({ envoy: { image: 'envoyproxy/envoy:debug-v1.40.0' } }).envoy.image).toBe('envoyproxy/envoy:debug-v1.40.0');
  });

  test('GIVEN a cross-field problem with a value no file sets THEN it is attributed to the default, not to a file that never set it', () => {
    const { configDir } = tempProject({ base: { envoy: { replicas: 2 } }, environments: { prod: { envoy: { replicas: 4 } } } });
    expect(() => loadEnvironments(configDir)).toThrow(
      'environment prod, a default: envoy.connections.maxPerBackendPod: got 2; allowed: a multiple of envoy.replicas (4)',
    );
  });

  test('GIVEN one field under backend: in an environment THEN the other backend defaults stay, the selector included', () => {
    const { root, configDir } = tempProject({ base: { envoy: { replicas: 2 } }, environments: { prod: { backend: { port: 9000 } } } });
    void root;
    const [prod] = loadEnvironments(configDir).environments;
    expect(prod.config.backend).toMatchObject({ port: 9000, selector: { app: 'envoy-poc-app-server' }, healthPort: 8081 });
  });
});

describe('config files and environments', () => {
  test('GIVEN a YAML file with a duplicated key THEN loading fails naming the file, instead of silently keeping one', () => {
    const { configDir } = tempProject({ environments: { prod: 'envoy:\n  replicas: 2\n  replicas: 3\n' } });
    expect(() => loadEnvironments(configDir)).toThrow('config/environments/prod.yaml: envoy.replicas: the key "replicas" appears twice in one map');
  });

  test('GIVEN no config folder at the path THEN the error names the file it could not read', () => {
    expect(() => loadEnvironments('/nonexistent/config')).toThrow('config/base.yaml: cannot be read (ENOENT)');
  });

  test.each([
    ['an empty environment file', { environments: { prod: '', staging: { cluster: { name: 's' } } } }, 'config/environments/prod.yaml: holds no settings'],
    ['an environment file of comments only', { environments: { prod: '# nothing yet\n' } }, 'config/environments/prod.yaml: holds no settings'],
    ['an empty base file', { base: '' }, 'config/base.yaml: holds no settings'],
    ['no environment at all', { environments: {} }, 'config/environments/: no environment files'],
    ['an environment name that cannot name objects', { environments: { Prod_1: { cluster: { name: 'x' } } } }, 'environment name "Prod_1"'],
  ])('GIVEN %s THEN it is a mistake, refused with the file named, and nothing is written', (_name, files, message) => {
    const { root, configDir } = tempProject(files as ConfigFiles);
    expect(() => synthesizeProject(root, configDir)).toThrow(message);
    for (const dir of OUTPUT_DIRS) expect(existsSync(path.join(root, dir))).toBe(false);
  });

  test('GIVEN a value in base.yaml that an environment overrides THEN the environment gets its own, and a bad base value names base.yaml', () => {
    const ok = tempProject({
      base: { envoy: { replicas: 2 } },
      environments: { prod: { cluster: { name: 'p' }, envoy: { replicas: 4, connections: { maxPerBackendPod: 4 } } } },
    });
    expect(loadEnvironments(ok.configDir).environments[0].config.envoy.replicas).toBe(4);
    const bad = tempProject({ base: { envoy: { replicas: 0 } }, environments: { prod: { cluster: { name: 'p' } } } });
    expect(() => loadEnvironments(bad.configDir)).toThrow('config/base.yaml: envoy.replicas: got 0');
  });

  test.each([
    [
      'two environments on one Argo CD cluster name',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' } } },
      'gitops.destinationName: got "in-cluster"; allowed: a value no other environment uses (environment prod, config/environments/prod.yaml, has it): each environment is its own cluster',
    ],
    [
      'two environments on one EKS cluster',
      { prod: { cluster: { name: 'a' }, gitops: { destinationName: 'x' } }, staging: { cluster: { name: 'a' }, gitops: { destinationName: 'y' } } },
      'cluster.name: got "a"; allowed: a value no other environment uses (environment prod, config/environments/prod.yaml, has it)',
    ],
    [
      'an Argo CD environment that does not exist',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', argocdEnvironment: 'qa' } } },
      'gitops.argocdEnvironment: got "qa"; allowed: one of the environments: prod, staging',
    ],
    [
      'two Argo CD namespaces for one shared argocd/',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', argocdNamespace: 'gitops' } } },
      'gitops.argocdNamespace: got "gitops"; allowed: "argocd", as in environment prod',
    ],
    [
      'a later stage that follows the branch stage 1 follows (a push would reach it at once)',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', stage: 2 } } },
      'gitops.targetRevision: got "main"; allowed: a branch of its own for stage 2, such as deploy/staging (environment prod, config/environments/prod.yaml, follows main too',
    ],
    [
      'a later stage pinned to a commit, which promote cannot move',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', stage: 2, targetRevision: '0123abc' } } },
      'gitops.targetRevision: got "0123abc"; allowed: a branch of its own for stage 2, such as deploy/staging',
    ],
    [
      'a stage with none before it (nothing would gate it)',
      { prod: { cluster: { name: 'a' } }, staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', stage: 3, targetRevision: 'deploy/staging' } } },
      'gitops.stage: got 3; allowed: a stage right after one in use (stages in use: 1, 3): no environment is in stage 2',
    ],
    [
      'two notification webhooks for one shared argocd-notifications-cm',
      {
        prod: { cluster: { name: 'a' } },
        staging: { cluster: { name: 'b' }, gitops: { destinationName: 'b', notifications: { webhookUrl: 'https://hooks.example.com/x' } } },
      },
      'gitops.notifications.webhookUrl: got "https://hooks.example.com/x"; allowed: "$envoy-edge-webhook-url", as in environment prod',
    ],
  ])('GIVEN %s THEN it is refused, naming the environment file', (_name, environments, message) => {
    const { root, configDir } = tempProject({ base: { envoy: { replicas: 2 } }, environments });
    expect(() => synthesizeProject(root, configDir)).toThrow(`config/environments/staging.yaml: ${message}`);
  });
});

describe('hostile and mistaken config files: refused naming the file and the field, within a second, outputs untouched', () => {
  const shippedProd = () => readFileSync(path.join(PROJECT_ROOT, 'config', 'environments', 'prod.yaml'), 'utf8');
  const refused = (bad: ConfigFiles, ...messages: string[]) => {
    const t0 = performance.now();
    const { error, outputsUnchanged } = synthBadOverGood(bad);
    const ms = performance.now() - t0;
    expect(error).toBeInstanceOf(ConfigError);
    for (const message of messages) expect(error.message).toContain(message);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(outputsUnchanged).toBe(true);
    return { error, ms };
  };

  test.each([
    ['inside a section', 'envoy:\n  __proto__:\n    drainTime: 30s\n', 'envoy.__proto__: unknown key "__proto__"'],
    ['at the top', '__proto__:\n  envoy:\n    drainTime: 30s\n', '__proto__: unknown key "__proto__"'],
    ['constructor', 'envoy:\n  constructor:\n    drainTime: 30s\n', 'envoy.constructor: unknown key "constructor"'],
    ['in chart values', 'lbController:\n  values:\n    a:\n      prototype: 1\n', 'lbController.values.a.prototype: unknown key "prototype"'],
  ])('GIVEN a prototype key %s THEN it is refused as an unknown key naming the file and the path, and never applied', (_where, extra, message) => {
    refused({ environments: { prod: `${shippedProd()}\n${extra}` } }, `${PROD}: ${message}`);
  });

  test('GIVEN a YAML alias bomb (billion laughs) THEN it is a config error naming the file, not a stack trace', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const bomb = `${shippedProd()}\nlbController:\n  values:\n${levels.map((l) => `    ${l}`).join('\n')}\n`;
    const { ms } = refused({ environments: { prod: bomb } }, `${PROD}: its YAML aliases expand to too much`);
    expect(ms).toBeLessThan(1000);
  });

  test('GIVEN a 100 kB string THEN it is refused at once, and the error shows only its start, then what is allowed', () => {
    const { error, ms } = refused(
      { environments: { prod: `${shippedProd()}\nbackend:\n  healthPath: /${'a'.repeat(100_000)}\n` } },
      `${PROD}: backend.healthPath: got "/aaaa`,
      '(100001 characters); allowed: at most 16384 characters',
    );
    expect(error.message.length).toBeLessThan(1000);
    expect(ms).toBeLessThan(1000);
  });

  test('GIVEN a config file over 1 MiB THEN it is refused before it is parsed', () => {
    const huge = `${shippedProd()}\n# ${'x'.repeat(2 * 1024 * 1024)}\n`;
    const { ms } = refused({ environments: { prod: huge } }, `${PROD}: ${Buffer.byteLength(huge)} bytes; allowed: at most 1048576 bytes`);
    expect(ms).toBeLessThan(1000);
  });

  test.each([
    ['envoi', 'envoi:\n  replicas: 3\n', `${PROD}: envoi: unknown key "envoi"`],
    ['envoy.rateLimt', 'envoy:\n  rateLimt:\n    maxTokens: 3\n', `${PROD}: envoy.rateLimt: unknown key "rateLimt"`],
  ])('GIVEN an unknown key %s that holds a map THEN the error names the file that holds it, not a default', (_key, extra, message) => {
    refused({ environments: { prod: `${shippedProd()}\n${extra}` } }, message);
  });

  test('GIVEN prod.yml beside prod.yaml THEN it is refused in one clear line naming both', () => {
    const { error } = refused(
      { environments: { prod: shippedProd(), 'prod.yml': shippedProd() } },
      'config/environments/prod.yml: environment prod is already config/environments/prod.yaml; allowed: one file per environment',
    );
    expect(error.message.split('\n')).toHaveLength(2);
  });
});

test('GIVEN large but legal chart values THEN synthesis time grows linearly with their size: 4 times the keys cost about 4 times the extra time, not 16', () => {
  const withValues = (keys: number) => {
    const values = Object.fromEntries(Array.from({ length: keys }, (_, i) => [`key${i}`, `value${i}`]));
    return tempProject({ prod: { lbController: { values } } });
  };
  const timed = (project: { root: string; configDir: string }) => {
    const t0 = performance.now();
    synthesizeProject(project.root, project.configDir);
    return performance.now() - t0;
  };
  const small = withValues(0);
  timed(small); // warm: the first synth in a process loads the definitions
  const base = Math.min(timed(small), timed(small));
  const extra5k = timed(withValues(5_000)) - base;
  const extra20k = timed(withValues(20_000)) - base;
  process.stderr.write(`[config] synth: no values ${base.toFixed(0)} ms; +${extra5k.toFixed(0)} ms with 5k keys, +${extra20k.toFixed(0)} ms with 20k keys\n`);
  expect(extra20k / Math.max(extra5k, 20)).toBeLessThan(8);
  expect(extra20k).toBeLessThan(3000);
});

test('GIVEN staging.yaml copied to dev.yaml THEN the clashes blame dev.yaml, the newer file, and name staging.yaml too', () => {
  const { configDir } = tempProject();
  const envDir = path.join(configDir, 'environments');
  const staging = path.join(envDir, 'staging.yaml');
  writeFileSync(path.join(envDir, 'dev.yaml'), readFileSync(staging, 'utf8'));
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const f of ['prod.yaml', 'staging.yaml']) utimesSync(path.join(envDir, f), hourAgo, hourAgo);
  let message = '';
  try {
    loadEnvironments(configDir);
  } catch (err) {
    message = (err as Error).message;
  }
  const lines = message.split('\n').slice(1);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines)
    expect(line).toMatch(/^ {2}- config\/environments\/dev\.yaml: .*\(environment staging, config\/environments\/staging\.yaml, has it\)/);
});

test("GIVEN chart values that make the controller's Application larger than etcd takes (base and environment, each under the file limit) THEN synthesis stops naming lbController.values, before anything is written", () => {
  const values = (prefix: string) => Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`${prefix}${i}`, 'v'.repeat(900)]));
  const shippedBase = parseYaml(readFileSync(path.join(PROJECT_ROOT, 'config', 'base.yaml'), 'utf8'));
  const { error, outputsUnchanged } = synthBadOverGood({
    base: { ...shippedBase, lbController: { values: values('a') } },
    prod: { lbController: { values: values('b') } },
  });
  expect(error.message).toMatch(
    /environment prod \(config\/base\.yaml, config\/environments\/prod\.yaml\): lbController\.values: got "a Application envoy-edge-prod-lb-controller of \d+ bytes"; allowed: at most 1572864 bytes per object/,
  );
  expect(outputsUnchanged).toBe(true);
});
