// Envoy's API definitions: imports/envoy-api.json, compiled by cli/import-envoy-api.ts from the
// descriptors in go-control-plane's Go module for the deployed Envoy release, read with protobufjs
// reflection. Loaded on first use and indexed by full name.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Enum, type Field, Type } from 'protobufjs/light';

// The synth bundle (cli/synth.cjs) names the project root in $EDGE_PROJECT_ROOT.
const API_FILE = path.join(process.env.EDGE_PROJECT_ROOT ?? path.join(__dirname, '..', '..'), 'imports', 'envoy-api.json');

interface CompiledNode {
  fields?: Record<string, unknown>;
  oneofs?: Record<string, unknown>;
  reserved?: string[];
  values?: Record<string, number>;
  valuesOptions?: Record<string, Record<string, unknown>>;
  nested?: Record<string, CompiledNode>;
}

interface CompiledApi {
  about: { definitions: string; envoyApi: string; unavailableTypes: string[] };
  nested: Record<string, CompiledNode>;
}

/**
 * The definitions, indexed by full name. protobufjs reflection objects are built on first use:
 * building all ~1,100 types up front (Root.fromJSON) costs ~400 ms, a bootstrap touches ~100.
 */
export class EnvoyApi {
  readonly about: CompiledApi['about'];
  private readonly unavailable: Set<string>;
  private readonly compiled = new Map<string, CompiledNode>();
  private readonly built = new Map<string, Type | Enum>();
  private readonly names = new WeakMap<Type | Enum, string>();
  private readonly jsonNames = new WeakMap<Type, Map<string, Field>>();

  constructor(api: CompiledApi) {
    this.about = api.about;
    this.unavailable = new Set(api.about.unavailableTypes);
    const index = (nested: Record<string, CompiledNode>, prefix: string) => {
      for (const [name, node] of Object.entries(nested)) {
        const fullName = prefix + name;
        if (node.fields || node.values) this.compiled.set(fullName, node);
        if (node.nested) index(node.nested, `${fullName}.`);
      }
    };
    index(api.nested, '');
  }

  lookup(fullName: string): Type | Enum | undefined {
    const name = fullName.replace(/^\./, '');
    let built = this.built.get(name);
    if (built) return built;
    const node = this.compiled.get(name);
    if (!node) return undefined;
    const shortName = name.slice(name.lastIndexOf('.') + 1);
    built = node.fields
      ? Type.fromJSON(shortName, { fields: node.fields, oneofs: node.oneofs, reserved: node.reserved } as never)
      : Enum.fromJSON(shortName, { values: node.values, valuesOptions: node.valuesOptions } as never);
    this.built.set(name, built);
    this.names.set(built, name);
    return built;
  }

  lookupType(fullName: string): Type | undefined {
    const found = this.lookup(fullName);
    return found instanceof Type ? found : undefined;
  }

  /** The message or enum a field holds; undefined for scalars. */
  fieldType(field: Field): Type | Enum | undefined {
    return field.type.startsWith('.') ? this.lookup(field.type) : undefined;
  }

  nameOf(type: Type | Enum): string {
    return this.names.get(type) ?? type.name;
  }

  isUnavailable(fullName: string): boolean {
    return this.unavailable.has(fullName);
  }

  /** Type names that end like `fullName`, to suggest for an unknown @type (a v2 name, a typo in the package). */
  similarTypeNames(fullName: string): string[] {
    const shortName = fullName.slice(fullName.lastIndexOf('.') + 1).toLowerCase();
    return [...this.compiled.keys()].filter((name) => name.toLowerCase().endsWith(`.${shortName}`)).slice(0, 3);
  }

  fieldByJsonName(type: Type, key: string): Field | undefined {
    let byJsonName = this.jsonNames.get(type);
    if (!byJsonName) {
      byJsonName = new Map(type.fieldsArray.map((field) => [jsonNameOf(field.name), field]));
      this.jsonNames.set(type, byJsonName);
    }
    return byJsonName.get(key);
  }
}

let cachedApi: EnvoyApi | undefined;
export function loadEnvoyApi(): EnvoyApi {
  cachedApi ??= new EnvoyApi(JSON.parse(readFileSync(API_FILE, 'utf8')) as CompiledApi);
  return cachedApi;
}

/** Wrapper types are written as their bare value; PGV rules for the wrapped scalar apply to it. */
export const WRAPPED_SCALARS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

/** An enum's names in number order, as the .proto file lists them. */
export function enumNames(enumType: Enum): string {
  return Object.entries(enumType.values)
    .sort(([, a], [, b]) => a - b)
    .map(([name]) => name)
    .join(', ');
}

/** protobuf's lowerCamel JSON name: drop each "_" and upper-case the letter after it. */
function jsonNameOf(protoName: string): string {
  return protoName.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
}
