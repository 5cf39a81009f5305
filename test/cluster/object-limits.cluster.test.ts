// The limits synthesis enforces (k8s/object-limits.ts) are the API server's own: a ConfigMap whose data
// values hold exactly the limit is accepted and one byte more refused; the same for annotations (keys and
// values counted). Server-side dry runs, on the cluster Argo CD runs in.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ANNOTATIONS_MAX_BYTES, CONFIGMAP_DATA_MAX_BYTES } from '../../k8s/object-limits';
import { Cluster, report } from './harness';

const cluster = new Cluster();

test('GIVEN ConfigMaps at and one byte past the limits synthesis enforces WHEN the API server dry-runs them THEN it takes the ones at the limit and refuses the others', () => {
  const dir = cluster.tempDir('object-limits');
  const configMap = (name: string, data: Record<string, string>, annotations?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default', annotations },
    data,
  });
  // One key "k" (1 byte) with a value: annotations count the key too, data only the values.
  const cases = {
    'data-at': configMap('limit-data', { k: 'x'.repeat(CONFIGMAP_DATA_MAX_BYTES) }),
    'data-over': configMap('limit-data', { k: 'x'.repeat(CONFIGMAP_DATA_MAX_BYTES + 1) }),
    'ann-at': configMap('limit-ann', {}, { k: 'x'.repeat(ANNOTATIONS_MAX_BYTES - 1) }),
    'ann-over': configMap('limit-ann', {}, { k: 'x'.repeat(ANNOTATIONS_MAX_BYTES) }),
  };
  const answers = Object.entries(cases).map(([name, object]) => {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(object));
    const out = cluster.run(cluster.argocdContext, ['create', '--dry-run=server', '-f', file, '-o', 'name']);
    return { name, verdict: out.status === 0 ? 'ok' : 'refused', why: out.stderr.trim().split('\n').pop() ?? '' };
  });
  expect(answers.map((a) => `${a.name}:${a.verdict}`)).toEqual(['data-at:ok', 'data-over:refused', 'ann-at:ok', 'ann-over:refused']);
  // Refused for its size, not for anything else.
  expect(answers.filter((a) => a.verdict === 'refused').map((a) => /Too long|too long/.test(a.why))).toEqual([true, true]);
  report(
    `the API server takes exactly the limits synthesis enforces: ConfigMap data ${CONFIGMAP_DATA_MAX_BYTES} bytes, annotations ${ANNOTATIONS_MAX_BYTES} bytes ` +
      `(${answers.map((a) => `${a.name}:${a.verdict}`).join(' ')}); one byte over: ${answers
        .filter((a) => a.verdict === 'refused')
        .map((a) => `"${a.why.replace(/^.*?: /, '').slice(0, 120)}"`)
        .join(', ')}`,
  );
});
