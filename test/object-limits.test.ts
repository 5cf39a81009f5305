// Synthesis refuses exactly what the API server refuses (the same boundaries are checked on the real
// kube-apiserver by npm run verify:cluster: "the API server takes exactly the limits synthesis enforces").
import { ANNOTATIONS_MAX_BYTES, CONFIGMAP_DATA_MAX_BYTES, objectLimitProblems } from '../k8s/object-limits';

const configMap = (value: number, annotation = 0) => ({
  kind: 'ConfigMap',
  metadata: { name: 'c', annotations: annotation ? { k: 'x'.repeat(annotation - 1) } : undefined },
  data: { k: 'x'.repeat(value) },
});

test('GIVEN ConfigMap data values of exactly 1 MiB THEN synthesis takes them; one byte more is refused, naming the config field', () => {
  expect(objectLimitProblems(configMap(CONFIGMAP_DATA_MAX_BYTES), 'envoy')).toEqual([]);
  expect(objectLimitProblems(configMap(CONFIGMAP_DATA_MAX_BYTES + 1), 'envoy')).toEqual([
    `envoy: got "a ConfigMap c of ${CONFIGMAP_DATA_MAX_BYTES + 1} bytes"; allowed: at most ${CONFIGMAP_DATA_MAX_BYTES} bytes of ConfigMap data (Kubernetes refuses a larger one)`,
  ]);
});

test('GIVEN annotations of exactly 256 KiB (keys and values) THEN synthesis takes them; one byte more is refused', () => {
  expect(objectLimitProblems(configMap(1, ANNOTATIONS_MAX_BYTES), 'x')).toEqual([]);
  expect(objectLimitProblems(configMap(1, ANNOTATIONS_MAX_BYTES + 1), 'x')).toHaveLength(1);
});
