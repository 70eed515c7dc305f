#!/usr/bin/env bash
# Stop the local test control plane: exactly the processes recorded in target/cluster/pids
# (checked against their start time, so a reused pid is never killed), then remove the state
# (pki, kubeconfig, etcd data dir on tmpfs). Logs are kept unless KEEP_LOGS is unset and
# WAXWING_DOWN_RM_LOGS=1. Binaries stay in the cache.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ORDER=(waxwing prometheus kruise-manager kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

stopped=0
if [ -d "$PIDS" ]; then
  names=("${ORDER[@]}")
  for f in "$PIDS"/*.pid; do # anything else recorded
    [ -e "$f" ] || continue
    n="$(basename "$f" .pid)"
    case " ${ORDER[*]} " in *" $n "*) ;; *) names+=("$n") ;; esac
  done
  for n in "${names[@]}"; do
    if stop_daemon "$n"; then stopped=$((stopped + 1)); fi
  done
fi

if [ -f "$STATE_DIR/etcd-dir" ]; then
  d="$(cat "$STATE_DIR/etcd-dir")"
  case "$d" in /dev/shm/waxwing-etcd-* | "$STATE_DIR"/*) rm -rf "$d" ;; *) [ -n "${WAXWING_ETCD_DIR:-}" ] && [ "$d" = "$WAXWING_ETCD_DIR" ] && rm -rf "$d" ;; esac
fi
rm -rf "$PIDS" "$STATE_DIR/pki" "$STATE_DIR/kruise-certs" "$STATE_DIR/etcd-data" "$STATE_DIR/etcd-dir" \
  "$STATE_DIR/kubeconfig" "$STATE_DIR/env" "$STATE_DIR/kwok.yaml" "$STATE_DIR/nodes.yaml" "$STATE_DIR/kruise-webhooks.yaml" \
  "$STATE_DIR/virtualservice-crd.yaml" "$PROMETHEUS_STATE"
if [ -z "${KEEP_LOGS:-}" ] && [ "${WAXWING_DOWN_RM_LOGS:-0}" = 1 ]; then rm -rf "$STATE_DIR/logs"; fi
log "cluster down: stopped $stopped process(es), removed state in $STATE_DIR (logs kept in $STATE_DIR/logs)"
