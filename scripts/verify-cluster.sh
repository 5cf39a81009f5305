#!/usr/bin/env bash
# Proves the generated manifests on real kube-apiservers (v1.28, built from the Kubernetes Go
# modules) and runs the linters over dist/. Called by .ci/run; also `npm run verify:cluster`.
# Two throwaway API servers stand for the two shipped environments' clusters, under kube contexts
# named as `aws eks update-kubeconfig` names them; Argo CD's objects go to prod's (it runs there).
#   1. kubectl apply --dry-run=server accepts every object of both environments and argocd/; the API
#      server refuses a ConfigMap or annotations one byte past the limits synthesis enforces;
#   2. after a real apply, kubectl diff exits 0 for both environments;
#   3. after a synth with staging's alb.idleTimeoutSeconds changed, kubectl diff exits 1 for staging,
#      shows that field and touches only its Ingress, and prod's diff still exits 0;
#   4. the day-2 commands run against the servers: they refuse an environment whose cluster is not
#      the current context; status and diff work; destroy --env staging takes staging out of the
#      ApplicationSet and deletes its objects in the safe order (stand-ins for the LB controller and
#      Argo CD release the finalizers), leaving prod untouched;
#   5. kubeconform -strict and kube-score over dist/ with zero findings.
# Everything it starts is stopped, and its temp files removed, also when a step fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
verify_checks verify

t0=$(date +%s)
bash scripts/cluster/build-tools.sh >/dev/null
# shellcheck disable=SC1091
. "$VERIFY_CACHE_DIR/tools.env"
say "tools ready in $(($(date +%s) - t0))s (kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | head -1))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/verify-cluster.XXXXXX")"
SIMULATOR_PID=""
SERVERS=()
# shellcheck disable=SC1091
. scripts/cluster/apiserver.sh
cleanup() {
  local rc=$? d
  [ -n "$SIMULATOR_PID" ] && kill "$SIMULATOR_PID" 2>/dev/null || true
  for d in "${SERVERS[@]}"; do apiserver_stop "$d" || true; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ENVS=(prod staging)
# Contexts as `aws eks update-kubeconfig` names them: the day-2 commands recognise each environment's cluster by it.
PROD_CTX="arn:aws:eks:us-east-1:000000000000:cluster/envoy-poc"
STAGING_CTX="arn:aws:eks:us-east-1:000000000000:cluster/envoy-poc-staging"
ctx_of() { case "$1" in prod) echo "$PROD_CTX" ;; staging) echo "$STAGING_CTX" ;; esac; }

