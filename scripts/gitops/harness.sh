#!/usr/bin/env bash
# A throwaway, real Argo CD GitOps loop on 127.0.0.1, for CI: the API server from
# scripts/cluster/apiserver.sh, Argo CD's repo-server, application controller and
# applicationset controller (built by scripts/gitops/build-tools.sh), redis, a git daemon serving
# a bare repository, a Helm chart repository with the AWS Load Balancer Controller chart, and
# kube-controller-manager (garbage collector, namespaces, ReplicaSets; off with
# --no-controller-manager); with --kwok also kube-scheduler + kwok with one fake node, so that
# Deployments make pods that go Running and Applications can turn Healthy.
# Verification tooling only; in parts: this file (start, stop, helpers for tests), processes.sh,
# argocd.sh and clusters.sh beside it, which it sources. Source it:
#
#   . scripts/gitops/harness.sh
#   gitops_isolate "$0" "$@"      # re-run this script in a loopback-only network namespace
#   trap harness_stop EXIT; trap 'exit 130' INT TERM
#   harness_start [--kwok] [--no-controller-manager] [--cluster NAME]...
#                                 # exports KUBECONFIG, GITOPS_*; logs to stderr
#   gitops_cluster_dir NAME       # API server dir (kubeconfig, pki/) of in-cluster or a --cluster NAME
#   gitops_lb_controller_standin CLUSTER   # plays the LB controller pod there (webhooks, Ingress)
#   gitops_commit_push "message"  # commits $GITOPS_WORKTREE and pushes it to main
#   gitops_memory                 # peak and current memory of every process
#   harness_stop                  # stops everything it started, removes its temp dirs
#
# After harness_start:
#   KUBECONFIG, VERIFY_APISERVER_DIR   the API server (admin, system:masters)
#   GITOPS_DIR                 the harness's temp dir (logs in $GITOPS_DIR/logs)
#   GITOPS_NAMESPACE           argocd (Argo CD's namespace: Applications, AppProjects, argocd-cm)
#   GITOPS_GIT_URL             git://127.0.0.1:PORT/repo.git, the repoURL for Applications;
#                              the daemon accepts pushes (receive-pack), branch main
#   GITOPS_WORKTREE            a clone of it with one commit (README), ready to edit and push
#   GITOPS_HELM_REPO_URL       http://127.0.0.1:PORT, a Helm repository (index.yaml) holding
#                              aws-load-balancer-controller 3.5.0 from test/fixtures/charts
#   GITOPS_REDIS_ADDR, GITOPS_REPO_SERVER_ADDR   127.0.0.1:PORT of each
#   GITOPS_KWOK_NODE           the fake node's name (with --kwok), else empty
#
# What Argo CD gets: the CRDs of its own release (not ../shared's), the LB controller chart's CRDs
# (both files of its crds/; every --cluster gets these too),
# namespace argocd with argocd-cm, argocd-rbac-cm and argocd-secret (labelled part-of argocd,
# as the settings informers select them) and the AppProject `default` (any repo, any
# destination, any kind; argocd-server normally creates it, and no argocd-server runs here).
# ARGOCD_FAKE_IN_CLUSTER=true makes https://kubernetes.default.svc mean this API server, so no
# cluster Secret is needed. argocd-notifications runs too (argocd-notifications-secret starts empty).
# No argocd-server, dex or commit-server run: drive
# Argo CD with kubectl (Application objects, annotations, status).
#
# Argo CD v3.5 behaviours a test must allow for (seen on this harness):
#   * A push is seen at the next poll (--app-resync, GITOPS_RECONCILIATION) or at once after
#     the refresh annotation (the harness's Gitops.refresh; about 0.6 s from push to the object changed).
#   * Automated sync without spec.syncPolicy.retry still retries 5 times (controller default),
#     and a retrying operation keeps the revision it started with: a fix pushed meanwhile waits
#     until the retries end, unless retry.refresh: true.
#   * Prune uses foreground deletion (needs the controller manager's garbage collector).
#   * Self-heal backs off: successive live edits were reverted after about 2, 6 and 18 s.
#   * Argo CD sets no tracking annotation on CRDs, so a CRD turning Established does not
#     refresh the Application: an app that creates CRDs can show Progressing until the next
#     poll; the refresh annotation settles it.
#   * Resource health is not stored in .status.resources (v3 default, --persist-resource-health).
#   * An Application has a health check only with argocd/settings/argocd-cm.k8s.yaml merged (the
#     verify script merges it): then a root's sync waits, wave by wave, until its children are Healthy.
#
# Environment:
#   GITOPS_RECONCILIATION   seconds between Argo CD's polls of git (default 180, upstream's
#                           timeout.reconciliation); a push is picked up at once with the refresh annotation
#   ARGOCD_*                Argo CD's own settings pass through to its processes, e.g.
#                           ARGOCD_APPLICATION_CONTROLLER_SELF_HEAL_BACKOFF_TIMEOUT_SECONDS (self-heal
#                           backoff: 2 s, factor 3, cap 300 s by default)
#   GITOPS_APPLICATION_NAMESPACES  comma-separated namespaces whose Applications the controller
#                           reconciles besides its own (argocd-cmd-params-cm application.namespaces)
#   GITOPS_LOGLEVEL         Argo CD log level (default info)
#   GITOPS_CHART_DIR        chart to serve (default <repo>/test/fixtures/charts/aws-load-balancer-controller-3.5.0)
#   GITOPS_KWOK_READY_SINCE seconds (default 0): kwok reports each pod Ready (and ContainersReady)
#                           since that long before now, so a Deployment's minReadySeconds up to it
#                           is already over when the pod turns Ready; only the fake kubelet's clock
#                           moves, the deployment controller still decides Available
#   VERIFY_CACHE_DIR        where scripts/gitops/build-tools.sh put gitops-tools.env
#
# Network: everything binds 127.0.0.1 (the application controller's metrics bind is patched to
# loopback at build time); kwok's node reports 127.0.0.1 and kwok's port, so `kubectl logs`
# stays on loopback; fake pod IPs come from 10.244.0.0/24 and nothing dials them. But
# kube-apiserver calls admission webhooks on their Service's ClusterIP (10.0.0.x): once the LB
# controller chart is synced, a Service CREATE (mservice), an Ingress CREATE/UPDATE (vingress) or
# a pod in a namespace labelled elbv2.k8s.aws/pod-readiness-gate-inject=enabled (mpod) makes it
# dial such an address. So run the harness in a network namespace of its own that holds only
# loopback: call `gitops_isolate "$0" "$@"` at the top of the script (after building the tools;
# it re-runs the script under `unshare --net`). There such a call fails at once ("network is
# unreachable") and the webhook's failurePolicy decides, as in a cluster whose controller is
# not serving yet; nothing leaves the machine. gitops_lb_controller_standin serves those calls
# instead: inside the namespace it adds the webhook Service's ClusterIP to lo and answers there
# with the chart's own TLS Secret (scripts/gitops/lb-controller-standin.py).

