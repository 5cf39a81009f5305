#!/usr/bin/env bash
# Proves the GitOps loop with a real Argo CD (v3.5.7, built by scripts/gitops/build-tools.sh) on
# loopback: `npm run verify:gitops [-- --real-clock]`. Two API servers play the two shipped
# environments' clusters: prod's, where Argo CD runs (in-cluster), and staging's, registered in
# Argo CD under staging's gitops.destinationName; both under kube contexts named as
# `aws eks update-kubeconfig` names them, so the day-2 commands run unchanged.
#
# The only change to our outputs: gitops.repoURL and the eks-charts URL are rewritten to the
# local git daemon and the local Helm repository (the chart in test/fixtures/charts), in argocd/
# and in every file pushed to git; each changed line is logged (rewrite_urls). The day-2
# commands run in the pushed checkout, so `npm run diff` compares the clusters with what Argo CD
# syncs. Setup that is not ours, logged as such: each cluster's kube-system ServiceAccount of the
# controller (eksctl's job), the Prometheus Operator CRDs where dist/ has its kinds
# (kube-prometheus-stack's job), the chart's own CRDs applied before the first sync (the harness
# does it: when the chart's first sync creates them, Argo CD's cache re-reads the APIs meanwhile,
# a self-heal re-applies objects it does not see yet from a fresh render, and the webhooks' caBundle
# can end up not matching the TLS Secret; seen here on staging's first sync), and a stand-in for the
# LB controller pod
# (scripts/gitops/lb-controller-standin.py: it serves the chart's webhooks with the chart's own
# TLS Secret on the webhook Service's address, inside this script's own network namespace, and
# adds/releases the Ingress finalizer and status as the controller does).
#
# Checks (one PASS/FAIL line each, with the measured figure):
#   1. every Application (root, edge, controller per environment) Synced at the pushed commit,
#      Healthy; `npm run diff` exits 0 for both environments; `npm run status` shows the ALB;
#   2. sync waves: the controller Application before the edge Application; Envoy's objects, and
#      the Deployment Available, before the Ingress;
#   3. the controller's Application: the chart renders with our values and syncs; two hard
#      refreshes and a forced sync keep it Synced and keep the live caBundle/TLS Secret pair (the
#      chart makes a new pair at every render); the webhook answers with it; one half deleted by
#      hand comes back from a new render and the webhook fails (x509), and deleting all three in
#      one command (docs/lb-controller.md) brings back a matching pair;
#   4. the TypeScript scenarios in test/gitops/ (jest.gitops.config.js, one file each), run on what
#      this script started: a config change goes live, exactly that change; a live field changes only
#      the live ConfigMap, a static one makes a new ReplicaSet; prune; an emptied dist/<env>/edge/
#      deletes nothing; self-heal; promotion: a push reaches prod only through npm run promote once
#      staging runs it Synced and Healthy; a broken push (objects Envoy's project refuses: a kind and
#      a namespace) stops at staging, notifies once, and a fix pushed during the retries is taken
#      (retry.refresh); a prod-only change; the root's project refuses argocd-rbac-cm; a child
#      naming another project is refused; the one sync policy; no webhook key in any commit;
#   5. destroy staging, then prod: nothing of theirs left in Argo CD or the cluster but the
#      chart's CRDs (Argo CD never deletes CRDs with an Application), the other untouched.
# Time: the Envoy Deployment has minReadySeconds (155 s), and Argo CD applies the Ingress (wave 1)
# only once the Deployment (wave 0) is Available. By default kwok, the fake kubelet, reports each
# pod Ready since minReadySeconds + 5 s, so that wait is already over (about 2 minutes warm in
# all); --real-clock keeps the true clock and measures the wait (about 4 minutes).
# It builds the tools (cached), then re-runs itself in a network namespace holding only loopback.
# Everything it starts is stopped and its temp dirs removed, also on failure or interrupt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
verify_checks verify-gitops

REAL_CLOCK=0
case "${1:-}" in
  "") ;;
  --real-clock) REAL_CLOCK=1 ;;
  *) echo "usage: $0 [--real-clock]" >&2; exit 2 ;;
esac

# shellcheck disable=SC1091
. scripts/gitops/harness.sh
if [ "${GITOPS_ISOLATED:-0}" != 1 ]; then
  export VERIFY_GITOPS_T0="${VERIFY_GITOPS_T0:-$(date +%s.%N)}"
  [ -d node_modules ] || { say "ERROR: node_modules is missing: run npm ci first"; exit 2; }
  bash scripts/gitops/build-tools.sh >/dev/null   # needs the package registries: before isolating
  gitops_isolate "$ROOT/scripts/verify-gitops.sh" "$@"
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

