#!/usr/bin/env bash
# Builds (once) and caches the tools that verify the generated manifests against a
# real Kubernetes API server and linters. Verification tooling only: the product
# itself never runs any of this.
#
#   bash scripts/cluster/build-tools.sh            # build what is missing, print the env file
#   . "$VERIFY_CACHE_DIR/tools.env"      (scripts/lib.sh gives VERIFY_CACHE_DIR its default)
#
# What it provides (each built or fetched from a package registry, pinned below):
#   kube-apiserver, kubectl  Kubernetes $K8S_VERSION, built from the k8s.io/kubernetes Go
#                            module with this machine's Go (throwaway module + replaces)
#   etcd                     Debian's etcd-server package, unpacked (no service is started);
#                            fallback: built from go.etcd.io/etcd/server/v3
#   kubeconform, kube-score, actionlint  go install, pinned versions
#   kubeconform schemas      generated offline from the swagger.json inside the
#                            k8s.io/kubernetes module zip, plus the Argo CD and AWS LB
#                            controller CRDs from test/fixtures (crd-files.sh)
# kube-linter is NOT provided: its Go module (golang.stackrox.io/kube-linter) is not
# served by the Go module proxy reachable here, and no other registry here ships it.
#
# Environment:
#   VERIFY_CACHE_DIR   cache root (default $HOME/.cache/envoy-edge-verify). Everything,
#                      including the Go module and build caches, lives there.
#   VERIFY_ETCD_FROM   apt (default) or go
# Output: $VERIFY_CACHE_DIR/tools.env (sets PATH and VERIFY_* variables, see the end).
set -euo pipefail

# ---- pinned versions (change one and that tool is rebuilt) --------------------------
# Kubernetes: K8S_VERSION in build-lib.sh (shared with scripts/gitops/build-tools.sh)
ETCD_DEB_VERSION=3.4.23-4+b4    # Debian bookworm etcd-server
ETCD_GO_VERSION=v3.5.35         # fallback when apt cannot give etcd-server
KUBECONFORM_VERSION=v0.8.0
KUBE_SCORE_VERSION=v1.20.0
ACTIONLINT_VERSION=v1.7.12    # checks .github/workflows/ (the CI workflow a user's repository runs)
# --------------------------------------------------------------------------------------

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { printf '[build-tools] ERROR: %s\n' "$*" >&2; exit 1; }

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$SCRIPT_DIR/../.." && pwd))"
# shellcheck source=scripts/lib.sh
. "$SCRIPT_DIR/../lib.sh"
CACHE="$VERIFY_CACHE_DIR"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

command -v go >/dev/null || die "go is not installed (this machine kind ships it)"
command -v python3 >/dev/null || die "python3 is needed for the schema generator"
python3 -c "import yaml" 2>/dev/null || pip install --quiet "pyyaml==6.0.3" >&2 || die "PyYAML is needed for the schema generator"
# shellcheck source=scripts/cluster/build-lib.sh
. "$SCRIPT_DIR/build-lib.sh"

# ---- kube-apiserver + kubectl ------------------------------------------------------
build_k8s() {
  build_k8s_commands kube-apiserver kubectl
  ./bin/kube-apiserver --version
  ./bin/kubectl version --client
}

# ---- etcd ----------------------------------------------------------------------------
fetch_etcd_deb() {
  local dir="$1" deb
  log "etcd: apt-get download etcd-server=$ETCD_DEB_VERSION (unpacked only; no service is installed or started)"
  chmod 0777 "$dir"   # apt's _apt user writes the download here
  if ! apt-get download "etcd-server=$ETCD_DEB_VERSION" >apt.log 2>&1; then
    log "etcd: not in the package lists; running apt-get update once"
    apt-get update >>apt.log 2>&1 || { tail -n 20 apt.log >&2; return 1; }
    apt-get download "etcd-server=$ETCD_DEB_VERSION" >>apt.log 2>&1 || { tail -n 20 apt.log >&2; return 1; }
  fi
  deb="$(ls etcd-server_*.deb)"
  dpkg-deb -x "$deb" unpacked
  mkdir -p bin
  mv unpacked/usr/bin/etcd bin/etcd
  rm -rf unpacked "$deb" apt.log
  ./bin/etcd --version
}
build_etcd_go() {
  local dir="$1"
  log "etcd: building go.etcd.io/etcd/server/v3@$ETCD_GO_VERSION with $GO_VERSION"
  printf 'module verify.local/etcdbuild\n\ngo 1.22\n' > go.mod
  go get "go.etcd.io/etcd/server/v3@$ETCD_GO_VERSION" >get.log 2>&1 || { tail -n 40 get.log >&2; return 1; }
  mkdir -p bin
  go build -trimpath -ldflags "-s -w" -o bin/etcd go.etcd.io/etcd/server/v3
  ./bin/etcd --version
}

