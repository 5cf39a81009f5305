#!/usr/bin/env bash
# Proves the generated manifests on real kube-apiservers (v1.28, built from the Kubernetes Go modules)
# and runs the linters over dist/: `npm run verify:cluster [-- <jest args>]`; called by .ci/run.
# This script only builds the tools (scripts/cluster/build-tools.sh, cached) and starts one throwaway
# API server per environment (scripts/cluster/apiserver.sh, side by side), under kube contexts named as
# `aws eks update-kubeconfig` names each environment's EKS cluster (its ARN, from config/); Argo CD's
# objects go to the cluster it runs in (gitops.destinationName in-cluster). Setup that is not ours,
# logged as such: Argo CD's namespace (its install makes it).
# The checks are TypeScript scenarios, one per file, on the typed harness test/cluster/harness.ts
# (jest.cluster.config.js; test/cluster/sequencer.js gives their order), run with a description of
# what this script started (VERIFY_CLUSTER_CONTEXT, a JSON file). Each prints its figure:
#   kubeconform -strict and kube-score over dist/ (and argocd/) with zero findings; actionlint over
#   .github/workflows/ with none, and refusing a broken copy; kubectl apply --dry-run=server of every
#   object on fresh servers; a misspelt field refused by kubeconform and the API server; the API server refuses a ConfigMap or annotations
#   one byte past the limits synthesis enforces; after a real apply, kubectl diff exits 0; a changed
#   staging alb.idleTimeoutSeconds diffs only staging's Ingress; the day-2 commands refuse another
#   environment's cluster, and status, diff and destroy work (finalizer stand-ins play the LB
#   controller and Argo CD; the destroy order is checked; prod untouched).
# It ends with "verify-cluster: N passed, M failed" (one PASS/FAIL line per check above it) and exits
# non-zero when any check failed or jest did not run. Everything it starts is stopped, and its temp
# files removed, also when a step fails or on interrupt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
verify_checks verify-cluster

T0=$(date +%s.%N)
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
[ -d node_modules ] || { say "ERROR: node_modules is missing: run npm ci first"; exit 2; }
bash scripts/cluster/build-tools.sh >/dev/null
# shellcheck disable=SC1091
. "$VERIFY_CACHE_DIR/tools.env"
say "tools ready in $(secs_since "$T0")s (kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | head -1))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/verify-cluster.XXXXXX")"
STARTERS=()
# Stops every server started under $WORK (each start writes its pid files there first), side by side.
stop_servers() {
  local d pids=()
  for d in "$WORK"/servers/*/verify-apiserver.*; do
    [ -d "$d" ] || continue
    bash scripts/cluster/apiserver.sh stop "$d" 2>>"$WORK/stop.log" &
    pids+=($!)
  done
  for d in "${pids[@]}"; do wait "$d" || true; done
}
cleanup() {
  local rc=$? p
  for p in "${STARTERS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STARTERS[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_servers
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- one API server per environment, started side by side ---------------------------------------
# The environments, their contexts and Argo CD's, from the config: "name context argocd-namespace in-cluster|-".
node --require tsx/cjs -e '
  const { loadEnvironments } = require("./config/load");
  for (const { name, config: c } of loadEnvironments("config").environments)
    console.log(name, `arn:aws:eks:${c.cluster.region}:000000000000:cluster/${c.cluster.name}`, c.gitops.argocdNamespace,
      c.gitops.destinationName === "in-cluster" ? "in-cluster" : "-");
' >"$WORK/environments.txt" &
CONFIG_PID=$!
mapfile -t ENVS < <(cd config/environments && ls -- *.yaml *.yml 2>/dev/null | sed 's/\.ya\?ml$//' | sort)
for env in "${ENVS[@]}"; do
  mkdir -p "$WORK/servers/$env"
  # TMPDIR: the server's folder is made inside ours, so cleanup finds it whatever happens to the start.
  TMPDIR="$WORK/servers/$env" bash scripts/cluster/apiserver.sh start >"$WORK/servers/$env/env.sh" 2>"$WORK/servers/$env/start.log" &
  STARTERS+=($!)
done
wait "$CONFIG_PID" || { say "ERROR: reading the environments from config/ failed"; exit 1; }
failed_start=""
for i in "${!ENVS[@]}"; do
  wait "${STARTERS[$i]}" || failed_start+=" ${ENVS[$i]}"
  sed "s/^/[${ENVS[$i]}] /" "$WORK/servers/${ENVS[$i]}/start.log" | grep -v '^\[[^]]*\] \[apiserver\] CRDs established' >&2 || true
done
STARTERS=()
[ -z "$failed_start" ] || { say "ERROR: the API server did not start for:$failed_start"; exit 1; }
say "API servers up in $(secs_since "$T0")s since the start: ${ENVS[*]}"

# One kubeconfig, a context per environment named as `aws eks update-kubeconfig` names it.
ARGOCD_ENV="" ARGOCD_NS=""
declare -A CTX
while read -r env ctx ns home; do
  CTX[$env]="$ctx"
  [ "$home" = in-cluster ] && ARGOCD_ENV="$env" ARGOCD_NS="$ns"
done <"$WORK/environments.txt"
[ "$(cut -d' ' -f1 "$WORK/environments.txt" | sort | tr '\n' ' ')" = "${ENVS[*]} " ] || { say "ERROR: config/ names other environments than its files: $(cut -d' ' -f1 "$WORK/environments.txt" | tr '\n' ' ')"; exit 1; }
[ -n "$ARGOCD_ENV" ] || { say "ERROR: no environment has gitops.destinationName in-cluster (Argo CD's own cluster)"; exit 1; }
{
  echo "apiVersion: v1"; echo "kind: Config"; echo "clusters:"
  for env in "${ENVS[@]}"; do
    d="$(sed -n "s/.*VERIFY_APISERVER_DIR='\([^']*\)'.*/\1/p" "$WORK/servers/$env/env.sh")"
    server="$(sed -n 's/^ *server: //p' "$d/kubeconfig")"
    printf -- '- name: "%s"\n  cluster: {server: "%s", certificate-authority: "%s"}\n' "${CTX[$env]}" "$server" "$d/pki/ca.crt"
  done
  echo "users:"
  for env in "${ENVS[@]}"; do
    d="$(sed -n "s/.*VERIFY_APISERVER_DIR='\([^']*\)'.*/\1/p" "$WORK/servers/$env/env.sh")"
    printf -- '- name: admin-%s\n  user: {client-certificate: "%s", client-key: "%s"}\n' "$env" "$d/pki/admin.crt" "$d/pki/admin.key"
  done
  echo "contexts:"
  for env in "${ENVS[@]}"; do printf -- '- name: "%s"\n  context: {cluster: "%s", user: admin-%s}\n' "${CTX[$env]}" "${CTX[$env]}" "$env"; done
  echo "current-context: \"${CTX[$ARGOCD_ENV]}\""
} >"$WORK/kubeconfig"
chmod 600 "$WORK/kubeconfig"

