// Which config fields reach Envoy live, and which roll the pods: read off the builders themselves.
// Each builder runs on a config that records every field it reads. What the static bootstrap or the
// pod template reads rolls the pods (their hash or spec changes); what only the live resources read
// applies live. docs/configuration.md's "applies" column is generated from this, so it cannot drift
// from the code that decides it; test/field-effects.test.ts checks it against real synths.
import { serializeBootstrap } from '../charts/envoy-edge';
import { configReference } from '../config/reference';
import type { EdgeConfig } from '../config/schema';
import { buildEnvoyBootstrap } from '../envoy/bootstrap';
import { buildLiveResources } from '../envoy/live';
import { envoyPodTemplate } from '../envoy/pod';

export type FieldEffect = 'rolls the pods' | 'live' | '—';

/** The reference's "applies" column: each field's effect with the shipped defaults. */
export function appliesColumn(config: EdgeConfig): (field: string) => string {
  const effects = fieldEffects(config);
  return (field) => {
    const effect = effects.get(field) ?? '—';
    return effect === '—' ? effect : `**${effect}**`;
  };
}

/** Every config field's effect on a running Envoy, keyed by its path (envoy.rateLimit.maxTokens). */
export function fieldEffects(config: EdgeConfig): Map<string, FieldEffect> {
  const fields = configReference().flatMap((section) => section.fields.map((f) => f.path));
  const rolls = readsOf(config, (c) => {
    const bootstrap = buildEnvoyBootstrap(c);
    envoyPodTemplate(c, serializeBootstrap(bootstrap));
  });
  const live = readsOf(config, (c) => buildLiveResources(c));
  const under = (reads: Set<string>, field: string) => [...reads].some((r) => r === field || r.startsWith(`${field}.`));
  return new Map(fields.map((field): [string, FieldEffect] => [field, under(rolls, field) ? 'rolls the pods' : under(live, field) ? 'live' : '—']));
}

/** The dotted paths of every value `build` reads from the config. */
function readsOf(config: EdgeConfig, build: (config: EdgeConfig) => void): Set<string> {
  const reads = new Set<string>();
  build(traced(config, (path) => reads.add(path)));
  return reads;
}

/**
 * `value` seen through proxies that call `onRead` with the dotted path (envoy.rateLimit.maxTokens)
 * of every value read from it; enumerating an object (a spread, Object.entries) reads all of it.
 */
export function traced<T extends object>(value: T, onRead: (path: string) => void): T {
  const track = (v: unknown, at: string): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    return new Proxy(v, {
      get(target, key, receiver) {
        const child = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || typeof child === 'function') return child;
        const childPath = at ? `${at}.${key}` : key;
        onRead(childPath);
        return track(child, childPath);
      },
      ownKeys(target) {
        if (at) onRead(at);
        return Reflect.ownKeys(target);
      },
    });
  };
  return track(value, '') as T;
}