declare -A STAGE BRANCH DEST EKS REGION PROJECT ROOT_APP EDGE_APP LB_APP LB_PROJECT APPS_NS ENVOY_NS BACKEND_NS BACKEND_SVC CTX KCFG
ENVS=()
eval "$(node --require tsx/cjs -e '
  const dir = process.argv[1];
  const { loadEnvironments } = require(dir + "/config/load");
  const n = { ...require(dir + "/k8s/names"), ...require(dir + "/delivery/names") };
  const { environments } = loadEnvironments(dir + "/config");
  const q = (s) => `'"'"'${String(s)}'"'"'`;
  const out = [`EKS_CHARTS_URL=${q(n.EKS_CHARTS_REPO_URL)}`, `LB_CHART=${q(n.LB_CONTROLLER_CHART)}`, `LB_NS=${q(n.LB_CONTROLLER_NAMESPACE)}`,
    `LB_WEBHOOK=${q(n.LB_CONTROLLER_GENERATED_TLS.webhookConfiguration)}`, `LB_TLS_SECRET=${q(n.LB_CONTROLLER_GENERATED_TLS.tlsSecret)}`,
    `APPSET=${q(n.APPLICATIONSET_NAME)}`, `EDGE_INGRESS=${q(n.EDGE_NAMES.ingress)}`, `EDGE_DEPLOYMENT=${q(n.EDGE_NAMES.deployment)}`,
    `EDGE_BOOTSTRAP_CM=${q(n.EDGE_NAMES.bootstrapConfigMap)}`, `EDGE_PDB=${q(n.EDGE_NAMES.pdb)}`];
  const repos = new Set(), argocdNs = new Set(), charts = new Set(), sas = new Set();
  for (const { name, config: c } of environments) {
    out.push(`ENVS+=(${q(name)})`);
    const set = (k, v) => out.push(`${k}[${name}]=${q(v)}`);
    set("STAGE", c.gitops.stage); set("BRANCH", c.gitops.targetRevision);
    set("DEST", c.gitops.destinationName); set("EKS", c.cluster.name); set("REGION", c.cluster.region);
    // The children live in the child namespace of the environment: NAMESPACE/NAME (gitops_refresh, app_get take both forms).
    const child = (name) => `${n.childApplicationsNamespace(c.gitops)}/${name}`;
    set("PROJECT", c.gitops.project); set("ROOT_APP", n.rootApplicationName(c.gitops)); set("EDGE_APP", child(n.edgeApplicationName(c.gitops)));
    set("LB_APP", child(n.lbControllerApplicationName(c.gitops))); set("LB_PROJECT", n.lbControllerProjectName(c.gitops));
    set("APPS_NS", n.childApplicationsNamespace(c.gitops));
    set("ENVOY_NS", c.envoy.namespace); set("BACKEND_NS", c.backend.namespace); set("BACKEND_SVC", c.backend.serviceName);
    repos.add(c.gitops.repoURL); argocdNs.add(c.gitops.argocdNamespace); charts.add(c.lbController.chartVersion);
    sas.add(c.lbController.serviceAccountName);
  }
  if (repos.size !== 1 || argocdNs.size !== 1 || charts.size !== 1 || sas.size !== 1) throw new Error("expected one repoURL, Argo CD namespace, chart version and controller service account");
  out.push(`REPO_URL=${q([...repos][0])}`, `ARGOCD_NS=${q([...argocdNs][0])}`, `CHART_VERSION=${q([...charts][0])}`, `LB_SA=${q([...sas][0])}`);
  console.log(out.join("\n"));
' "$SNAP")"
[ "$ARGOCD_NS" = argocd ] || { say "ERROR: the harness runs Argo CD in namespace argocd, the config says $ARGOCD_NS"; exit 1; }
PROD="" OTHERS=()
for env in "${ENVS[@]}"; do
  if [ "${DEST[$env]}" = in-cluster ]; then PROD="$env"; else OTHERS+=("$env"); fi
  CTX[$env]="arn:aws:eks:${REGION[$env]}:000000000000:cluster/${EKS[$env]}"
done
[ -n "$PROD" ] || { say "ERROR: no environment has gitops.destinationName in-cluster (Argo CD's own cluster)"; exit 1; }
say "environments: ${ENVS[*]} (Argo CD runs in $PROD's cluster; ${OTHERS[*]:-none} registered by name)"

# objects_of DIR : "namespace kind name" of every object in DIR/*.yaml ("-" for cluster-scoped).
objects_of() {
  python3 - "$1" <<'PY'
import glob, sys, yaml
for f in sorted(glob.glob(sys.argv[1] + '/*.yaml')):
    for d in yaml.safe_load_all(open(f)):
        if d:
            print(d['metadata'].get('namespace', '-'), d['kind'], d['metadata']['name'])
PY
}
MIN_READY="$(cat "$SNAP"/dist/*/edge/*.yaml | python3 -c 'import sys, yaml
print(max([d["spec"].get("minReadySeconds", 0) for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "Deployment"] or [0]))')"
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
GITOPS_APPLICATION_NAMESPACES="$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["application.namespaces"])' "$SNAP/argocd/settings/argocd-cmd-params-cm.k8s.yaml")"
export GITOPS_APPLICATION_NAMESPACES
cluster_args=()
for env in "${OTHERS[@]}"; do cluster_args+=(--cluster "${DEST[$env]}"); done
harness_start --kwok "${cluster_args[@]}"
say "harness up in $(secs_since "$t_harness")s"
ARGO_KUBECONFIG="$KUBECONFIG"   # the harness's helpers (gitops_refresh, ...) use prod's API server through it

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
A() { kubectl --kubeconfig "$KC" --context "${CTX[$PROD]}" -n "$ARGOCD_NS" "$@"; }   # Argo CD's namespace
use() { kubectl --kubeconfig "$KC" config use-context "${CTX[$1]}" >/dev/null; }

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
standin_events() { cat "$GITOPS_DIR/logs/lb-controller-standin-${DEST[$1]}.events.jsonl" 2>/dev/null || true; }

# ---- the seed: a bare git repository with our content, the URLs rewritten --------------------
WT="$GITOPS_WORKTREE"
# rewrite_urls DIR : the only change made to our outputs. In DIR/argocd and DIR/dist, the
# repository URL becomes the local git daemon's and the eks-charts URL the local Helm
# repository's; every changed line is logged. Prints the number of lines changed.
rewrite_urls() {
  python3 - "$1" "$REPO_URL" "$GITOPS_GIT_URL" "$EKS_CHARTS_URL" "$GITOPS_HELM_REPO_URL" <<'PY'
import os, re, sys
root, pairs = sys.argv[1], [(sys.argv[2], sys.argv[3]), (sys.argv[4], sys.argv[5])]
count = 0
for top in ('argocd', 'dist'):
    for dirpath, _, files in sorted(os.walk(os.path.join(root, top))):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            lines = open(path).read().split('\n')
            changed = False
            for i, line in enumerate(lines):
                new = line
                for old, to in pairs:
                    new = re.sub(re.escape(old) + r'(?=["\']?\s*$)', to, new)
                if new != line:
                    print(f'[rewrite] {os.path.relpath(path, root)}:{i + 1}: {line.strip()}  =>  {new.strip()}', file=sys.stderr)
                    lines[i], changed, count = new, True, count + 1
            if changed:
                open(path, 'w').write('\n'.join(lines))
print(count)
PY
}
# copy_outputs FROM : dist/, argocd/, eksctl/ of FROM replace the worktree's.
copy_outputs() { local d; for d in dist argocd eksctl; do rm -rf "${WT:?}/$d"; cp -r "$1/$d" "$WT/$d"; done; }
push() { # push MESSAGE : commit everything in the worktree, push; sets PUSHED (sha) and T_PUSH
  PUSHED="$(gitops_commit_push "$1")"
  T_PUSH=$(now)
}

