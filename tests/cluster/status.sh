#!/usr/bin/env bash
# Show the recorded cluster processes with their RSS, and the health of kube-apiserver and Prometheus.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -d "$PIDS" ] || { echo "no cluster recorded in $STATE_DIR (run make cluster-up)"; exit 1; }
total=0; rc=0
printf '%-26s %8s %10s\n' COMPONENT PID RSS_MiB
for f in "$PIDS"/*.pid; do
  n="$(basename "$f" .pid)"; read -r pid start <"$f"
  if [ -r "/proc/$pid/stat" ] && [ "$(awk '{print $22}' "/proc/$pid/stat")" = "$start" ]; then
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"; total=$((total + kb))
    awk -v n="$n" -v p="$pid" -v kb="$kb" 'BEGIN { printf "%-26s %8s %10.1f\n", n, p, kb / 1024 }'
  else
    printf '%-26s %8s %10s\n' "$n" "$pid" "DEAD"; rc=1
  fi
done
awk -v kb="$total" 'BEGIN { printf "%-26s %8s %10.1f\n", "total", "", kb / 1024 }'
if "$STATE_DIR/bin/kubectl" --kubeconfig="$STATE_DIR/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  echo "kube-apiserver /readyz: ok (https://127.0.0.1:$APISERVER_PORT)"
else
  echo "kube-apiserver /readyz: FAILING"; rc=1
fi
if [ -f "$PIDS/prometheus.pid" ]; then
  if curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; then
    targets="$(find "$PROMETHEUS_STATE/targets" -name '*.json' 2>/dev/null | wc -l)"
    echo "prometheus /-/ready: ok (http://127.0.0.1:$PROMETHEUS_PORT, $targets target file(s) in $PROMETHEUS_STATE/targets)"
  else
    echo "prometheus /-/ready: FAILING (http://127.0.0.1:$PROMETHEUS_PORT)"; rc=1
  fi
fi
exit $rc
