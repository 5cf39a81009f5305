#!/usr/bin/env bash
# Proves the GitOps loop with a real Argo CD (v3.5.7, built by scripts/gitops/build-tools.sh) on
# loopback: `npm run verify:gitops [-- --real-clock]`. This script only starts things and seeds git;
# the checks are the TypeScript scenarios in test/gitops/ (jest.gitops.config.js, one file each, in
# the order of test/gitops/sequencer.js), run on what it started: first sync, diff and status, sync
# waves, the controller's chart and webhook pair, the daily loop, promotion and notifications, the
# projects' refusals, the one sync policy, no key in git, and destroy last.
#
# Two API servers play the two shipped environments' clusters: prod's, where Argo CD runs
# (in-cluster), and staging's, registered in Argo CD under staging's gitops.destinationName; both
# under kube contexts named as `aws eks update-kubeconfig` names them, so the day-2 commands run
# unchanged. The facts (environments, names, chart) come from test/gitops/facts.ts, which the
# scenarios read too.
#
# The only change to our outputs: gitops.repoURL and the eks-charts URL are rewritten to the local
# git daemon and the local Helm repository (the chart in test/fixtures/charts), in argocd/ and dist/;
# each changed line is logged. Setup that is not ours, logged as such: each cluster's kube-system
# ServiceAccount of the controller (eksctl's job), the Prometheus Operator CRDs where dist/ has their
# kinds (kube-prometheus-stack's job), the chart's own CRDs applied before the first sync (when the
# chart's first sync creates them, Argo CD's cache re-reads the APIs meanwhile and a self-heal can
# re-apply the webhooks from a fresh render, so that their caBundle no longer matches the TLS Secret),
# and a stand-in for the LB controller pod (scripts/gitops/lb-controller-standin.py: it serves the
# chart's webhooks with the chart's own TLS Secret on the webhook Service's address, inside this
# script's network namespace, and adds/releases the Ingress finalizer and status as the controller does).
#
# Time: the Envoy Deployment has minReadySeconds (155 s), and Argo CD applies the Ingress (wave 1)
# only once the Deployment (wave 0) is Available. By default kwok, the fake kubelet, reports each pod
# Ready since minReadySeconds + 5 s, so that wait is already over; --real-clock keeps the true clock
# and measures the wait. It builds the tools (cached), then re-runs itself in a network namespace
# holding only loopback. Everything it starts is stopped and its temp dirs removed, also on failure.
# Development aid: VERIFY_GITOPS_PAUSE=FILE pauses once the loop is seeded, before the scenarios, and
# writes to FILE how to reach it; extra arguments after --real-clock name the scenarios to run (jest path
# patterns; first-sync is added, since the others need the loop up).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
verify_checks verify-gitops

ARGS=("$@")   # as given: the script re-runs itself with them in its network namespace
REAL_CLOCK=0
if [ "${1:-}" = --real-clock ]; then REAL_CLOCK=1; shift; fi
# Scenario names (jest path patterns): only those files, and first-sync, which brings the loop up.
JEST_ARGS=()
[ "$#" = 0 ] || JEST_ARGS=(first-sync "$@")

# shellcheck disable=SC1091
. scripts/gitops/harness.sh
if [ "${GITOPS_ISOLATED:-0}" != 1 ]; then
  export VERIFY_GITOPS_T0="${VERIFY_GITOPS_T0:-$(date +%s.%N)}"
  [ -d node_modules ] || { say "ERROR: node_modules is missing: run npm ci first"; exit 2; }
  bash scripts/gitops/build-tools.sh >/dev/null   # needs the package registries: before isolating
  gitops_isolate "$ROOT/scripts/verify-gitops.sh" "${ARGS[@]}"
  say "ERROR: the webhook stand-in needs a network namespace of its own (unshare --net and ip, as root)"
  exit 2
fi
# shellcheck disable=SC1091
. "$VERIFY_CACHE_DIR/gitops-tools.env"
export npm_config_update_notifier=false npm_config_fund=false

now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say "tools ready in $(secs_since "$VERIFY_GITOPS_T0")s: argocd $VERIFY_ARGOCD_VERSION, helm $VERIFY_HELM_VERSION, kwok $VERIFY_KWOK_VERSION; own network namespace (loopback only)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/verify-gitops-work.XXXXXX")"
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -z "${FINISHED:-}" ] && [ -n "${GITOPS_DIR:-}" ] && [ -d "$GITOPS_DIR/logs" ]; then
    say "stopped with exit $rc; last lines of the Argo CD logs:"
    tail -n 20 "$GITOPS_DIR"/logs/application-controller.log "$GITOPS_DIR"/logs/repo-server.log >&2 2>/dev/null || true
  fi
  harness_stop || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
