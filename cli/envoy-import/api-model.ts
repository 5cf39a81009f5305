// Envoy's API as an index of messages and enums, built from decoded file descriptors.
import type { FileDescriptor, Plain } from './descriptors';

export interface MessageDef {
  readonly kind: 'message';
  readonly fullName: string;
  readonly descriptor: Plain;
  /** Full names of the messages and enums nested in it (map entries excluded). */
  readonly nested: string[];
}

export interface EnumDef {
  readonly kind: 'enum';
  readonly fullName: string;
  readonly descriptor: Plain;
}

export type TypeDef = MessageDef | EnumDef;

/** What a field holds, resolved: maps unwrapped to their key and value. */
export interface FieldShape {
  readonly name: string;
  readonly number: number;
  readonly repeated: boolean;
  /** A scalar name (`uint32`, `string`, …) or a full type name with a leading dot. */
  readonly type: string;
  readonly keyType?: string;
  readonly options?: Plain;
  readonly oneofIndex?: number;
  readonly proto3Optional: boolean;
}

const SCALAR_NAMES: Record<string, string> = {
  TYPE_DOUBLE: 'double',
  TYPE_FLOAT: 'float',
  TYPE_INT64: 'int64',
  TYPE_UINT64: 'uint64',
  TYPE_INT32: 'int32',
  TYPE_FIXED64: 'fixed64',
  TYPE_FIXED32: 'fixed32',
  TYPE_BOOL: 'bool',
  TYPE_STRING: 'string',
  TYPE_BYTES: 'bytes',
  TYPE_UINT32: 'uint32',
  TYPE_SFIXED32: 'sfixed32',
  TYPE_SFIXED64: 'sfixed64',
  TYPE_SINT32: 'sint32',
  TYPE_SINT64: 'sint64',
};

export class ApiModel {
  readonly types = new Map<string, TypeDef>();
  /** Map entry messages (`FooEntry`), which are not types of their own in JSON. */
  private readonly mapEntries = new Map<string, Plain>();
  /** Top-level types of each file, by file name. */
  readonly typesOfFile = new Map<string, string[]>();

  constructor(files: readonly FileDescriptor[]) {
    for (const file of files) {
      const prefix = file.package ? `${file.package}.` : '';
      const topLevel = [...list(file.message_type).map((m) => this.addMessage(m, prefix)), ...list(file.enum_type).map((e) => this.addEnum(e, prefix))].filter(
        (name): name is string => name !== undefined,
      );
      this.typesOfFile.set(file.name, topLevel);
    }
  }

  private addMessage(descriptor: Plain, prefix: string): string | undefined {
    const fullName = prefix + String(descriptor.name);
    if (isPlain(descriptor.options) && descriptor.options.map_entry === true) {
      this.mapEntries.set(fullName, descriptor);
      return undefined;
    }
    const nested = [
      ...list(descriptor.nested_type).map((m) => this.addMessage(m, `${fullName}.`)),
      ...list(descriptor.enum_type).map((e) => this.addEnum(e, `${fullName}.`)),
    ].filter((name): name is string => name !== undefined);
    this.define({ kind: 'message', fullName, descriptor, nested });
    return fullName;
  }

  private addEnum(descriptor: Plain, prefix: string): string {
    const fullName = prefix + String(descriptor.name);
    this.define({ kind: 'enum', fullName, descriptor });
    return fullName;
  }

  private define(def: TypeDef): void {
    if (this.types.has(def.fullName)) throw new Error(`${def.fullName} is defined twice`);
    this.types.set(def.fullName, def);
  }

  message(fullName: string): MessageDef | undefined {
    const def = this.types.get(fullName);
    return def?.kind === 'message' ? def : undefined;
  }

  fields(message: MessageDef): FieldShape[] {
    return list(message.descriptor.field).map((field) => this.fieldShape(field));
  }

  private fieldShape(field: Plain): FieldShape {
    const base = {
      name: String(field.name),
      number: Number(field.number),
      options: isPlain(field.options) ? field.options : undefined,
      oneofIndex: typeof field.oneof_index === 'number' ? field.oneof_index : undefined,
      proto3Optional: field.proto3_optional === true,
    };
    const entry = typeof field.type_name === 'string' ? this.mapEntries.get(field.type_name.slice(1)) : undefined;
    if (entry && field.label === 'LABEL_REPEATED') {
      const [key, value] = [1, 2].map((n) => list(entry.field).find((f) => f.number === n)!);
      return { ...base, repeated: false, type: typeOf(value), keyType: typeOf(key) };
    }
    return { ...base, repeated: field.label === 'LABEL_REPEATED', type: typeOf(field) };
  }

  /** Message and enum names a message's fields refer to. */
  referencedTypes(message: MessageDef): string[] {
    return this.fields(message)
      .filter((f) => f.type.startsWith('.'))
      .map((f) => f.type.slice(1));
  }
}

function typeOf(field: Plain): string {
  if (field.type === 'TYPE_MESSAGE' || field.type === 'TYPE_ENUM') return String(field.type_name);
  const scalar = SCALAR_NAMES[String(field.type)];
  if (!scalar) throw new Error(`unsupported field type ${String(field.type)} on ${String(field.name)}`);
  return scalar;
}

export function list(value: unknown): Plain[] {
  return Array.isArray(value) ? (value as Plain[]) : [];
}

export function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
