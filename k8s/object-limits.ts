// Limits the API server enforces on every object, checked at synth time, so a config that would make
// an object Kubernetes refuses stops before the push, not at sync time in the cluster.
// Numbers from Kubernetes: a ConfigMap's data values (MaxSecretSize, 1 MiB), all annotations of an object
// (TotalAnnotationSizeLimitB, 256 KiB), and etcd's default request limit (--max-request-bytes, 1.5 MiB).
import { problem } from '../config/errors';

export const CONFIGMAP_DATA_MAX_BYTES = 1024 * 1024;
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
export const OBJECT_MAX_BYTES = 1.5 * 1024 * 1024;

interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
  readonly data?: Record<string, string>;
}

/** Problems with one object, blamed on `configField` (the config the object is made from). */
export function objectLimitProblems(object: K8sObject, configField: string): string[] {
  const problems: string[] = [];
  const what = `${object.kind} ${object.metadata.name}`;
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
  if (object.kind === 'ConfigMap' && object.data) {
    // The API server counts the values only (measured: 1 MiB of values accepted with its key, one byte more refused).
    const size = Object.values(object.data).reduce((n, v) => n + bytes(v), 0);
    if (size > CONFIGMAP_DATA_MAX_BYTES) {
      problems.push(
        problem(configField, `a ${what} of ${size} bytes`, `at most ${CONFIGMAP_DATA_MAX_BYTES} bytes of ConfigMap data (Kubernetes refuses a larger one)`),
      );
    }
  }
  const annotations = Object.entries(object.metadata.annotations ?? {}).reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0);
  if (annotations > ANNOTATIONS_MAX_BYTES) {
    problems.push(problem(configField, `annotations of ${annotations} bytes on ${what}`, `at most ${ANNOTATIONS_MAX_BYTES} bytes of annotations per object`));
  }
  const size = bytes(JSON.stringify(object));
  if (size > OBJECT_MAX_BYTES) {
    problems.push(problem(configField, `a ${what} of ${size} bytes`, `at most ${OBJECT_MAX_BYTES} bytes per object (etcd's default request limit)`));
  }
  return problems;
}
