#!/usr/bin/env bash
# Stop the local test control plane: exactly the processes recorded in target/cluster/pids
# (checked against their start time, so a reused pid is never killed), then remove the state
# (pki, kubeconfig, etcd data dir on tmpfs). Logs are kept unless KEEP_LOGS is unset and
# WAXWING_DOWN_RM_LOGS=1. Binaries stay in the cache.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ORDER=(waxwing kruise-manager kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

ours() { # pidfile -> prints pid if the process is still the one recorded
  local pid start
  read -r pid start <"$1" 2>/dev/null || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] || return 1
  echo "$pid"
}

stopped=0
if [ -d "$PIDS" ]; then
  names=("${ORDER[@]}")
  for f in "$PIDS"/*.pid; do # anything else recorded
    [ -e "$f" ] || continue
    n="$(basename "$f" .pid)"
    case " ${ORDER[*]} " in *" $n "*) ;; *) names+=("$n") ;; esac
  done
  for n in "${names[@]}"; do
    f="$PIDS/$n.pid"
    [ -f "$f" ] || continue
    if pid="$(ours "$f")"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do ours "$f" >/dev/null || break; sleep 0.1; done
      if ours "$f" >/dev/null; then
        log "$n (pid $pid) did not stop within 10s of SIGTERM: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do ours "$f" >/dev/null || break; sleep 0.1; done
      fi
      stopped=$((stopped + 1))
    fi
    rm -f "$f"
  done
fi

if [ -f "$STATE_DIR/etcd-dir" ]; then
  d="$(cat "$STATE_DIR/etcd-dir")"
  case "$d" in /dev/shm/waxwing-etcd-* | "$STATE_DIR"/*) rm -rf "$d" ;; *) [ -n "${WAXWING_ETCD_DIR:-}" ] && [ "$d" = "$WAXWING_ETCD_DIR" ] && rm -rf "$d" ;; esac
fi
rm -rf "$PIDS" "$STATE_DIR/pki" "$STATE_DIR/kruise-certs" "$STATE_DIR/etcd-data" "$STATE_DIR/etcd-dir" \
  "$STATE_DIR/kubeconfig" "$STATE_DIR/env" "$STATE_DIR/kwok.yaml" "$STATE_DIR/nodes.yaml" "$STATE_DIR/kruise-webhooks.yaml"
if [ -z "${KEEP_LOGS:-}" ] && [ "${WAXWING_DOWN_RM_LOGS:-0}" = 1 ]; then rm -rf "$STATE_DIR/logs"; fi
log "cluster down: stopped $stopped process(es), removed state in $STATE_DIR (logs kept in $STATE_DIR/logs)"