_GITOPS_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_GITOPS_REPO="$(git -C "$_GITOPS_HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$_GITOPS_HERE/../.." && pwd))"
# shellcheck disable=SC1091
. "$_GITOPS_REPO/scripts/cluster/apiserver.sh"

_gitops_log() { printf '[gitops] %s\n' "$*" >&2; }

# The harness in parts, beside this file.
for _gitops_part in processes argocd clusters; do
  # shellcheck disable=SC1090
  . "$_GITOPS_HERE/$_gitops_part.sh"
done
unset _gitops_part

_gitops_start_inner() {
  local kwok="$1" kcm="$2" ports
  mkdir -p "$GITOPS_DIR/logs" "$GITOPS_DIR/pids"
  _gitops_apply_crds
  _gitops_argocd_config
  # redis git helm repo-server repo-metrics ctl-metrics as-metrics as-probe as-webhook kcm sched kwok notif-metrics
  read -r -a ports <<<"$(_apiserver_free_ports 13)"
  _gitops_start_redis "${ports[0]}"
  _gitops_start_git "${ports[1]}"
  _gitops_start_helm_repo "${ports[2]}"
  if [ "$kcm" = 1 ]; then _gitops_start_kcm "${ports[9]}"; fi
  if [ "$kwok" = 1 ]; then _gitops_start_kwok "${ports[10]}" "${ports[11]}"; fi
  _gitops_start_argocd "${ports[0]}" "${ports[3]}" "${ports[4]}" "${ports[5]}" "${ports[6]}" "${ports[7]}" "${ports[8]}"
  _gitops_start_notifications "${ports[3]}" "${ports[12]}"
  cat >"$GITOPS_DIR/env" <<EOF
export GITOPS_NAMESPACE='$GITOPS_NAMESPACE'
export GITOPS_GIT_URL='git://127.0.0.1:${ports[1]}/repo.git'
export GITOPS_WORKTREE='$GITOPS_DIR/worktree'
export GITOPS_HELM_REPO_URL='http://127.0.0.1:${ports[2]}'
export GITOPS_REDIS_ADDR='127.0.0.1:${ports[0]}'
export GITOPS_REPO_SERVER_ADDR='127.0.0.1:${ports[3]}'
export GITOPS_KWOK_NODE='$(cat "$GITOPS_DIR/kwok-node" 2>/dev/null || true)'
EOF
}

