#!/usr/bin/env bash
# A throwaway, real Argo CD GitOps loop on 127.0.0.1, for CI: the API server from
# scripts/cluster/apiserver.sh, Argo CD's repo-server, application controller and
# applicationset controller (built by scripts/gitops/build-tools.sh), redis, a git daemon serving
# a bare repository, a Helm chart repository with the AWS Load Balancer Controller chart, and
# kube-controller-manager (garbage collector, namespaces, ReplicaSets; off with
# --no-controller-manager); with --kwok also kube-scheduler + kwok with one fake node, so that
# Deployments make pods that go Running and Applications can turn Healthy.
# Verification tooling only. Source it:
#
#   . scripts/gitops/harness.sh
#   gitops_isolate "$0" "$@"      # re-run this script in a loopback-only network namespace
#   trap harness_stop EXIT; trap 'exit 130' INT TERM
#   harness_start [--kwok] [--no-controller-manager] [--cluster NAME]...
#                                 # exports KUBECONFIG, GITOPS_*; logs to stderr
#   gitops_cluster_dir NAME       # API server dir (kubeconfig, pki/) of in-cluster or a --cluster NAME
#   gitops_lb_controller_standin CLUSTER   # plays the LB controller pod there (webhooks, Ingress)
#   gitops_commit_push "message"  # commits $GITOPS_WORKTREE and pushes it to main
#   gitops_refresh APP [hard]     # the refresh annotation: Argo CD looks at git now
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
#     gitops_refresh (about 0.6 s from push to the object changed).
#   * Automated sync without spec.syncPolicy.retry still retries 5 times (controller default),
#     and a retrying operation keeps the revision it started with: a fix pushed meanwhile waits
#     until the retries end, unless retry.refresh: true.
#   * Prune uses foreground deletion (needs the controller manager's garbage collector).
#   * Self-heal backs off: successive live edits were reverted after about 2, 6 and 18 s.
#   * Argo CD sets no tracking annotation on CRDs, so a CRD turning Established does not
#     refresh the Application: an app that creates CRDs can show Progressing until the next
#     poll; a gitops_refresh settles it.
#   * Resource health is not stored in .status.resources (v3 default, --persist-resource-health).
#   * An Application has no health check: in a sync wave it counts as healthy once it exists.
#
# Environment:
#   GITOPS_RECONCILIATION   seconds between Argo CD's polls of git (default 180, upstream's
#                           timeout.reconciliation); a push is picked up at once with gitops_refresh
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

# gitops_isolate SCRIPT [ARGS...] : re-runs SCRIPT (with GITOPS_ISOLATED=1) in a new network
# namespace with only loopback, up; returns at once when already isolated. Where no namespace
# can be made it warns and returns (all listeners still bind 127.0.0.1).
gitops_isolate() {
  [ "${GITOPS_ISOLATED:-0}" != 1 ] || return 0
  if unshare --net true 2>/dev/null && command -v ip >/dev/null; then
    _gitops_log "re-running $1 in its own network namespace (loopback only)"
    exec unshare --net -- env GITOPS_ISOLATED=1 bash -c 'ip link set lo up && exec bash "$@"' bash "$@"
  fi
  _gitops_log "WARNING: cannot make a network namespace (unshare --net, ip); staying on the host network"
}

_gitops_load_tools() {
  if [ -z "${VERIFY_ARGOCD:-}" ]; then
    # shellcheck source=scripts/lib.sh
    . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
    local env="$VERIFY_CACHE_DIR/gitops-tools.env"
    if [ ! -f "$env" ]; then
      _gitops_log "ERROR: $env not found: run scripts/gitops/build-tools.sh first"
      return 1
    fi
    # shellcheck disable=SC1090
    . "$env"
  fi
  local t
  for t in "$VERIFY_ARGOCD" "$VERIFY_HELM" "$VERIFY_REDIS_SERVER" "$VERIFY_REDIS_CLI" "$VERIFY_KUBECTL" \
    "$VERIFY_KUBE_CONTROLLER_MANAGER" "$VERIFY_KUBE_SCHEDULER" "$VERIFY_KWOK" "$VERIFY_ARGOCD_BIN_DIR/git-verify-wrapper.sh"; do
    [ -x "$t" ] || { _gitops_log "ERROR: $t is missing: run scripts/gitops/build-tools.sh"; return 1; }
  done
  command -v git >/dev/null || { _gitops_log "ERROR: git is not installed"; return 1; }
}

