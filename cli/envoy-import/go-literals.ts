// Reads the serialized file descriptors that protoc-gen-go embeds in every *.pb.go file:
//   const file_<path>_rawDesc = "" + "\n\x1e..." + ...      (protoc-gen-go v1.36 and later)
//   var file_<path>_rawDesc = []byte{0x0a, 0x1e, ...}        (older protoc-gen-go)

const RAW_DESC_DECLARATION = /^(?:const|var)\s+(file_\w+_rawDesc)\s*=\s*/gm;

export interface RawDescriptor {
  /** The Go identifier, e.g. file_envoy_config_cluster_v3_cluster_proto_rawDesc. */
  readonly goName: string;
  readonly bytes: Buffer;
}

/** Every rawDesc literal in one Go source file. */
export function extractRawDescriptors(goSource: string): RawDescriptor[] {
  const found: RawDescriptor[] = [];
  for (const match of goSource.matchAll(RAW_DESC_DECLARATION)) {
    const start = match.index + match[0].length;
    const bytes = goSource.startsWith('[]byte{', start) ? parseByteSliceLiteral(goSource, start + '[]byte{'.length) : parseStringConcatenation(goSource, start);
    found.push({ goName: match[1], bytes });
  }
  return found;
}

/** `0x0a, 0x1e, ... }`: integer literals up to the closing brace. */
function parseByteSliceLiteral(source: string, start: number): Buffer {
  const end = source.indexOf('}', start);
  if (end < 0) throw new Error('unterminated []byte literal');
  const items = source
    .slice(start, end)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return Buffer.from(items.map(parseGoByte));
}

function parseGoByte(text: string): number {
  const value = /^0[xX][0-9a-fA-F]+$/.test(text)
    ? parseInt(text.slice(2), 16)
    : /^0[oO]?[0-7]+$/.test(text)
      ? parseInt(text.replace(/^0[oO]?/, ''), 8)
      : /^[1-9][0-9]*$|^0$/.test(text)
        ? parseInt(text, 10)
        : NaN;
  if (!(value >= 0 && value <= 255)) throw new Error(`not a byte literal: ${text}`);
  return value;
}

/** `"..." + "..." + ...`: string literals joined by `+`, ending at the first token that is not `+`. */
function parseStringConcatenation(source: string, start: number): Buffer {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    at = skipSpace(source, at);
    const { bytes, end } = parseStringLiteral(source, at);
    parts.push(bytes);
    at = skipSpace(source, end);
    if (source[at] !== '+') break;
    at++;
  }
  return Buffer.concat(parts);
}

function skipSpace(source: string, at: number): number {
  while (at < source.length && /\s/.test(source[at])) at++;
  return at;
}

/** One Go string literal at `at`, interpreted ("...") or raw (`...`), as the bytes it denotes. */
export function parseStringLiteral(source: string, at: number): { bytes: Buffer; end: number } {
  const quote = source[at];
  if (quote === '`') {
    const close = source.indexOf('`', at + 1);
    if (close < 0) throw new Error('unterminated raw string literal');
    // Go drops carriage returns from raw strings.
    return { bytes: Buffer.from(source.slice(at + 1, close).replace(/\r/g, ''), 'utf8'), end: close + 1 };
  }
  if (quote !== '"') throw new Error(`expected a string literal at offset ${at}, found ${JSON.stringify(source.slice(at, at + 20))}`);
  const out: number[] = [];
  let i = at + 1;
  for (;;) {
    if (i >= source.length || source[i] === '\n') throw new Error('unterminated string literal');
    const char = source[i];
    if (char === '"') return { bytes: Buffer.from(out), end: i + 1 };
    if (char !== '\\') {
      // A literal character stands for its UTF-8 bytes (a surrogate pair is one code point).
      const codePoint = source.codePointAt(i)!;
      const text = String.fromCodePoint(codePoint);
      out.push(...Buffer.from(text, 'utf8'));
      i += text.length;
      continue;
    }
    i = readEscape(source, i + 1, out);
  }
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };

/** The escape after a backslash at `i`, appended to `out`; returns the index after it. */
function readEscape(source: string, i: number, out: number[]): number {
  const kind = source[i];
  if (kind in SIMPLE_ESCAPES) {
    out.push(SIMPLE_ESCAPES[kind]);
    return i + 1;
  }
  if (kind === 'x') return pushByte(source, i + 1, 2, 16, out);
  if (/[0-7]/.test(kind)) return pushByte(source, i, 3, 8, out);
  if (kind === 'u' || kind === 'U') {
    const length = kind === 'u' ? 4 : 8;
    const digits = source.slice(i + 1, i + 1 + length);
    if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) throw new Error(`bad \\${kind} escape`);
    const codePoint = parseInt(digits, 16);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) throw new Error(`bad code point \\${kind}${digits}`);
    out.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
    return i + 1 + length;
  }
  throw new Error(`unknown escape \\${kind}`);
}

/** \xNN (exactly 2 hex digits) and \NNN (exactly 3 octal digits) denote one byte each. */
function pushByte(source: string, i: number, length: number, radix: 16 | 8, out: number[]): number {
  const digits = source.slice(i, i + length);
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  const value = parseInt(digits, radix);
  if (digits.length !== length || !valid.test(digits) || value > 255) throw new Error(`bad byte escape ${digits}`);
  out.push(value);
  return i + length;
}