set -E
trap 'case $- in *e*) say "stopped at line $LINENO: $BASH_COMMAND" ;; esac' ERR

# ---- the repository content, as `git add -A` would commit it --------------------------------
# One copy, taken now: the facts below, the seed pushed to git and the day-2 commands all read it.
SNAP="$WORK/repo"
mkdir -p "$SNAP"
git ls-files -z --cached --others --exclude-standard \
  | python3 -c 'import os, sys; sys.stdout.write("".join(p + "\0" for p in sys.stdin.read().split("\0") if p and os.path.isfile(p)))' \
  | tar --null -T - -cf - | tar -xf - -C "$SNAP"
ln -s "$ROOT/node_modules" "$SNAP/node_modules"
say "repository content copied ($(find "$SNAP" -type f | wc -l) files; the working tree's, tracked and new, as it stands)"

declare -A STAGE BRANCH DEST CTX
facts() { node --require tsx/cjs "$ROOT/test/gitops/facts.ts" "$@"; }
eval "$(facts shell "$SNAP")"
[ "$ARGOCD_NS" = argocd ] || { say "ERROR: the harness runs Argo CD in namespace argocd, the config says $ARGOCD_NS"; exit 1; }
say "environments: ${ENVS[*]} (Argo CD runs in $PROD's cluster; ${OTHERS[*]:-none} registered by name)"
if [ "$REAL_CLOCK" = 1 ]; then
  export GITOPS_KWOK_READY_SINCE=0
  say "--real-clock: pods turn Ready when kwok starts them; the Deployment (minReadySeconds $MIN_READY) is Available ${MIN_READY}s later"
else
  export GITOPS_KWOK_READY_SINCE=$((MIN_READY + 5))
  say "kwok reports each pod Ready since ${GITOPS_KWOK_READY_SINCE}s before now (the Deployment's minReadySeconds is $MIN_READY; --real-clock keeps the true clock)"
fi

# ---- Argo CD, two clusters ------------------------------------------------------------------
t_harness=$(now)
# The namespaces of the child Applications, as the user merges them into argocd-cmd-params-cm
# (argocd/settings/): the controller reads application.namespaces at start.
export GITOPS_APPLICATION_NAMESPACES
cluster_args=()
for env in "${OTHERS[@]}"; do cluster_args+=(--cluster "${DEST[$env]}"); done
harness_start --kwok "${cluster_args[@]}"
say "harness up in $(secs_since "$t_harness")s"

# One kubeconfig, contexts named as `aws eks update-kubeconfig` names them.
{
  echo "apiVersion: v1"; echo "kind: Config"; echo "clusters:"
  for env in "${ENVS[@]}"; do
    d="$(gitops_cluster_dir "${DEST[$env]}")"
    server="$(kubectl --kubeconfig "$d/kubeconfig" config view -o 'jsonpath={.clusters[0].cluster.server}')"
    printf -- '- name: "%s"\n  cluster: {server: "%s", certificate-authority: "%s"}\n' "${CTX[$env]}" "$server" "$d/pki/ca.crt"
  done
  echo "users:"
  for env in "${ENVS[@]}"; do
    d="$(gitops_cluster_dir "${DEST[$env]}")"
    printf -- '- name: admin-%s\n  user: {client-certificate: "%s", client-key: "%s"}\n' "$env" "$d/pki/admin.crt" "$d/pki/admin.key"
  done
  echo "contexts:"
  for env in "${ENVS[@]}"; do printf -- '- name: "%s"\n  context: {cluster: "%s", user: admin-%s}\n' "${CTX[$env]}" "${CTX[$env]}" "$env"; done
  echo "current-context: \"${CTX[$PROD]}\""
} >"$WORK/kubeconfig"
KC="$WORK/kubeconfig"
K() { kubectl --kubeconfig "$KC" --context "${CTX[$1]}" "${@:2}"; }     # K ENV ...: that environment's cluster

