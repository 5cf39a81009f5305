// For every config field, the builder that turns it into data and the chart that places it: read off
// the code itself. The whole synth of a reference project (synth/pipeline.ts buildOutputs, every builder
// and chart, writing nothing) runs on a config that records each read with the call stack at that
// moment. The innermost frame in a builder folder (envoy/, lb-controller/, monitoring/, delivery/)
// is the builder that read it; the innermost frame in charts/ (or the pipeline itself) is where it
// is placed. docs/configuration.md's "built by → placed by" column is generated from this.
import * as path from 'node:path';
import { ApiObject, App } from 'cdk8s';
import type { Environment } from '../config/load';
import { configReference } from '../config/reference';
import { traced } from './field-effects';
import { buildOutputs } from './pipeline';

export interface FieldOwners {
  /** Builder modules, relative to the project root (envoy/rate-limit.ts). */
  readonly builders: readonly string[];
  /** Chart modules that place what the builders made, or synth/pipeline.ts. */
  readonly charts: readonly string[];
}

const ROOT = path.join(__dirname, '..');
/** The tracing itself (the proxies live in field-effects.ts), never an owner. */
const TRACER = ['synth/field-owners.ts', 'synth/field-effects.ts'];
const BUILDER_ROOMS = ['envoy', 'lb-controller', 'monitoring', 'delivery'];

/** The project's source files on a stack, innermost first (relative paths; node_modules and the tracer left out). */
function sourceFrames(stack: string): string[] {
  const files: string[] = [];
  for (const match of stack.matchAll(/\(?((?:\/|[A-Za-z]:\\)[^():\s]+\.ts):\d+:\d+\)?/g)) {
    const file = path.relative(ROOT, match[1]).split(path.sep).join('/');
    if (file.startsWith('..') || file.includes('node_modules') || TRACER.includes(file)) continue;
    files.push(file);
  }
  return files;
}

/**
 * Where the pipeline itself calls a builder, the chart (or file) that receives what it built: the
 * stack shows the pipeline, not the chart. `null`: a check that places nothing. A builder the
 * pipeline calls that is missing here stops the reference, so the table stays whole.
 */
const PLACED_BY_PIPELINE_CALL: Readonly<Record<string, string | null>> = {
  'envoy/bootstrap.ts': 'charts/envoy-edge.ts',
  'envoy/validate': null,
  'lb-controller/values.ts': null,
  'lb-controller/eksctl.ts': 'eksctl/<env>.yaml',
  'delivery/metadata.ts': 'charts/edge-application.ts, charts/lb-controller.ts',
  'delivery/names.ts': 'synth/pipeline.ts',
  'delivery/tracking.ts': 'synth/pipeline.ts',
};

function placerOf(frames: readonly string[]): string | null {
  const chart = frames.findIndex((f) => f.startsWith('charts/'));
  const pipeline = frames.indexOf('synth/pipeline.ts');
  if (chart >= 0 && (pipeline < 0 || chart < pipeline)) return frames[chart];
  if (pipeline < 0) return null;
  if (pipeline === 0) return 'synth/pipeline.ts'; // the pipeline's own read (which charts to make, what to validate)
  const entry = frames[pipeline - 1];
  const key = Object.keys(PLACED_BY_PIPELINE_CALL).find((k) => entry === k || entry.startsWith(`${k}/`));
  if (key === undefined) throw new Error(`synth/pipeline.ts calls ${entry}: say in PLACED_BY_PIPELINE_CALL (synth/field-owners.ts) what places its output`);
  return PLACED_BY_PIPELINE_CALL[key];
}

/**
 * Every config field's builders and charts, keyed by its path (envoy.rateLimit.maxTokens), over one
 * or more projects (each a list of environments): a field read only on some branch (a TLS listener,
 * monitoring on) needs a project that takes it.
 */
export function fieldOwners(projects: readonly (readonly Environment[])[]): Map<string, FieldOwners> {
  const reads = new Map<string, { builders: Set<string>; charts: Set<string> }>();
  const record = (field: string) => {
    const frames = sourceFrames(new Error().stack ?? '');
    const builder = frames.find((f) => BUILDER_ROOMS.includes(f.split('/')[0]));
    const placer = placerOf(frames);
    const entry = reads.get(field) ?? { builders: new Set<string>(), charts: new Set<string>() };
    if (builder) entry.builders.add(builder);
    if (placer) for (const p of placer.split(', ')) entry.charts.add(p);
    reads.set(field, entry);
  };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 80;
  try {
    for (const environments of projects) {
      const tracedEnvironments = environments.map((e) => ({ ...e, config: traced(e.config, record) }));
      const { apps } = buildOutputs(tracedEnvironments, (dir) => new App({ outdir: dir }));
      // Charts may resolve values lazily: render every object, as synth does.
      for (const { app } of apps) for (const node of app.node.findAll()) if (node instanceof ApiObject) node.toJson();
    }
  } finally {
    Error.stackTraceLimit = limit;
  }

  const fields = configReference().flatMap((section) => section.fields.map((f) => f.path));
  return new Map(
    fields.map((field): [string, FieldOwners] => {
      const builders = new Set<string>();
      const charts = new Set<string>();
      for (const [read, owners] of reads) {
        if (read !== field && !read.startsWith(`${field}.`)) continue;
        for (const b of owners.builders) builders.add(b);
        for (const c of owners.charts) charts.add(c);
      }
      return [field, { builders: [...builders].sort(), charts: [...charts].sort() }];
    }),
  );
}

/** The reference's "built by → placed by" column. */
export function ownersColumn(projects: readonly (readonly Environment[])[]): (field: string) => string {
  const owners = fieldOwners(projects);
  return (field) => {
    const o = owners.get(field);
    if (!o || (!o.builders.length && !o.charts.length)) return 'read by no builder';
    const list = (files: readonly string[]) => files.map((f) => `\`${f}\``).join(', ') || 'none';
    return `${list(o.builders)} → ${list(o.charts)}`;
  };
}
