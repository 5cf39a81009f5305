# shellcheck shell=bash
# The GitOps harness: the clusters (CRDs, kube-controller-manager, kube-scheduler and kwok, more clusters registered in Argo CD, the LB controller stand-in).
# Sourced by scripts/gitops/harness.sh (its header says what the harness does); not on its own.


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
