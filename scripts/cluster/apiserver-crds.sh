# shellcheck shell=bash
# The CRDs a verification API server starts with (scripts/cluster/apiserver.sh sources this): the
# files crd-files.sh lists from test/fixtures, applied server-side, then waited on until Established.

# _apiserver_apply_crds REPO: applies REPO's CRD files with $VERIFY_KUBECTL (KUBECONFIG set) and waits for them.
_apiserver_apply_crds() {
  local repo="$1" crds=() names f
  mapfile -t crds < <(crd_files "$repo")
  for f in "${crds[@]}"; do
    [ -f "$f" ] || { _apiserver_log "ERROR: CRD file missing from the repository: $f"; return 1; }
  done
  _apiserver_log "applying ${#crds[@]} CRD files from test/fixtures (server-side: the Argo CD CRDs are too big for client-side apply's annotation)"
  local args=()
  for f in "${crds[@]}"; do args+=(-f "$f"); done
  names="$("$VERIFY_KUBECTL" apply --server-side --field-manager verify-crds -o name "${args[@]}")" || {
    _apiserver_log "ERROR: applying the CRDs failed"; return 1; }
  # `kubectl wait` fails outright while .status is still empty, so poll instead.
  local n pending i
  for i in $(seq 1 120); do
    pending=""
    for n in $names; do
      [ "$("$VERIFY_KUBECTL" get "$n" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ] ||
        pending+=" $n"
    done
    [ -n "$pending" ] || break
    if [ "$i" -eq 120 ]; then
      _apiserver_log "ERROR: CRDs not Established after 120s:$pending"; return 1
    fi
    sleep 1
  done
  _apiserver_log "CRDs established: $(echo $names | sed 's#customresourcedefinition.apiextensions.k8s.io/##g')"
}