cp -a "$SNAP/." "$WT/"
n="$(rewrite_urls "$WT")"
left="$(grep -rlF -e "$REPO_URL" -e "$EKS_CHARTS_URL" "$WT/dist" "$WT/argocd" || true)"
if [ -z "$left" ] && [ "$n" -gt 0 ]; then ok "rewrite: $n lines changed in argocd/ and dist/ (each logged above), no other change; no original URL left"
else bad "rewrite: $n lines changed; original URLs still in: $left"; fi
echo "/node_modules" >>"$WT/.git/info/exclude"   # the symlink to this checkout's node_modules, for the day-2 commands
push "seed: the repository content, URLs rewritten for the harness"
SEED="$PUSHED"
# A later stage follows a branch of its own (gitops.stage, docs/gitops.md "Promotion"); its first
# promotion, made here by hand as a new repository's owner makes it: the branch at the seed.
for env in "${ENVS[@]}"; do
  [ "${STAGE[$env]}" -gt 1 ] || continue
  git -C "$WT" push --quiet origin "$SEED:refs/heads/${BRANCH[$env]}" 2>&1 | sed 's/^/[git] /' >&2
  say "setup: $env (stage ${STAGE[$env]}) follows ${BRANCH[$env]}, created at the seed"
done
say "seeded $GITOPS_GIT_URL at ${SEED:0:7} ($(git -C "$WT" ls-files | wc -l) files)"

day2() { (cd "$WT" && KUBECONFIG="$KC" npm run -s "$@"); }   # the day-2 commands, in the pushed checkout

# ---- bootstrap and the first sync ------------------------------------------------------------
use "$PROD"
# Before Argo CD has our settings, bootstrap must stop: the children would never sync.
if day2 bootstrap >"$WORK/bootstrap-unset.txt" 2>&1; then bad "npm run bootstrap with no argocd-cmd-params-cm: it applied argocd/ ($(tail -n 3 "$WORK/bootstrap-unset.txt" | tr '\n' '|'))"
elif grep -q "application.namespaces lacks" "$WORK/bootstrap-unset.txt" && [ -z "$(A get appprojects.argoproj.io -o name | grep -v /default)" ]; then
  ok "bootstrap stops while Argo CD lacks argocd/settings/ (nothing applied): $(grep -o 'application.namespaces lacks[^.;]*' "$WORK/bootstrap-unset.txt" | head -1)"
else bad "npm run bootstrap with no argocd-cmd-params-cm: $(tail -n 3 "$WORK/bootstrap-unset.txt" | tr '\n' '|')"; fi
say "setup: argocd/settings/ merged into Argo CD's ConfigMaps (server-side apply with a field manager of its own adds our keys and keeps the harness's; the controller was started with the same application.namespaces: $GITOPS_APPLICATION_NAMESPACES)"
A apply --server-side --field-manager envoy-edge-settings -f "$WT/argocd/settings/" >/dev/null
t_boot=$(now)
if day2 bootstrap >"$WORK/bootstrap.txt" 2>&1; then
  say "npm run bootstrap (current context ${CTX[$PROD]}): $(grep -c 'created\|configured' "$WORK/bootstrap.txt") objects applied"
  if [ "$(grep -cE '^   argocd(-notifications)?-cm: in: ' "$WORK/bootstrap.txt")" = 2 ]; then
    ok "bootstrap says Argo CD has the rest of argocd/settings/: $(grep -E '^   argocd(-notifications)?-cm: in: ' "$WORK/bootstrap.txt" | sed 's/^ *//' | tr '\n' ' ')"
  else bad "bootstrap's word on argocd-cm and argocd-notifications-cm: $(grep -E 'argocd(-notifications)?-cm' "$WORK/bootstrap.txt")"; fi
else bad "npm run bootstrap: $(cat "$WORK/bootstrap.txt")"; fi