# ---- 5. linters (no server needed) ------------------------------------------------------------
# shellcheck disable=SC2086
if kubeconform $VERIFY_KUBECONFORM_ARGS dist argocd >&2; then ok "kubeconform -strict: dist/ (both environments) and argocd/ valid"
else bad "kubeconform -strict found problems in dist/ or argocd/"; fi
if kube-score score --kubernetes-version v1.28 --output-format ci dist/*/edge/*.yaml >"$WORK/kube-score.txt" 2>&1; then
  ok "kube-score: zero findings in both environments ($(grep -c '^\[OK\]' "$WORK/kube-score.txt") checks OK; exceptions are annotated on the objects)"
else bad "kube-score: $(grep -v '^\[OK\]' "$WORK/kube-score.txt")"; fi

# ---- two real API servers, one kubeconfig ------------------------------------------------------
for env in "${ENVS[@]}"; do
  apiserver_start
  SERVERS+=("$VERIFY_APISERVER_DIR")
  cp "$VERIFY_APISERVER_DIR/kubeconfig" "$WORK/$env.kubeconfig"
done
{
  echo "apiVersion: v1"; echo "kind: Config"; echo "clusters:"
  for i in 0 1; do
    env="${ENVS[$i]}"; d="${SERVERS[$i]}"
    server="$(KUBECONFIG="$WORK/$env.kubeconfig" kubectl config view -o jsonpath='{.clusters[0].cluster.server}')"
    printf -- '- name: "%s"\n  cluster: {server: "%s", certificate-authority: "%s"}\n' "$(ctx_of "$env")" "$server" "$d/pki/ca.crt"
  done
  echo "users:"
  for i in 0 1; do
    d="${SERVERS[$i]}"
    printf -- '- name: admin-%s\n  user: {client-certificate: "%s", client-key: "%s"}\n' "$i" "$d/pki/admin.crt" "$d/pki/admin.key"
  done
  echo "contexts:"
  for i in 0 1; do
    printf -- '- name: "%s"\n  context: {cluster: "%s", user: admin-%s}\n' "$(ctx_of "${ENVS[$i]}")" "$(ctx_of "${ENVS[$i]}")" "$i"
  done
  echo "current-context: \"$PROD_CTX\""
} >"$WORK/kubeconfig"
export KUBECONFIG="$WORK/kubeconfig"
K() { kubectl --context "$(ctx_of "$1")" --validate=strict "${@:2}"; }
use() { kubectl config use-context "$(ctx_of "$1")" >/dev/null; }

# ---- 1. server-side dry run -------------------------------------------------------------------
# Argo CD's namespace belongs to the cluster, not to us; our Namespaces go in for real first: the
# server rejects namespaced objects whose namespace does not exist (NamespaceLifecycle).
K prod create namespace argocd >&2
namespaces_of() { # namespaces_of DIR OUT
  node --require tsx/cjs -e '
    const { parseAllDocuments, stringify } = require("yaml");
    const fs = require("node:fs");
    const dir = process.argv[1];
    const docs = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).flatMap((f) => parseAllDocuments(fs.readFileSync(dir + "/" + f, "utf8")).map((d) => d.toJS()));
    fs.writeFileSync(process.argv[2], docs.filter((d) => d.kind === "Namespace").map((d) => stringify(d)).join("---\n"));
  ' "$1" "$2"
}
dry_ok=1
# The child Applications' namespaces (<project>-apps) come with argocd/.
namespaces_of argocd "$WORK/argocd-namespaces.yaml"
K prod apply --dry-run=server -f "$WORK/argocd-namespaces.yaml" >&2 && K prod apply -f "$WORK/argocd-namespaces.yaml" >&2 || dry_ok=0
for env in "${ENVS[@]}"; do
  namespaces_of "dist/$env/edge" "$WORK/$env-namespaces.yaml"
  K "$env" apply --dry-run=server -f "$WORK/$env-namespaces.yaml" >&2 && K "$env" apply -f "$WORK/$env-namespaces.yaml" >&2 \
    && K "$env" apply --dry-run=server -f "dist/$env/edge" >&2 && K prod apply --dry-run=server -f "dist/$env" >&2 || dry_ok=0
done
K prod apply --dry-run=server -f argocd/ >&2 || dry_ok=0
# The limits synthesis enforces (k8s/object-limits.ts), on the real API server: a ConfigMap with exactly
# 1 MiB of data values is accepted, one byte more refused; 256 KiB of annotations (keys and values)
# accepted, one byte more refused.
limits="$(node --require tsx/cjs -e '
  const { CONFIGMAP_DATA_MAX_BYTES: d, ANNOTATIONS_MAX_BYTES: a } = require("./k8s/object-limits");
  const cm = (name, data, ann) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", annotations: ann }, data });
  const fs = require("fs"); const w = process.argv[1];
  fs.writeFileSync(w + "/data-at.json", cm("limit-data", { k: "x".repeat(d) }));
  fs.writeFileSync(w + "/data-over.json", cm("limit-data", { k: "x".repeat(d + 1) }));
  fs.writeFileSync(w + "/ann-at.json", cm("limit-ann", {}, { k: "x".repeat(a - 1) }));
  fs.writeFileSync(w + "/ann-over.json", cm("limit-ann", {}, { k: "x".repeat(a) }));' "$WORK"
  for f in data-at data-over ann-at ann-over; do K prod create --dry-run=server -f "$WORK/$f.json" -o name >/dev/null 2>&1 && printf '%s:ok ' "$f" || printf '%s:refused ' "$f"; done)"
if [ "$limits" = "data-at:ok data-over:refused ann-at:ok ann-over:refused " ]; then
  ok "the API server takes exactly the limits synthesis enforces: ConfigMap data 1 MiB, annotations 256 KiB ($limits)"
else bad "object limits on the API server: $limits (want data-at:ok data-over:refused ann-at:ok ann-over:refused)"; fi
if [ "$dry_ok" = 1 ]; then ok "kubectl apply --dry-run=server accepts both environments' objects (Envoy's in their clusters, the Applications in Argo CD's) and argocd/"
else bad "kubectl apply --dry-run=server refused an object"; fi

# ---- 2. apply, then no diff ---------------------------------------------------------------------
apply_ok=1
K prod apply -f argocd/ >&2 || apply_ok=0
for env in "${ENVS[@]}"; do K "$env" apply -f "dist/$env/edge" >&2 && K prod apply -f "dist/$env" >&2 || apply_ok=0; done
if [ "$apply_ok" = 1 ]; then ok "kubectl apply of argocd/ and both environments"; else bad "kubectl apply of argocd/ and both environments"; fi
diffs=""
for env in "${ENVS[@]}"; do
  set +e
  kubectl --context "$(ctx_of "$env")" diff -f "dist/$env/edge" >"$WORK/diff-0-$env.txt" 2>&1; a=$?
  kubectl --context "$PROD_CTX" diff -f "dist/$env" >>"$WORK/diff-0-$env.txt" 2>&1; b=$?
  set -e
  diffs+="$env:$a/$b "
done
if [ "$diffs" = "prod:0/0 staging:0/0 " ]; then ok "kubectl diff exits 0 for both environments right after apply"
else bad "kubectl diff right after apply: $diffs $(head -40 "$WORK"/diff-0-*.txt)"; fi

# ---- 3. one config value changed in one environment ---------------------------------------------
cp -r config "$WORK/config"
node --require tsx/cjs -e '
  const { parse, stringify } = require("yaml");
  const fs = require("node:fs");
  const file = process.argv[1] + "/environments/staging.yaml";
  const config = parse(fs.readFileSync(file, "utf8"));
  config.alb = { ...config.alb, idleTimeoutSeconds: 1800 };
  fs.writeFileSync(file, stringify(config));
  require("./synth/pipeline").synthesizeProject(process.argv[2], process.argv[1]);
' "$WORK/config" "$WORK/changed"
set +e
kubectl --context "$STAGING_CTX" diff -f "$WORK/changed/dist/staging/edge" >"$WORK/diff-1.txt" 2>&1; rc_staging=$?
kubectl --context "$PROD_CTX" diff -f "$WORK/changed/dist/prod/edge" >"$WORK/diff-1-prod.txt" 2>&1; rc_prod=$?
set -e
changed_objects="$(sed -n 's|^diff -u -N [^ ]*/\([^ /]*\) .*|\1|p' "$WORK/diff-1.txt" | sort -u | tr '\n' ' ')"
if [ "$rc_staging" = 1 ] && [ "$rc_prod" = 0 ] && grep -q '^+.*idle_timeout.timeout_seconds=1800' "$WORK/diff-1.txt" \
  && [ "$changed_objects" = "networking.k8s.io.v1.Ingress.envoy-proxy.envoy-proxy-ingress " ]; then
  ok "after changing staging's alb.idleTimeoutSeconds, kubectl diff exits 1 for staging (its Ingress only) and 0 for prod"
