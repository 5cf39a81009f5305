# shellcheck shell=bash
# What both tool builders share (scripts/cluster/build-tools.sh and scripts/gitops/build-tools.sh):
# self-contained Go caches, one build at a time per cache dir, atomic and timed builds, and the
# Kubernetes commands built from the k8s.io/kubernetes module.
# Needs CACHE (an absolute path) and the caller's log and die. Source it; it takes the lock.

# The Kubernetes release both builders build (the API server, kubectl, the controller manager, the
# scheduler): one pin, so the test cluster's parts never differ. Latest v1.28 patch.
K8S_VERSION=v1.28.15

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

mod_dir() { # mod_dir MODULE@VERSION -> its directory in the module cache (downloads it)
  go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error","no Dir")))'
}
mod_time() { # mod_time MODULE VERSION -> the version's commit time, for build dates
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Time"][:19]+"Z")' \
    "$GOMODCACHE/cache/download/$1/@v/$2.info"
}

# Builds k8s.io/kubernetes/cmd/<COMMAND> at $K8S_VERSION into ./bin, version-stamped the way
# upstream's release builds are (so `--version` prints the real version). Run it in an empty
# work dir (build_into gives one). Usage: build_k8s_commands COMMAND...
build_k8s_commands() {
  local kdir commit date ldflags pkg v c pkgs=() staging="v0.${K8S_VERSION#v1.}"
  log "$*: resolving k8s.io/kubernetes@$K8S_VERSION (module download)"
  kdir="$(mod_dir "k8s.io/kubernetes@$K8S_VERSION")" || die "go mod download k8s.io/kubernetes@$K8S_VERSION failed"
  commit="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("Origin",{}).get("Hash",""))' \
    "$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info")"
  date="$(mod_time k8s.io/kubernetes "$K8S_VERSION")"
  # k8s.io/kubernetes replaces every k8s.io/* staging module with ./staging/...; those
  # directories are not in the module zip, so point each at its published v0.x version.
  {
    printf 'module verify.local/kubebuild\n\ngo 1.20\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    grep -E '^[[:space:]]*k8s\.io/[^ ]+ => \./staging/' "$kdir/go.mod" \
      | awk -v v="$staging" '{printf "\t%s => %s %s\n", $1, $1, v}'
    printf ')\n'
  } >go.mod
  [ "$(grep -c '=> k8s.io/' go.mod)" -ge 20 ] || die "found too few staging replaces in $kdir/go.mod"
  for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  log "$*: go get (downloads the dependency modules; cold: a few minutes)"
  go get "${pkgs[@]/%/@$K8S_VERSION}" >get.log 2>&1 \
    || { tail -n 40 get.log >&2; die "go get for $* failed"; }
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    v="${K8S_VERSION#v}"
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=${v%%.*}"
    v="${v#*.}"
    ldflags+=" -X $pkg.gitMinor=${v%%.*} -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  log "$*: go build with $GO_VERSION (cold: 10-20 min on 2 cores; packages shared with the other commands come from the build cache)"
  mkdir -p bin
  go build -trimpath -ldflags "$ldflags" -o bin/ "${pkgs[@]}" \
    || die "go build of $* $K8S_VERSION with $GO_VERSION failed"
  rm -f go.mod go.sum get.log
}
