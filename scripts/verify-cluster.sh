#!/usr/bin/env bash
# Proves the generated manifests on a real kube-apiserver (v1.28, built from the Kubernetes Go
# modules) and runs the linters over dist/. Called by .ci/run; also `npm run verify:cluster`.
#   1. kubectl apply --dry-run=server accepts every object in dist/ and argocd/;
#   2. after a real apply, kubectl diff -f dist/ exits 0;
#   3. after a synth with alb.idleTimeoutSeconds changed, kubectl diff exits 1, shows that field,
#      and touches only the Ingress;
#   4. the day-2 commands (status, diff, destroy) run against the server; destroy's order is
#      checked against stand-ins for the LB controller and Argo CD that release the finalizers;
#   5. kubeconform -strict and kube-score over dist/ with zero findings.
# Everything it starts is stopped, and its temp files removed, also when a step fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '[verify] %s\n' "$*" >&2; }
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); say "PASS: $*"; }
bad() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }

t0=$(date +%s)
bash scripts/cluster/build-tools.sh >/dev/null
# shellcheck disable=SC1091
. "${VERIFY_CACHE_DIR:-$HOME/.cache/envoy-edge-verify}/tools.env"
say "tools ready in $(($(date +%s) - t0))s (kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | head -1))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/verify-cluster.XXXXXX")"
SIMULATOR_PID=""
# shellcheck disable=SC1091
. scripts/cluster/apiserver.sh
cleanup() {
  local rc=$?
  [ -n "$SIMULATOR_PID" ] && kill "$SIMULATOR_PID" 2>/dev/null || true
  apiserver_stop || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 5. linters (no server needed) ------------------------------------------------------------
# shellcheck disable=SC2086
if kubeconform $VERIFY_KUBECONFORM_ARGS dist argocd >&2; then ok "kubeconform -strict: dist/ and argocd/ valid"
else bad "kubeconform -strict found problems in dist/ or argocd/"; fi
if kube-score score --kubernetes-version v1.28 --output-format ci dist/*.yaml >"$WORK/kube-score.txt" 2>&1; then
  ok "kube-score: zero findings ($(grep -c '^\[OK\]' "$WORK/kube-score.txt") checks OK; exceptions are annotated on the objects)"
else bad "kube-score: $(grep -v '^\[OK\]' "$WORK/kube-score.txt")"; fi

# ---- the real API server ----------------------------------------------------------------------
apiserver_start
K=(kubectl --validate=strict)

# ---- 1. server-side dry run -------------------------------------------------------------------
# Argo CD's namespace belongs to the cluster, not to us. Our Namespace objects go in for real first:
# the server rejects namespaced objects whose namespace does not exist (NamespaceLifecycle).
"${K[@]}" create namespace argocd >&2
node --require tsx/cjs -e '
  const { parseAllDocuments, stringify } = require("yaml");
  const fs = require("node:fs");
  const docs = fs.readdirSync("dist").flatMap((f) => parseAllDocuments(fs.readFileSync("dist/" + f, "utf8")).map((d) => d.toJS()));
  fs.writeFileSync(process.argv[1], docs.filter((d) => d.kind === "Namespace").map((d) => stringify(d)).join("---\n"));
' "$WORK/namespaces.yaml"
if "${K[@]}" apply --dry-run=server -f "$WORK/namespaces.yaml" >&2 && "${K[@]}" apply -f "$WORK/namespaces.yaml" >&2 \
  && "${K[@]}" apply --dry-run=server -f dist/ -f argocd/ >&2; then
  ok "kubectl apply --dry-run=server accepts every object in dist/ and argocd/"
else bad "kubectl apply --dry-run=server refused an object"; fi

# ---- 2. apply, then no diff ---------------------------------------------------------------------
if "${K[@]}" apply -f argocd/ >&2 && "${K[@]}" apply -f dist/ >&2; then ok "kubectl apply of dist/ and argocd/"
else bad "kubectl apply of dist/ and argocd/"; fi
set +e
kubectl diff -f dist/ >"$WORK/diff-0.txt" 2>&1
rc=$?
set -e
if [ "$rc" = 0 ]; then ok "kubectl diff -f dist/ exits 0 right after apply"
else bad "kubectl diff -f dist/ exited $rc right after apply: $(head -40 "$WORK/diff-0.txt")"; fi

# ---- 3. one config value changed --------------------------------------------------------------
cp config/default.yaml "$WORK/default.yaml"
node --require tsx/cjs -e '
  const { parse, stringify } = require("yaml");
  const fs = require("node:fs");
  const config = parse(fs.readFileSync(process.argv[1], "utf8"));
  config.alb = { ...config.alb, idleTimeoutSeconds: 1800 };
  fs.writeFileSync(process.argv[1], stringify(config));
  require("./synth/pipeline").synthesizeProject(process.argv[2], process.argv[1]);
' "$WORK/default.yaml" "$WORK/changed"
set +e
kubectl diff -f "$WORK/changed/dist" >"$WORK/diff-1.txt" 2>&1
rc=$?
set -e
changed_objects="$(sed -n 's|^diff -u -N [^ ]*/\([^ /]*\) .*|\1|p' "$WORK/diff-1.txt" | sort -u | tr '\n' ' ')"
if [ "$rc" = 1 ] && grep -q '^+.*idle_timeout.timeout_seconds=1800' "$WORK/diff-1.txt" \
  && [ "$changed_objects" = "networking.k8s.io.v1.Ingress.envoy-proxy.envoy-proxy-ingress " ]; then
  ok "after changing alb.idleTimeoutSeconds, kubectl diff exits 1 and changes only the Ingress annotation"
else bad "changed-config diff: exit $rc, objects [$changed_objects]: $(head -40 "$WORK/diff-1.txt")"; fi

# ---- 4. day-2 commands against the server -----------------------------------------------------
day2() { node --require tsx/cjs cli/day2.ts "$@"; }
if day2 status >"$WORK/status.txt" 2>&1 && grep -q 'aws-load-balancer-controller' "$WORK/status.txt"; then
  ok "npm run status lists the Applications, pods and ALB hostname"
else bad "npm run status: $(cat "$WORK/status.txt")"; fi
set +e
day2 diff >"$WORK/day2-diff.txt" 2>&1
rc=$?
set -e
if [ "$rc" = 0 ] && grep -q 'no change' "$WORK/day2-diff.txt"; then ok "npm run diff exits 0 with 'no change'"
else bad "npm run diff exited $rc: $(cat "$WORK/day2-diff.txt")"; fi

# destroy: the Ingress carries the LB controller's finalizer, the Applications Argo CD's. No
# controller runs here, so a stand-in releases each finalizer once its object is being deleted,
# recording the order; for the Ingress it also records whether Envoy was still there (it must be:
# destroy waits for the ALB before touching Envoy). A ConfigMap we did not create must survive.
kubectl -n envoy-proxy patch ingress envoy-proxy-ingress --type merge -p '{"metadata":{"finalizers":["ingress.k8s.aws/resources"]}}' >&2
kubectl -n envoy-proxy create configmap owned-by-someone-else --from-literal=note=not-ours >&2
release() { # release KIND NAME NAMESPACE
  if [ -n "$(kubectl -n "$3" get "$1" "$2" -o jsonpath='{.metadata.deletionTimestamp}' --ignore-not-found 2>/dev/null)" ]; then
    local envoy="gone"
    kubectl -n envoy-proxy get deployment envoy-proxy >/dev/null 2>&1 && envoy="present"
    echo "$1/$2 envoy=$envoy" >>"$WORK/released.txt"
    kubectl -n "$3" patch "$1" "$2" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  fi
}
(
  for _ in $(seq 600); do
    release ingress envoy-proxy-ingress envoy-proxy
    release applications.argoproj.io aws-load-balancer-controller argocd
    release applications.argoproj.io envoy-edge argocd
    sleep 0.5
  done
) &
SIMULATOR_PID=$!
if day2 destroy --yes >"$WORK/destroy.txt" 2>&1; then ok "npm run destroy -- --yes completed"
else bad "npm run destroy: $(cat "$WORK/destroy.txt")"; fi
kill "$SIMULATOR_PID" 2>/dev/null || true
SIMULATOR_PID=""
order="$(cut -d' ' -f1 "$WORK/released.txt" 2>/dev/null | tr '\n' ' ')"
if [ "$order" = "ingress/envoy-proxy-ingress applications.argoproj.io/aws-load-balancer-controller applications.argoproj.io/envoy-edge " ] \
  && grep -q '^ingress/envoy-proxy-ingress envoy=present$' "$WORK/released.txt"; then
  ok "destroy order: Ingress (Envoy still up while the ALB goes), then the controller Application, then the root"
else bad "destroy order was: $(cat "$WORK/released.txt" 2>/dev/null)"; fi
left="$(kubectl -n envoy-proxy get deployment,service,configmap,networkpolicy,poddisruptionbudget,serviceaccount,ingress -o name 2>&1 | tr '\n' ' ')"
if [ "$left" = "configmap/owned-by-someone-else " ] && kubectl get namespace envoy-proxy >/dev/null \
  && ! kubectl -n default get service envoy-poc-app-server-service >/dev/null 2>&1 \
  && [ -z "$(kubectl -n argocd get applications.argoproj.io,appprojects.argoproj.io -o name 2>/dev/null)" ]; then
  ok "destroy removed everything we created and kept the namespace holding an object it did not create"
else bad "after destroy, left in envoy-proxy: [$left]"; fi

say "whole verification took $(($(date +%s) - t0))s"
echo "verify-cluster: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
