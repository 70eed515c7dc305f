#!/usr/bin/env bash
# Check the deployment files in deploy/: the Helm chart, the kustomize manifests and the KubeVela
# trait. Offline: helm lint and template, kubectl kustomize, the chart and the manifests agree
# (RBAC rules, controller flags, plugin list = the built-in default), chart CRDs = deploy/crds,
# the controller binary accepts the rendered flags, the trait's CUE template gives the expected
# Rollouts. Against the local test cluster when it answers (make cluster-up): every rendered
# object and every Rollout the trait outputs goes through a server-side dry run (schema, CEL
# rules, admission webhooks, v1alpha1 conversion).
#
# Env: WAXWING_BIN (controller binary, default target/debug/waxwing; its check is skipped when
#      absent), UPDATE_GOLDEN=1 (rewrite tests/deploy/kubevela/*.rollout.yaml), KUBECONFIG is
#      ignored: the test cluster's target/cluster/kubeconfig is used.
# Ends with the line "N passed, N failed" (skipped parts say so, and are not counted).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CHART=deploy/helm/waxwing
MANIFESTS=deploy/manifests
TRAIT=deploy/kubevela/waxwing-rollout.yaml
APP=deploy/kubevela/example-application.yaml
CASES=tests/deploy/kubevela
STATE="${WAXWING_CLUSTER_STATE:-$ROOT/target/cluster}"
KUBECONFIG_FILE="$STATE/kubeconfig"
FIELD_MANAGER=waxwing-deploy-check
RELEASE=waxwing
NAMESPACE=waxwing-system

PASSED=0
FAILED=0
FAILURES=()
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