# An APP is NAME (Argo CD's namespace) or NAMESPACE/NAME, as in scripts/gitops/harness.sh.
# shellcheck disable=SC2046
app_get() { kubectl --kubeconfig "$KC" --context "${CTX[$PROD]}" get applications.argoproj.io $(_gitops_app "$1") -o "jsonpath=$2" 2>/dev/null || true; }
all_apps() { local e; for e in "${ENVS[@]}"; do echo "${ROOT_APP[$e]} ${EDGE_APP[$e]} ${LB_APP[$e]}"; done; }
# apps_synced REVISION : every Application Synced (the git ones at REVISION, the chart at its version)
apps_synced() {
  local e
  for e in "${ENVS[@]}"; do
    [ "$(app_get "${ROOT_APP[$e]}" '{.status.sync.status} {.status.sync.revision}')" = "Synced $1" ] || return 1
    [ "$(app_get "${EDGE_APP[$e]}" '{.status.sync.status} {.status.sync.revision}')" = "Synced $1" ] || return 1
    [ "$(app_get "${LB_APP[$e]}" '{.status.sync.status} {.status.sync.revision}')" = "Synced $CHART_VERSION" ] || return 1
  done
}
wait_until() { # wait_until SECONDS COMMAND... : polls every 0.2 s
  local deadline; deadline=$(awk -v n="$(now)" -v s="$1" 'BEGIN { printf "%d", n + s }')
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
app_line() { app_get "$1" '{.metadata.name}: {.status.sync.status}/{.status.health.status} at {.status.sync.revision}, operation {.status.operationState.phase}: {.status.operationState.message} {.status.conditions[*].message}'; }

# Both API servers hand out ClusterIPs from 10.0.0.0/24 (scripts/cluster/apiserver.sh) and the
# stand-ins serve on one loopback: should two webhook Services get the same address, the stand-in
# says so and the later Service is deleted once (setup, logged), so that Argo CD's self-heal
# re-creates it with another address. The Service carries no TLS material. About 1 run in 240.
declare -A COLLISION_FIXED
fix_webhook_collision() {
  local env
  for env in "${ENVS[@]}"; do
    [ -z "${COLLISION_FIXED[$env]:-}" ] || continue
    standin_events "$env" | grep -q webhook-address-unavailable || continue
    COLLISION_FIXED[$env]=1
    say "setup: $env's webhook Service got the address of another cluster's; deleting it once so that Argo CD re-creates it with another"
    K "$env" -n "$LB_NS" delete service "$LB_WEBHOOK-service" --wait=false >/dev/null 2>&1 || true
  done
}
first_sync_done() { fix_webhook_collision; apps_synced "$SEED"; }
first_timeout=90
[ "$REAL_CLOCK" = 0 ] || first_timeout=$((MIN_READY + 120))
if wait_until "$first_timeout" first_sync_done; then
  t_synced="$(secs_since "$t_boot")"
  ok "all $((${#ENVS[@]} * 3)) Applications Synced ${t_synced}s after bootstrap: $(for a in $(all_apps); do printf '%s ' "$a"; done)(git ones at ${SEED:0:7}, the chart at $CHART_VERSION)"
else
  bad "not every Application Synced at ${SEED:0:7} after ${first_timeout}s: $(for a in $(all_apps); do app_line "$a"; echo; done)"
fi
# Argo CD sets no tracking annotation on CRDs, so the controller Application can stay Progressing
# until the next poll once its CRDs are Established (scripts/gitops/harness.sh); refresh once.
for env in "${ENVS[@]}"; do gitops_refresh "${LB_APP[$env]}" normal; done
apps_healthy() { local a; for a in $(all_apps); do [ "$(app_get "$a" '{.status.health.status}')" = Healthy ] || return 1; done; }
if wait_until 60 apps_healthy; then
  avail=""
  for env in "${ENVS[@]}"; do avail+="$env $(K "$env" -n "${ENVOY_NS[$env]}" get deployment "$EDGE_DEPLOYMENT" -o 'jsonpath={.status.availableReplicas}/{.spec.replicas}') "; done
  ok "every Application Healthy $(secs_since "$t_boot")s after bootstrap (Envoy available: $avail; the controller's 2 pods run on kwok; the Ingress has the stand-in's ALB hostname)"
else bad "not every Application Healthy: $(for a in $(all_apps); do app_line "$a"; echo; done)"; fi

# live_diff ENV : kubectl diff of the pushed dist/ENV/ against the clusters; prints "EDGE-EXIT/APPS-EXIT"
live_diff() {
  local out="$WORK/live-$1.diff" a b
  set +e
  K "$1" diff -f "$WT/dist/$1/edge" >"$out" 2>&1; a=$?
  K "$PROD" diff -f "$WT/dist/$1" >>"$out" 2>&1; b=$?
  set -e
  echo "$a/$b"
}
# check_diff ENV WHEN : `npm run diff -- --env ENV`, run as a person would (current context ENV's).
check_diff() {
  local env="$1" rc
  use "$env"
  set +e
  day2 diff -- --env "$env" >"$WORK/diff-$env.txt" 2>&1; rc=$?
  set -e
  if [ "$rc" = 0 ]; then ok "npm run diff -- --env $env exits 0 $2: the live objects equal the pushed dist/$env/ ($(tail -n1 "$WORK/diff-$env.txt"))"; return; fi
  bad "npm run diff -- --env $env exited $rc $2: $(grep -E '^[-+] |^diff ' "$WORK/diff-$env.txt" | head -30)"
}
for env in "${ENVS[@]}"; do check_diff "$env" "after the first sync"; done
use "${OTHERS[0]:-$PROD}"
status_env="${OTHERS[0]:-$PROD}"
if day2 status -- --env "$status_env" >"$WORK/status.txt" 2>&1 && grep -q "alb.invalid" "$WORK/status.txt" \
  && [ "$(grep -cE "Synced +Healthy +(${SEED}|${CHART_VERSION})\$" "$WORK/status.txt")" = 3 ]; then
  ok "npm run status -- --env $status_env: its 3 Applications Synced/Healthy at ${SEED:0:7}, Envoy pods Running, ALB hostname $(grep -o '[^ ]*alb.invalid' "$WORK/status.txt" | head -1)"
else bad "npm run status -- --env $status_env: $(cat "$WORK/status.txt")"; fi

# ---- sync waves, from the objects' creation times and Argo CD's operation state ---------------
epoch() { [ -n "$1" ] && date -d "$1" +%s || echo 0; }
for env in "${ENVS[@]}"; do
  lb_c="$(epoch "$(app_get "${LB_APP[$env]}" '{.metadata.creationTimestamp}')")"
  edge_c="$(epoch "$(app_get "${EDGE_APP[$env]}" '{.metadata.creationTimestamp}')")"
  ns="${ENVOY_NS[$env]}"
  ing_c="$(epoch "$(K "$env" -n "$ns" get ingress "$EDGE_INGRESS" -o 'jsonpath={.metadata.creationTimestamp}')")"
  dep_avail="$(epoch "$(K "$env" -n "$ns" get deployment "$EDGE_DEPLOYMENT" -o 'jsonpath={.status.conditions[?(@.type=="Available")].lastTransitionTime}')")"
  ready_first="$(K "$env" -n "$ns" get pods -l "app=$EDGE_DEPLOYMENT" -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}' | sort | tail -1)"
  wave0_last=0
  while read -r ons kind name; do
    [ "$kind" = Ingress ] && continue
    nsarg=(); [ "$ons" = - ] || nsarg=(-n "$ons")
    c="$(epoch "$(K "$env" "${nsarg[@]}" get "$kind" "$name" -o 'jsonpath={.metadata.creationTimestamp}' 2>/dev/null)")"
    [ "$c" -le "$wave0_last" ] || wave0_last="$c"
  done < <(objects_of "$WT/dist/$env/edge")
  figures="controller Application created $((edge_c - lb_c))s before the edge Application; Envoy's last wave-0 object $((ing_c - wave0_last))s and the Deployment Available $((ing_c - dep_avail))s before the Ingress"
  if [ "$REAL_CLOCK" = 1 ] && [ -n "$ready_first" ]; then figures+="; the Ingress $((ing_c - $(epoch "$ready_first")))s after the last Envoy pod turned Ready (minReadySeconds $MIN_READY)"; fi
  if [ "$lb_c" -gt 0 ] && [ "$lb_c" -lt "$edge_c" ] && [ "$wave0_last" -gt 0 ] && [ "$wave0_last" -lt "$ing_c" ] && [ "$dep_avail" -gt 0 ] \
    && [ "$dep_avail" -le "$ing_c" ]; then
    ok "sync waves, $env: $figures"
  else bad "sync waves, $env: $figures"; fi
done

maybe_pause() { # development aid: VERIFY_GITOPS_PAUSE=FILE VERIFY_GITOPS_PAUSE_AT=first|loop|destroy
  [ -n "${VERIFY_GITOPS_PAUSE:-}" ] && [ "${VERIFY_GITOPS_PAUSE_AT:-loop}" = "$1" ] || return 0
  { echo "export KUBECONFIG=$KC"; echo "nsenter --net=/proc/$$/ns/net"; echo "GITOPS_DIR=$GITOPS_DIR"; } >"$VERIFY_GITOPS_PAUSE"
  say "paused at $1: $VERIFY_GITOPS_PAUSE"; sleep 100000
}
maybe_pause first

# snapshot ENV... : "ENV Kind/namespace/name resourceVersion" of every object of the seeded
# dist/ENV/edge/ that exists in ENV's cluster (a missing one has no line).
snapshot() {
  local env ns objs
  for env in "$@"; do
    while read -r ns objs; do
      # shellcheck disable=SC2086
      { K "$env" -n "${ns/#-/default}" get $objs --ignore-not-found -o json 2>/dev/null || true; } | python3 -c '
import json, sys
text = sys.stdin.read().strip()
doc = json.loads(text) if text else {}
for o in doc.get("items", [doc] if doc.get("kind") else []):
    m = o["metadata"]
    print(sys.argv[1], "%s/%s/%s" % (o["kind"], m.get("namespace", ""), m["name"]), m["resourceVersion"])' "$env"
    done < <(objects_of "$SNAP/dist/$env/edge" | awk '{ a[$1] = a[$1] " " $2 "/" $3 } END { for (n in a) print n, a[n] }')
  done | sort
}
changed_between() { { diff <(echo "$1") <(echo "$2") || true; } | sed -n 's/^> \([^ ]* [^ ]*\) .*/\1/p' | tr '\n' ' '; }
missing_between() { comm -23 <(echo "$1" | awk '{print $1, $2}') <(echo "$2" | awk '{print $1, $2}') | tr '\n' ' '; }
LB_RELEASE="$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["source"]["helm"]["releaseName"])' "$WT/dist/$PROD/lb-controller.k8s.yaml")"
CHART_DIR="$ROOT/test/fixtures/charts/$LB_CHART-$CHART_VERSION"

# ---- the controller's Application: the chart, for real ------------------------------------
for env in "${ENVS[@]}"; do
  python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1]))["spec"]["source"]["helm"]["valuesObject"], open(sys.argv[2], "w"))' \
    "$WT/dist/$env/lb-controller.k8s.yaml" "$WORK/lb-values-$env.json"
  rendered="$("$VERIFY_HELM" template "$LB_RELEASE" "$CHART_DIR" -n "$LB_NS" --include-crds -f "$WORK/lb-values-$env.json" \
    | python3 -c 'import sys, yaml