else bad "changed-config diff: staging exit $rc_staging, prod exit $rc_prod, objects [$changed_objects]: $(head -40 "$WORK/diff-1.txt")"; fi

# ---- 4. day-2 commands against the servers -----------------------------------------------------
day2() { node --require tsx/cjs cli/day2.ts "$@"; }
use prod
set +e
day2 diff --env staging >"$WORK/refused.txt" 2>"$WORK/refused.err"; rc=$?
set -e
if [ "$rc" = 2 ] && grep -q "not environment staging's cluster" "$WORK/refused.err" && [ ! -s "$WORK/refused.txt" ]; then
  ok "npm run diff -- --env staging refuses while the current context is prod's cluster (exit 2, one line on stderr)"
else bad "refusal: exit $rc: $(cat "$WORK/refused.txt" "$WORK/refused.err")"; fi
if day2 status --env prod >"$WORK/status.txt" 2>&1 && grep -q 'envoy-edge-prod-lb-controller' "$WORK/status.txt" \
  && grep -q '"envoy-edge-prod" not found' "$WORK/status.txt"; then
  ok "npm run status -- --env prod lists the Applications (the root, made by the ApplicationSet, shown missing: no Argo CD here), pods and ALB hostname"
else bad "npm run status: $(cat "$WORK/status.txt")"; fi
use staging
set +e
day2 diff --env staging >"$WORK/day2-diff.txt" 2>&1; rc=$?
set -e
if [ "$rc" = 0 ] && grep -q 'no change' "$WORK/day2-diff.txt"; then ok "npm run diff -- --env staging exits 0 with 'no change' (Envoy in staging's cluster, Applications in prod's)"
else bad "npm run diff exited $rc: $(cat "$WORK/day2-diff.txt")"; fi