say() { printf '[deploy-check %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); printf '  FAIL  %s\n' "$1"; [ -z "${2:-}" ] || sed 's/^/        /' "$2" | tail -n 40; }
skip() { printf '  skip  %s\n' "$*"; }
# check NAME CMD...: run CMD, output to a log shown on failure.
check() {
  local name="$1" log="$WORK/log.$((PASSED + FAILED))"
  shift
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name" "$log"; fi
}

# --- tools -------------------------------------------------------------------------------------
say "tools"
TOOLS_BIN="$(tests/tools/build.sh | tail -n 1)"
HELM="$TOOLS_BIN/helm"
CUE="$TOOLS_BIN/cue"
if [ -x "$STATE/bin/kubectl" ]; then
  KUBECTL="$STATE/bin/kubectl"
else
  say "no $STATE/bin/kubectl: building (or reusing) the test cluster's binaries for kubectl"
  KUBECTL="$(tests/cluster/build.sh | tail -n 1)/kubectl"
fi
printf '  helm %s, cue %s, kubectl %s\n' "$("$HELM" version --template '{{.Version}}')" \
  "$("$CUE" version | sed -n 's/^cue version //p')" \
  "$("$KUBECTL" version --client -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | head -n 1)"

# YAML (one or more documents) -> a JSON list of the non-empty documents.
to_json() { "$CUE" export --list --out json "$1" >"$2"; }

# --- Helm --------------------------------------------------------------------------------------
say "helm chart $CHART"
check "helm lint" "$HELM" lint --strict "$CHART"
check "helm lint (serviceMonitor on)" "$HELM" lint --strict "$CHART" --set metrics.serviceMonitor.enabled=true
# render OUT ARGS...: helm template ARGS... into OUT.
render() { local out="$1"; shift; "$HELM" template "$@" >"$out"; }
check "helm template (defaults)" render "$WORK/helm.yaml" "$RELEASE" "$CHART" -n "$NAMESPACE" --include-crds
check "helm template --set metrics.serviceMonitor.enabled=true" \
  render "$WORK/helm-sm.yaml" "$RELEASE" "$CHART" -n "$NAMESPACE" --include-crds --set metrics.serviceMonitor.enabled=true
check "helm template with every knob set" \
  render "$WORK/helm-knobs.yaml" x "$CHART" -n other \
  --set replicaCount=3,image.tag=dev,logLevel=debug,logFormat=text,rbac.create=false \
  --set serviceAccount.create=false,serviceAccount.name=sa,podDisruptionBudget.enabled=false \
  --set metrics.service.enabled=false,pluginCache.sizeLimit= \
  --set-json 'nodeSelector={"a":"b"}' --set-json 'tolerations=[{"operator":"Exists"}]' --set-json 'plugins=[]'
no_pdb_for_one_replica() {
  ! "$HELM" template "$RELEASE" "$CHART" -n "$NAMESPACE" --set replicaCount=1 | grep '^kind: PodDisruptionBudget' >/dev/null
}
check "helm template --set replicaCount=1 renders no PodDisruptionBudget (it would block drains)" no_pdb_for_one_replica
check "chart and manifests crds/ equal deploy/crds (deploy/sync-crds.sh)" deploy/sync-crds.sh --check

# --- kustomize ---------------------------------------------------------------------------------
say "kustomize $MANIFESTS"
kustomize_build() { "$KUBECTL" kustomize "$MANIFESTS" >"$1"; }
check "kubectl kustomize" kustomize_build "$WORK/kustomize.yaml"

# --- consistency -------------------------------------------------------------------------------
say "chart and manifests agree"
for f in helm helm-sm helm-knobs kustomize; do
  [ -s "$WORK/$f.yaml" ] && to_json "$WORK/$f.yaml" "$WORK/$f.json" || echo '[]' >"$WORK/$f.json"
done
to_json host/builtin/src/default-plugins.yaml "$WORK/default-plugins.json"
# The plugins.yaml texts, parsed by cue as well.
python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
for name in ("helm", "kustomize"):
    for o in json.load(open(f"{work}/{name}.json")):
        if o and o.get("kind") == "ConfigMap" and o["metadata"]["name"] == "waxwing-plugins":
            open(f"{work}/{name}-plugins.yaml", "w").write(o["data"]["plugins.yaml"])
EOF
for f in helm kustomize; do
  [ -s "$WORK/$f-plugins.yaml" ] && to_json "$WORK/$f-plugins.yaml" "$WORK/$f-plugins.json" || echo '[]' >"$WORK/$f-plugins.json"
done
if python3 - "$WORK" >"$WORK/consistency.log" 2>&1 <<'EOF'
import json, sys
work = sys.argv[1]
def load(name):
    return [o for o in json.load(open(f"{work}/{name}.json")) if o]
def index(objs):
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}
helm, sm, knobs, kz = (index(load(n)) for n in ("helm", "helm-sm", "helm-knobs", "kustomize"))
default_plugins = load("default-plugins")[0]
problems = []
def expect(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        problems.append(what)

# Every object of the manifests is in the chart (the Namespace is --create-namespace's).
missing = sorted(k for k in kz if k not in helm and k[0] != "Namespace")
expect(not missing, "every object of deploy/manifests is rendered by the chart" + (f" (missing: {missing})" if missing else ""))
expect(("ServiceMonitor", "waxwing") not in helm and ("ServiceMonitor", "waxwing") in sm,
       "a ServiceMonitor only with metrics.serviceMonitor.enabled=true")
if ("ServiceMonitor", "waxwing") in sm:
    mon = sm[("ServiceMonitor", "waxwing")]
    svc = sm[("Service", "waxwing-metrics")]
    labels = svc["metadata"]["labels"]
    sel = mon["spec"]["selector"]["matchLabels"]
    expect(all(labels.get(k) == v for k, v in sel.items()),
           "the ServiceMonitor selects the metrics Service")
    expect(not all(sm[("Service", "waxwing-webhook")]["metadata"]["labels"].get(k) == v for k, v in sel.items()),
           "the ServiceMonitor does not select the webhook Service")
    ports = [p["name"] for p in svc["spec"]["ports"]]
    expect(all(e["port"] in ports for e in mon["spec"]["endpoints"]), "the ServiceMonitor scrapes a named port of the Service")

# Same RBAC rules (the chart adds only rbac.extraRules, empty by default).
for kind in ("ClusterRole", "Role"):
    a, b = helm.get((kind, "waxwing")), kz.get((kind, "waxwing"))
    expect(a is not None and b is not None and a["rules"] == b["rules"], f"{kind} rules are the same in the chart and the manifests")
for name in ("waxwing-aggregate-to-edit", "waxwing-aggregate-to-view"):
    a, b = helm.get(("ClusterRole", name)), kz.get(("ClusterRole", name))
    same = a is not None and b is not None and a["rules"] == b["rules"] and all(
        a["metadata"]["labels"].get(k) == v for k, v in b["metadata"]["labels"].items()
        if k.startswith("rbac.authorization.k8s.io/"))
    expect(same, f"ClusterRole {name}: same rules and aggregation labels in the chart and the manifests")
for kind in ("ClusterRoleBinding", "RoleBinding"):
    a, b = helm.get((kind, "waxwing")), kz.get((kind, "waxwing"))
    expect(a is not None and b is not None and a["subjects"] == b["subjects"] and a["roleRef"] == b["roleRef"],
           f"{kind} binds the same subject and role")

# The plugin ConfigMap holds the built-in default list.
for name in ("helm", "kustomize"):
    got = load(f"{name}-plugins")
    expect(bool(got) and got[0] == default_plugins,
           f"{name}: ConfigMap waxwing-plugins plugins.yaml = host/builtin/src/default-plugins.yaml")

# The controller's flags, probes, volumes.
def container(objs):
    return objs[("Deployment", "waxwing")]["spec"]["template"]["spec"]["containers"][0]
hc, kc = container(helm), container(kz)
required = ["controller", "--webhook-service=waxwing-webhook", "--webhook-addr=0.0.0.0:9443",
            "--metrics-addr=0.0.0.0:9090", "--log-format=json", "--plugin-cache-dir=/var/cache/waxwing/plugins"]
for name, c in (("helm", hc), ("kustomize", kc)):
    expect(all(a in c["args"] for a in required), f"{name}: controller args include {' '.join(required)}")
    env = {e["name"]: e for e in c["env"]}
    expect(env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
           f"{name}: POD_NAMESPACE from the pod's namespace")
    sc = c["securityContext"]
    expect(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False,
           f"{name}: read-only root filesystem, no privilege escalation")
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    expect("/var/cache/waxwing" in mounts, f"{name}: the plugin cache dir is a mounted volume")
    expect(c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz",
           f"{name}: probes /healthz and /readyz")
expect(set(kc["args"]) <= set(hc["args"]), "the chart passes every flag the manifests pass")
expect(helm[("Deployment", "waxwing")]["spec"]["replicas"] == 2 == kz[("Deployment", "waxwing")]["spec"]["replicas"],
       "2 replicas")
expect(helm[("PodDisruptionBudget", "waxwing")]["spec"]["minAvailable"] == 1 == kz[("PodDisruptionBudget", "waxwing")]["spec"]["minAvailable"],
       "PodDisruptionBudget minAvailable 1")
for name, objs in (("helm", helm), ("kustomize", kz)):
    svc = objs[("Service", "waxwing-webhook")]["spec"]["ports"][0]
    expect(svc["port"] == 443 and svc["targetPort"] == "webhook", f"{name}: webhook Service 443 -> webhook (9443)")

# Knobs: a renamed release keeps its names consistent.
kd = knobs.get(("Deployment", "x-waxwing"))
expect(kd is not None and kd["spec"]["replicas"] == 3 and ("ServiceAccount", "x-waxwing") not in knobs
       and ("ClusterRole", "x-waxwing") not in knobs and ("PodDisruptionBudget", "x-waxwing") not in knobs
       and ("Service", "x-waxwing-metrics") not in knobs,
       "knobs: replicas, rbac.create, serviceAccount.create, podDisruptionBudget, metrics.service")
if kd is not None:
    c = kd["spec"]["template"]["spec"]["containers"][0]
    expect("--webhook-service=x-waxwing-webhook" in c["args"] and ("Service", "x-waxwing-webhook") in knobs
           and "--plugins-configmap=x-waxwing-plugins" in c["args"] and ("ConfigMap", "x-waxwing-plugins") in knobs
           and kd["spec"]["template"]["spec"]["serviceAccountName"] == "sa"
           and c["image"].endswith(":dev") and {"name": "RUST_LOG", "value": "debug"} in c["env"]
           and "--log-format=text" in c["args"],
           "knobs: names follow the release; image tag, log level and format")
sys.exit(1 if problems else 0)
EOF
then
  sed 's/^/  /' "$WORK/consistency.log"
  pass "chart and manifests agree ($(grep -c '^ok' "$WORK/consistency.log") checks)"
else
  sed 's/^/  /' "$WORK/consistency.log"
  fail "chart and manifests agree"
fi

# --- the controller accepts the rendered flags ---------------------------------------------------
BIN="${WAXWING_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/waxwing}"
if [ -x "$BIN" ]; then
  python3 - "$WORK" >"$WORK/args" <<'EOF'
import json, sys
for o in json.load(open(f"{sys.argv[1]}/helm.json")):
    if o and o.get("kind") == "Deployment":
        print("\n".join(o["spec"]["template"]["spec"]["containers"][0]["args"]))
EOF
  mapfile -t ARGS < <(sed "s#^--plugin-cache-dir=.*#--plugin-cache-dir=$WORK/plugin-cache#" "$WORK/args")
  # No cluster to reach: parsing must succeed and the run end at the connection.
  # HOME too, so no ~/.kube/config is found: this must never reach a real cluster.
  if env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT KUBECONFIG="$WORK/no-kubeconfig" HOME="$WORK" \
    POD_NAMESPACE=waxwing-system timeout 60 "$BIN" "${ARGS[@]}" >"$WORK/bin.log" 2>&1; then
    fail "the controller binary accepts the rendered flags (it ran without a cluster?)" "$WORK/bin.log"
  elif grep -q 'cannot reach the Kubernetes API' "$WORK/bin.log"; then
    pass "the controller binary accepts the rendered flags ($BIN)"
  else
    fail "the controller binary accepts the rendered flags" "$WORK/bin.log"
  fi
else
  skip "the controller binary accepts the rendered flags: no $BIN (cargo build -p waxwing)"
fi

# --- KubeVela trait ----------------------------------------------------------------------------
say "KubeVela trait $TRAIT"
TEMPLATE="$WORK/template.cue"
if "$CUE" export "$TRAIT" -e spec.schematic.cue.template --out text >"$WORK/template.raw" 2>"$WORK/template.log"; then
  printf '%s\n' "$(cat "$WORK/template.raw")" >"$TEMPLATE"
  pass "the TraitDefinition holds a CUE template"
else
  fail "the TraitDefinition holds a CUE template" "$WORK/template.log"
fi
check "the template is cue-formatted (cue fmt --check)" "$CUE" fmt --check "$TEMPLATE"

# The status policies KubeVela evaluates against the Rollout: health and message.
"$CUE" export "$TRAIT" -e spec.status.healthPolicy --out text >"$WORK/health.cue"
"$CUE" export "$TRAIT" -e spec.status.customStatus --out text >"$WORK/status.cue"
status_case() { # STATUS (CUE, or "absent") WANT_HEALTH WANT_MESSAGE(JSON)
  local ctx="context: outputs: rollout: status: $1" got
  [ "$1" = absent ] && ctx='context: outputs: rollout: {}'
  { cat "$WORK/health.cue"; echo; cat "$WORK/status.cue"; echo; echo "$ctx"; } >"$WORK/status-case.cue"
  got="$("$CUE" export "$WORK/status-case.cue" -e isHealth 2>&1) / $("$CUE" export "$WORK/status-case.cue" -e message 2>&1)"
  if [ "$got" = "$2 / $3" ]; then
    pass "kubevela status of $1: isHealth $2, message $3"
  else
    echo "got: $got" >"$WORK/status-case.log"
    fail "kubevela status of $1: isHealth $2, message $3" "$WORK/status-case.log"
  fi
}
status_case absent false '""'
status_case '{phase: "Healthy"}' true '""'
status_case '{phase: "Progressing", canaryStatus: {currentStepState: "StepPaused"}, message: "waiting"}' true '"waiting"'
status_case '{phase: "Progressing", canaryStatus: {currentStepState: "StepUpgrade"}}' false '""'
status_case '{phase: "Disabled", message: "off"}' false '"off"'

# The example Application's trait properties are a case of their own.
"$CUE" export "$APP" --out json \
  -e '[for t in spec.components[0].traits if t.type == "waxwing-rollout" {t.properties}][0]' >"$WORK/app-params.json"
APP_COMPONENT="$("$CUE" export "$APP" -e 'spec.components[0].name' --out text)"
APP_NAMESPACE="$("$CUE" export "$APP" -e 'metadata.namespace' --out text)"
{
  echo "// deploy/kubevela/example-application.yaml: a webservice component (a Deployment)."
  printf 'context: {name: "%s", namespace: "%s", output: {apiVersion: "apps/v1", kind: "Deployment"}}\n' \
    "$APP_COMPONENT" "$APP_NAMESPACE"
  printf 'parameter: %s\n' "$(cat "$WORK/app-params.json")"
} >"$WORK/example-application.cue"

ROLLOUTS=()
for case_file in "$WORK/example-application.cue" "$CASES"/*.cue; do
  name="$(basename "$case_file" .cue)"
  { cat "$TEMPLATE"; echo; cat "$case_file"; } >"$WORK/case-$name.cue"
  out="$WORK/rollout-$name.yaml"
  if [ -f "$CASES/$name.error" ]; then
    want="$(head -n 1 "$CASES/$name.error")"
    if "$CUE" export "$WORK/case-$name.cue" -e outputs.rollout --out yaml >"$out" 2>"$WORK/case-$name.log"; then
      fail "kubevela $name: refused" "$out"
    elif grep -qF -- "$want" "$WORK/case-$name.log"; then
      pass "kubevela $name: refused with \"$want\""
    else
      fail "kubevela $name: refused with \"$want\"" "$WORK/case-$name.log"
    fi
    continue
  fi
  if ! "$CUE" vet -c "$WORK/case-$name.cue" >"$WORK/case-$name.log" 2>&1 \
    || ! "$CUE" export "$WORK/case-$name.cue" -e outputs.rollout --out yaml >"$out" 2>>"$WORK/case-$name.log"; then
    fail "kubevela $name: cue vet -c and export" "$WORK/case-$name.log"
    continue
  fi
  ROLLOUTS+=("$name")
  golden="$CASES/$name.rollout.yaml"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$out" "$golden"
    pass "kubevela $name: golden rewritten ($golden)"
  elif diff -u "$golden" "$out" >"$WORK/case-$name.diff" 2>&1; then
    pass "kubevela $name: outputs $golden"
  else
    fail "kubevela $name: outputs $golden (UPDATE_GOLDEN=1 to accept)" "$WORK/case-$name.diff"
  fi
done

# --- the test cluster --------------------------------------------------------------------------
say "server-side dry run against the test cluster"
K=("$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" --request-timeout=20s)
if [ ! -f "$KUBECONFIG_FILE" ]; then
  skip "no test cluster ($KUBECONFIG_FILE missing): run 'make cluster-up' for the server-side dry runs"
elif ! "${K[@]}" get --raw /readyz >/dev/null 2>&1; then
  skip "the test cluster does not answer ($KUBECONFIG_FILE): run 'make cluster-up' for the server-side dry runs"
else
  # Namespaced objects need their namespace to exist; `make up` creates waxwing-system the same way.
  if ! "${K[@]}" get namespace "$NAMESPACE" >/dev/null 2>&1; then
    say "creating namespace $NAMESPACE (as scripts/controller.sh does) so its objects can be dry-run"
    "${K[@]}" create namespace "$NAMESPACE" >/dev/null
  fi
  # dry_run NAME FILE: server-side apply dry run; warnings (e.g. from the webhooks) are shown.
  dry_run() {
    local name="$1" file="$2" log="$WORK/dry.$((PASSED + FAILED))"
    if "${K[@]}" apply --server-side --force-conflicts --dry-run=server --field-manager="$FIELD_MANAGER" \
      -f "$file" -o json >"$log.out" 2>"$log"; then
      pass "$name: $(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(d["items"]) if d.get("kind") == "List" else 1)' "$log.out") object(s) accepted"
      grep -i 'warning' "$log" | sed 's/^/        /' || true
    else
      if grep -qi 'webhook' "$log"; then
        echo "hint: the cluster's webhooks (the Rollout CRD's conversion webhook among them) point at a controller that does not answer: make up" >>"$log"
      fi
      fail "$name" "$log"
    fi
  }
  dry_run "dry run: kubectl kustomize deploy/manifests" "$WORK/kustomize.yaml"
  dry_run "dry run: helm template (defaults, with CRDs)" "$WORK/helm.yaml"
  if "${K[@]}" api-resources --api-group=monitoring.coreos.com -o name 2>/dev/null | grep '^servicemonitors\.' >/dev/null; then
    dry_run "dry run: helm template with metrics.serviceMonitor.enabled=true" "$WORK/helm-sm.yaml"
  else
    python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
objs = [o for o in json.load(open(f"{work}/helm-sm.json")) if o and o.get("kind") != "ServiceMonitor"]
json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, open(f"{work}/helm-sm-no-monitor.json", "w"))
EOF
    dry_run "dry run: helm template with metrics.serviceMonitor.enabled=true, but the ServiceMonitor" "$WORK/helm-sm-no-monitor.json"
    skip "dry run of the ServiceMonitor: the test cluster serves no monitoring.coreos.com CRDs (checked offline above)"
  fi
  if "${K[@]}" api-resources --api-group=core.oam.dev -o name 2>/dev/null | grep '^traitdefinitions\.' >/dev/null; then
    dry_run "dry run: the TraitDefinition" "$TRAIT"
  else
    skip "dry run of the TraitDefinition and the Application: the test cluster has no KubeVela CRDs"
  fi
  for name in "${ROLLOUTS[@]}"; do
    dry_run "dry run: the Rollout kubevela $name outputs" "$WORK/rollout-$name.yaml"
  done
  # The API server stores v1beta1: what comes back through the conversion webhook must still
  # hold every field the trait wrote.
  if [ -s "$WORK/rollout-example-application.yaml" ]; then
    to_json "$WORK/rollout-example-application.yaml" "$WORK/rollout-example-application.json"
    "${K[@]}" apply --server-side --force-conflicts --dry-run=server --field-manager="$FIELD_MANAGER" \
      -f "$WORK/rollout-example-application.yaml" -o json >"$WORK/roundtrip.json" 2>"$WORK/roundtrip.log" || true
    if python3 - "$WORK" >>"$WORK/roundtrip.log" 2>&1 <<'EOF'
import json, sys
work = sys.argv[1]
sent = json.load(open(f"{work}/rollout-example-application.json"))[0]["spec"]
back = json.load(open(f"{work}/roundtrip.json"))["spec"]
def within(a, b, path="spec"):
    if isinstance(a, dict):
        return isinstance(b, dict) and all(within(v, b.get(k), f"{path}.{k}") for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(within(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    if a != b:
        print(f"{path}: sent {a!r}, got back {b!r}")
    return a == b
sys.exit(0 if within(sent, back) else 1)
EOF
    then
      pass "the example's v1alpha1 Rollout comes back unchanged through v1beta1 storage"
    else
      fail "the example's v1alpha1 Rollout comes back unchanged through v1beta1 storage" "$WORK/roundtrip.log"
    fi
  fi
fi

echo
if [ "$FAILED" -gt 0 ]; then
  printf 'failed:\n'; printf '  %s\n' "${FAILURES[@]}"
fi
echo "deploy-check: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
