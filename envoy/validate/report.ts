// Where the validator's findings are collected: problems, each attributed to the config field that
// produced its value, and notices.
import { configFieldFor, type EnvoyConfigSource } from './config-sources';

/** One way the bootstrap would fail Envoy's start-up checks (or, for notices, a check that was skipped). */
export interface EnvoyProblem {
  /** Where in the bootstrap: `static_resources.clusters[0].connect_timeout`, map keys as `["key"]`. */
  readonly path: string;
  /** Which check failed: `unknown field`, `type: uint32`, `duration.gte`, `any: unknown @type`, … */
  readonly rule: string;
  readonly message: string;
  /** The config field that produced the value, when there is one. */
  readonly configField?: string;
}

/** Shared by the proto3 JSON walk, the PGV rule checks and the cross-references. */
export class Reporter {
  readonly problems: EnvoyProblem[] = [];
  readonly notices: EnvoyProblem[] = [];

  constructor(
    private readonly sources: readonly EnvoyConfigSource[],
    /** The bootstrap being checked: config fields are found by the names of its listeners, clusters and routes. */
    private readonly bootstrap: unknown,
  ) {}

  problem(path: string, rule: string, message: string): void {
    const configField = configFieldFor(path, this.bootstrap, this.sources);
    this.problems.push(configField ? { path, rule, message, configField } : { path, rule, message });
  }

  notice(path: string, rule: string, message: string): void {
    this.notices.push({ path, rule, message });
  }
}

/** `path: rule: message (config: field)`, the form the CLI and the synth print. */
export function formatEnvoyProblem(problem: EnvoyProblem): string {
  const source = problem.configField ? ` (config: ${problem.configField})` : '';
  return `${problem.path || '(top level)'}: ${problem.rule}: ${problem.message}${source}`;
}
