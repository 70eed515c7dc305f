#!/usr/bin/env bash
# Start the local test control plane: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok (fake nodes and pods), Gateway API + Kruise + Istio VirtualService CRDs,
# kruise-manager, and Prometheus (Debian's package) scraping the e2e tests' metrics endpoints.
# Idempotent: a healthy running cluster is detected and reused. On failure everything it
# started is stopped again, and the failing component's log is named.
#
# Env: NODES (fake nodes, default 3), WAXWING_PORT_BASE (default 29400) or WAXWING_*_PORT,
#      WAXWING_CACHE (binary cache), WAXWING_CLUSTER_STATE (default <repo>/target/cluster),
#      WAXWING_ETCD_DIR (etcd data dir, default on /dev/shm), WAXWING_UP_TIMEOUT (s, default 120),
#      WAXWING_CLUSTER_BIN_DIR (use these binaries instead of build.sh's).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES="${NODES:-3}"
TIMEOUT="${WAXWING_UP_TIMEOUT:-120}"
PKI="$STATE_DIR/pki"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kruise-manager prometheus)
case "$NODES" in '' | *[!0-9]*) die "NODES must be a positive integer (got '$NODES')" ;; esac
[ "$NODES" -ge 1 ] || die "NODES must be >= 1"

T0=$SECONDS
# Serialize concurrent cluster-up runs on the same state dir (the second one then finds the
# cluster healthy). The started daemons must not inherit this fd (see start()).
mkdir -p "$STATE_DIR"
exec 8>"$STATE_DIR/.up.lock"
flock 8
print_export() {
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
  echo "# kubectl ${K8S_VERSION}: $STATE_DIR/bin/kubectl" >&2
}

# --- 1. already running? ------------------------------------------------------------------
healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do pid_alive "$c" || return 1; done
  "$STATE_DIR/bin/kubectl" --kubeconfig="$KUBECONFIG_FILE" get --raw /readyz >/dev/null 2>&1 || return 1
  curl -sf "http://127.0.0.1:$KRUISE_HEALTH_PORT/readyz" >/dev/null 2>&1 || return 1
  curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1 || return 1
}
if [ -d "$PIDS" ] && [ -n "$(ls -A "$PIDS" 2>/dev/null)" ]; then
  if healthy; then
    log "cluster already running and healthy ($STATE_DIR)"
    print_export
    exit 0
  fi
  log "found a stale or partly running cluster in $STATE_DIR: stopping it and starting afresh"
  "$CLUSTER_DIR/down.sh"
fi

# --- 2. binaries, ports ---------------------------------------------------------------------
if [ -n "${WAXWING_CLUSTER_BIN_DIR:-}" ]; then # prebuilt binaries (debugging, measurements)
  BIN="$WAXWING_CLUSTER_BIN_DIR"; mkdir -p "$STATE_DIR"; ln -sfn "$BIN" "$STATE_DIR/bin"
else
  BIN="$("$CLUSTER_DIR/build.sh" | tail -n 1)"
fi
[ -x "$BIN/kube-apiserver" ] || die "build.sh did not produce binaries in '$BIN'"
KUBECTL=("$BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE")

