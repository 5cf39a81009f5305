// Decodes serialized FileDescriptorProtos with protobufjs, keeping custom options.
//
// protobufjs's own descriptor extension (protobufjs/ext/descriptor) decodes with a bundled
// descriptor.proto that declares no extensions, so custom options (PGV's `validate.rules`, Envoy's
// deprecation annotations) are skipped as unknown fields. Here it only bootstraps: it reads
// descriptor.proto and the files that declare options, and protobufjs builds a decoder from them
// in which those options are ordinary extension fields (named ".validate.rules" and so on).
import * as protobuf from 'protobufjs';
import descriptorExtension from 'protobufjs/ext/descriptor';

/** The descriptor messages as plain data, keyed by their proto field names (snake_case). */
export type Plain = { [key: string]: PlainValue };
export type PlainValue = string | number | boolean | Plain | PlainValue[];

export interface FileDescriptor extends Plain {
  name: string;
  package: string;
}

const DESCRIPTOR_PROTO = 'google/protobuf/descriptor.proto';
const bundledFileDescriptorProto = (descriptorExtension as unknown as { FileDescriptorProto: protobuf.Type }).FileDescriptorProto;
const bundledFileDescriptorSet = (descriptorExtension as unknown as { FileDescriptorSet: protobuf.Type }).FileDescriptorSet;

/** What the bundled descriptor types can read without custom options: the name and the imports. */
export function readFileHeader(bytes: Buffer): { name: string; dependency: string[] } {
  const header = bundledFileDescriptorProto.decode(bytes) as unknown as { name: string; dependency?: string[] };
  return { name: header.name, dependency: header.dependency ?? [] };
}

/**
 * A decoder for FileDescriptorProto that knows every option extension declared in `optionFiles`
 * (with their imports, and descriptor.proto itself, among `files`).
 */
export function createDescriptorDecoder(files: ReadonlyMap<string, Buffer>, optionFiles: readonly string[]): (bytes: Buffer) => FileDescriptor {
  const needed = importClosure([DESCRIPTOR_PROTO, ...optionFiles], files);
  const set = bundledFileDescriptorSet.create({ file: needed.map((name) => bundledFileDescriptorProto.decode(files.get(name)!)) });
  const root = (protobuf.Root as unknown as { fromDescriptor(set: protobuf.Message, options: object): protobuf.Root }).fromDescriptor(set, {
    keepCase: true,
  });
  root.resolveAll();
  const fileType = root.lookupType('google.protobuf.FileDescriptorProto');
  return (bytes) => toPlain(fileType.decode(bytes), fileType) as FileDescriptor;
}

/** Names of `start` and everything they import, transitively, in a stable order. */
export function importClosure(start: readonly string[], files: ReadonlyMap<string, Buffer>): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const bytes = files.get(name);
    if (!bytes) throw new Error(`${name} is imported but no module provides it`);
    seen.add(name);
    readFileHeader(bytes).dependency.forEach(visit);
  };
  start.forEach(visit);
  return [...seen].sort();
}

/** True when the file declares extensions of descriptor options (it defines custom options). */
export function declaresOptions(bytes: Buffer): boolean {
  const file = bundledFileDescriptorProto.decode(bytes) as unknown as { extension?: { extendee?: string }[] };
  return (file.extension ?? []).some((ext) => /^\.google\.protobuf\.\w+Options$/.test(ext.extendee ?? ''));
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * Only the fields present on the wire, as plain data: enums by name, 64-bit integers as numbers
 * while they are exact (as decimal strings beyond 2^53), bytes as base64.
 */
function toPlain(message: protobuf.Message, type: protobuf.Type): Plain {
  const out: Plain = {};
  const values = message as unknown as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(values, field.name)) continue;
    const value = values[field.name];
    if (value === null || value === undefined) continue;
    if (field.map) throw new Error(`unexpected map field ${type.fullName}.${field.name} in a descriptor`);
    if (field.repeated) {
      const items = value as unknown[];
      if (items.length) out[field.name] = items.map((item) => plainValue(item, field));
    } else {
      out[field.name] = plainValue(value, field);
    }
  }
  return out;
}

function plainValue(value: unknown, field: protobuf.Field): PlainValue {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return toPlain(value as protobuf.Message, resolved);
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[value as number] ?? (value as number);
  if (LONG_TYPES.has(field.type)) {
    // A decoded Long prints its exact decimal value (signed or unsigned as the field is).
    const text = String(value);
    return Number.isSafeInteger(Number(text)) ? Number(text) : text;
  }
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  return value as PlainValue;
}
