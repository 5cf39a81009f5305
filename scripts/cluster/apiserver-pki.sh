# shellcheck shell=bash
# The throwaway credentials of a verification API server (scripts/cluster/apiserver.sh sources this):
# a CA, the serving and client certificates and the service-account signing key (openssl; valid
# 2 days, made for one run only), and the kubeconfig that uses them (user verify-admin, group
# system:masters, so RBAC lets it do anything). scripts/gitops/harness.sh reads pki/sa.key and pki/ca.crt.

# _apiserver_certs DIR: writes DIR/pki/{ca,server,admin}.{crt,key} and sa.{key,pub}; the openssl log in DIR/logs.
_apiserver_certs() {
  local d="$1"
  (
    set -e
    cd "$d/pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.crt -days 2 -subj "/CN=verify-throwaway-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    cat > server.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=kube-apiserver"
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out server.crt -days 2 -extfile server.ext
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > client.ext
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=verify-admin"
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out admin.crt -days 2 -extfile client.ext
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    chmod 600 ./*.key
  ) >"$d/logs/openssl.log" 2>&1 || { tail -n 20 "$d/logs/openssl.log" >&2; return 1; }
}

# _apiserver_kubeconfig DIR PORT: writes DIR/kubeconfig for https://127.0.0.1:PORT with the admin certificate.
_apiserver_kubeconfig() {
  local d="$1" api_port="$2"
  cat >"$d/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: verify
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $d/pki/ca.crt
users:
- name: verify-admin
  user:
    client-certificate: $d/pki/admin.crt
    client-key: $d/pki/admin.key
contexts:
- name: verify
  context: {cluster: verify, user: verify-admin, namespace: default}
current-context: verify
EOF
  chmod 600 "$d/kubeconfig"
}
