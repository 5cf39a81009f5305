#!/usr/bin/env python3
"""Generate offline kubeconform schemas (verification tooling only).

Two sources, both turned into kubeconform's file layout
(`<kind>-<group prefix>-<version>.json`, the `{{ .ResourceKind }}{{ .KindSuffix }}.json`
template; the group prefix is the group's first dot-separated label, and the core
group has none: `service-v1.json`, `deployment-apps-v1.json`,
`ingress-networking-v1.json`, `application-argoproj-v1alpha1.json`):

  k8s  SWAGGER_JSON OUTDIR
       Kubernetes' own OpenAPI v2 document (api/openapi-spec/swagger.json from the
       k8s.io/kubernetes module zip). Writes OUTDIR/<v>-standalone-strict/ and
       OUTDIR/<v>-standalone/ (pass --k8s-version) in the layout kubeconform expects
       for `-schema-location OUTDIR -kubernetes-version <v>`.
  crd  OUTDIR CRD.yaml...
       CustomResourceDefinitions: one strict schema per served version.

What it does to the schemas (what openapi2jsonschema --expanded --kubernetes
--stand-alone --strict does for the published kubernetes-json-schema sets):
  * every $ref is inlined (stand-alone files); a reference cycle (only
    JSONSchemaProps has one) becomes an open schema `{}`;
  * strict: every object schema that lists `properties` and says nothing about
    `additionalProperties` gets `additionalProperties: false`, so an unknown or
    misspelt field is an error. Objects that are free-form on the server
    (no properties, `x-kubernetes-preserve-unknown-fields`) stay open;
  * IntOrString accepts a string or an integer, Quantity a string or a number,
    as the API server does;
  * optional fields also accept null (the API server treats null as unset);
  * `apiVersion` and `kind` are pinned with an enum, so a schema only matches
    its own kind.
The output is deterministic (sorted keys, fixed indentation).
"""
import argparse
import copy
import json
import os
import sys

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def fail(msg):
    print("gen-kubeconform-schemas: error: " + msg, file=sys.stderr)
    sys.exit(1)


def kind_suffix(group, version):
    if group:
        return "-" + group.split(".")[0] + "-" + version
    return "-" + version


def file_name(kind, group, version):
    return kind.lower() + kind_suffix(group, version) + ".json"


def api_version(group, version):
    return group + "/" + version if group else version


def allow_null(schema):
    """Let an optional field also be null."""
    if not isinstance(schema, dict):
        return schema
    t = schema.get("type")
    if isinstance(t, str):
        schema["type"] = [t, "null"]
    elif isinstance(t, list):
        if "null" not in t:
            schema["type"] = t + ["null"]
    elif "oneOf" in schema:
        if {"type": "null"} not in schema["oneOf"]:
            schema["oneOf"] = schema["oneOf"] + [{"type": "null"}]
    return schema