declare -A PORT_OWNER=(
  [$ETCD_PORT]="etcd (WAXWING_ETCD_PORT)" [$ETCD_PEER_PORT]="etcd peer (WAXWING_ETCD_PEER_PORT)"
  [$APISERVER_PORT]="kube-apiserver (WAXWING_APISERVER_PORT)" [$KCM_PORT]="kube-controller-manager (WAXWING_KCM_PORT)"
  [$SCHEDULER_PORT]="kube-scheduler (WAXWING_SCHEDULER_PORT)" [$KWOK_PORT]="kwok (WAXWING_KWOK_PORT)"
  [$KRUISE_WEBHOOK_PORT]="kruise-manager webhook (WAXWING_KRUISE_WEBHOOK_PORT)"
  [$KRUISE_METRICS_PORT]="kruise-manager metrics (WAXWING_KRUISE_METRICS_PORT)"
  [$KRUISE_HEALTH_PORT]="kruise-manager health (WAXWING_KRUISE_HEALTH_PORT)"
  [$PROMETHEUS_PORT]="prometheus (WAXWING_PROMETHEUS_PORT)"
)
[ "${#PORT_OWNER[@]}" -eq 10 ] || die "two components are configured with the same port; check WAXWING_*_PORT"
for p in "${!PORT_OWNER[@]}"; do
  if [ -n "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
    die "port $p needed by ${PORT_OWNER[$p]} is already in use ($(ss -Htlnp "sport = :$p" 2>/dev/null | grep -o 'users:.*' | head -n 1)). Run 'make cluster-down' if it is an old cluster, or pick other ports with WAXWING_PORT_BASE=<n> (uses n+43..n+88)."
  fi
done

# --- 3. state dir, cleanup on failure -------------------------------------------------------
if [ -n "${WAXWING_ETCD_DIR:-}" ]; then
  ETCD_DIR="$WAXWING_ETCD_DIR"
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
  ETCD_DIR="/dev/shm/waxwing-etcd-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)"
else
  ETCD_DIR="$STATE_DIR/etcd-data"
fi
rm -rf "$PKI" "$PIDS" "$ETCD_DIR" "$STATE_DIR/kruise-certs"
mkdir -p "$LOGS" && find "$LOGS" -maxdepth 1 -name '*.log' ! -name 'build-*' -delete
mkdir -p "$PKI" "$PIDS" "$LOGS" "$ETCD_DIR"
printf '%s\n' "$ETCD_DIR" >"$STATE_DIR/etcd-dir"

OK=0
on_exit() {
  if [ "$OK" != 1 ]; then
    log "cluster-up failed: stopping everything it started (logs kept in $LOGS)"
    KEEP_LOGS=1 "$CLUSTER_DIR/down.sh" >&2 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# fail COMPONENT MESSAGE: error naming the component and its log.
fail() {
  local log_file="$LOGS/$1.log"
  if [ -s "$log_file" ]; then
    echo "----- last lines of $log_file -----" >&2
    tail -n 25 "$log_file" >&2
    echo "-----" >&2
  fi
  die "$1: $2 (log: $log_file)"
}

start() { start_daemon "$@" || fail "$1" "exited immediately after start"; }

# wait_for NAME WHAT CMD... : poll CMD until it succeeds; fail if NAME dies or on timeout.
wait_for() {
  local name="$1" what="$2"; shift 2
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    pid_alive "$name" || fail "$name" "process exited while waiting for: $what"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name" "timed out after ${TIMEOUT}s waiting for: $what"
    sleep 0.3
  done
}

# --- 4. PKI and kubeconfig ------------------------------------------------------------------
log "generating PKI in $PKI"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=waxwing-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  openssl genrsa -out admin.key 2048
  openssl req -new -key admin.key -out admin.csr -subj "/O=system:masters/CN=waxwing-admin"
  cat >ext.cnf <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1
EOF
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile ext.cnf -out admin.crt
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
) >"$LOGS/pki.log" 2>&1 || fail pki "openssl failed"

cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: waxwing
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: waxwing-admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: waxwing
  context: {cluster: waxwing, user: waxwing-admin}
current-context: waxwing
EOF

# --- 5. etcd, kube-apiserver ----------------------------------------------------------------
log "starting etcd on 127.0.0.1:$ETCD_PORT (data: $ETCD_DIR)"
start etcd "$BIN/etcd" --name=node0 --data-dir="$ETCD_DIR" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="node0=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --auto-compaction-mode=periodic --auto-compaction-retention=5m \
  --snapshot-count=5000 --log-level=warn
wait_for etcd "http://127.0.0.1:$ETCD_PORT/health" \
  sh -c "curl -sf http://127.0.0.1:$ETCD_PORT/health | grep -q '\"health\":\"true\"'"

log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" --etcd-prefix=/registry \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --endpoint-reconciler-type=none --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key" --client-ca-file="$PKI/ca.crt" \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --proxy-client-cert-file="$PKI/admin.crt" --proxy-client-key-file="$PKI/admin.key" \
  --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=waxwing-admin \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --profiling=false
wait_for kube-apiserver "/readyz" "${KUBECTL[@]}" get --raw /readyz

# --- 6. controllers, scheduler, kwok --------------------------------------------------------
log "starting kube-controller-manager, kube-scheduler, kwok"
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
  --profiling=false
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --profiling=false

KWOK_SRC="$(mod_dir "sigs.k8s.io/kwok@$KWOK_VERSION")"
S="$KWOK_SRC/kustomize/stage"
# Stages only: without a KwokConfiguration document kwok applies its defaults (a document
# with "options: {}" is not defaulted: "node leases parallelism must be greater than 0").
{
  for f in "$S/node/fast/node-initialize.yaml" "$S/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$CLUSTER_DIR/stages/pod-ready.yaml" "$CLUSTER_DIR/stages/pod-running-not-ready.yaml" \
    "$CLUSTER_DIR/stages/pod-container-image-update.yaml" "$CLUSTER_DIR/stages/pod-readiness-recompute.yaml" \
    "$S/pod/fast/pod-complete.yaml" "$S/pod/fast/pod-delete.yaml" \
    "$S/volume/fast/pvc-provision.yaml" "$S/volume/fast/pv-bind.yaml" \
    "$S/volume/fast/pvc-delete.yaml" "$S/volume/fast/pv-delete.yaml"; do
    [ -f "$f" ] || fail kwok "stage file $f is missing"
    echo "---"; cat "$f"
  done
} >"$STATE_DIR/kwok.yaml"
start kwok "$BIN/kwok" --kubeconfig="$KUBECONFIG_FILE" --config="$STATE_DIR/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 --cidr=10.244.0.1/16 \
  --server-address="127.0.0.1:$KWOK_PORT" --node-port="$KWOK_PORT" \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key"

wait_for kube-controller-manager "https://127.0.0.1:$KCM_PORT/healthz" curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler "https://127.0.0.1:$SCHEDULER_PORT/healthz" curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz"

zones=(a b c)
{
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/zone: zone-${zones[$((i % 3))]}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  addresses:
  - {type: InternalIP, address: 10.255.$((i / 250)).$((i % 250 + 1))}
  - {type: Hostname, address: kwok-node-$i}
EOF
  done
} >"$STATE_DIR/nodes.yaml"
"${KUBECTL[@]}" create -f "$STATE_DIR/nodes.yaml" >"$LOGS/nodes.log" 2>&1 || fail nodes "creating $NODES fake nodes failed"
log "waiting for $NODES kwok nodes to be Ready"
wait_for kwok "$NODES nodes Ready" "${KUBECTL[@]}" wait --for=condition=Ready node -l type=kwok --timeout=2s
wait_for kube-controller-manager "serviceaccount default/default" "${KUBECTL[@]}" -n default get serviceaccount default

# --- 7. CRDs and kruise-manager -------------------------------------------------------------
GW_SRC="$(mod_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
KR_SRC="$(mod_dir "github.com/openkruise/kruise@$KRUISE_VERSION")"
crd_args=()
for f in "$GW_SRC"/config/crd/standard/*.yaml "$KR_SRC"/config/crd/bases/*.yaml; do
  case "$(basename "$f")" in kustomization.yaml) continue ;; esac
  crd_args+=(-f "$f")
done
# Istio's CRDs come as one file: only VirtualService is installed.
IS_SRC="$(mod_dir "istio.io/api@$ISTIO_API_VERSION")"
VS_CRD="$STATE_DIR/virtualservice-crd.yaml"
crd_doc "$IS_SRC/kubernetes/customresourcedefinitions.gen.yaml" virtualservices.networking.istio.io >"$VS_CRD" \
  || fail crds "istio.io/api@$ISTIO_API_VERSION has no CRD virtualservices.networking.istio.io"
crd_args+=(-f "$VS_CRD")
# kwok's default StorageClass "kwok-volume": its volume stages provision and bind PVs
# (StatefulSet volumeClaimTemplates work).
crd_args+=(-f "$S/volume/fast/storage-class.yaml")
log "installing Gateway API $GATEWAY_API_VERSION (standard), Kruise $KRUISE_VERSION and Istio $ISTIO_API_VERSION VirtualService CRDs, StorageClass kwok-volume"
"${KUBECTL[@]}" apply --server-side --force-conflicts "${crd_args[@]}" >"$LOGS/crds.log" 2>&1 \
  || fail crds "kubectl apply of the CRDs failed"
crds_established() { # every CRD has condition Established=True
  local out
  out="$("${KUBECTL[@]}" get crd -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\n"}{end}')" || return 1
  [ -n "$out" ] && ! grep -qv '=True$' <<<"$out"
}
wait_for kube-apiserver "CRDs Established" crds_established

{
  "${KUBECTL[@]}" create namespace kruise-system --dry-run=client -o yaml
  echo "---"
  "$BIN/kubectl" kustomize "$KR_SRC/config/webhook" \
    | sed -e 's/^  name: mutating-webhook-configuration$/  name: kruise-mutating-webhook-configuration/' \
      -e 's/^  name: validating-webhook-configuration$/  name: kruise-validating-webhook-configuration/'
} >"$STATE_DIR/kruise-webhooks.yaml" 2>"$LOGS/kruise-webhooks.log" || fail kruise-webhooks "kubectl kustomize of $KR_SRC/config/webhook failed"
"${KUBECTL[@]}" apply --server-side -f "$STATE_DIR/kruise-webhooks.yaml" >>"$LOGS/kruise-webhooks.log" 2>&1 \
  || fail kruise-webhooks "applying the kruise webhook configurations failed"

log "starting kruise-manager (webhook on 127.0.0.1:$KRUISE_WEBHOOK_PORT)"
mkdir -p "$STATE_DIR/kruise-certs"
start kruise-manager env KUBECONFIG="$KUBECONFIG_FILE" POD_NAMESPACE=kruise-system \
  WEBHOOK_HOST=127.0.0.1 WEBHOOK_PORT="$KRUISE_WEBHOOK_PORT" WEBHOOK_CERT_DIR="$STATE_DIR/kruise-certs" \
  "$BIN/kruise-manager" --enable-leader-election=false --enable-pprof=false \
  --metrics-addr="127.0.0.1:$KRUISE_METRICS_PORT" --health-probe-addr="127.0.0.1:$KRUISE_HEALTH_PORT" \
  --feature-gates=PodWebhook=false,KruiseDaemon=false
wait_for kruise-manager "http://127.0.0.1:$KRUISE_HEALTH_PORT/readyz" curl -sf "http://127.0.0.1:$KRUISE_HEALTH_PORT/readyz"

# --- 8. Prometheus, for the analysis tests ----------------------------------------------------
# It scrapes what the tests register: one file_sd target file per metrics endpoint
# (tests/e2e/src/metrics.rs), labelled with the test's namespace. Loopback only, data under
# the state dir, 2 h retention; no lifecycle/admin API.
PROMETHEUS="$(prometheus_bin)"
rm -rf "$PROMETHEUS_STATE"
mkdir -p "$PROMETHEUS_STATE/targets" "$PROMETHEUS_STATE/data"
cat >"$PROMETHEUS_STATE/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: e2e
    file_sd_configs:
      - files: ["$PROMETHEUS_STATE/targets/*.json"]
        refresh_interval: 1s
EOF
log "starting prometheus on http://127.0.0.1:$PROMETHEUS_PORT (targets: $PROMETHEUS_STATE/targets/*.json)"
t_prom=$SECONDS
start prometheus "$PROMETHEUS" --config.file="$PROMETHEUS_STATE/prometheus.yml" \
  --storage.tsdb.path="$PROMETHEUS_STATE/data" --storage.tsdb.retention.time=2h \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
wait_for prometheus "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
log "prometheus ready in $((SECONDS - t_prom))s"
# The tests read these two (beside the kubeconfig), or WAXWING_PROMETHEUS_URL/_TARGETS.
printf 'http://127.0.0.1:%s\n' "$PROMETHEUS_PORT" >"$PROMETHEUS_STATE/address"

cat >"$STATE_DIR/env" <<EOF
export KUBECONFIG=$KUBECONFIG_FILE
export WAXWING_CLUSTER_BIN=$STATE_DIR/bin
export WAXWING_APISERVER_PORT=$APISERVER_PORT
export WAXWING_KRUISE_WEBHOOK_PORT=$KRUISE_WEBHOOK_PORT
export WAXWING_PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
export WAXWING_PROMETHEUS_TARGETS=$PROMETHEUS_STATE/targets
EOF
OK=1
log "cluster up in $((SECONDS - T0))s: $NODES nodes, kube-apiserver https://127.0.0.1:$APISERVER_PORT, logs in $LOGS"
print_export
