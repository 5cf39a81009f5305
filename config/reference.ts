// The configuration reference (docs/configuration.md), generated from the schema: each field's
// path, default, what it allows and what it means, so a default can never drift from its docs.
import type { z } from 'zod';
import { configSchema } from './schema';

export interface FieldDoc {
  readonly path: string;
  /** The default as the config would write it, or undefined for a field with none. */
  readonly default?: unknown;
  readonly allowed: string;
  readonly description: string;
}

export interface SectionDoc {
  readonly name: string;
  readonly description: string;
  readonly fields: FieldDoc[];
}

interface Meta {
  readonly description?: string;
  readonly allowed?: string;
  /** A default derived from something else, such as the environment's name. */
  readonly defaultText?: string;
}

/** Every section and field of the schema, in schema order. */
export function configReference(): SectionDoc[] {
  const defaults = inputDefaults(configSchema) as Record<string, unknown>;
  return Object.entries(shapeOf(configSchema)).map(([name, section]) => ({
    name,
    description: metaOf(section).description ?? '',
    fields: fieldsOf(section, name, defaults[name]),
  }));
}

function fieldsOf(schema: z.core.$ZodType, prefix: string, defaults: unknown): FieldDoc[] {
  return Object.entries(shapeOf(schema)).flatMap(([key, field]) => {
    const path = `${prefix}.${key}`;
    const value = (defaults as Record<string, unknown> | undefined)?.[key];
    if (isSection(field)) return fieldsOf(field, path, value);
    const meta = metaOf(field);
    return [{ path, default: meta.defaultText ?? value, allowed: meta.allowed ?? '', description: meta.description ?? '' }];
  });
}

/** The defaults as a user writes them (before transforms), read from each field's prefault. */
function inputDefaults(schema: z.core.$ZodType): unknown {
  const shape = shapeOf(schema);
  return Object.fromEntries(Object.entries(shape).map(([key, field]) => [key, isSection(field) ? inputDefaults(field) : prefaultOf(field)]));
}

function prefaultOf(schema: z.core.$ZodType): unknown {
  const def = (schema as z.ZodType).def as unknown as { type: string; defaultValue?: unknown };
  return def.type === 'prefault' ? def.defaultValue : undefined;
}

/** A nested object of fields (not a free-form map such as backend.selector). */
function isSection(schema: z.core.$ZodType): boolean {
  return objectOf(schema) !== undefined;
}

function shapeOf(schema: z.core.$ZodType): Record<string, z.core.$ZodType> {
  return objectOf(schema)?.shape ?? {};
}

function objectOf(schema: z.core.$ZodType): { shape: Record<string, z.core.$ZodType> } | undefined {
  for (const s of unwrapped(schema)) {
    const def = (s as z.ZodType).def as unknown as { type: string; shape?: Record<string, z.core.$ZodType> };
    if (def.type === 'object') return { shape: def.shape! };
  }
  return undefined;
}

/** The schema and every schema it wraps (prefault, optional, pipes), outermost first. */
function unwrapped(schema: z.core.$ZodType): z.core.$ZodType[] {
  const chain = [schema];
  for (;;) {
    const def = (chain[chain.length - 1] as z.ZodType).def as unknown as Record<string, unknown>;
    const inner = (def.innerType ?? def.in) as z.core.$ZodType | undefined;
    if (!inner || def.type === 'object') return chain;
    chain.push(inner);
  }
}

function metaOf(schema: z.core.$ZodType): Meta {
  return Object.assign(
    {},
    ...unwrapped(schema)
      .reverse()
      .map((s) => (s as z.ZodType).meta() ?? {}),
  ) as Meta;
}

/**
 * The reference as Markdown. `applies` says for a field whether a change reaches Envoy live or rolls
 * its pods, and `owners` which builders read it and which charts place the result; the synth decides
 * both (synth/field-effects.ts, synth/field-owners.ts), which config/ must not import.
 */
export function renderConfigurationReference(applies: (field: string) => string, owners: (field: string) => string): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from config/schema.ts by `npm run docs`; do not edit. A test fails when it is stale. -->',
    '',
    '`config/base.yaml` holds what every environment shares; `config/environments/<name>.yaml` holds only what',
    'differs for one environment, merged over the base (maps key by key; lists and `backend.selector` whole).',
    "A new environment's file must set its own `cluster.name`, `cluster.region`, `cluster.vpcId`, `cluster.vpcCidr` and",
    "`gitops.destinationName`, and `gitops.argocdEnvironment` when Argo CD runs in another environment's cluster",
    '(the README\'s "A new environment" has a file to copy); the defaults would make it share a cluster with another.',
    "Every other field is optional: an unset field takes its default, the seed's value. Unknown keys are errors,",
    'and every invalid value stops synthesis with `field: got <value>; allowed: <what>` before anything',
    'is written. A file may hold at most 1 MiB, a string at most 16,384 characters, each key once; keys such as',
    '`__proto__`, `constructor` and `prototype` are refused anywhere, and YAML aliases expand at most 100 times.',
    'Durations are written `500ms`, `5s`, `10m` or `1h`. Connection and rate-limit numbers are',
    '**fleet totals**: what each replica enforces is derived (docs/behaviour.md).',
    '',
    'The "applies" column says what a change does to running Envoy pods (docs/behaviour.md, "Changing the',
    'edge"): **live** reaches every replica through the live ConfigMap within the kubelet\'s update delay, and no',
    'WebSocket is cut; **rolls the pods** changes the static bootstrap or the pod template, so the pods are',
    'replaced one at a time; **—** changes other objects only. It is read off the builders themselves.',
    '',
    'The "built by → placed by" column names the pure builders that turn the field into data and the charts',
    '(or files) that place it: where to look to change what a field does. It is read off the code too: the',
    'synth runs on a config that records, at each read, the builder and the chart on the call stack',
    '(`synth/field-owners.ts`). A chart with no builder before it reads the field as it is; a field no builder',
    'reads is checked by the config rules or used by the day-2 commands only.',
    '',
  ];
  for (const section of configReference()) {
    lines.push(
      `## \`${section.name}\``,
      '',
      section.description,
      '',
      '| field | default | allowed | applies | built by → placed by | meaning |',
      '|---|---|---|---|---|---|',
    );
    for (const f of section.fields) {
      lines.push(
        `| \`${f.path}\` | ${formatDefault(f.default)} | ${escapeCell(f.allowed)} | ${applies(f.path)} | ${owners(f.path)} | ${escapeCell(f.description)} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function formatDefault(value: unknown): string {
  if (value === undefined) return 'none';
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return '`{}`';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
