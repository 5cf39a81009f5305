// One config value changed in one environment shows in `kubectl diff` of that environment only, as
// exactly that field of exactly the object it feeds: staging's alb.idleTimeoutSeconds is the
// Ingress's load-balancer-attributes annotation (idle_timeout.timeout_seconds).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { synthesizeProject } from '../../synth/pipeline';
import { Cluster, type K8sObject, report } from './harness';

const cluster = new Cluster();
// An environment that is not Argo CD's own cluster, if there is one: its change must not reach the other.
const changed = cluster.environments.find((e) => e !== cluster.ctx.argocdEnvironment) ?? cluster.ctx.argocdEnvironment;
const IDLE_TIMEOUT = 1800;

/** The name `kubectl diff` gives an object's file: <group>.<version>.<Kind>.<namespace>.<name>. */
const diffName = (o: K8sObject) => [o.apiVersion.replace('/', '.'), o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join('.');

test(`GIVEN every environment applied WHEN ${changed}'s alb.idleTimeoutSeconds is changed and synthesized THEN kubectl diff exits 1 for ${changed}, showing that field on its Ingress only, and 0 for the others`, async () => {
  await cluster.applied();
  expect(cluster.config.get(changed)?.config.alb.idleTimeoutSeconds).not.toBe(IDLE_TIMEOUT);
  const work = cluster.tempDir('config-change');
  const config = path.join(work, 'config');
  cpSync(cluster.path('config'), config, { recursive: true });
  const file = path.join(config, 'environments', `${changed}.yaml`);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['alb', 'idleTimeoutSeconds'], IDLE_TIMEOUT);
  writeFileSync(file, doc.toString());
  synthesizeProject(path.join(work, 'out'), config);

  const diffs = Object.fromEntries(
    cluster.environments.map((env) => [env, cluster.run(cluster.contextOf(env), ['diff', '-f', path.join(work, 'out', 'dist', env, 'edge')])]),
  );
  const shown = diffs[changed].stdout;
  const objects = [...new Set([...shown.matchAll(/^diff -u -N \S*\/([^/\s]+) /gm)].map((m) => m[1]))];
  const ingress = cluster.objects(cluster.path('dist', changed, 'edge')).filter((o) => o.kind === 'Ingress');
  expect(ingress).toHaveLength(1);
  expect({
    exits: Object.fromEntries(Object.entries(diffs).map(([env, d]) => [env, d.status])),
    objects,
    field: shown.split('\n').filter((l) => /^\+.*idle_timeout\.timeout_seconds=/.test(l)).length,
  }).toEqual({
    exits: Object.fromEntries(cluster.environments.map((env) => [env, env === changed ? 1 : 0])),
    objects: [diffName(ingress[0])],
    field: 1,
  });
  expect(shown).toMatch(new RegExp(`^\\+.*idle_timeout\\.timeout_seconds=${IDLE_TIMEOUT}\\b`, 'm'));
  report(
    `after ${changed}'s alb.idleTimeoutSeconds ${cluster.config.get(changed)?.config.alb.idleTimeoutSeconds} → ${IDLE_TIMEOUT}, kubectl diff exits ` +
      `${cluster.environments.map((env) => `${env}:${diffs[env].status}`).join(' ')}; ${changed}'s diff touches [${objects.join(' ')}]: ` +
      `${shown
        .split('\n')
        .filter((l) => /^[-+] .*idle_timeout/.test(l))
        .map((l) => l.trim())
        .join(' | ')}`,
  );
});
