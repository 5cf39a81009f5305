# shellcheck shell=bash
# The CRDs the verification API servers and kubeconform know, all from the repository (a fresh clone
# has nothing else): Argo CD v3.5.1 and Prometheus Operator v0.93.0 as copied into test/fixtures, and
# the AWS Load Balancer Controller's from its chart 3.5.0 (test/fixtures/charts).
# Usage: crd_files <repo root>   prints one absolute path per line, sorted.
crd_files() {
  local repo="$1"
  {
    find "$repo/test/fixtures/argo-cd-v3.5.1" "$repo/test/fixtures/prometheus-operator-v0.93.0" -type f -name '*.yaml'
    echo "$repo/test/fixtures/charts/aws-load-balancer-controller-3.5.0/crds/crds.yaml"
  } | LC_ALL=C sort
}