# harness_start [--kwok] [--no-controller-manager] [--cluster NAME]...
# --cluster NAME: one more cluster, registered in Argo CD under NAME (see "More clusters").
harness_start() {
  local kwok=0 kcm=1 a clusters=() c
  while [ $# -gt 0 ]; do
    a="$1"
    case "$a" in
      --kwok) kwok=1 ;;
      --no-controller-manager) kcm=0 ;;
      --cluster)
        [ -n "${2:-}" ] || { _gitops_log "--cluster needs a name"; return 2; }
        clusters+=("$2"); shift ;;
      *) _gitops_log "usage: harness_start [--kwok] [--no-controller-manager] [--cluster NAME]..."; return 2 ;;
    esac
    shift
  done
  if [ "$kwok" = 1 ] && [ "$kcm" = 0 ]; then _gitops_log "--kwok needs the controller manager"; return 2; fi
  if [ "${#clusters[@]}" -gt 0 ] && [ "$kcm" = 0 ]; then _gitops_log "--cluster needs the controller manager"; return 2; fi
  _gitops_load_tools || return 1
  _GITOPS_CHART_DIR="${GITOPS_CHART_DIR:-$_GITOPS_REPO/test/fixtures/charts/aws-load-balancer-controller-3.5.0}"
  [ -f "$_GITOPS_CHART_DIR/Chart.yaml" ] || { _gitops_log "ERROR: no chart at $_GITOPS_CHART_DIR"; return 1; }
  export GITOPS_NAMESPACE=argocd
  GITOPS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/verify-gitops.XXXXXX")" || return 1
  export GITOPS_DIR
  mkdir -p "$GITOPS_DIR/logs" "$GITOPS_DIR/pids"
  local t0=$SECONDS
  # The other clusters' API servers start meanwhile (each takes a few seconds to be ready).
  for c in "${clusters[@]}"; do _gitops_cluster_begin "$c" || { harness_stop; return 1; }; done
  # This release's CRDs instead of ../shared's (apiserver.sh would apply those).
  VERIFY_SKIP_CRDS=1 apiserver_start || { harness_stop; return 1; }
  echo "$VERIFY_APISERVER_DIR" >"$GITOPS_DIR/apiserver-dir"
  # The steps run in a subshell with errexit on (not under `if`, so it holds); any failure
  # stops whatever had started.
  local rc had_e=0
  case "$-" in *e*) had_e=1 ;; esac
  set +e
  ( set -euo pipefail; _gitops_start_inner "$kwok" "$kcm" )
  rc=$?
  for c in "${clusters[@]}"; do
    [ "$rc" -ne 0 ] || { _gitops_cluster_finish "$c" "$kwok"; rc=$?; }
  done
  [ "$had_e" -eq 0 ] || set -e
  if [ "$rc" -ne 0 ]; then
    _gitops_log "start failed; stopping what had started"
    harness_stop
    return 1
  fi
  # shellcheck disable=SC1091
  . "$GITOPS_DIR/env"
  _gitops_log "ready in $((SECONDS - t0))s: git $GITOPS_GIT_URL, helm $GITOPS_HELM_REPO_URL${clusters[*]:+, clusters in-cluster ${clusters[*]}}, logs in $GITOPS_DIR/logs"
}


# harness_stop: stops everything harness_start started (newest first, TERM then KILL after
# 10 s, each with its process group), then the API server, and removes the temp dirs.
# Safe to call twice, or after a start that failed half-way.
harness_stop() {
  local d="${GITOPS_DIR:-}" name pid names=()
  [ -n "$d" ] && [ -d "$d" ] || return 0
  case "$d" in */verify-gitops.*) ;; *) _gitops_log "refusing to remove $d"; return 1 ;; esac
  if [ -f "$d/pids/order" ]; then mapfile -t names < <(tac "$d/pids/order"); fi
  for name in "${names[@]}"; do
    pid="$(cat "$d/pids/$name.pid" 2>/dev/null)" || continue
    if _gitops_pid_alive "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do _gitops_pid_alive "$pid" || break; sleep 0.1; done
      if _gitops_pid_alive "$pid"; then
        _gitops_log "$name did not stop in 10 s; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    # Reap it when it is our own child; harmless otherwise. Then the rest of its group.
    wait "$pid" 2>/dev/null || true
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  [ "${#names[@]}" -eq 0 ] || _gitops_log "stopped: ${names[*]}"
  local cd ad
  for cd in "$d"/clusters/*/; do
    [ -d "$cd" ] || continue
    pid="$(cat "$cd/apiserver-start.pid" 2>/dev/null)" || true
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    for ad in "$cd"/tmp/verify-apiserver.*; do [ -d "$ad" ] && { apiserver_stop "$ad" || true; }; done
  done
  if [ -f "$d/apiserver-dir" ]; then
    apiserver_stop "$(cat "$d/apiserver-dir")" || true
  elif [ -n "${VERIFY_APISERVER_DIR:-}" ]; then
    apiserver_stop "$VERIFY_APISERVER_DIR" || true
  fi
  rm -rf "$d"
  _gitops_log "removed $d"
  unset GITOPS_DIR
  return 0
}

# ---- helpers for tests -------------------------------------------------------------------

# gitops_commit_push MESSAGE : commits everything in $GITOPS_WORKTREE and pushes main;
# prints the new commit SHA.
gitops_commit_push() {
  git -C "$GITOPS_WORKTREE" add -A
  git -C "$GITOPS_WORKTREE" commit --quiet --allow-empty -m "$1"
  git -C "$GITOPS_WORKTREE" push --quiet origin HEAD:main 2>&1 | sed 's/^/[git] /' >&2
  git -C "$GITOPS_WORKTREE" rev-parse HEAD
}