# ---- linters ---------------------------------------------------------------------------
build_kubeconform() {
  log "kubeconform $KUBECONFORM_VERSION: go install"
  GOBIN="$1/bin" go install -trimpath -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  "$1/bin/kubeconform" -v
}
build_kube_score() {
  log "kube-score $KUBE_SCORE_VERSION: go install"
  GOBIN="$1/bin" go install -trimpath \
    -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v} -X main.commit=module -X main.date=module" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  "$1/bin/kube-score" version
}

build_actionlint() {
  log "actionlint $ACTIONLINT_VERSION: go install"
  GOBIN="$1/bin" go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  "$1/bin/actionlint" -version
}

# ---- kubeconform schemas -------------------------------------------------------------
GEN="$SCRIPT_DIR/gen-kubeconform-schemas.py"
GEN_HASH="$(sha256sum "$GEN" | cut -c1-12)"
gen_k8s_schemas() {
  local dir="$1" kdir
  kdir="$(mod_dir "k8s.io/kubernetes@$K8S_VERSION")"
  [ -f "$kdir/api/openapi-spec/swagger.json" ] || die "no api/openapi-spec/swagger.json in k8s.io/kubernetes@$K8S_VERSION"
  python3 "$GEN" k8s --k8s-version "$K8S_VERSION" "$kdir/api/openapi-spec/swagger.json" "$dir"
}
CRD_FILES=()
gen_crd_schemas() {
  python3 "$GEN" crd "$1" "${CRD_FILES[@]}"
}

ensure "kube-apiserver+kubectl $K8S_VERSION" "$CACHE/k8s-$K8S_VERSION-$GO_VERSION" build_k8s
case "${VERIFY_ETCD_FROM:-apt}" in
  apt)
    if command -v apt-get >/dev/null; then
      ensure "etcd $ETCD_DEB_VERSION (Debian)" "$CACHE/etcd-deb-$ETCD_DEB_VERSION" fetch_etcd_deb
      ETCD_DIR="$CACHE/etcd-deb-$ETCD_DEB_VERSION"
    else
      log "etcd: no apt-get here; building from Go modules instead"
      ensure "etcd $ETCD_GO_VERSION (Go)" "$CACHE/etcd-go-$ETCD_GO_VERSION-$GO_VERSION" build_etcd_go
      ETCD_DIR="$CACHE/etcd-go-$ETCD_GO_VERSION-$GO_VERSION"
    fi ;;
  go)
    ensure "etcd $ETCD_GO_VERSION (Go)" "$CACHE/etcd-go-$ETCD_GO_VERSION-$GO_VERSION" build_etcd_go
    ETCD_DIR="$CACHE/etcd-go-$ETCD_GO_VERSION-$GO_VERSION" ;;
  *) die "VERIFY_ETCD_FROM must be apt or go" ;;
esac
ensure "kubeconform $KUBECONFORM_VERSION" "$CACHE/kubeconform-$KUBECONFORM_VERSION-$GO_VERSION" build_kubeconform
ensure "kube-score $KUBE_SCORE_VERSION" "$CACHE/kube-score-$KUBE_SCORE_VERSION-$GO_VERSION" build_kube_score
ensure "actionlint $ACTIONLINT_VERSION" "$CACHE/actionlint-$ACTIONLINT_VERSION-$GO_VERSION" build_actionlint
K8S_SCHEMA_DIR="$CACHE/schemas/k8s-$K8S_VERSION-gen$GEN_HASH"
ensure "kubeconform schemas for Kubernetes $K8S_VERSION" "$K8S_SCHEMA_DIR" gen_k8s_schemas