def make_strict(schema, strict):
    """Recursively apply strictness and null-tolerance to an expanded schema."""
    if isinstance(schema, list):
        return [make_strict(s, strict) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            required = set(schema.get("required", []))
            props = {}
            for name, sub in value.items():
                sub = make_strict(sub, strict)
                if name not in required:
                    sub = allow_null(sub)
                props[name] = sub
            out[key] = props
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = make_strict(value, strict)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [make_strict(s, strict) for s in value]
        else:
            out[key] = value
    if (
        strict
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


class Expander:
    def __init__(self, definitions):
        self.defs = definitions

    def expand(self, schema, stack=()):
        if isinstance(schema, list):
            return [self.expand(s, stack) for s in schema]
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/definitions/"):
                fail("unsupported $ref " + ref)
            name = ref[len("#/definitions/"):]
            if name not in self.defs:
                fail("dangling $ref " + ref)
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            if name in stack:
                out = {"description": "(recursive reference to %s, not expanded)" % name}
                out.update({k: v for k, v in extra.items() if k == "description"})
                return out
            out = self.definition(name, stack + (name,))
            out.update(extra)  # a sibling description wins over the referenced one
            return out
        out = {}
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {n: self.expand(s, stack) for n, s in value.items()}
            elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
                out[key] = self.expand(value, stack)
            elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                out[key] = [self.expand(s, stack) for s in value]
            else:
                out[key] = copy.deepcopy(value)
        return out

    def definition(self, name, stack):
        d = self.defs[name]
        if name == INT_OR_STRING:
            return {"description": d.get("description", ""),
                    "oneOf": [{"type": "string"}, {"type": "integer"}]}
        if name == QUANTITY:
            return {"description": d.get("description", ""),
                    "oneOf": [{"type": "string"}, {"type": "number"}]}
        d = {k: v for k, v in d.items() if k != "x-kubernetes-group-version-kind"}
        return self.expand(d, stack)


def pin_gvk(schema, group, version, kind):
    props = schema.setdefault("properties", {})
    av = props.setdefault("apiVersion", {"type": "string"})
    av["enum"] = [api_version(group, version)]
    kd = props.setdefault("kind", {"type": "string"})
    kd["enum"] = [kind]
    return schema


def write_json(path, obj):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def cmd_k8s(args):
    with open(args.swagger, encoding="utf-8") as f:
        definitions = json.load(f).get("definitions")
    if not definitions:
        fail(args.swagger + " has no definitions")
    exp = Expander(definitions)
    version = args.k8s_version.lstrip("v")
    written = {}
    for strict, sub in ((True, "-standalone-strict"), (False, "-standalone")):
        outdir = os.path.join(args.outdir, "v" + version + sub)
        os.makedirs(outdir, exist_ok=True)
        for name in sorted(definitions):
            gvks = definitions[name].get("x-kubernetes-group-version-kind") or []
            for gvk in gvks:
                fname = file_name(gvk["kind"], gvk.get("group", ""), gvk["version"])
                # meta types (DeleteOptions, WatchEvent...) list every group; the
                # definition whose own package matches the group/version wins.
                key = (strict, fname)
                prefer = ("." + gvk["version"] + "." + gvk["kind"]) in name and not name.startswith(
                    "io.k8s.apimachinery.pkg.apis.meta.v1.")
                if key in written and not prefer:
                    continue
                schema = exp.definition(name, (name,))
                schema = pin_gvk(schema, gvk.get("group", ""), gvk["version"], gvk["kind"])
                schema = make_strict(schema, strict)
                write_json(os.path.join(outdir, fname), schema)
                written[key] = name
    n = len({k[1] for k in written})
    print("gen-kubeconform-schemas: wrote %d kinds (strict and non-strict) for Kubernetes v%s into %s"
          % (n, version, args.outdir))


def load_yaml_documents(path):
    try:
        import yaml  # PyYAML: Debian's python3-yaml, or pip's PyYAML
    except ImportError:
        fail("PyYAML is needed to read CRDs (apt-get install -y python3-yaml)")
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def cmd_crd(args):
    os.makedirs(args.outdir, exist_ok=True)
    count = 0
    for path in args.crds:
        for doc in load_yaml_documents(path):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            group = spec["group"]
            kind = spec["names"]["kind"]
            for ver in spec.get("versions", []):
                if not ver.get("served", True):
                    continue
                schema = (ver.get("schema") or {}).get("openAPIV3Schema")
                if not schema:
                    fail("%s: %s/%s %s has no openAPIV3Schema" % (path, group, ver["name"], kind))
                schema = copy.deepcopy(schema)
                props = schema.setdefault("properties", {})
                # Every custom object has these, whatever the CRD author wrote.
                props.setdefault("apiVersion", {"type": "string"})
                props.setdefault("kind", {"type": "string"})
                props["metadata"] = {"type": "object"}  # validated by the API server, not here
                schema = pin_gvk(schema, group, ver["name"], kind)
                schema = make_strict(schema, True)
                write_json(os.path.join(args.outdir, file_name(kind, group, ver["name"])), schema)
                count += 1
    if count == 0:
        fail("no CustomResourceDefinition found in " + " ".join(args.crds))
    print("gen-kubeconform-schemas: wrote %d CRD version schemas into %s" % (count, args.outdir))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("k8s")
    k.add_argument("--k8s-version", required=True)
    k.add_argument("swagger")
    k.add_argument("outdir")
    c = sub.add_parser("crd")
    c.add_argument("outdir")
    c.add_argument("crds", nargs="+")
    args = p.parse_args()
    {"k8s": cmd_k8s, "crd": cmd_crd}[args.cmd](args)


if __name__ == "__main__":
    main()
