// The parts of the ApplicationSet CRD this project does not use: every generator but the list
// generator, each of which repeats the whole Application template. Left out of the bindings
// (cli/import-crds.ts) and of the strict schema check (test/kube-schemas.ts), where leaving them
// out is stricter, not looser: an ApplicationSet with another generator no longer validates.

// biome-ignore lint/suspicious/noExplicitAny: CRD JSON of any shape, walked by key
type Json = Record<string, any>;

/** The ApplicationSet generators the project uses. */
export const GENERATORS_USED = ['list'];

export function pruneApplicationSet(crd: Json): Json {
  for (const version of crd.spec.versions) {
    const generators = version.schema.openAPIV3Schema.properties.spec.properties.generators.items.properties;
    for (const name of Object.keys(generators)) if (!GENERATORS_USED.includes(name)) delete generators[name];
    // The list generator's own template override repeats the Application template too.
    delete generators.list.properties.template;
  }
  return crd;
}
