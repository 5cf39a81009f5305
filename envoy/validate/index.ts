// Checks an Envoy bootstrap against Envoy's own API definitions before anything is written; why,
// and where it sits in the synth, is in docs/envoy-validation.md.
//
// It parses the bootstrap the way Envoy does at start-up: proto3 JSON read strictly, every Any
// resolved by its @type (proto-json.ts), then the protoc-gen-validate (PGV) rules carried on each
// field (pgv-rules.ts), then a few cross-references the protos cannot express (cross-references.ts).
// The definitions are imports/envoy-api.json (definitions.ts); each problem names the config field
// behind its path (config-sources.ts, report.ts).
import { ENVOY_CONFIG_SOURCES, type EnvoyConfigSource } from './config-sources';
import { CrossReferences, type EnvoyPorts } from './cross-references';
import { loadEnvoyApi } from './definitions';
import { describe, isPlainObject } from './json';
import { ProtoJsonWalker } from './proto-json';
import { type EnvoyProblem, formatEnvoyProblem, Reporter } from './report';

export type { EnvoyConfigSource } from './config-sources';
export { configFieldFor, ENVOY_CONFIG_SOURCES, namedPath, valuesAt } from './config-sources';
export type { EnvoyPorts } from './cross-references';
export type { EnvoyProblem } from './report';
export { formatEnvoyProblem } from './report';

const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

export interface EnvoyValidationOptions {
  /**
   * Which config field produced which bootstrap path.
   * @default ENVOY_CONFIG_SOURCES
   */
  readonly sources?: readonly EnvoyConfigSource[];
  /**
   * Ports the listeners must match; no port cross-check when absent.
   * @default undefined
   */
  readonly ports?: EnvoyPorts;
  /**
   * Accept lowerCamel JSON field names as Envoy's JSON parser does.
   * @default false
   */
  readonly allowJsonNames?: boolean;
}

export interface EnvoyValidationReport {
  /** Each of these would stop Envoy (or, for cross-references, the edge) from working. */
  readonly problems: EnvoyProblem[];
  /** Not errors: deprecated fields in use, and checks that were skipped (so nobody assumes they ran). */
  readonly notices: EnvoyProblem[];
}

/** Every problem that would make Envoy reject the bootstrap at start-up; empty when it is valid. */
export function validateEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): EnvoyProblem[] {
  return inspectEnvoyBootstrap(bootstrap, opts).problems;
}

/** Problems and notices; `validateEnvoyBootstrap` returns only the problems. */
export function inspectEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): EnvoyValidationReport {
  const api = loadEnvoyApi();
  const bootstrapType = api.lookupType(BOOTSTRAP_TYPE)!;
  const report = new Reporter(opts.sources ?? ENVOY_CONFIG_SOURCES, bootstrap);
  const crossReferences = new CrossReferences(report, opts.ports);
  const walker = new ProtoJsonWalker(api, report, {
    allowJsonNames: opts.allowJsonNames,
    onMessage: (value, typeName, messagePath) => crossReferences.noteMessage(value, typeName, messagePath),
  });
  if (!isPlainObject(bootstrap)) {
    report.problem('', 'type: message', `expected an object (${BOOTSTRAP_TYPE}); got ${describe(bootstrap)}`);
  } else {
    walker.checkMessage(bootstrap, bootstrapType, '');
    crossReferences.check(bootstrap);
  }
  return { problems: report.problems, notices: report.notices };
}

/** Thrown by assertValidEnvoyBootstrap; its message lists every problem, one per line. */
export class EnvoyBootstrapError extends Error {
  constructor(readonly problems: readonly EnvoyProblem[]) {
    super(`the Envoy bootstrap would be rejected:\n${problems.map((p) => `  - ${formatEnvoyProblem(p)}`).join('\n')}`);
    this.name = 'EnvoyBootstrapError';
  }
}

export function assertValidEnvoyBootstrap(bootstrap: unknown, opts: EnvoyValidationOptions = {}): void {
  const problems = validateEnvoyBootstrap(bootstrap, opts);
  if (problems.length) throw new EnvoyBootstrapError(problems);
}

/** Where the definitions come from (recorded by the generator). */
export function envoyApiSource(): { readonly definitions: string; readonly envoyApi: string } {
  return loadEnvoyApi().about;
}