# A process that has exited but is not yet reaped (a zombie: its parent, the start subshell,
# is gone and init reaps late) counts as stopped.
_gitops_pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ "$st" != Z ]
}

# _gitops_spawn NAME COMMAND... : starts COMMAND in its own session (so its children, e.g. git
# daemon's per-connection forks or the repo-server's git and helm, stop with it), logs to
# $GITOPS_DIR/logs/NAME.log, and records the pid (= process group id) for harness_stop.
_gitops_spawn() {
  local name="$1" pidf="$GITOPS_DIR/pids/$1.pid" i
  shift
  # The child writes its own pid after setsid (setsid forks when its caller leads a process
  # group, e.g. under job control, so $! would name a process that exits at once).
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >"$GITOPS_DIR/logs/$name.log" 2>&1 &
  echo "$name" >>"$GITOPS_DIR/pids/order"
  for i in $(seq 1 50); do [ -s "$pidf" ] && return 0; sleep 0.1; done
  _gitops_log "ERROR: $name did not start"
  return 1
}

# _gitops_wait NAME SECONDS COMMAND... : polls COMMAND each 0.2 s until it succeeds; fails early,
# with the end of NAME's log, when NAME's process has exited.
_gitops_wait() {
  local name="$1" secs="$2" i pid
  shift 2
  pid="$(cat "$GITOPS_DIR/pids/$name.pid")"
  for i in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! _gitops_pid_alive "$pid"; then
      _gitops_log "ERROR: $name exited; last lines of its log:"
      tail -n 30 "$GITOPS_DIR/logs/$name.log" >&2
      return 1
    fi
    sleep 0.2
  done
  _gitops_log "ERROR: $name not ready after ${secs}s; last lines of its log:"
  tail -n 30 "$GITOPS_DIR/logs/$name.log" >&2
  return 1
}

