#!/usr/bin/env bash
# A throwaway, real Kubernetes control plane (etcd + kube-apiserver, no controller
# manager, no scheduler, no nodes) on 127.0.0.1, for verifying manifests in CI.
# Verification tooling only. Needs the tools from scripts/cluster/build-tools.sh.
#
# Called:                                         Sourced:
#   eval "$(bash apiserver.sh start)"               . scripts/cluster/apiserver.sh
#   trap 'bash apiserver.sh stop' EXIT              trap apiserver_stop EXIT
#   ... kubectl ...                                  apiserver_start   # exports KUBECONFIG
#   (stop reads VERIFY_APISERVER_DIR or $2)          ... kubectl ...
#
# start: makes a temp dir (mktemp, under $TMPDIR) holding a throwaway CA, serving and
#   client certificates and a service-account signing key (apiserver-pki.sh; valid 2 days,
#   made for this run only), etcd's data and both logs; starts etcd and kube-apiserver on free
#   loopback ports; writes a kubeconfig (user verify-admin, group system:masters, so RBAC
#   lets it do anything); waits for /readyz; then applies (server-side, apiserver-crds.sh) the
#   CRDs that crd-files.sh lists from test/fixtures (Argo CD, Prometheus Operator, the LB controller) and
#   waits until they are Established. On stdout (called form) it prints
#     export KUBECONFIG='<dir>/kubeconfig'  export VERIFY_APISERVER_DIR='<dir>'
#     export KUBECACHEDIR='<dir>/kube-cache'
#   everything else goes to stderr. A failed start cleans up after itself.
# stop: stops kube-apiserver and etcd (TERM, then KILL after 15 s) and removes the dir.
#   Safe to call twice, or when start failed half-way.
#
# Environment: VERIFY_CACHE_DIR (where build-tools.sh put tools.env),
#   VERIFY_SKIP_CRDS=1 (apply no CRDs),
#   VERIFY_APISERVER_READY_TIMEOUT (seconds, default 180).
#
# What this server does NOT do (there is no kube-controller-manager, scheduler or kubelet):
#   * Deployments/ReplicaSets never create Pods, Services get no Endpoints, nothing is
#     ever Ready; no status is ever written by a controller.
#   * Namespace deletion hangs (the namespace controller never removes the
#     `kubernetes` finalizer); objects with finalizers (e.g. an Ingress with
#     ingress.k8s.aws/resources) stay Terminating forever; garbage collection
#     (ownerReferences) never runs. Don't wait on deletions; throw the server away.
#   * No `default` ServiceAccount is created in new namespaces (so a bare Pod without
#     serviceAccountName is rejected by the ServiceAccount admission plugin), and no
#     kube-root-ca.crt ConfigMaps.
#   * No admission webhooks are installed (the AWS LB controller's webhooks are not there).
#   It DOES do: OpenAPI schema validation with unknown/duplicate-field errors (kubectl
#   --validate=strict, the default), defaulting, built-in validation (names, labels,
#   ports, selectors, Ingress rules...), CRD structural-schema validation, admission
#   (NamespaceLifecycle: objects in a namespace that does not exist are rejected — so
#   apply the Namespaces for real before a --dry-run=server of namespaced objects),
#   server-side apply, and kubectl diff.

_apiserver_log() { printf '[apiserver] %s\n' "$*" >&2; }

_apiserver_load_tools() {
  local here repo
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  repo="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
  _APISERVER_REPO="$repo"
  # shellcheck source=scripts/cluster/crd-files.sh
  . "$here/crd-files.sh"
  # shellcheck source=scripts/cluster/apiserver-pki.sh
  . "$here/apiserver-pki.sh"
  # shellcheck source=scripts/cluster/apiserver-crds.sh
  . "$here/apiserver-crds.sh"
  if [ -z "${VERIFY_KUBE_APISERVER:-}" ]; then
    # shellcheck source=scripts/lib.sh
    . "$here/../lib.sh"
    local env="$VERIFY_CACHE_DIR/tools.env"
    if [ ! -f "$env" ]; then
      _apiserver_log "ERROR: $env not found: run scripts/cluster/build-tools.sh first"
      return 1
    fi
    # shellcheck disable=SC1090
    . "$env"
  fi
  local t
  for t in "$VERIFY_KUBE_APISERVER" "$VERIFY_ETCD" "$VERIFY_KUBECTL"; do
    [ -x "$t" ] || { _apiserver_log "ERROR: $t is missing: run scripts/cluster/build-tools.sh"; return 1; }
  done
  command -v openssl >/dev/null || { _apiserver_log "ERROR: openssl is not installed"; return 1; }
}

# Prints N distinct free TCP ports on 127.0.0.1.
_apiserver_free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

_apiserver_pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

_apiserver_dump_logs() {
  local d="$1" f
  for f in "$d/logs/etcd.log" "$d/logs/kube-apiserver.log"; do
    [ -f "$f" ] || continue
    _apiserver_log "---- last lines of $f"
    tail -n 30 "$f" >&2
  done
}