docs = [i for d in yaml.safe_load_all(sys.stdin) if d for i in (d["items"] if d["kind"] == "List" else [d])]
print(" ".join(sorted(d["kind"] + "/" + d["metadata"]["name"] for d in docs)))')"
  tracked="$(app_get "${LB_APP[$env]}" '{range .status.resources[*]}{.kind}/{.name}{"\n"}{end}' | sort | tr '\n' ' ' | sed 's/ $//')"
  args="$(K "$env" -n "$LB_NS" get deployment "$LB_RELEASE" -o 'jsonpath={.spec.replicas} {.spec.template.spec.serviceAccountName} {.spec.template.spec.containers[0].args}')"
  hooks="$(K "$env" get mutatingwebhookconfiguration "$LB_WEBHOOK" -o 'jsonpath={.webhooks[*].name}')"
  if [ "$rendered" = "$tracked" ] && [[ "$args" == *"--cluster-name=${EKS[$env]}"* ]] && [[ "$args" == "2 $LB_SA "* ]] \
    && [[ "$hooks" != *mservice* ]] && K "$env" get ingressclass alb >/dev/null 2>&1; then
    ok "controller, $env: the chart $CHART_VERSION rendered with our values is exactly what Argo CD synced ($(echo "$tracked" | wc -w) objects), Deployment $args; no Service mutator webhook (enableServiceMutatorWebhook: false)"
  else bad "controller, $env: rendered but not synced [$(comm -23 <(tr ' ' '\n' <<<"$rendered" | sort) <(tr ' ' '\n' <<<"$tracked" | sort) | tr '\n' ' ')], synced but not rendered [$(comm -13 <(tr ' ' '\n' <<<"$rendered" | sort) <(tr ' ' '\n' <<<"$tracked" | sort) | tr '\n' ' ')]; Deployment [$args]; webhooks [$hooks]"; fi