_gitops_redis_pong() { [ "$("$VERIFY_REDIS_CLI" -h 127.0.0.1 -p "$1" ping)" = PONG ]; }
_gitops_node_ready() {
  [ "$("$VERIFY_KUBECTL" get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
_gitops_http_ok() { curl -fsS --max-time 2 -o /dev/null "$1"; }
_gitops_tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# _gitops_apply_crds [--chart-only] : Argo CD's own CRDs (not with --chart-only) and every CRD of
# the LB controller chart (its crds/*.yaml), to the API server of $KUBECONFIG. The chart's CRDs go in
# beforehand, as in a cluster that has them: when the chart's first sync creates them itself, Argo
# CD's cluster cache re-reads the APIs meanwhile and can miss the objects just applied, and the
# self-heal that follows re-applies them from a fresh render (see scripts/verify-gitops.sh).
_gitops_apply_crds() {
  local crds=() names n pending f
  [ "${1:-}" = --chart-only ] || crds=("$VERIFY_ARGOCD_CRDS_DIR"/*-crd.yaml)
  for f in "$_GITOPS_CHART_DIR"/crds/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] || crds+=("$f")
  done
  _gitops_log "applying CRDs: $([ "${1:-}" = --chart-only ] || echo "Argo CD $VERIFY_ARGOCD_VERSION's own and ")the LB controller chart's (${#crds[@]} files)"
  local args=() f
  for f in "${crds[@]}"; do [ -f "$f" ] || { _gitops_log "ERROR: $f not found"; return 1; }; args+=(-f "$f"); done
  # Server-side: the Argo CD CRDs are too big for client-side apply's annotation.
  names="$("$VERIFY_KUBECTL" apply --server-side --field-manager verify-crds -o name "${args[@]}")"
  for _ in $(seq 1 120); do
    pending=""
    for n in $names; do
      [ "$("$VERIFY_KUBECTL" get "$n" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ] \
        || pending+=" $n"
    done
    [ -n "$pending" ] || return 0
    sleep 0.5
  done
  _gitops_log "ERROR: CRDs not Established:$pending"
  return 1
}

_gitops_argocd_config() {
  local ns="$GITOPS_NAMESPACE"
  "$VERIFY_KUBECTL" create namespace "$ns" >&2
  # The smallest set the controllers run with: the settings informers select by the part-of
  # label; argocd-rbac-cm is read by the applicationset controller's project checks; without
  # server.secretkey the applicationset controller logs "failed to get argocd settings:
  # server.secretkey is missing" and runs without its webhook handler (a key for this run only).
  local key
  key="$(openssl rand -base64 32)"
  "$VERIFY_KUBECTL" apply -f - >&2 <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: $ns
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  timeout.reconciliation: ${GITOPS_RECONCILIATION:-180}s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: $ns
  labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: $ns
  labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}
type: Opaque
stringData:
  server.secretkey: $key
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: $ns
spec:
  sourceRepos: ['*']
  destinations: [{server: '*', namespace: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-notifications-secret
  namespace: $ns
  labels: {app.kubernetes.io/name: argocd-notifications-secret, app.kubernetes.io/part-of: argocd}
type: Opaque
EOF
}

_gitops_start_redis() {
  local port="$1"
  mkdir -p "$GITOPS_DIR/redis"
  _gitops_log "starting redis on 127.0.0.1:$port ($("$VERIFY_REDIS_SERVER" --version | awk '{print $3}'))"
  _gitops_spawn redis "$VERIFY_REDIS_SERVER" --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --save '' --appendonly no --dir "$GITOPS_DIR/redis" --loglevel warning
  _gitops_wait redis 20 _gitops_redis_pong "$port"
}

_gitops_start_git() {
  local port="$1" g="$GITOPS_DIR/git"
  mkdir -p "$g"
  git init --quiet --bare --initial-branch=main "$g/repo.git"
  _gitops_log "starting git daemon on git://127.0.0.1:$port/repo.git (push enabled)"
  _gitops_spawn git-daemon git daemon --reuseaddr --listen=127.0.0.1 --port="$port" \
    --base-path="$g" --export-all --enable=receive-pack --informative-errors "$g"
  _gitops_wait git-daemon 20 git ls-remote "git://127.0.0.1:$port/repo.git"
  git clone --quiet "git://127.0.0.1:$port/repo.git" "$GITOPS_DIR/worktree" 2>/dev/null
  git -C "$GITOPS_DIR/worktree" symbolic-ref HEAD refs/heads/main
  git -C "$GITOPS_DIR/worktree" config user.name "gitops harness"
  git -C "$GITOPS_DIR/worktree" config user.email "harness@verify.invalid"
  echo "Throwaway repository served by scripts/gitops/harness.sh" >"$GITOPS_DIR/worktree/README"
  git -C "$GITOPS_DIR/worktree" add README
  git -C "$GITOPS_DIR/worktree" commit --quiet -m "initial commit"
  git -C "$GITOPS_DIR/worktree" push --quiet origin main 2>&1 | sed 's/^/[git] /' >&2
}

_gitops_start_helm_repo() {
  local port="$1" r="$GITOPS_DIR/helm-repo"
  mkdir -p "$r"
  "$VERIFY_HELM" package "$_GITOPS_CHART_DIR" --destination "$r" >&2
  "$VERIFY_HELM" repo index "$r" --url "http://127.0.0.1:$port"
  _gitops_log "starting the Helm repository on http://127.0.0.1:$port ($(cd "$r" && ls ./*.tgz | tr '\n' ' '))"
  _gitops_spawn helm-repo python3 -m http.server "$port" --bind 127.0.0.1 --directory "$r"
  _gitops_wait helm-repo 20 _gitops_http_ok "http://127.0.0.1:$port/index.yaml"
}

# The environment every Argo CD process gets: this API server as "in cluster", and every
# path it would write (HOME, TMPDIR, tls/ssh/gpg data) inside $GITOPS_DIR.
_gitops_argocd_env() {
  local a="$GITOPS_DIR/argocd"
  printf '%s\n' env \
    "PATH=$VERIFY_ARGOCD_BIN_DIR:$(dirname "$(readlink -f "$VERIFY_HELM")"):$PATH" \
    "KUBECONFIG=$KUBECONFIG" ARGOCD_FAKE_IN_CLUSTER=true \
    "HOME=$a/home" "TMPDIR=$a/tmp" GIT_CONFIG_NOSYSTEM=1 \
    "HELM_CACHE_HOME=$a/home/.cache/helm" "HELM_CONFIG_HOME=$a/home/.config/helm" "HELM_DATA_HOME=$a/home/.local/share/helm" \
    "ARGOCD_TLS_DATA_PATH=$a/tls" "ARGOCD_SSH_DATA_PATH=$a/ssh" "ARGOCD_GNUPGHOME=$a/gnupg" \
    "ARGOCD_GPG_DATA_PATH=$a/gpg" ARGOCD_GPG_ENABLED=false "ARGOCD_PLUGINSOCKFILEPATH=$a/plugins" \
    "ARGOCD_RECONCILIATION_TIMEOUT=${GITOPS_RECONCILIATION:-180}s"
}

_gitops_start_argocd() {
  local redis="$1" repo="$2" repo_metrics="$3" ctl_metrics="$4" as_metrics="$5" as_probe="$6" as_webhook="$7"
  local a="$GITOPS_DIR/argocd" lvl="${GITOPS_LOGLEVEL:-info}" envv=()
  mkdir -p "$a/home" "$a/tmp" "$a/tls" "$a/ssh" "$a/gnupg" "$a/gpg" "$a/plugins"
  chmod 700 "$a/gnupg"
  mapfile -t envv < <(_gitops_argocd_env)

  _gitops_log "starting argocd-repo-server on 127.0.0.1:$repo (plaintext gRPC)"
  # --disable-tls serves plaintext gRPC; --client-ca-path= (empty) skips the mTLS CA file
  # that would otherwise be read from /app/config/reposerver/mtls/client-ca.crt.
  _gitops_spawn repo-server "${envv[@]}" "$VERIFY_ARGOCD_BIN_DIR/argocd-repo-server" \
    --address 127.0.0.1 --port "$repo" --metrics-address 127.0.0.1 --metrics-port "$repo_metrics" \
    --redis "127.0.0.1:$redis" --disable-tls --client-ca-path= \
    --loglevel "$lvl" --logformat text
  _gitops_wait repo-server 60 _gitops_http_ok "http://127.0.0.1:$repo_metrics/healthz"

  _gitops_log "starting argocd-application-controller (resync ${GITOPS_RECONCILIATION:-180}s)"
  _gitops_spawn application-controller "${envv[@]}" "$VERIFY_ARGOCD_BIN_DIR/argocd-application-controller" \
    --namespace "$GITOPS_NAMESPACE" --redis "127.0.0.1:$redis" \
    --repo-server "127.0.0.1:$repo" --repo-server-plaintext \
    --metrics-port "$ctl_metrics" --app-resync "${GITOPS_RECONCILIATION:-180}" \
    --status-processors 4 --operation-processors 2 \
    --application-namespaces "${GITOPS_APPLICATION_NAMESPACES:-}" \
    --loglevel "$lvl" --logformat text
  _gitops_wait application-controller 60 _gitops_http_ok "http://127.0.0.1:$ctl_metrics/healthz"

  _gitops_log "starting argocd-applicationset-controller"
  _gitops_spawn applicationset-controller "${envv[@]}" "$VERIFY_ARGOCD_BIN_DIR/argocd-applicationset-controller" \
    --namespace "$GITOPS_NAMESPACE" --argocd-repo-server "127.0.0.1:$repo" --repo-server-plaintext \
    --metrics-addr "127.0.0.1:$as_metrics" --probe-addr "127.0.0.1:$as_probe" --webhook-addr "127.0.0.1:$as_webhook" \
    --enable-leader-election=false --enable-scm-providers=false \
    --loglevel "$lvl" --logformat text
  # It registers no health checks on its probe address; its metrics answer once the manager runs.
  _gitops_wait applicationset-controller 60 _gitops_http_ok "http://127.0.0.1:$as_metrics/metrics"
}

# argocd-notifications: reads argocd-notifications-cm and -secret (empty until a test sets a key) and
# the Applications of Argo CD's namespace and of GITOPS_APPLICATION_NAMESPACES. Its metrics server binds
# 0.0.0.0 (not a flag); in the harness's own network namespace that is loopback only.
_gitops_start_notifications() {
  local repo="$1" metrics="$2" envv=()
  mapfile -t envv < <(_gitops_argocd_env)
  _gitops_log "starting argocd-notifications (metrics on :$metrics)"
  _gitops_spawn notifications "${envv[@]}" "$VERIFY_ARGOCD_BIN_DIR/argocd-notifications" \
    --namespace "$GITOPS_NAMESPACE" --argocd-repo-server "127.0.0.1:$repo" --argocd-repo-server-plaintext \
    --metrics-port "$metrics" --application-namespaces "${GITOPS_APPLICATION_NAMESPACES:-}" \
    --loglevel "${GITOPS_LOGLEVEL:-info}" --logformat text
  _gitops_wait notifications 60 _gitops_http_ok "http://127.0.0.1:$metrics/metrics"
}

# kube-controller-manager runs by default: Argo CD prunes (and its resources finalizer
# deletes) with foreground propagation, so without the garbage collector a pruned object
# stays Terminating forever; it also deletes namespaces and makes their `default`
# ServiceAccount. --no-controller-manager leaves the bare API server of apiserver.sh.
# _gitops_start_kcm PORT [SUFFIX]: for the API server of $KUBECONFIG and $VERIFY_APISERVER_DIR;
# SUFFIX (e.g. -staging) names the process and its dirs when there is more than one cluster.
_gitops_start_kcm() {
  local kcm="$1" sfx="${2:-}" d="$GITOPS_DIR/k8s${2:-}"
  mkdir -p "$d/kcm"
  _gitops_log "starting kube-controller-manager$sfx on 127.0.0.1:$kcm ($("$VERIFY_KUBE_CONTROLLER_MANAGER" --version))"
  # The service-account key and CA make the token and root-CA controllers work, so new
  # namespaces get their `default` ServiceAccount and pods are admitted.
  _gitops_spawn "kube-controller-manager$sfx" "$VERIFY_KUBE_CONTROLLER_MANAGER" \
    --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
    --bind-address 127.0.0.1 --secure-port "$kcm" --cert-dir "$d/kcm" --leader-elect=false \
    --service-account-private-key-file "$VERIFY_APISERVER_DIR/pki/sa.key" \
    --root-ca-file "$VERIFY_APISERVER_DIR/pki/ca.crt" --use-service-account-credentials=false \
    --controllers '*' --cluster-name verify --v=1
  _gitops_wait "kube-controller-manager$sfx" 60 curl -fsSk --max-time 2 "https://127.0.0.1:$kcm/healthz"
}

# kube-scheduler + kwok + one fake node: pods get scheduled and go Running/Ready.
# _gitops_start_kwok SCHED_PORT KWOK_PORT [SUFFIX], for the API server of $KUBECONFIG.
# GITOPS_KWOK_READY_SINCE=N (seconds, default 0) makes the fake kubelet report each pod's Ready
# and ContainersReady conditions as True since N seconds ago (see the header).
_gitops_start_kwok() {
  local sched="$1" kwok="$2" sfx="${3:-}" d="$GITOPS_DIR/k8s${3:-}" node=kwok-node-0 stages=() f
  local since="${GITOPS_KWOK_READY_SINCE:-0}"
  mkdir -p "$d/scheduler" "$d/stages"
  _gitops_log "starting kube-scheduler$sfx on 127.0.0.1:$sched"
  _gitops_spawn "kube-scheduler$sfx" "$VERIFY_KUBE_SCHEDULER" \
    --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
    --bind-address 127.0.0.1 --secure-port "$sched" --cert-dir "$d/scheduler" --leader-elect=false --v=1
  _gitops_wait "kube-scheduler$sfx" 60 curl -fsSk --max-time 2 "https://127.0.0.1:$sched/healthz"

  for f in "$VERIFY_KWOK_STAGES_DIR"/*.yaml; do
    if [ "$(basename "$f")" = pod-ready.yaml ] && [ "$since" != 0 ]; then
      _gitops_backdated_pod_ready "$f" "$d/stages/pod-ready.yaml" "$since"
      stages+=(-c "$d/stages/pod-ready.yaml")
    else
      stages+=(-c "$f")
    fi
  done
  _gitops_log "starting kwok$sfx $VERIFY_KWOK_VERSION on 127.0.0.1:$kwok (node $node, stages: $(cd "$VERIFY_KWOK_STAGES_DIR" && ls | tr '\n' ' ')$([ "$since" = 0 ] || echo "; pods report Ready since ${since}s before now"))"
  _gitops_spawn "kwok$sfx" "$VERIFY_KWOK" --kubeconfig "$KUBECONFIG" "${stages[@]}" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --server-address "127.0.0.1:$kwok" --node-ip 127.0.0.1 --node-port "$kwok" \
    --cidr 10.244.0.1/24 --node-lease-duration-seconds 40
  _gitops_wait "kwok$sfx" 30 _gitops_tcp_open "$kwok"
  "$VERIFY_KUBECTL" apply -f - >&2 <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $node
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: $node, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "32", memory: 256Gi, ephemeral-storage: 1Ti, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, ephemeral-storage: 1Ti, pods: "110"}
EOF
  _gitops_wait "kwok$sfx" 60 _gitops_node_ready "$node"
  echo "$node" >"$GITOPS_DIR/kwok-node$sfx"
  _gitops_log "node $node is Ready${sfx:+ (cluster ${sfx#-})}"
}

# _gitops_backdated_pod_ready SRC DST SECONDS: kwok's pod-ready stage with the Ready and
# ContainersReady conditions' lastTransitionTime moved SECONDS back (sprig's dateModify, which
# kwok's templates include); startTime and the containers' startedAt stay at now.
_gitops_backdated_pod_ready() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
src, dst, since = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(src).read()
anchor = '{{ $now := Now }}'
if anchor not in text:
    sys.exit('kwok pod-ready.yaml changed upstream: no %s' % anchor)
text = text.replace(anchor, anchor + '\n      {{ $readySince := dateInZone "2006-01-02T15:04:05Z" (now | dateModify "-%ds") "UTC" }}' % since, 1)
for cond in ('Ready', 'ContainersReady'):
    line = '- lastTransitionTime: {{ $now | Quote }}\n        status: "True"\n        type: %s\n' % cond
    if line not in text:
        sys.exit('kwok pod-ready.yaml changed upstream: no %s condition' % cond)
    text = text.replace(line, line.replace('$now', '$readySince'), 1)
open(dst, 'w').write(text)
PY
}

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

# ---- more clusters -------------------------------------------------------------------------
# harness_start --cluster NAME starts another API server (scripts/cluster/apiserver.sh; of the CRDs
# only the LB controller chart's), its own kube-controller-manager and, with
# --kwok, its own scheduler, kwok and fake node; then registers it in Argo CD as a cluster
# Secret in the argocd namespace (name NAME, the server's URL, its CA and an admin client
# certificate), as `argocd cluster add` would. Applications reach it with destination.name NAME.
# Its processes are named with the suffix -NAME. gitops_cluster_dir NAME prints its API server
# dir (kubeconfig, pki/).

_gitops_cluster_begin() {
  local cd="$GITOPS_DIR/clusters/$1"
  mkdir -p "$cd/tmp"
  _gitops_log "starting the API server of cluster $1 (in the background)"
  # Its temp dir lives under $GITOPS_DIR, so harness_stop finds it even if the start is cut short.
  ( TMPDIR="$cd/tmp" VERIFY_SKIP_CRDS=1 bash "$_GITOPS_REPO/scripts/cluster/apiserver.sh" start \
      >"$cd/apiserver.env" 2>"$GITOPS_DIR/logs/apiserver-$1.log"
    echo $? >"$cd/apiserver.rc" ) &
  echo $! >"$cd/apiserver-start.pid"
}

_gitops_cluster_finish() { # _gitops_cluster_finish NAME KWOK
  local name="$1" kwok="$2" cd="$GITOPS_DIR/clusters/$1" dir rc
  wait "$(cat "$cd/apiserver-start.pid")" 2>/dev/null || true
  rc="$(cat "$cd/apiserver.rc" 2>/dev/null || echo 1)"
  dir="$(sed -n "s/.*VERIFY_APISERVER_DIR='\([^']*\)'.*/\1/p" "$cd/apiserver.env" 2>/dev/null)"
  if [ "$rc" != 0 ] || [ -z "$dir" ]; then
    _gitops_log "ERROR: the API server of cluster $name did not start:"
    tail -n 30 "$GITOPS_DIR/logs/apiserver-$name.log" >&2
    return 1
  fi
  echo "$dir" >"$cd/apiserver-dir"
  (
    set -euo pipefail
    export KUBECONFIG="$dir/kubeconfig" VERIFY_APISERVER_DIR="$dir" KUBECACHEDIR="$dir/kube-cache"
    local ports
    read -r -a ports <<<"$(_apiserver_free_ports 3)"
    _gitops_apply_crds --chart-only
    _gitops_start_kcm "${ports[0]}" "-$name"
    if [ "$kwok" = 1 ]; then _gitops_start_kwok "${ports[1]}" "${ports[2]}" "-$name"; fi
  ) || return 1
  _gitops_register_cluster "$name" "$dir"
}

# _gitops_register_cluster NAME APISERVER_DIR : the cluster Secret Argo CD reads.
_gitops_register_cluster() {
  local name="$1" dir="$2" server config
  server="$("$VERIFY_KUBECTL" --kubeconfig "$dir/kubeconfig" config view -o 'jsonpath={.clusters[0].cluster.server}')"
  config="$(python3 -c 'import base64, json, sys
b = lambda p: base64.b64encode(open(p, "rb").read()).decode()
print(json.dumps({"tlsClientConfig": {"caData": b(sys.argv[1]), "certData": b(sys.argv[2]), "keyData": b(sys.argv[3])}}))' \
    "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key")"
  _gitops_log "registering cluster $name ($server) in Argo CD: Secret cluster-$name in $GITOPS_NAMESPACE"
  "$VERIFY_KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: cluster-$name
  namespace: $GITOPS_NAMESPACE
  labels: {argocd.argoproj.io/secret-type: cluster}
type: Opaque
stringData:
  name: $name
  server: $server
  config: '$config'
EOF
}

# gitops_cluster_dir NAME : the API server dir of a cluster (in-cluster: the first one).
gitops_cluster_dir() {
  if [ "$1" = in-cluster ]; then cat "$GITOPS_DIR/apiserver-dir"; else cat "$GITOPS_DIR/clusters/$1/apiserver-dir"; fi
}

# gitops_lb_controller_standin CLUSTER : starts scripts/gitops/lb-controller-standin.py for that
# cluster (in-cluster or a --cluster NAME): it serves the chart's webhooks on their Service's
# ClusterIP with the chart's TLS Secret, and adds/releases the Ingress finalizer and writes the
# Ingress status, as the controller pod would. Events: $GITOPS_DIR/logs/lb-controller-standin-CLUSTER.events.jsonl.
# It adds that ClusterIP to lo only inside the harness's own network namespace (gitops_isolate);
# elsewhere it refuses the webhook part, since the API server would then dial it off the machine.
gitops_lb_controller_standin() {
  local name="$1" dir server add=()
  dir="$(gitops_cluster_dir "$name")" || return 1
  server="$("$VERIFY_KUBECTL" --kubeconfig "$dir/kubeconfig" config view -o 'jsonpath={.clusters[0].cluster.server}')"
  if [ "${GITOPS_ISOLATED:-0}" = 1 ]; then add=(--add-address)
  else _gitops_log "WARNING: not in an own network namespace: the webhook stand-in of $name will not serve"; fi
  mkdir -p "$GITOPS_DIR/standin/$name"
  _gitops_spawn "lb-controller-standin-$name" python3 "$_GITOPS_HERE/lb-controller-standin.py" --cluster "$name" \
    --server "$server" --ca "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
    --workdir "$GITOPS_DIR/standin/$name" --events "$GITOPS_DIR/logs/lb-controller-standin-$name.events.jsonl" "${add[@]}"
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

# An APP is NAME (in Argo CD's namespace) or NAMESPACE/NAME (Applications in any namespace).
_gitops_app() { if [[ "$1" == */* ]]; then echo "-n ${1%%/*} ${1#*/}"; else echo "-n $GITOPS_NAMESPACE $1"; fi; }

# gitops_refresh APP [normal|hard] : what the UI's Refresh button does (hard also drops the
# repo-server's manifest cache).
gitops_refresh() {
  # shellcheck disable=SC2046
  "$VERIFY_KUBECTL" annotate --overwrite applications.argoproj.io $(_gitops_app "$1") \
    "argocd.argoproj.io/refresh=${2:-normal}" >/dev/null
}

# gitops_memory : for every process the harness and the API server started, its peak and
# current resident memory (VmHWM, VmRSS, MiB), then the totals (the sum of peaks is an upper
# bound of the peak of the whole).
gitops_memory() {
  local d="$GITOPS_DIR" name pid hwm rss thwm=0 trss=0 ad p pids=()
  for name in $(cat "$d/pids/order" 2>/dev/null); do pids+=("$name:$(cat "$d/pids/$name.pid")"); done
  ad="$(cat "$d/apiserver-dir" 2>/dev/null)"
  for name in etcd kube-apiserver; do [ -f "$ad/$name.pid" ] && pids+=("$name:$(cat "$ad/$name.pid")"); done
  local cd c
  for cd in "$d"/clusters/*/; do
    [ -f "$cd/apiserver-dir" ] || continue
    ad="$(cat "$cd/apiserver-dir")"; c="$(basename "$cd")"
    for name in etcd kube-apiserver; do [ -f "$ad/$name.pid" ] && pids+=("$name-$c:$(cat "$ad/$name.pid")"); done
  done
  printf '%-44s %9s %9s\n' process 'peak MiB' 'now MiB'
  for p in "${pids[@]}"; do
    name="${p%%:*}"; pid="${p#*:}"
    hwm="$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2>/dev/null)"
    rss="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null)"
    [ -n "$hwm" ] || continue
    printf '%-44s %9d %9d\n' "$name" $((hwm / 1024)) $((rss / 1024))
    thwm=$((thwm + hwm)); trss=$((trss + rss))
  done
  printf '%-44s %9d %9d\n' total $((thwm / 1024)) $((trss / 1024))
}