apiserver_stop() {
  local d="${1:-${VERIFY_APISERVER_DIR:-}}" name pid i
  [ -n "$d" ] || return 0
  [ -d "$d" ] || return 0
  case "$d" in */verify-apiserver.*) ;; *) _apiserver_log "refusing to remove $d"; return 1 ;; esac
  for name in kube-apiserver etcd; do
    [ -f "$d/$name.pid" ] || continue
    pid="$(cat "$d/$name.pid")"
    if _apiserver_pid_alive "$pid"; then
      _apiserver_log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 150); do _apiserver_pid_alive "$pid" || break; sleep 0.1; done
      if _apiserver_pid_alive "$pid"; then
        _apiserver_log "$name did not stop in 15 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do _apiserver_pid_alive "$pid" || break; sleep 0.1; done
      fi
    fi
    # Reap it when it is our own child (sourced use); harmless otherwise.
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$d"
  _apiserver_log "stopped; removed $d"
  if [ "${VERIFY_APISERVER_DIR:-}" = "$d" ]; then
    unset VERIFY_APISERVER_DIR
  fi
  return 0
}

_apiserver_start_inner() {
  local d="$1" etcd_client etcd_peer api_port i timeout
  mkdir -p "$d/pki" "$d/logs" "$d/etcd-data" "$d/kube-cache"
  chmod 700 "$d" "$d/etcd-data"
  _apiserver_certs "$d" || return 1
  read -r etcd_client etcd_peer api_port <<<"$(_apiserver_free_ports 3)"

  _apiserver_log "starting etcd on 127.0.0.1:$etcd_client ($("$VERIFY_ETCD" --version | head -n1))"
  "$VERIFY_ETCD" --name verify --data-dir "$d/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "verify=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
    --logger zap --log-level warn \
    </dev/null >"$d/logs/etcd.log" 2>&1 &
  echo $! >"$d/etcd.pid"

  _apiserver_log "starting kube-apiserver on https://127.0.0.1:$api_port ($("$VERIFY_KUBE_APISERVER" --version))"
  "$VERIFY_KUBE_APISERVER" \
    --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$d/pki/server.crt" --tls-private-key-file "$d/pki/server.key" \
    --client-ca-file "$d/pki/ca.crt" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$d/pki/sa.pub" \
    --service-account-signing-key-file "$d/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --allow-privileged=true \
    --profiling=false \
    --cert-dir "$d/pki" \
    --v=1 \
    </dev/null >"$d/logs/kube-apiserver.log" 2>&1 &
  echo $! >"$d/kube-apiserver.pid"

  _apiserver_kubeconfig "$d" "$api_port"
  export KUBECONFIG="$d/kubeconfig" KUBECACHEDIR="$d/kube-cache"

  timeout="${VERIFY_APISERVER_READY_TIMEOUT:-180}"
  _apiserver_log "waiting up to ${timeout}s for /readyz"
  for i in $(seq 1 "$timeout"); do
    if ! _apiserver_pid_alive "$(cat "$d/etcd.pid")"; then
      _apiserver_log "ERROR: etcd exited"; _apiserver_dump_logs "$d"; return 1
    fi
    if ! _apiserver_pid_alive "$(cat "$d/kube-apiserver.pid")"; then
      _apiserver_log "ERROR: kube-apiserver exited"; _apiserver_dump_logs "$d"; return 1
    fi
    if [ "$("$VERIFY_KUBECTL" get --raw /readyz 2>/dev/null)" = "ok" ]; then
      _apiserver_log "ready after ${i}s: $("$VERIFY_KUBECTL" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"
      break
    fi
    if [ "$i" -eq "$timeout" ]; then
      _apiserver_log "ERROR: kube-apiserver not ready after ${timeout}s"
      "$VERIFY_KUBECTL" get --raw '/readyz?verbose' >&2 2>&1 || true
      _apiserver_dump_logs "$d"; return 1
    fi
    sleep 1
  done

  if [ "${VERIFY_SKIP_CRDS:-0}" = 1 ]; then
    _apiserver_log "VERIFY_SKIP_CRDS=1: no CRDs applied"
    return 0
  fi
  _apiserver_apply_crds "$_APISERVER_REPO"
}

apiserver_start() {
  _apiserver_load_tools || return 1
  local d
  d="$(mktemp -d "${TMPDIR:-/tmp}/verify-apiserver.XXXXXX")" || return 1
  export VERIFY_APISERVER_DIR="$d"
  # Run the steps in a subshell with errexit on (not under `if`, so it holds), and
  # clean up on any failure.
  local rc had_e=0
  case "$-" in *e*) had_e=1 ;; esac
  set +e
  ( set -euo pipefail; _apiserver_start_inner "$d" )
  rc=$?
  [ "$had_e" -eq 0 ] || set -e
  if [ "$rc" -ne 0 ]; then
    _apiserver_log "start failed; cleaning up"
    apiserver_stop "$d"
    return 1
  fi
  export KUBECONFIG="$d/kubeconfig" KUBECACHEDIR="$d/kube-cache"
  return 0
}

# Called, not sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      set +e
      apiserver_start
      rc=$?
      set -e
      [ "$rc" -eq 0 ] || exit 1
      printf "export KUBECONFIG='%s' VERIFY_APISERVER_DIR='%s' KUBECACHEDIR='%s'\n" \
        "$KUBECONFIG" "$VERIFY_APISERVER_DIR" "$KUBECACHEDIR"
      ;;
    stop)
      apiserver_stop "${2:-${VERIFY_APISERVER_DIR:-}}"
      ;;
    *)
      echo "usage: $0 start|stop [DIR]" >&2
      exit 2
      ;;
  esac
fi