# ---- setup that is not ours (logged) ---------------------------------------------------------
for env in "${ENVS[@]}"; do
  say "setup, $env's cluster: ServiceAccount $LB_NS/$LB_SA (eksctl creates it in a real cluster; the chart is told serviceAccount.create=false)"
  K "$env" -n "$LB_NS" create serviceaccount "$LB_SA" >/dev/null
  if grep -qs '^apiVersion: monitoring.coreos.com/' "$SNAP/dist/$env/edge/"*.yaml; then
    say "setup, $env's cluster: the Prometheus Operator CRDs from test/fixtures/prometheus-operator-v0.93.0 (kube-prometheus-stack installs them in a real cluster)"
    K "$env" apply --server-side --field-manager verify-crds -f test/fixtures/prometheus-operator-v0.93.0/ >/dev/null
  fi
  gitops_lb_controller_standin "${DEST[$env]}"
done

# ---- the seed: a bare git repository with our content, the URLs rewritten --------------------
WT="$GITOPS_WORKTREE"
cp -a "$SNAP/." "$WT/"
n="$(facts rewrite "$WT" "$REPO_URL" "$GITOPS_GIT_URL" "$EKS_CHARTS_URL" "$GITOPS_HELM_REPO_URL")"
say "rewrite: $n lines changed in argocd/ and dist/ (each logged above)"
echo "/node_modules" >>"$WT/.git/info/exclude"   # the symlink to this checkout's node_modules, for the day-2 commands
SEED="$(gitops_commit_push "seed: the repository content, URLs rewritten for the harness")"
# A later stage follows a branch of its own (gitops.stage, docs/gitops.md "Promotion"); its first
# promotion, made here by hand as a new repository's owner makes it: the branch at the seed.
for env in "${ENVS[@]}"; do
  [ "${STAGE[$env]}" -gt 1 ] || continue
  git -C "$WT" push --quiet origin "$SEED:refs/heads/${BRANCH[$env]}" 2>&1 | sed 's/^/[git] /' >&2
  say "setup: $env (stage ${STAGE[$env]}) follows ${BRANCH[$env]}, created at the seed"
done
SETUP_SECS="$(secs_since "$t_harness")"
say "seeded $GITOPS_GIT_URL at ${SEED:0:7} ($(git -C "$WT" ls-files | wc -l) files); harness started and seeded in ${SETUP_SECS}s"

# ---- the scenarios (test/gitops/*.gitops.test.ts) on what this script started -----------------
node -e 'const [out, ...a] = process.argv.slice(1); require("fs").writeFileSync(out, JSON.stringify({
  kubeconfig: a[0], kubectl: a[1], worktree: a[2], snapshot: a[3], work: a[4], logs: a[5], helm: a[6],
  rewrites: [[a[7], a[8]], [a[9], a[10]]], seed: a[11], realClock: a[12] === "1" }, null, 2))' \
  "$WORK/context.json" "$KC" "$(command -v kubectl)" "$WT" "$SNAP" "$WORK" "$GITOPS_DIR/logs" "$VERIFY_HELM" \
  "$REPO_URL" "$GITOPS_GIT_URL" "$EKS_CHARTS_URL" "$GITOPS_HELM_REPO_URL" "$SEED" "$REAL_CLOCK"
if [ -n "${VERIFY_GITOPS_PAUSE:-}" ]; then
  { echo "export KUBECONFIG=$KC VERIFY_GITOPS_CONTEXT=$WORK/context.json"; echo "nsenter --net=/proc/$$/ns/net"; echo "GITOPS_DIR=$GITOPS_DIR"; } >"$VERIFY_GITOPS_PAUSE"
  say "paused before the scenarios: $VERIFY_GITOPS_PAUSE"; sleep 100000
fi
if VERIFY_GITOPS_CONTEXT="$WORK/context.json" node node_modules/jest/bin/jest.js -c jest.gitops.config.js --json --outputFile "$WORK/scenarios.json" \
  "${JEST_ARGS[@]}" >&2; then :; fi
read -r PASSED FAILED < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)' "$WORK/scenarios.json" 2>/dev/null || echo "0 1")

say "memory of the processes (peak = VmHWM):"
gitops_memory >&2
say "whole run $(secs_since "$VERIFY_GITOPS_T0")s (harness start and seed ${SETUP_SECS}s; $([ "$REAL_CLOCK" = 1 ] && echo "real clock" || echo "kwok Ready backdated ${GITOPS_KWOK_READY_SINCE}s")); peak memory (sum of peaks) $(gitops_memory | awk '$1 == "total" { print $2 }') MiB"
FINISHED=1
echo "verify-gitops: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ] || exit 1
