// Checks an Envoy bootstrap file (YAML or JSON) against Envoy's API definitions and validation rules.
//
//   npm run validate:envoy -- <file> [--allow-json-names]
//
// The file is a bootstrap, or Kubernetes YAML holding a ConfigMap whose data carries one (as in dist/).
// Prints one line per problem, "path: rule: message (config: field)"; notices go to stderr.
// Exit status: 0 valid, 1 problems found, 2 unreadable input or bad usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { formatEnvoyProblem, inspectEnvoyBootstrap } from '../envoy/validate';

const USAGE = 'usage: npm run validate:envoy -- <bootstrap.yaml|bootstrap.json|manifests.yaml> [--allow-json-names]';

interface NamedBootstrap {
  /** Where the bootstrap was found, printed before its problems when a file holds several. */
  readonly origin: string;
  readonly bootstrap: unknown;
}

function main(argv: string[]): number {
  let parsed: { values: { 'allow-json-names'?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { 'allow-json-names': { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch {
    console.error(USAGE);
    return 2;
  }
  if (parsed.positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const allowJsonNames = parsed.values['allow-json-names'] ?? false;
  const [file] = parsed.positionals;
  let bootstraps: NamedBootstrap[];
  try {
    bootstraps = readBootstraps(file);
  } catch (err) {
    console.error(`${file}: cannot read: ${(err as Error).message}`);
    return 2;
  }

  let problemCount = 0;
  for (const { origin, bootstrap } of bootstraps) {
    const { problems, notices } = inspectEnvoyBootstrap(bootstrap, { allowJsonNames });
    const prefix = bootstraps.length > 1 || origin !== file ? `${origin}: ` : '';
    for (const notice of notices) console.error(`note: ${prefix}${formatEnvoyProblem(notice)}`);
    for (const problem of problems) console.log(`${prefix}${formatEnvoyProblem(problem)}`);
    problemCount += problems.length;
  }
  if (problemCount) return 1;
  console.log(`ok: ${bootstraps.map((b) => b.origin).join(', ')} passes Envoy's API definitions and validation rules`);
  return 0;
}

/** The bootstrap itself, or each bootstrap carried in a ConfigMap's data. Throws when there is none. */
function readBootstraps(file: string): NamedBootstrap[] {
  const documents = parseYamlDocuments(readFileSync(file, 'utf8'), file);
  const fromConfigMaps: NamedBootstrap[] = [];
  for (const doc of documents) {
    if (!isObject(doc) || doc.kind !== 'ConfigMap' || !isObject(doc.data)) continue;
    const name = isObject(doc.metadata) ? String(doc.metadata.name) : '(unnamed)';
    for (const [key, text] of Object.entries(doc.data)) {
      if (typeof text !== 'string' || !/\.(ya?ml|json)$/.test(key)) continue;
      const [inner] = parseYamlDocuments(text, `${file}: ConfigMap ${name} ${key}`);
      if (isObject(inner) && ('static_resources' in inner || 'staticResources' in inner)) {
        fromConfigMaps.push({ origin: `ConfigMap ${name} ${key}`, bootstrap: inner });
      }
    }
  }
  if (fromConfigMaps.length) return fromConfigMaps;
  if (documents.length !== 1) throw new Error(`expected one bootstrap document, found ${documents.length} and no ConfigMap carrying one`);
  return [{ origin: file, bootstrap: documents[0] }];
}

function parseYamlDocuments(text: string, where: string): unknown[] {
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [documents];
  for (const doc of list) {
    if (doc.errors.length) throw new Error(`${where} is not valid YAML or JSON: ${doc.errors[0].message}`);
  }
  return list.map((doc) => doc.toJS()).filter((value) => value !== null && value !== undefined);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

process.exitCode = main(process.argv.slice(2));
