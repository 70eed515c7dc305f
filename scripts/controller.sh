#!/usr/bin/env bash
# Run the Waxwing controller locally against the test cluster (tests/cluster), the way
# `make up` and the e2e tests do: CRDs applied, namespace waxwing-system, the webhooks in URL
# mode on 127.0.0.1, log in target/cluster/logs/waxwing.log, pid recorded for down.sh.
#
#   scripts/controller.sh start     start it, or keep the running one if its binary is unchanged
#   scripts/controller.sh restart   stop (SIGTERM) and start
#   scripts/controller.sh kill      SIGKILL, as a crash would (nothing is cleaned up)
#   scripts/controller.sh stop      SIGTERM
#
# Env: WAXWING_BIN (default <cargo target dir>/debug/waxwing), WAXWING_PORT_BASE (metrics on
#      base+90, webhooks on base+91), WAXWING_LEASE_SECONDS (default 5), RUST_LOG,
#      WAXWING_KUBECONFIG (the controller's credentials, default the cluster admin's; the e2e
#      test of deploy/manifests' RBAC runs it with the ServiceAccount's token),
#      WAXWING_ROLLOUT_WORKERS (--rollout-workers, read by the controller itself).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../tests/cluster/lib.sh"

BIN="${WAXWING_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/waxwing}"
METRICS_ADDR="127.0.0.1:$((PORT_BASE + 90))"
WEBHOOK_ADDR="127.0.0.1:$((PORT_BASE + 91))"
KUBECTL=("$STATE_DIR/bin/kubectl" --kubeconfig="$STATE_DIR/kubeconfig")
NAMESPACE=waxwing-system
TIMEOUT=60
# After a SIGKILL the next process waits this long for the dead one's Lease (15 s in cluster).
LEASE_SECONDS="${WAXWING_LEASE_SECONDS:-5}"

# The local cluster's plugin ConfigMap: the built-ins, with the cluster's Prometheus as the
# metrics provider `prometheus`, and `prometheus-unreachable` (a port nothing listens on) for
# the tests of an unreachable provider. Written at every start, so a test that replaced it
# (deploy/manifests' install test) leaves the next controller the local configuration.
plugin_configmap() {
  local address plugins
  [ -f "$PROMETHEUS_STATE/address" ] || return 0
  address="$(cat "$PROMETHEUS_STATE/address")"
  plugins="$(sed 's/metrics: \[prometheus\]/metrics: [prometheus, prometheus-unreachable]/' \
    "$REPO_ROOT/host/builtin/src/default-plugins.yaml")
metricProviders:
  - {name: prometheus, type: prometheus, address: \"$address\", timeout: 5s}
  - {name: prometheus-unreachable, type: prometheus, address: \"http://127.0.0.1:$((PORT_BASE + 89))\", timeout: 2s}"
  "${KUBECTL[@]}" -n "$NAMESPACE" create configmap waxwing-plugins --from-literal=plugins.yaml="$plugins" \
    --dry-run=client -o yaml | "${KUBECTL[@]}" apply --server-side --force-conflicts -f - >/dev/null
}

start() {
  [ -x "$BIN" ] || die "no waxwing binary at $BIN: run 'cargo build -p waxwing' (make up does)"
  [ -f "$STATE_DIR/kubeconfig" ] || die "no test cluster: run 'make cluster-up' first"
  "${KUBECTL[@]}" create namespace "$NAMESPACE" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f - >/dev/null
  plugin_configmap
  if pid_alive waxwing && [ "$BIN" -ot "$PIDS/waxwing.pid" ]; then
    log "waxwing already running (pid $(recorded_pid waxwing)), binary unchanged"
    return 0
  fi
  stop_daemon waxwing || true
  "${KUBECTL[@]}" apply --server-side --force-conflicts -f "$REPO_ROOT/deploy/crds/" >/dev/null
  KUBECONFIG="${WAXWING_KUBECONFIG:-$STATE_DIR/kubeconfig}" start_daemon waxwing "$BIN" controller \
    --namespace "$NAMESPACE" --metrics-addr "$METRICS_ADDR" --webhook-addr "$WEBHOOK_ADDR" \
    --lease-duration-seconds "$LEASE_SECONDS" \
    || die "waxwing exited at once: see $LOGS/waxwing.log"
  local deadline=$((SECONDS + TIMEOUT))
  # Ready = plugins loaded and the webhooks registered with this process's certificate.
  until curl -sf "http://$METRICS_ADDR/readyz" >/dev/null 2>&1; do
    if ! pid_alive waxwing; then
      tail -n 20 "$LOGS/waxwing.log" >&2
      die "waxwing exited while starting (log: $LOGS/waxwing.log)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "waxwing not ready within ${TIMEOUT}s (log: $LOGS/waxwing.log)"
    sleep 0.2
  done
  log "waxwing running (pid $(recorded_pid waxwing)): metrics http://$METRICS_ADDR/metrics, log $LOGS/waxwing.log"
}

case "${1:-}" in
  start) start ;;
  restart) stop_daemon waxwing || true; start ;;
  kill) stop_daemon waxwing KILL || true ;;
  stop) stop_daemon waxwing || true ;;
  *) die "usage: $0 start|restart|kill|stop" ;;
esac