# destroy: the Ingress carries the LB controller's finalizer, the Applications Argo CD's. No
# controller runs here, so a stand-in releases each finalizer once its object is being deleted,
# recording the order; for the Ingress it also records whether Envoy was still there (it must be:
# destroy waits for the ALB before touching Envoy). A ConfigMap we did not create must survive.
kubectl --context "$STAGING_CTX" -n envoy-proxy patch ingress envoy-proxy-ingress --type merge -p '{"metadata":{"finalizers":["ingress.k8s.aws/resources"]}}' >&2
kubectl --context "$STAGING_CTX" -n envoy-proxy create configmap owned-by-someone-else --from-literal=note=not-ours >&2
release() { # release CONTEXT KIND NAME NAMESPACE
  if [ -n "$(kubectl --context "$1" -n "$4" get "$2" "$3" -o jsonpath='{.metadata.deletionTimestamp}' --ignore-not-found 2>/dev/null)" ]; then
    local envoy="gone"
    kubectl --context "$STAGING_CTX" -n envoy-proxy get deployment envoy-proxy >/dev/null 2>&1 && envoy="present"
    echo "$2/$3 envoy=$envoy" >>"$WORK/released.txt"
    kubectl --context "$1" -n "$4" patch "$2" "$3" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  fi
}
(
  for _ in $(seq 600); do
    release "$STAGING_CTX" ingress envoy-proxy-ingress envoy-proxy
    release "$PROD_CTX" applications.argoproj.io envoy-edge-staging-lb-controller envoy-edge-staging-apps
    release "$PROD_CTX" applications.argoproj.io envoy-edge-staging-edge envoy-edge-staging-apps
    sleep 0.5
  done
) &
SIMULATOR_PID=$!
if day2 destroy --env staging --confirm staging >"$WORK/destroy.txt" 2>&1; then ok "npm run destroy -- --env staging --confirm staging completed"
else bad "npm run destroy: $(cat "$WORK/destroy.txt")"; fi
kill "$SIMULATOR_PID" 2>/dev/null || true
SIMULATOR_PID=""
order="$(cut -d' ' -f1 "$WORK/released.txt" 2>/dev/null | tr '\n' ' ')"
if [ "$order" = "ingress/envoy-proxy-ingress applications.argoproj.io/envoy-edge-staging-lb-controller applications.argoproj.io/envoy-edge-staging-edge " ] \
  && grep -q '^ingress/envoy-proxy-ingress envoy=present$' "$WORK/released.txt"; then
  ok "destroy order: Ingress (Envoy still up while the ALB goes), then the controller Application, then the edge Application"
else bad "destroy order was: $(cat "$WORK/released.txt" 2>/dev/null)"; fi
left="$(kubectl --context "$STAGING_CTX" -n envoy-proxy get deployment,service,configmap,networkpolicy,poddisruptionbudget,serviceaccount,ingress -o name 2>&1 | tr '\n' ' ')"
elements="$(kubectl --context "$PROD_CTX" -n argocd get applicationsets.argoproj.io envoy-edge -o jsonpath='{.spec.generators[0].list.elements[*].environment}')"
if [ "$left" = "configmap/owned-by-someone-else " ] && kubectl --context "$STAGING_CTX" get namespace envoy-proxy >/dev/null \
  && ! kubectl --context "$STAGING_CTX" -n default get service envoy-poc-app-server-service >/dev/null 2>&1 \
  && [ -z "$(kubectl --context "$PROD_CTX" get -A applications.argoproj.io,appprojects.argoproj.io -o name 2>/dev/null | grep staging)" ] \
  && [ -n "$(kubectl --context "$PROD_CTX" get namespace envoy-edge-staging-apps -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ] \
  && [ "$elements" = "prod" ]; then
  ok "destroy removed staging's objects and Argo CD entries (its child namespace Terminating: no namespace controller here), kept a namespace holding an object it did not create"
else bad "after destroy: left in staging's envoy-proxy [$left], ApplicationSet lists [$elements]"; fi
prod_left="$(kubectl --context "$PROD_CTX" -n envoy-proxy get deployment,ingress -o name 2>&1 | tr '\n' ' ')"
if [ "$prod_left" = "deployment.apps/envoy-proxy ingress.networking.k8s.io/envoy-proxy-ingress " ] \
  && [ -n "$(kubectl --context "$PROD_CTX" -n envoy-edge-prod-apps get applications.argoproj.io envoy-edge-prod-edge -o name 2>/dev/null)" ]; then
  ok "prod is untouched by staging's destroy"
else bad "prod after staging's destroy: [$prod_left]"; fi

say "whole verification took $(($(date +%s) - t0))s"
echo "verify-cluster: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