done
ca_of_render() {
  "$VERIFY_HELM" template "$LB_RELEASE" "$CHART_DIR" -n "$LB_NS" -f "$WORK/lb-values-$PROD.json" \
    | python3 -c 'import hashlib, sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] == "MutatingWebhookConfiguration": print(hashlib.sha256(d["webhooks"][0]["clientConfig"]["caBundle"].encode()).hexdigest()[:12])'
}
r1="$(ca_of_render)"; r2="$(ca_of_render)"
# pair ENV : the live caBundles of both webhook configurations, and the TLS Secret (sha256, 12 hex)
pair() {
  local m v s c
  m="$(K "$1" get mutatingwebhookconfiguration "$LB_WEBHOOK" -o 'jsonpath={.webhooks[*].clientConfig.caBundle}' | tr ' ' '\n' | sort -u)"
  v="$(K "$1" get validatingwebhookconfiguration "$LB_WEBHOOK" -o 'jsonpath={.webhooks[*].clientConfig.caBundle}' | tr ' ' '\n' | sort -u)"
  c="$(K "$1" -n "$LB_NS" get secret "$LB_TLS_SECRET" -o 'jsonpath={.data.ca\.crt}')"
  s="$(K "$1" -n "$LB_NS" get secret "$LB_TLS_SECRET" -o 'jsonpath={.data}' | sha256sum | cut -c1-12)"
  if [ "$m" = "$c" ] && [ "$v" = "$c" ]; then echo "ca=$(printf '%s' "$c" | sha256sum | cut -c1-12) secret=$s matched"
  else echo "mutating=$(printf '%s' "$m" | sha256sum | cut -c1-12) validating=$(printf '%s' "$v" | sha256sum | cut -c1-12) secret-ca=$(printf '%s' "$c" | sha256sum | cut -c1-12) MISMATCH"; fi
}
refreshed() { [ -z "$(app_get "$1" '{.metadata.annotations.argocd\.argoproj\.io/refresh}')" ]; }
lb_ok=1 lb_figs=""
declare -A PAIR0 OP0
for env in "${ENVS[@]}"; do PAIR0[$env]="$(pair "$env")"; OP0[$env]="$(app_get "${LB_APP[$env]}" '{.status.operationState.startedAt}')"; done
renders0="$(grep -c 'helm template' "$GITOPS_DIR/logs/repo-server.log" || true)"
for i in 1 2; do
  for env in "${ENVS[@]}"; do gitops_refresh "${LB_APP[$env]}" hard; done
  for env in "${ENVS[@]}"; do
    wait_until 30 refreshed "${LB_APP[$env]}" || lb_ok=0
    st="$(app_get "${LB_APP[$env]}" '{.status.sync.status} {.status.operationState.startedAt}')"
    [ "$st" = "Synced ${OP0[$env]}" ] && [ "$(pair "$env")" = "${PAIR0[$env]}" ] || { lb_ok=0; lb_figs+=" $env after hard refresh $i: $st $(pair "$env");"; }
  done
done
renders1="$(grep -c 'helm template' "$GITOPS_DIR/logs/repo-server.log" || true)"
pairs_matched=1
for env in "${ENVS[@]}"; do [[ "${PAIR0[$env]}" == *matched ]] || pairs_matched=0; done
if [ "$lb_ok" = 1 ] && [ "$r1" != "$r2" ] && [ "$pairs_matched" = 1 ]; then
  ok "controller: the chart makes a new webhook CA at every render (two helm template runs: caBundle $r1, then $r2); after two hard refreshes (the repo-server ran helm template $((renders1 - renders0)) times meanwhile) both controller Applications stay Synced with no new sync, and the live pair is kept: $(for e in "${ENVS[@]}"; do printf '%s %s; ' "$e" "${PAIR0[$e]}"; done)"
else bad "controller after hard refreshes: renders $r1/$r2;$lb_figs before: $(for e in "${ENVS[@]}"; do printf '%s %s; ' "$e" "${PAIR0[$e]}"; done)"; fi

# A sync of the controller (as after a chart upgrade): RespectIgnoreDifferences must keep the pair.
vingress_calls() { standin_events "$1" | grep -c '"path": "/validate-networking-v1-ingress' || true; }
# The operation argocd-server makes for a Sync with no options given: the app's own syncOptions.
for env in "${ENVS[@]}"; do
  opts="$(app_get "${LB_APP[$env]}" '{.spec.syncPolicy.syncOptions}')"
  kubectl --kubeconfig "$KC" --context "${CTX[$PROD]}" -n "${APPS_NS[$env]}" patch applications.argoproj.io "${LB_APP[$env]#*/}" --type merge \
    -p "{\"operation\":{\"initiatedBy\":{\"username\":\"verify-gitops\"},\"sync\":{\"revision\":\"$CHART_VERSION\",\"prune\":true,\"syncOptions\":$opts}}}" >/dev/null
done
synced_again() { [ "$(app_get "$1" '{.status.operationState.phase} {.status.sync.status}')" = "Succeeded Synced" ] && [ "$(app_get "$1" '{.status.operationState.startedAt}')" != "$2" ]; }
sync_ok=1 sync_figs=""
for env in "${ENVS[@]}"; do
  if wait_until 60 synced_again "${LB_APP[$env]}" "${OP0[$env]}" && [ "$(pair "$env")" = "${PAIR0[$env]}" ]; then
    before="$(vingress_calls "$env")"
    if K "$env" -n "${ENVOY_NS[$env]}" annotate ingress "$EDGE_INGRESS" verify-gitops/probe=1 --dry-run=server >/dev/null 2>"$WORK/probe.err" \
      && [ "$(vingress_calls "$env")" -gt "$before" ]; then sync_figs+=" $env: pair kept, the Ingress validator answered through it;"
    else sync_ok=0; sync_figs+=" $env: the webhook call failed: $(cat "$WORK/probe.err");"; fi
  else sync_ok=0; sync_figs+=" $env: $(app_line "${LB_APP[$env]}") $(pair "$env");"; fi
