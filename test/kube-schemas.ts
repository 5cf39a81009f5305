// Strict validation of generated objects against the real schemas: the Kubernetes 1.28 OpenAPI
// definitions and the Argo CD v3.5.1 CRDs, copied verbatim into test/fixtures. "Strict" is what
// kubeconform -strict does: an object schema with declared properties admits no other keys.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { pruneApplicationSet } from '../cli/crd-pruning';

const FIXTURES = path.join(__dirname, 'fixtures');
type Schema = Record<string, any>;

/** Adds additionalProperties: false wherever a schema lists properties and does not allow unknown fields. */
function strictify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // Property names are data, not schema keywords: recurse into each property's schema only.
    out[key] =
      key === 'properties' || key === 'definitions' ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, strictify(v)])) : strictify(value);
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

export interface SchemaProblem {
  readonly object: string;
  readonly message: string;
}

/**
 * CRD patterns are Go RE2; the Prometheus Operator's use RE2's leading `(?i)` (case-insensitive),
 * which JavaScript writes as the `i` flag (also after a leading `^`). Any other RE2-only syntax fails to compile, as before.
 */
const re2Pattern = Object.assign(
  (pattern: string, flags: string): RegExp => {
    const caseless = /^(\^?)\(\?i\)/.exec(pattern);
    return caseless ? new RegExp(caseless[1] + pattern.slice(caseless[0].length), `${flags}i`) : new RegExp(pattern, flags);
  },
  // ajv's name for the engine in standalone code, which we never generate.
  { code: 're2Pattern' },
);

export class KubeSchemas {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2Pattern } });
  private readonly byGvk = new Map<string, ValidateFunction>();

  constructor() {
    const { definitions } = JSON.parse(readFileSync(path.join(FIXTURES, 'kubernetes-v1.28.0-definitions.json'), 'utf8'));
    this.ajv.addSchema({ definitions: strictify(definitions) }, 'k8s');
    const refFor = (name: string) => ({ $ref: `k8s#/definitions/${name}` });
    for (const [name, def] of Object.entries(definitions as Record<string, Schema>)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
        this.byGvk.set(this.key(gvk.group, gvk.version, gvk.kind), this.lazy(refFor(name)));
      }
    }
    const crds = [
      ...['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'].map((f) => path.join('argo-cd-v3.5.1', f)),
      ...['podmonitors-crd.yaml', 'prometheusrules-crd.yaml'].map((f) => path.join('prometheus-operator-v0.93.0', f)),
    ];
    for (const file of crds) {
      const parsed = parseAllDocuments(readFileSync(path.join(FIXTURES, file), 'utf8'))[0].toJS();
      // Without the generators we do not use: stricter, and 2 s less to compile (cli/crd-pruning.ts).
      const crd = file.endsWith('applicationset-crd.yaml') ? pruneApplicationSet(parsed) : parsed;
      for (const version of crd.spec.versions) {
        const schema = strictify(version.schema.openAPIV3Schema) as Schema;
        // CRD schemas leave metadata open; the API server checks it as an ObjectMeta, so do we.
        schema.properties.metadata = refFor('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
        this.byGvk.set(this.key(crd.spec.group, version.name, crd.spec.names.kind), this.lazy(schema));
      }
    }
  }

  /** Problems of one object; an object of a kind with no known schema is itself a problem. */
  validate(object: Schema): SchemaProblem[] {
    const [group, version] = String(object.apiVersion).includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
    const name = `${object.kind}/${object.metadata?.name}`;
    const validator = this.byGvk.get(this.key(group, version, object.kind));
    if (!validator) return [{ object: name, message: `no schema for ${object.apiVersion} ${object.kind}` }];
    if (validator(object)) return [];
    return (validator.errors ?? []).map((e) => ({
      object: name,
      message: `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`,
    }));
  }

  private key(group: string, version: string, kind: string): string {
    return `${group}/${version}/${kind}`;
  }

  /** Compiles on first use: most kinds are never needed. */
  private lazy(schema: Schema): ValidateFunction {
    let compiled: ValidateFunction | undefined;
    const validate = ((data: unknown) => {
      compiled ??= this.ajv.compile(schema);
      const ok = compiled(data);
      validate.errors = compiled.errors;
      return ok;
    }) as ValidateFunction;
    return validate;
  }
}