# shellcheck source=scripts/cluster/crd-files.sh
. "$SCRIPT_DIR/crd-files.sh"
mapfile -t CRD_FILES < <(crd_files "$REPO_ROOT")
for f in "${CRD_FILES[@]}"; do [ -f "$f" ] || die "CRD file missing from the repository: $f"; done
CRD_HASH="$( (printf '%s\n' "$GEN_HASH"; cat "${CRD_FILES[@]}") | sha256sum | cut -c1-12)"
CRD_SCHEMA_DIR="$CACHE/schemas/crds-$CRD_HASH"
ensure "kubeconform schemas for ${#CRD_FILES[@]} CRD files in test/fixtures" "$CRD_SCHEMA_DIR" gen_crd_schemas

# Stable names for the current versions.
mkdir -p "$CACHE/bin"
ln -sfn "$CACHE/k8s-$K8S_VERSION-$GO_VERSION/bin/kube-apiserver" "$CACHE/bin/kube-apiserver"
ln -sfn "$CACHE/k8s-$K8S_VERSION-$GO_VERSION/bin/kubectl" "$CACHE/bin/kubectl"
ln -sfn "$ETCD_DIR/bin/etcd" "$CACHE/bin/etcd"
ln -sfn "$CACHE/kubeconform-$KUBECONFORM_VERSION-$GO_VERSION/bin/kubeconform" "$CACHE/bin/kubeconform"
ln -sfn "$CACHE/kube-score-$KUBE_SCORE_VERSION-$GO_VERSION/bin/kube-score" "$CACHE/bin/kube-score"
ln -sfn "$CACHE/actionlint-$ACTIONLINT_VERSION-$GO_VERSION/bin/actionlint" "$CACHE/bin/actionlint"

KCF_ARGS="-strict -summary -kubernetes-version ${K8S_VERSION#v} -schema-location $K8S_SCHEMA_DIR"
[ -z "$CRD_SCHEMA_DIR" ] || KCF_ARGS+=" -schema-location $CRD_SCHEMA_DIR/{{.ResourceKind}}{{.KindSuffix}}.json"
cat > "$CACHE/tools.env.tmp" <<EOF
# Written by scripts/cluster/build-tools.sh; source it.
export VERIFY_CACHE_DIR='$CACHE'
export PATH='$CACHE/bin':"\$PATH"
export VERIFY_K8S_VERSION='$K8S_VERSION'
export VERIFY_KUBE_APISERVER='$CACHE/bin/kube-apiserver'
export VERIFY_KUBECTL='$CACHE/bin/kubectl'
export VERIFY_ETCD='$CACHE/bin/etcd'
export VERIFY_KUBECONFORM='$CACHE/bin/kubeconform'
export VERIFY_KUBE_SCORE='$CACHE/bin/kube-score'
export VERIFY_ACTIONLINT='$CACHE/bin/actionlint'
export VERIFY_K8S_SCHEMA_DIR='$K8S_SCHEMA_DIR'
export VERIFY_CRD_SCHEMA_DIR='$CRD_SCHEMA_DIR'
# usage: kubeconform \$VERIFY_KUBECONFORM_ARGS FILE|DIR...  (word-split on purpose; no spaces in paths)
export VERIFY_KUBECONFORM_ARGS='$KCF_ARGS'
EOF
mv "$CACHE/tools.env.tmp" "$CACHE/tools.env"
case "$CACHE" in *" "*) die "VERIFY_CACHE_DIR must not contain spaces ($CACHE)";; esac
log "versions: kube-apiserver/kubectl $K8S_VERSION ($GO_VERSION), etcd $("$CACHE/bin/etcd" --version | head -n1 | awk '{print $NF}'), kubeconform $KUBECONFORM_VERSION, kube-score $KUBE_SCORE_VERSION, actionlint $ACTIONLINT_VERSION"
log "done; source $CACHE/tools.env"
echo "$CACHE/tools.env"
