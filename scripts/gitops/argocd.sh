# shellcheck shell=bash
# The GitOps harness: Argo CD's own objects and processes (settings, redis, the git daemon, the Helm repository, repo-server, controllers, notifications).
# Sourced by scripts/gitops/harness.sh (its header says what the harness does); not on its own.

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
