#!/usr/bin/env bash
# Proves the verification machinery on a small sample (selftest-sample/, edited only in a
# temp dir copy): builds the tools, starts etcd + kube-apiserver, applies the sample with
# --dry-run=server and for real, checks `kubectl diff` (0 when equal, 1 after a change),
# checks that a misspelt field is refused by the server and by kubeconform, and runs
# kubeconform -strict and kube-score. Stops everything, also on failure.
#   bash scripts/cluster/selftest.sh      (env: see build-tools.sh and apiserver.sh)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/../lib.sh"
verify_checks selftest

t0=$(date +%s)
bash "$HERE/build-tools.sh" >/dev/null
t1=$(date +%s)
# shellcheck disable=SC1091
. "$VERIFY_CACHE_DIR/tools.env"
say "tools ready in $((t1 - t0))s"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/verify-selftest.XXXXXX")"
# shellcheck disable=SC1091
. "$HERE/apiserver.sh"
cleanup() {
  local rc=$?
  apiserver_stop || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the sample (selftest-sample/, copied so the checks may edit it) --------------------------
cp "$HERE/selftest-sample/00-cluster.yaml" "$HERE/selftest-sample/10-edge.yaml" "$WORK/"
# A misspelt field (replica), which a strict check must refuse.
sed 's/^  replicas: 2$/  replica: 2/' "$WORK/10-edge.yaml" >"$WORK/bad.yaml"
grep -q '^  replica: 2$' "$WORK/bad.yaml"
mkdir "$WORK/good"
cp "$WORK/00-cluster.yaml" "$WORK/10-edge.yaml" "$WORK/good/"

# ---- linters (no server needed) ------------------------------------------------------------
# shellcheck disable=SC2086
if kubeconform $VERIFY_KUBECONFORM_ARGS "$WORK/good" >&2; then
  ok "kubeconform -strict accepts the sample (Kubernetes + CRD kinds)"
else bad "kubeconform -strict refused the sample"; fi
# shellcheck disable=SC2086
if out="$(kubeconform $VERIFY_KUBECONFORM_ARGS "$WORK/bad.yaml" 2>&1)"; then
  bad "kubeconform accepted a misspelt field"
elif grep -q "replica" <<<"$out"; then ok "kubeconform refuses the misspelt field: $(grep -m1 replica <<<"$out")"
else bad "kubeconform failed for another reason: $out"; fi
if kube-score score --kubernetes-version v1.28 --output-format ci "$WORK/good/"*.yaml >"$WORK/kube-score.txt" 2>&1; then
  ok "kube-score: no critical finding ($(grep -c '^\[OK\]' "$WORK/kube-score.txt") checks OK)"
else bad "kube-score: $(grep -v '^\[OK\]' "$WORK/kube-score.txt")"; fi

# ---- the real API server ---------------------------------------------------------------------
apiserver_start
K=(kubectl --validate=strict)
if "${K[@]}" apply --dry-run=server -f "$WORK/00-cluster.yaml" >&2; then
  ok "apply --dry-run=server of the cluster-scoped objects"
else bad "apply --dry-run=server of the cluster-scoped objects"; fi
# Namespaced objects need their Namespace to exist (NamespaceLifecycle admission).
"${K[@]}" apply -f "$WORK/00-cluster.yaml" >&2
if "${K[@]}" apply --dry-run=server -f "$WORK/good" >&2; then
  ok "apply --dry-run=server of the whole sample"
else bad "apply --dry-run=server of the whole sample"; fi
if out="$("${K[@]}" apply --dry-run=server -f "$WORK/bad.yaml" 2>&1)"; then
  bad "the API server accepted a misspelt field"
elif grep -q 'unknown field "spec.replica"' <<<"$out"; then ok "the API server refuses the misspelt field: $(grep -m1 -o 'unknown field "spec.replica"' <<<"$out")"
else bad "the API server refused bad.yaml for another reason: $out"; fi
if "${K[@]}" apply -f "$WORK/good" >&2; then ok "apply of the whole sample"; else bad "apply of the whole sample"; fi
set +e
kubectl diff -f "$WORK/good" >"$WORK/diff0.txt" 2>&1; rc=$?
set -e
if [ "$rc" -eq 0 ]; then ok "kubectl diff after apply: exit 0, no difference"
else bad "kubectl diff after apply: exit $rc: $(cat "$WORK/diff0.txt")"; fi
sed -i 's/^  replicas: 2$/  replicas: 3/' "$WORK/good/10-edge.yaml"
set +e
kubectl diff -f "$WORK/good" >"$WORK/diff1.txt" 2>&1; rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q '^+  replicas: 3' "$WORK/diff1.txt"; then ok "kubectl diff after changing replicas: exit 1, shows +replicas: 3"
else bad "kubectl diff after a change: exit $rc: $(cat "$WORK/diff1.txt")"; fi
if [ "$(kubectl get application -n argocd envoy-edge -o jsonpath='{.spec.destination.namespace}')" = edge-selftest ] &&
   [ "$(kubectl get ingress -n edge-selftest envoy -o jsonpath='{.spec.ingressClassName}/{.metadata.finalizers[0]}')" = alb/ingress.k8s.aws/resources ]; then
  ok "the stored Application and Ingress read back as applied"
else bad "reading back the Application/Ingress"; fi

apiserver_stop
t2=$(date +%s)
say "total $((t2 - t0))s (tools $((t1 - t0))s, checks $((t2 - t1))s)"
echo "selftest: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
