#!/usr/bin/env bash
# Builds (once) and caches the tools for a real Argo CD GitOps loop on loopback: Argo CD's
# controllers, helm, the Kubernetes controllers that make Deployments Available on a fake
# node, and redis. Verification tooling only: the product itself never runs any of this.
#
#   bash scripts/gitops/build-tools.sh             # build what is missing, print the env file
#   . "$VERIFY_CACHE_DIR/gitops-tools.env"      (scripts/lib.sh gives VERIFY_CACHE_DIR its default)
#
# It first runs scripts/cluster/build-tools.sh (kube-apiserver, kubectl, etcd, linters), then
# adds, each pinned below and cached under $VERIFY_CACHE_DIR keyed by version:
#   argocd                   Argo CD's multi-call binary, built from its Go module
#                            (github.com/argoproj/argo-cd/v3) with this machine's Go; the
#                            symlinks argocd-application-controller, argocd-repo-server,
#                            argocd-applicationset-controller and argocd-notifications select
#                            the component by name,
#                            as the upstream image does. Beside it: that release's CRDs
#                            (manifests/crds) and hack/git-verify-wrapper.sh.
#   helm                     the Helm CLI the repo-server shells out to for Helm sources
#   kube-controller-manager, kube-scheduler   Kubernetes $K8S_VERSION (same modules as the
#                            API server in scripts/cluster/build-tools.sh)
#   kwok                     fakes a kubelet: one node, pods go Running/Ready; plus its
#                            default stage files (the ones kwokctl uses)
#   redis-server             Debian's package, unpacked with its two libraries (no service)
#
# Environment: VERIFY_CACHE_DIR (cache root, default $HOME/.cache/envoy-edge-verify).
# Output: $VERIFY_CACHE_DIR/gitops-tools.env (sources tools.env, then sets VERIFY_* for these).
# Cold build on 2 cores: see the "built in" lines on stderr (argocd is the long one).
set -euo pipefail

# ---- pinned versions (change one and that tool is rebuilt) --------------------------
ARGOCD_VERSION=v3.5.7
# gitops-engine is a nested module that Argo CD's go.mod points at with `=> ./gitops-engine`,
# a directory the module zip lacks; its required pseudo-version is refused by the proxy (403).
ARGOCD_GITOPS_ENGINE_VERSION=v0.0.0-20260914071520-c9c369efcc5b
# Argo CD v3.5.x's image ships Helm 4 (hack/tool-versions.sh: helm4_version=4.2.1).
HELM_MODULE=helm.sh/helm/v4
HELM_VERSION=v4.2.1
KWOK_VERSION=v0.8.0
REDIS_DEB_VERSION=5:7.0.15-1~deb12u10   # Debian bookworm(-security) redis-server/redis-tools
JEMALLOC_DEB_VERSION=5.3.0-1
LZF_DEB_VERSION=3.6-3
# --------------------------------------------------------------------------------------

log() { printf '[gitops-tools] %s\n' "$*" >&2; }
die() { printf '[gitops-tools] ERROR: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/../.." && pwd))"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/../lib.sh"
CACHE="$VERIFY_CACHE_DIR"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
case "$CACHE" in *" "* | *:*) die "VERIFY_CACHE_DIR must not contain spaces or colons ($CACHE)" ;; esac

command -v go >/dev/null || die "go is not installed (this machine kind ships it)"
command -v python3 >/dev/null || die "python3 is needed"

# kube-apiserver, kubectl and etcd first (it takes and releases the same lock).
VERIFY_CACHE_DIR="$CACHE" bash "$REPO_ROOT/scripts/cluster/build-tools.sh" >/dev/null

# shellcheck source=scripts/cluster/build-lib.sh
. "$REPO_ROOT/scripts/cluster/build-lib.sh"

