# shellcheck shell=bash
# The GitOps harness: starting, waiting for and measuring its processes (spawn in a session of its own, wait on a probe, memory).
# Sourced by scripts/gitops/harness.sh (its header says what the harness does); not on its own.

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