done
if [ "$sync_ok" = 1 ]; then ok "controller: a forced sync of both controller Applications (ServerSideApply, RespectIgnoreDifferences) applied the chart again and kept the live caBundle/Secret pair:$sync_figs"
else bad "controller after a forced sync:$sync_figs"; fi

# The pair coming apart, and the recovery docs/lb-controller.md gives: one half deleted is re-created
# by self-heal from a new render, and the Ingress validator then fails; deleting both halves in one
# command has Argo CD re-create them from one render, and the validator answers again.
henv="${OTHERS[0]:-$PROD}"
probe_ingress() { K "$1" -n "${ENVOY_NS[$1]}" annotate ingress "$EDGE_INGRESS" verify-gitops/probe=1 --dry-run=server >/dev/null 2>"$WORK/probe.err"; }
pair_is() { [[ "$(pair "$1")" == *"$2" ]]; }
all_halves() { K "$1" get validatingwebhookconfiguration "$LB_WEBHOOK" -o name >/dev/null 2>&1 \
  && K "$1" get mutatingwebhookconfiguration "$LB_WEBHOOK" -o name >/dev/null 2>&1 \
  && K "$1" -n "$LB_NS" get secret "$LB_TLS_SECRET" -o name >/dev/null 2>&1; }
apart_ok=0 apart_figs=""
K "$henv" delete validatingwebhookconfiguration "$LB_WEBHOOK" >/dev/null
t0=$(now)
if wait_until 60 all_halves "$henv" && wait_until 10 pair_is "$henv" MISMATCH; then
  apart_figs="one half deleted: re-created in $(secs_since "$t0") s with a new CA ($(pair "$henv"))"
  if ! probe_ingress "$henv" && grep -q 'x509' "$WORK/probe.err"; then
    apart_figs+=", and the Ingress validator refuses: $(grep -o 'x509: [^(]*' "$WORK/probe.err" | head -1)"
    K "$henv" -n "$LB_NS" delete "secret/$LB_TLS_SECRET" "validatingwebhookconfiguration/$LB_WEBHOOK" "mutatingwebhookconfiguration/$LB_WEBHOOK" >/dev/null
    t0=$(now)
    if wait_until 60 all_halves "$henv" && wait_until 20 pair_is "$henv" matched && wait_until 20 probe_ingress "$henv"; then
      apart_ok=1; apart_figs+="; all three deleted in one command: re-created from one render, matched and the validator answering, $(secs_since "$t0") s later ($(pair "$henv"))"
    else apart_figs+="; after deleting all three: $(pair "$henv"), probe: $(head -c 300 "$WORK/probe.err")"; fi
  else apart_figs+=", but the Ingress validator still answered: $(head -c 300 "$WORK/probe.err")"; fi
else apart_figs="after deleting one half: $(pair "$henv")"; fi
if [ "$apart_ok" = 1 ]; then ok "controller, $henv: $apart_figs"
else bad "controller, $henv, the webhook pair and its recovery: $apart_figs"; fi

# The daily loop (a config change, prune, an emptied dist/<env>/edge/, self-heal), promotion and the
# project's refusals with retry.refresh are in test/gitops/*.gitops.test.ts, run below.
for env in "${ENVS[@]}"; do
  t="$(live_diff "$env")"
  [ "$t" = 0/0 ] || bad "after the checks above, $env's objects differ from dist/$env/: $(grep -E '^[-+] |^diff ' "$WORK/live-$env.diff" | head -20)"
done

say "memory of the processes (peak = VmHWM):"
gitops_memory >&2
MEM_TOTAL="$(gitops_memory | awk '$1 == "total" { print $2 }')"
maybe_pause loop

# ---- the TypeScript scenarios (test/gitops/*.gitops.test.ts) on what this script started ------
envs_json="$(for env in "${ENVS[@]}"; do printf '"%s":{"stage":%s,"branch":"%s","context":"%s","envoyNamespace":"%s","edgeApp":"%s","appsNamespace":"%s","project":"%s","lbControllerProject":"%s","rootApp":"%s"},' \
  "$env" "${STAGE[$env]}" "${BRANCH[$env]}" "${CTX[$env]}" "${ENVOY_NS[$env]}" "${EDGE_APP[$env]}" "${APPS_NS[$env]}" "${PROJECT[$env]}" "${LB_PROJECT[$env]}" "${ROOT_APP[$env]}"; done)"
printf '{"kubeconfig":"%s","kubectl":"%s","worktree":"%s","argocdContext":"%s","argocdNamespace":"%s","rewrites":[["%s","%s"],["%s","%s"]],"environments":{%s}}\n' \
  "$KC" "$(command -v kubectl)" "$WT" "${CTX[$PROD]}" "$ARGOCD_NS" "$REPO_URL" "$GITOPS_GIT_URL" "$EKS_CHARTS_URL" "$GITOPS_HELM_REPO_URL" "${envs_json%,}" >"$WORK/context.json"
if VERIFY_GITOPS_CONTEXT="$WORK/context.json" node node_modules/jest/bin/jest.js -c jest.gitops.config.js --json --outputFile "$WORK/scenarios.json" >&2; then :; fi
read -r s_passed s_failed < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)' "$WORK/scenarios.json" 2>/dev/null || echo "0 1")
PASSED=$((PASSED + s_passed)); FAILED=$((FAILED + s_failed))
say "TypeScript scenarios: $s_passed passed, $s_failed failed (test/gitops/)"