# ---- Argo CD ---------------------------------------------------------------------------
build_argocd() {
  local dir="$1" adir ldflags
  log "argocd $ARGOCD_VERSION: downloading github.com/argoproj/argo-cd/v3"
  adir="$(mod_dir "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION")"
  # A dependent module does not inherit Argo CD's `replace` block (k8s.io/* pinned to the
  # versions it was tested with, golang/protobuf, grpc-gateway, ...), so copy it verbatim;
  # its gitops-engine line points at a directory the zip lacks, so pin that module instead.
  {
    printf 'module verify.local/argocdbuild\n\ngo 1.26\n\nrequire github.com/argoproj/argo-cd/v3 %s\n\n' "$ARGOCD_VERSION"
    sed -n '/^replace (/,/^)/p' "$adir/go.mod"
    printf '\nreplace github.com/argoproj/argo-cd/gitops-engine => github.com/argoproj/argo-cd/gitops-engine %s\n' \
      "$ARGOCD_GITOPS_ENGINE_VERSION"
  } >go.mod
  grep -q '^replace (' go.mod || die "no replace block found in $adir/go.mod"
  log "argocd: go get (downloads the dependency modules; cold: about a minute)"
  go get "github.com/argoproj/argo-cd/v3/cmd@$ARGOCD_VERSION" >get.log 2>&1 \
    || { tail -n 40 get.log >&2; die "go get for argocd failed"; }
  ldflags="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.gitTag=$ARGOCD_VERSION"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.buildDate=$(mod_time github.com/argoproj/argo-cd/v3 "$ARGOCD_VERSION")"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean"
  ldflags+=" -X github.com/argoproj/argo-cd/v3/common.kubectlVersion=$K8S_VERSION"
  # The application controller binds its metrics/healthz server to 0.0.0.0 with no flag to
  # change it (controller/appcontroller.go: fmt.Sprintf("0.0.0.0:%d", metricsPort)); tests
  # listen on loopback only, so build from a copy with that one line set to 127.0.0.1 (go build
  # -overlay refuses files in the module cache: "Files beneath GOMODCACHE must not be replaced").
  cp -r "$adir" argo-cd
  chmod -R u+w argo-cd
  [ "$(grep -c '"0.0.0.0:%d", metricsPort' argo-cd/controller/appcontroller.go)" = 1 ] \
    || die "the metrics bind line moved in controller/appcontroller.go; update the patch"
  sed -i 's/"0.0.0.0:%d", metricsPort/"127.0.0.1:%d", metricsPort/' argo-cd/controller/appcontroller.go
  printf '\nreplace github.com/argoproj/argo-cd/v3 => ./argo-cd\n' >>go.mod
  log "argocd: go build with $GO_VERSION (cold: about 8 min and 2 GB on 2 cores)"
  mkdir -p bin
  go build -trimpath -ldflags "$ldflags" -o bin/argocd github.com/argoproj/argo-cd/v3/cmd \
    || die "go build of argocd $ARGOCD_VERSION with $GO_VERSION failed"
  # The binary picks its component from argv[0]'s base name, like the image's symlinks.
  local c
  for c in argocd-application-controller argocd-repo-server argocd-applicationset-controller argocd-notifications; do
    ln -s argocd "bin/$c"
  done
  # The repo-server runs this on every manifest generation (signature check, even when off).
  install -m 0755 "$adir/hack/git-verify-wrapper.sh" bin/git-verify-wrapper.sh
  # This release's own CRDs, for the test API server.
  mkdir -p crds
  cp "$adir"/manifests/crds/*-crd.yaml crds/
  rm -rf go.mod go.sum get.log argo-cd
  ./bin/argocd version --client --short
}

# ---- helm ------------------------------------------------------------------------------
build_helm() {
  local dir="$1" pkg="${HELM_MODULE}/internal/version"
  log "helm $HELM_VERSION: go install $HELM_MODULE/cmd/helm"
  GOBIN="$dir/bin" go install -trimpath \
    -ldflags "-s -w -X $pkg.version=$HELM_VERSION -X $pkg.gitTreeState=clean" \
    "$HELM_MODULE/cmd/helm@$HELM_VERSION"
  "$dir/bin/helm" version --short
}

# ---- kube-controller-manager + kube-scheduler ------------------------------------------
build_k8s_controllers() {
  build_k8s_commands kube-controller-manager kube-scheduler
  ./bin/kube-controller-manager --version
  ./bin/kube-scheduler --version
}

# ---- kwok ------------------------------------------------------------------------------
build_kwok() {
  local dir="$1" kdir
  log "kwok $KWOK_VERSION: go install sigs.k8s.io/kwok/cmd/kwok"
  GOBIN="$dir/bin" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The stages kwokctl uses by default for a binary runtime (pkg/kwokctl/runtime/cluster.go):
  # node initialize + heartbeat with lease, pod ready/complete/delete.
  kdir="$(mod_dir "sigs.k8s.io/kwok@$KWOK_VERSION")"
  mkdir -p stages
  cp "$kdir/kustomize/stage/node/fast/node-initialize.yaml" \
    "$kdir/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$kdir/kustomize/stage/pod/fast/pod-ready.yaml" \
    "$kdir/kustomize/stage/pod/fast/pod-complete.yaml" \
    "$kdir/kustomize/stage/pod/fast/pod-delete.yaml" stages/
  "$dir/bin/kwok" --version
}

# ---- redis -----------------------------------------------------------------------------
fetch_redis_deb() {
  local dir="$1" p want=() got
  log "redis-server $REDIS_DEB_VERSION: apt-get download (unpacked only; no service is installed or started)"
  chmod 0777 "$dir"   # apt's _apt user writes the download here
  want=("redis-server=$REDIS_DEB_VERSION" "redis-tools=$REDIS_DEB_VERSION"
    "libjemalloc2=$JEMALLOC_DEB_VERSION" "liblzf1=$LZF_DEB_VERSION")
  if ! apt-get download "${want[@]}" >apt.log 2>&1; then
    log "redis: not in the package lists; running apt-get update once"
    apt-get update >>apt.log 2>&1 || { tail -n 20 apt.log >&2; return 1; }
    if ! apt-get download "${want[@]}" >>apt.log 2>&1; then
      # Debian's security archive keeps only the newest redis build, so a pinned security
      # release can vanish; take the current bookworm one rather than fail (Argo CD needs Redis >= 6).
      log "WARNING: redis $REDIS_DEB_VERSION is no longer served; taking Debian's current candidate"
      apt-get download redis-server redis-tools libjemalloc2 liblzf1 >>apt.log 2>&1 || { tail -n 20 apt.log >&2; return 1; }
    fi
  fi
  for p in ./*.deb; do dpkg-deb -x "$p" unpacked; done
  # redis-server is redis-check-rdb under another name (it looks at argv[0]), so it keeps the
  # name; the wrappers in bin/ find the two unpacked libraries.
  mkdir -p bin lib libexec
  mv unpacked/usr/bin/redis-check-rdb libexec/redis-server
  mv unpacked/usr/bin/redis-cli libexec/redis-cli
  cp -a unpacked/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 unpacked/usr/lib/x86_64-linux-gnu/liblzf.so.1* lib/
  rm -rf unpacked ./*.deb apt.log
  for p in redis-server redis-cli; do
    printf '#!/bin/sh\nd="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"\nLD_LIBRARY_PATH="$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$d/libexec/%s" "$@"\n' \
      "$p" >"bin/$p"
    chmod 0755 "bin/$p"
  done
  got="$(./bin/redis-server --version)" || return 1
  log "redis: $got"
  case "$got" in *"v=7."* | *"v=8."*) ;; *) log "unexpected redis version: $got"; return 1 ;; esac
}

ARGOCD_DIR="$CACHE/argocd-$ARGOCD_VERSION-$GO_VERSION"
HELM_DIR="$CACHE/helm-$HELM_VERSION-$GO_VERSION"
K8S_CTRL_DIR="$CACHE/k8s-controllers-$K8S_VERSION-$GO_VERSION"
KWOK_DIR="$CACHE/kwok-$KWOK_VERSION-$GO_VERSION"
REDIS_DIR="$CACHE/redis-deb-$(printf '%s' "$REDIS_DEB_VERSION" | tr ':~' '_.')"

ensure "argocd $ARGOCD_VERSION" "$ARGOCD_DIR" build_argocd
ensure "helm $HELM_VERSION" "$HELM_DIR" build_helm
ensure "kube-controller-manager+kube-scheduler $K8S_VERSION" "$K8S_CTRL_DIR" build_k8s_controllers
ensure "kwok $KWOK_VERSION" "$KWOK_DIR" build_kwok
if command -v apt-get >/dev/null; then
  ensure "redis-server $REDIS_DEB_VERSION (Debian)" "$REDIS_DIR" fetch_redis_deb
else
  die "apt-get is needed to fetch Debian's redis-server"
fi

# Stable names for the current versions.
mkdir -p "$CACHE/bin"
# argocd-notifications: added after the first release of this cache, so made here too when missing.
[ -e "$ARGOCD_DIR/bin/argocd-notifications" ] || ln -s argocd "$ARGOCD_DIR/bin/argocd-notifications"
for t in argocd argocd-application-controller argocd-repo-server argocd-applicationset-controller argocd-notifications git-verify-wrapper.sh; do
  ln -sfn "$ARGOCD_DIR/bin/$t" "$CACHE/bin/$t"
done
ln -sfn "$HELM_DIR/bin/helm" "$CACHE/bin/helm"
ln -sfn "$K8S_CTRL_DIR/bin/kube-controller-manager" "$CACHE/bin/kube-controller-manager"
ln -sfn "$K8S_CTRL_DIR/bin/kube-scheduler" "$CACHE/bin/kube-scheduler"
ln -sfn "$KWOK_DIR/bin/kwok" "$CACHE/bin/kwok"
ln -sfn "$REDIS_DIR/bin/redis-server" "$CACHE/bin/redis-server"
ln -sfn "$REDIS_DIR/bin/redis-cli" "$CACHE/bin/redis-cli"

cat >"$CACHE/gitops-tools.env.tmp" <<EOF
# Written by scripts/gitops/build-tools.sh; source it.
. '$CACHE/tools.env'
export VERIFY_ARGOCD_VERSION='$ARGOCD_VERSION'
export VERIFY_ARGOCD='$CACHE/bin/argocd'
export VERIFY_ARGOCD_BIN_DIR='$ARGOCD_DIR/bin'
export VERIFY_ARGOCD_CRDS_DIR='$ARGOCD_DIR/crds'
export VERIFY_HELM_VERSION='$HELM_VERSION'
export VERIFY_HELM='$CACHE/bin/helm'
export VERIFY_KUBE_CONTROLLER_MANAGER='$CACHE/bin/kube-controller-manager'
export VERIFY_KUBE_SCHEDULER='$CACHE/bin/kube-scheduler'
export VERIFY_KWOK_VERSION='$KWOK_VERSION'
export VERIFY_KWOK='$CACHE/bin/kwok'
export VERIFY_KWOK_STAGES_DIR='$KWOK_DIR/stages'
export VERIFY_REDIS_SERVER='$CACHE/bin/redis-server'
export VERIFY_REDIS_CLI='$CACHE/bin/redis-cli'
EOF
mv "$CACHE/gitops-tools.env.tmp" "$CACHE/gitops-tools.env"
log "versions: $("$CACHE/bin/argocd" version --client --short 2>/dev/null | head -n1), helm $("$CACHE/bin/helm" version --short), kube-controller-manager $("$CACHE/bin/kube-controller-manager" --version | awk '{print $2}'), kwok $KWOK_VERSION, $("$CACHE/bin/redis-server" --version | awk '{print $1, $2, $3}')"
log "done; source $CACHE/gitops-tools.env"
echo "$CACHE/gitops-tools.env"