# ---- setup that is not ours (logged) ---------------------------------------------------------------
say "setup, $ARGOCD_ENV's cluster: namespace $ARGOCD_NS (Argo CD's install makes it; the ApplicationSet and the roots live there)"
kubectl --kubeconfig "$WORK/kubeconfig" --context "${CTX[$ARGOCD_ENV]}" create namespace "$ARGOCD_NS" >/dev/null

# ---- the scenarios (test/cluster/*.cluster.test.ts) -------------------------------------------------
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }
envs_json="$(for env in "${ENVS[@]}"; do printf '"%s":{"context":"%s"},' "$env" "${CTX[$env]}"; done)"
# shellcheck disable=SC2086
read -r -a kubeconform_args <<<"$VERIFY_KUBECONFORM_ARGS"
args_json="$(node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)))' -- "${kubeconform_args[@]}")"
printf '{"root":%s,"work":%s,"kubeconfig":%s,"kubectl":%s,"kubeconform":%s,"kubeconformArgs":%s,"kubeScore":%s,"actionlint":%s,"argocdEnvironment":"%s","environments":{%s}}\n' \
  "$(json_str "$ROOT")" "$(json_str "$WORK")" "$(json_str "$WORK/kubeconfig")" "$(json_str "$VERIFY_KUBECTL")" "$(json_str "$VERIFY_KUBECONFORM")" \
  "$args_json" "$(json_str "$VERIFY_KUBE_SCORE")" "$(json_str "$VERIFY_ACTIONLINT")" "$ARGOCD_ENV" "${envs_json%,}" >"$WORK/context.json"
t_jest=$(date +%s.%N)
set +e
VERIFY_CLUSTER_CONTEXT="$WORK/context.json" KUBECONFIG="$WORK/kubeconfig" \
  node node_modules/jest/bin/jest.js -c jest.cluster.config.js --json --outputFile "$WORK/results.json" "$@" >&2
jest_rc=$?
set -e
# One PASS/FAIL line per check (the figures are printed above, by the checks), then the counts.
read -r s_passed s_failed < <(node -e '
  const r = require(process.argv[1]);
  let passed = 0, failed = 0;
  for (const file of r.testResults) {
    for (const t of file.assertionResults) {
      const ok = t.status === "passed";
      ok ? passed++ : failed++;
      // The first line of the failure and, for a failed expectation, its first differing lines.
      const lines = (t.failureMessages[0] ?? t.status).replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean);
      const differs = lines.filter((l) => /^[-+] /.test(l) && !/^[-+] (Expected|Received)/.test(l)).slice(0, 4);
      const why = ok ? "" : `: ${[lines[0], ...differs].join(" | ").slice(0, 600)}`;
      console.error(`[verify-cluster] ${ok ? "PASS" : "FAIL"}: ${t.title} (${((t.duration ?? 0) / 1000).toFixed(1)} s)${why}`);
    }
    if (file.testExecError || (file.status === "failed" && !file.assertionResults.length)) {
      failed++;
      console.error(`[verify-cluster] FAIL: ${require("node:path").basename(file.name)} did not run: ${(file.failureMessage ?? "").split("\n").find((l) => l.trim()) ?? ""}`);
    }
  }
  console.log(passed, failed);
' "$WORK/results.json" || echo "0 1")
PASSED=$((PASSED + s_passed)) FAILED=$((FAILED + s_failed))
if [ "$jest_rc" != 0 ] && [ "$FAILED" = 0 ]; then bad "jest exited $jest_rc with no failed test counted"; fi
if [ "$PASSED" = 0 ] && [ "$FAILED" = 0 ]; then bad "no check ran"; fi
say "scenarios took $(secs_since "$t_jest")s; whole verification $(secs_since "$T0")s"
echo "verify-cluster: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
