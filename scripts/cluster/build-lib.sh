# shellcheck shell=bash
# What both tool builders share (scripts/cluster/build-tools.sh and scripts/gitops/build-tools.sh):
# self-contained Go caches, one build at a time per cache dir, and atomic, timed builds.
# Needs CACHE (an absolute path) and the caller's log and die. Source it; it takes the lock.

# Self-contained Go caches: an empty VERIFY_CACHE_DIR really is a cold start, and
# -modcacherw keeps the module cache removable with rm -rf.
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOPATH="$CACHE/go/path"
export GOTOOLCHAIN=local GOFLAGS="-modcacherw -buildvcs=false -p=2" CGO_ENABLED=0
GO_VERSION="$(go env GOVERSION)"

# One build at a time per cache dir (two CI runs on one machine would race).
exec 9>"$CACHE/.lock"
if ! flock -w 3600 9; then die "could not lock $CACHE/.lock within an hour"; fi

# Runs FUNCTION in a fresh work dir and moves it to FINAL_DIR only on success, so a half-built
# tool never looks done. Usage: build_into FINAL_DIR FUNCTION
build_into() {
  local final="$1" fn="$2" tmp rc
  tmp="$(mktemp -d "$CACHE/.tmp.XXXXXX")"
  # Not under `if`: set -e must stay in force inside the subshell.
  set +e
  ( set -e; cd "$tmp"; "$fn" "$tmp" ) >&2
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    rm -rf "$tmp"
    die "building $(basename "$final") failed (see the messages above)"
  fi
  rm -rf "$final"
  mkdir -p "$(dirname "$final")"
  mv "$tmp" "$final"
}

ensure() { # ensure NAME FINAL_DIR FUNCTION
  local t0
  if [ -d "$2" ]; then
    log "$1: cached ($2)"
  else
    t0=$(date +%s)
    build_into "$2" "$3"
    log "$1: built in $(($(date +%s) - t0))s ($2)"
  fi
}
