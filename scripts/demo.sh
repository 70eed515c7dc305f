#!/usr/bin/env bash
# The demo `make demo` runs (after `make up`): the echoserver Deployment of examples/ with 5
# replicas and its Rollout (20%, 40% with a manual pause, 60%, 100%), then a release of v2
# followed batch by batch in the terminal until the Rollout is Completed. The manual pause
# is approved the way a person would, by the status patch kubectl-kruise sends.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../tests/cluster/lib.sh"

NS="${DEMO_NAMESPACE:-waxwing-demo}"
TIMEOUT="${DEMO_TIMEOUT:-300}"
K=("$STATE_DIR/bin/kubectl" --kubeconfig="$STATE_DIR/kubeconfig" -n "$NS")
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }
now() { date +%H:%M:%S; }

rollout_field() { "${K[@]}" get rollout echoserver -o jsonpath="$1"; }

# One line per observed change: step and state, pods per version and batch, the message.
progress() {
  local step state message pods weight
  step="$(rollout_field '{.status.canaryStatus.currentStepIndex}')"
  state="$(rollout_field '{.status.canaryStatus.currentStepState}')"
  message="$(rollout_field '{.status.message}')"
  pods="$("${K[@]}" get pods -l app=echoserver --field-selector=status.phase!=Failed -o \
    jsonpath='{range .items[*]}{.spec.containers[0].image}{"|"}{.metadata.labels.rollouts\.kruise\.io/rollout-batch-id}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    awk -F'|' '{v=$1; sub(/.*:/, "", v); n[v]++; if ($3=="True") r[v]++; if ($2!="") b[v]=b[v] " " $2}
         END {for (v in n) { printf "%s: %d pods (%d ready)", v, n[v], r[v]+0;
                              if (b[v]!="") printf ", batch labels%s", b[v]; printf "   " }}')"
  weight="$("${K[@]}" get ingress echoserver-canary --ignore-not-found \
    -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}')"
  printf '%s  step %s/%s %-18s %s traffic to v2: %s%%\n            %s\n' "$(now)" "${step:-?}" "$STEPS" \
    "${state:--}" "$pods" "${weight:-0}" "$message"
}

say "namespace $NS: the echoserver Deployment (5 replicas, v1), its Service, Ingress and Rollout"
"${K[@]}" delete namespace "$NS" --ignore-not-found --wait >/dev/null 2>&1 || true
"$STATE_DIR/bin/kubectl" --kubeconfig="$STATE_DIR/kubeconfig" create namespace "$NS" >/dev/null
"${K[@]}" apply -f "$REPO_ROOT/examples/echoserver.yaml" -f "$REPO_ROOT/examples/rollout.yaml"
STEPS="$(rollout_field '{.spec.strategy.canary.steps[*].replicas}' | wc -w)"
"${K[@]}" wait --for=jsonpath='{.status.phase}'=Healthy rollout/echoserver --timeout=60s >/dev/null
"${K[@]}" rollout status deployment/echoserver --timeout=60s >/dev/null
"${K[@]}" get rollout echoserver

say "releasing v2 (new image, rollout-id v2): Waxwing takes the update over and releases it in batches"
"${K[@]}" patch deployment echoserver --type=merge -p '{"metadata":{"labels":{"rollouts.kruise.io/rollout-id":"v2"}},
  "spec":{"template":{"spec":{"containers":[{"name":"echoserver","image":"registry.example/echoserver:v2"}]}}}}'

last="" deadline=$((SECONDS + TIMEOUT))
while :; do
  line="$(progress)"
  [ "${line#* }" = "${last#* }" ] || { echo "$line"; last="$line"; }
  state="$(rollout_field '{.status.canaryStatus.currentStepState}')"
  [ "$state" = Completed ] && [ "$(rollout_field '{.status.phase}')" = Healthy ] && break
  step="$(rollout_field '{.status.canaryStatus.currentStepIndex}')"
  # A pause without a duration waits for a person; the last step (100%) completes on its own, so
  # approving it would race the controller's own completion.
  if [ "$state" = StepPaused ] && [ "${step:-0}" -lt "$STEPS" ] &&
    [ -z "$(rollout_field "{.spec.strategy.canary.steps[$((step - 1))].pause.duration}")" ]; then
    say "step $step waits for a person; approving it as kubectl-kruise does:"
    echo "kubectl -n $NS patch rollout echoserver --subresource=status --type=merge -p '{\"status\":{\"canaryStatus\":{\"currentStepState\":\"StepReady\"}}}'"
    "${K[@]}" patch rollout echoserver --subresource=status --type=merge \
      -p '{"status":{"canaryStatus":{"currentStepState":"StepReady"}}}' >/dev/null
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "the rollout did not complete within ${TIMEOUT}s (controller log: $LOGS/waxwing.log)"
  sleep 0.5
done

say "Completed: every pod runs v2, the Deployment is handed back to Kubernetes"
KUBECONFIG="$STATE_DIR/kubeconfig" "${WAXWING_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/waxwing}" \
  get rollout echoserver -n "$NS"
"${K[@]}" get deployment,replicaset -o wide
echo
echo "Explore: export KUBECONFIG=$STATE_DIR/kubeconfig; kubectl (at $STATE_DIR/bin/kubectl) -n $NS get rollout,deploy,rs,pods"
echo "         waxwing get rollout echoserver -n $NS --watch   (or: kubectl waxwing ..., see README)"
echo "Stop the cluster and the controller with: make down"