# ---- destroy: the other environment first, then Argo CD's own ---------------------------------
# destroy ENV : npm run destroy in ENV's context; checks what is left, in Argo CD and the cluster.
destroy_env() {
  local env="$1" rest=() e left lb_objs apps_ns_left chart_left apps projects elements other_before other_after t0 released crds_kept crds_total kind ns name nsarg
  for e in "${ENVS[@]}"; do [ "$e" = "$env" ] || [ -z "$(A get applications.argoproj.io "${ROOT_APP[$e]}" -o name 2>/dev/null)" ] || rest+=("$e"); done
  lb_objs="$(app_get "${LB_APP[$env]}" '{range .status.resources[*]}{.kind}|{.namespace}|{.name}{"\n"}{end}')"
  other_before="$(snapshot "${rest[@]}")"
  use "$env"
  t0=$(now)
  if day2 destroy -- --env "$env" --confirm "$env" >"$WORK/destroy-$env.txt" 2>&1; then
    say "npm run destroy -- --env $env --confirm $env: done in $(secs_since "$t0")s; steps of a second or more: $(grep -B2 -E '^   \([0-9.]+ s\)$' "$WORK/destroy-$env.txt" | grep -oE '^[0-9]+\. [^,;(]*|\([0-9.]+ s\)' | paste -sd' ')"
  else bad "npm run destroy -- --env $env failed after $(secs_since "$t0")s: $(tail -n 12 "$WORK/destroy-$env.txt" | tr '\n' '|')"; fi
  apps="$(kubectl --kubeconfig "$KC" --context "${CTX[$PROD]}" get applications.argoproj.io -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' \
    | grep -E "^($ARGOCD_NS/${ROOT_APP[$env]}|${EDGE_APP[$env]}|${LB_APP[$env]})$" || true)"
  projects="$(A get appprojects.argoproj.io -o name | grep -E "/(${PROJECT[$env]}|${LB_PROJECT[$env]}|${PROJECT[$env]}-root)$" || true)"
  # Deleted without waiting: gone, or Terminating (a deletionTimestamp) is enough.
  apps_ns_left="$(kubectl --kubeconfig "$KC" --context "${CTX[$PROD]}" get namespace "${APPS_NS[$env]}" -o 'jsonpath={.metadata.name}{.metadata.deletionTimestamp}' 2>/dev/null | grep -vE 'Z$' || true)"
  elements="$(A get applicationsets.argoproj.io "$APPSET" -o 'jsonpath={.spec.generators[0].list.elements[*].environment}')"
  left="$(snapshot "$env" | awk '{print $2}' | tr '\n' ' ')"
  # The chart's CRDs stay, and with them every TargetGroupBinding and IngressClassParams in the
  # cluster: Argo CD never deletes a CRD when an Application is deleted (shouldBeDeleted), as
  # `helm uninstall` never does. Everything else of the chart must be gone.
  chart_left="" crds_kept=0 crds_total=0
  while IFS='|' read -r kind ns name; do
    [ -n "$kind" ] || continue
    nsarg=(); [ -z "$ns" ] || nsarg=(-n "$ns")
    if [ "$kind" = CustomResourceDefinition ]; then
      crds_total=$((crds_total + 1))
      K "$env" get crd "$name" -o name >/dev/null 2>&1 && crds_kept=$((crds_kept + 1))
      continue
    fi
    if K "$env" "${nsarg[@]}" get "$kind" "$name" -o name >/dev/null 2>"$WORK/get-left.err"; then chart_left+="$kind/$name "
    elif ! grep -q NotFound "$WORK/get-left.err"; then chart_left+="$kind/$name(unreadable: $(head -c 200 "$WORK/get-left.err")) "; fi
  done <<<"$lb_objs"
  released="$(standin_events "$env" | grep alb-deleted-finalizer-released | tail -1)"
  other_after="$(snapshot "${rest[@]}")"
  if [ -z "$apps" ] && [ -z "$projects" ] && [ -z "$apps_ns_left" ] && [[ " $elements " != *" $env "* ]] && [ -z "$left" ] && [ -z "$chart_left" ] \
    && [ "$crds_total" -gt 0 ] && [ "$crds_kept" = "$crds_total" ] && [[ "$released" == *"\"$EDGE_DEPLOYMENT\""* ]]; then
    ok "destroy $env: no Application, AppProject or child namespace of $env left in Argo CD (ApplicationSet lists [${elements}]); nothing of dist/$env/edge/ and none of the chart's $(( $(echo "$lb_objs" | grep -c .) - crds_total )) other objects left in $env's cluster; its $crds_kept CRDs kept, as helm uninstall keeps them; the Ingress went first (the stand-in released its finalizer while Deployment $EDGE_DEPLOYMENT was still there)"
  else bad "destroy $env: Applications [$apps], projects [$projects], namespace [$apps_ns_left], ApplicationSet [$elements], objects left [$left], chart objects left [$chart_left], CRDs kept $crds_kept of $crds_total, finalizer release [$released]"; fi
  if [ "${#rest[@]}" -gt 0 ]; then
    local healthy=1
    for e in "${rest[@]}"; do
      for a in "${ROOT_APP[$e]}" "${EDGE_APP[$e]}" "${LB_APP[$e]}"; do [ "$(app_get "$a" '{.status.sync.status}/{.status.health.status}')" = Synced/Healthy ] || healthy=0; done
    done
    if [ "$other_before" = "$other_after" ] && [ "$healthy" = 1 ]; then ok "destroy $env left ${rest[*]} untouched: its $(echo "$other_after" | wc -l) objects unchanged (same resourceVersions), its Applications Synced/Healthy"
    else bad "destroy $env touched ${rest[*]}: changed [$(changed_between "$other_before" "$other_after")] missing [$(missing_between "$other_before" "$other_after")]; healthy=$healthy"; fi
  fi
}
maybe_pause destroy
for env in "${OTHERS[@]}"; do destroy_env "$env"; done
destroy_env "$PROD"

say "whole run $(secs_since "$VERIFY_GITOPS_T0")s (harness start $(awk -v a="$t_harness" -v b="$t_boot" 'BEGIN { printf "%.0f", b - a }')s incl. seeding; $([ "$REAL_CLOCK" = 1 ] && echo "real clock" || echo "kwok Ready backdated ${GITOPS_KWOK_READY_SINCE}s")); peak memory (sum of peaks) ${MEM_TOTAL:-?} MiB"
FINISHED=1
echo "verify-gitops: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] || exit 1
