#!/usr/bin/env python3
"""Writes the Deployment plugin's golden fixtures, plugins/deployment/fixtures/<case>.json.

Inputs are built from one realistic Deployment ("shop/web") and the ReplicaSets and pods a
cluster would hold at each point of a release. Every expectation is spelt out below by hand
from Kruise's behaviour (see the crate docs); only the content hash of a pod template is
computed, by an implementation independent of the plugin's Rust one, so the fixtures also
check that the two agree. Run it after changing a case: `python3 scripts/make-fixtures.py`.
"""

import copy
import json
import pathlib
import sys

# The helpers shared by the built-in plugins' fixture scripts, in plugins/fixtures_common.py.
sys.dont_write_bytecode = True  # no __pycache__ left in plugins/
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from fixtures_common import err, objects, ok, write_fixtures  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

NS = "shop"
NAME = "web"
UID = "6f1c2a34-8b7d-4e0f-9a51-3c2d1e0f7a10"
CANARY_UID = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}
ROLLOUT_WITH_ID = {**ROLLOUT, "rollout-id": "r20250301"}

IN_PROGRESSING = "rollouts.kruise.io/in-progressing"
STRATEGY = "rollouts.kruise.io/deployment-strategy"
STABLE_LABEL = "rollouts.kruise.io/stable-revision"
CANARY_LABEL = "rollouts.kruise.io/canary-deployment"
ROLLOUT_ID = "rollouts.kruise.io/rollout-id"
BATCH_ID = "rollouts.kruise.io/rollout-batch-id"
MARK = json.dumps({"rolloutName": "web-rollout"}, separators=(",", ":"))
PARTITION_STRATEGY = json.dumps(
    {"rollingStyle": "Partition", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    separators=(",", ":"),
)

# ---------------------------------------------------------------------------------------------
# The pod template, as the API server stores it (defaults filled in).


def template(image_tag):
    return {
        "metadata": {
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
            },
        },
        "spec": {
            "serviceAccountName": "web",
            "terminationGracePeriodSeconds": 45,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {"runAsNonRoot": True, "fsGroup": 2000},
            "affinity": {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app": "web"}},
                            },
                        }
                    ]
                }
            },
            "containers": [
                {
                    "name": "web",
                    "image": f"registry.example.com/shop/web:{image_tag}",
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [
                        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                    ],
                    "env": [
                        {"name": "APP_ENV", "value": "production"},
                        {"name": "LOG_LEVEL", "value": "info"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                        },
                        {
                            "name": "DATABASE_URL",
                            "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "url"}},
                        },
                    ],
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "512Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz/ready", "port": "http", "scheme": "HTTP"},
                        "initialDelaySeconds": 5,
                        "periodSeconds": 10,
                        "timeoutSeconds": 2,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz/live", "port": "http", "scheme": "HTTP"},
                        "initialDelaySeconds": 15,
                        "periodSeconds": 20,
                        "timeoutSeconds": 2,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/web", "readOnly": True},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                },
                {
                    "name": "log-shipper",
                    "image": "registry.example.com/platform/fluent-bit:3.2.4",
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["--config=/fluent-bit/etc/fluent-bit.yaml"],
                    "env": [
                        {"name": "SHIP_TO", "value": "https://logs.example.com:9880"},
                        {
                            "name": "NODE_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                        },
                    ],
                    "resources": {
                        "requests": {"cpu": "20m", "memory": "32Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                    "volumeMounts": [
                        {"name": "tmp", "mountPath": "/var/log/web", "subPath": "logs"},
                        {"name": "fluent-bit-config", "mountPath": "/fluent-bit/etc", "readOnly": True},
                    ],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                },
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {"name": "tmp", "emptyDir": {}},
                {"name": "fluent-bit-config", "configMap": {"name": "fluent-bit-web", "defaultMode": 420}},
            ],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": "web"}},
                }
            ],
        },
    }


V1 = template("1.4.2")
V2 = template("1.5.0")
V3 = template("1.5.1")

# ---------------------------------------------------------------------------------------------
# The content hash the plugin gives a template no ReplicaSet runs yet: FNV-1a 64 of the
# template's JSON without the pod-template-hash label, nulls, empty lists and empty objects,
# keys sorted; decimal digits spelt with Kubernetes' safe alphabet.


def prune(value):
    if value is None:
        return None
    if isinstance(value, list):
        items = [prune(item) for item in value]
        items = [{} if item is None else item for item in items]
        return items or None
    if isinstance(value, dict):
        fields = {key: prune(item) for key, item in value.items()}
        fields = {key: item for key, item in fields.items() if item is not None}
        return fields or None
    return value


def content_hash(pod_template):
    pod_template = copy.deepcopy(pod_template)
    pod_template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    text = json.dumps(prune(pod_template), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) % (1 << 64)
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[ord(digit) % len(alphabet)] for digit in str(value))


# The hashes the Kubernetes Deployment controller gave the ReplicaSets it created.
H1 = "6b7f9c8d4"
H2 = "84c5d7f9b"
H2_CANARY = "5d8f6c7b9"
# The hash the plugin gives the ReplicaSets it creates.
C2 = content_hash(V2)
C3 = content_hash(V3)

# ---------------------------------------------------------------------------------------------
# Objects.


def deployment(
    pod_template,
    replicas=5,
    *,
    paused=None,
    strategy_type="RollingUpdate",
    rolling_update="default",
    annotations=None,
    labels=None,
    generation=7,
    observed=7,
    status=None,
):
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web", "tier": "frontend"}},
        "template": copy.deepcopy(pod_template),
        "strategy": {"type": strategy_type},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if rolling_update == "default":
        rolling_update = {"maxSurge": "25%", "maxUnavailable": "25%"}
    if rolling_update is not None:
        spec["strategy"]["rollingUpdate"] = rolling_update
    if paused is not None:
        spec["paused"] = paused
    base_annotations = {"deployment.kubernetes.io/revision": "3", "shop.example.com/owner": "storefront-team"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": UID,
            "resourceVersion": "918273",
            "generation": generation,
            "creationTimestamp": "2025-02-10T09:12:44Z",
            "labels": {"app": "web", "app.kubernetes.io/part-of": "shop", **(labels or {})},
            "annotations": {**base_annotations, **(annotations or {})},
        },
        "spec": spec,
        "status": status
        or {
            "observedGeneration": observed,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": "2025-02-28T16:03:10Z",
                    "lastTransitionTime": "2025-02-28T16:03:10Z",
                }
            ],
        },
    }


def held_canary(pod_template, replicas=5, *, stable_label=None, **kwargs):
    return deployment(
        pod_template,
        replicas,
        paused=True,
        annotations={IN_PROGRESSING: MARK, **kwargs.pop("annotations", {})},
        labels={STABLE_LABEL: stable_label} if stable_label else None,
        **kwargs,
    )


def held_partition(pod_template, replicas=5, *, stable_label=H1, **kwargs):
    return deployment(
        pod_template,
        replicas,
        paused=True,
        strategy_type="Recreate",
        rolling_update=None,
        annotations={IN_PROGRESSING: MARK, STRATEGY: PARTITION_STRATEGY},
        labels={STABLE_LABEL: stable_label} if stable_label else None,
        **kwargs,
    )


def owner(kind, name, uid, controller=True):
    ref = {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid}
    if controller:
        ref.update({"controller": True, "blockOwnerDeletion": True})
    return ref


def replica_set(
    pod_template,
    pod_hash,
    replicas,
    *,
    available=None,
    created=None,
    revision=3,
    owner_name=NAME,
    owner_uid=UID,
    born="2025-02-28T16:01:55Z",
    name=None,
    ready=None,
    min_ready=None,
):
    available = replicas if available is None else available
    created = replicas if created is None else created
    ready = available if ready is None else ready
    tpl = copy.deepcopy(pod_template)
    tpl["metadata"]["labels"]["pod-template-hash"] = pod_hash
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name or f"{owner_name}-{pod_hash}",
            "namespace": NS,
            "uid": f"rs-{pod_hash}-0000-4000-8000-000000000000",
            "generation": 4,
            "creationTimestamp": born,
            "labels": dict(tpl["metadata"]["labels"]),
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": "5",
                "deployment.kubernetes.io/max-replicas": "7",
                "deployment.kubernetes.io/revision": str(revision),
            },
            "ownerReferences": [owner("Deployment", owner_name, owner_uid)],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "tier": "frontend", "pod-template-hash": pod_hash}},
            "template": tpl,
            **({} if min_ready is None else {"minReadySeconds": min_ready}),
        },
        "status": {
            "replicas": created,
            "fullyLabeledReplicas": created,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": 4,
        },
    }


def pod(pod_hash, suffix, *, ready=True, labels=None, born="2025-03-01T10:00:00Z", image_tag="1.5.0"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{pod_hash}-{suffix}",
            "namespace": NS,
            "uid": f"pod-{suffix}-0000-4000-8000-000000000000",
            "creationTimestamp": born,
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": pod_hash, **(labels or {})},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"web-{pod_hash}",
                    "uid": f"rs-{pod_hash}-0000-4000-8000-000000000000",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": "node-a3",
            "containers": [
                {
                    "name": "web",
                    "image": f"registry.example.com/shop/web:{image_tag}",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.42.3.{len(suffix) * 7 + ord(suffix[0]) % 50}",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "ContainersReady", "status": "True" if ready else "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
        },
    }


def labelled(batch):
    return {ROLLOUT_ID: "r20250301", BATCH_ID: str(batch)}


def canary_deployment(pod_template, replicas, *, status_replicas=None):
    status_replicas = replicas if status_replicas is None else status_replicas
    d = deployment(pod_template, replicas, paused=False)
    d["metadata"] = {
        "name": "web-canary",
        "namespace": NS,
        "uid": CANARY_UID,
        "generation": 2,
        "creationTimestamp": "2025-03-01T09:58:00Z",
        "labels": {CANARY_LABEL: NAME},
        "ownerReferences": [owner("Deployment", NAME, UID, controller=False)],
    }
    d["status"] = {
        "observedGeneration": 2,
        "replicas": status_replicas,
        "updatedReplicas": status_replicas,
        "readyReplicas": status_replicas,
        "availableReplicas": status_replicas,
    }
    return d


def canary_rs(pod_template, replicas, **kwargs):
    return replica_set(
        pod_template,
        H2_CANARY,
        replicas,
        owner_name="web-canary",
        owner_uid=CANARY_UID,
        revision=1,
        born="2025-03-01T09:58:01Z",
        name=f"web-canary-{H2_CANARY}",
        **kwargs,
    )


def ctx(style, batch_index, step, planned, *, tolerated=0, rollout=ROLLOUT, metadata="", update=C2):
    kind, value = step
    return {
        "rollout": rollout,
        "style": style,
        "batch-index": batch_index,
        "step-replicas": {kind: value},
        "planned-replicas": planned,
        "tolerated-failures": tolerated,
        "stable-revision": H1,
        "update-revision": update,
        "pod-template-metadata": metadata,
    }


def target(kind, name, api_version="apps/v1"):
    return {"api-version": api_version, "kind": kind, "namespace": NS, "name": name}


def merge_patch(kind, name, body, api_version="apps/v1"):
    return {"merge-patch": {"target": target(kind, name, api_version), "subresource": None, "body": body}}


def scale_rs(name, replicas, deployment_replicas=5, surge=2):
    return merge_patch(
        "ReplicaSet",
        name,
        {
            "metadata": {
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(deployment_replicas),
                    "deployment.kubernetes.io/max-replicas": str(deployment_replicas + surge),
                }
            },
            "spec": {"replicas": replicas},
        },
    )


def label_pod(name, batch):
    return merge_patch("Pod", name, {"metadata": {"labels": labelled(batch)}}, api_version="v1")


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


# ---------------------------------------------------------------------------------------------
# related-objects

case(
    "related-objects",
    "ReplicaSets and Pods by the Deployment's selector, the canary Deployment by its label",
    "related-objects",
    {"workload": deployment(V1)},
    ok(
        [
            {"api-version": "apps/v1", "kind": "ReplicaSet", "label-selector": "app=web,tier=frontend"},
            {"api-version": "v1", "kind": "Pod", "label-selector": "app=web,tier=frontend"},
            {"api-version": "apps/v1", "kind": "Deployment", "label-selector": f"{CANARY_LABEL}=web"},
        ]
    ),
)

with_expressions = deployment(V1)
with_expressions["spec"]["selector"] = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
        {"key": "legacy", "operator": "DoesNotExist"},
    ],
}
case(
    "related-objects-selector-expressions",
    "match expressions render in kubectl syntax, values sorted",
    "related-objects",
    {"workload": with_expressions},
    ok(
        [
            {"api-version": "apps/v1", "kind": "ReplicaSet", "label-selector": "app=web,tier in (edge,frontend),!legacy"},
            {"api-version": "v1", "kind": "Pod", "label-selector": "app=web,tier in (edge,frontend),!legacy"},
            {"api-version": "apps/v1", "kind": "Deployment", "label-selector": f"{CANARY_LABEL}=web"},
        ]
    ),
)

empty_selector = deployment(V1)
empty_selector["spec"]["selector"] = {}
case(
    "related-objects-empty-selector",
    "an empty selector would select every pod: refused",
    "related-objects",
    {"workload": empty_selector},
    err("invalid-input", "empty selector"),
)

case(
    "related-objects-not-a-deployment",
    "a workload of another kind is refused with the reason",
    "related-objects",
    {"workload": pod(H1, "x7k2p")},
    err("invalid-input", "the workload is not a valid apps/v1 Deployment"),
)

case(
    "related-objects-malformed-json",
    "text that is not JSON is refused",
    "related-objects",
    {"workload": '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": '},
    err("invalid-input", "the workload is not a valid apps/v1 Deployment"),
)

# ---------------------------------------------------------------------------------------------
# observe

case(
    "observe-steady",
    "one ReplicaSet running the template: stable and update revision are its hash",
    "observe",
    {"objects": objects(deployment(V1), replica_set(V1, H1, 5), pod(H1, "x7k2p", image_tag="1.4.2"))},
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": H1,
            "update-pod-template-hash": H1,
            "stable-pod-template-hash": H1,
            "settled": True,
            "taken-over": False,
            "revision-label": "pod-template-hash",
        }
    ),
)

case(
    "observe-canary-in-progress",
    "canary release: the paused Deployment has no ReplicaSet for the new template (content hash); "
    "the update pods are the canary's",
    "observe",
    {
        "objects": objects(
            held_canary(V2),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 1),
            canary_rs(V2, 1),
        )
    },
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": C2,
            "update-pod-template-hash": H2_CANARY,
            "stable-pod-template-hash": H1,
            "settled": True,
            "taken-over": True,
            "revision-label": "pod-template-hash",
        }
    ),
)

case(
    "observe-partition-in-progress",
    "partition release: update revision from the ReplicaSet the plugin created, stable from the label",
    "observe",
    {
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
        )
    },
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": C2,
            "update-pod-template-hash": C2,
            "stable-pod-template-hash": H1,
            "settled": True,
            "taken-over": True,
            "revision-label": "pod-template-hash",
        }
    ),
)

case(
    "observe-not-settled",
    "the controller has not observed the latest generation yet; a paused Deployment without the "
    "release's mark is not taken over",
    "observe",
    {"objects": objects(deployment(V2, paused=True, generation=8, observed=7), replica_set(V1, H1, 5))},
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": C2,
            "update-pod-template-hash": "",
            "stable-pod-template-hash": H1,
            "settled": False,
            "taken-over": False,
            "revision-label": "pod-template-hash",
        }
    ),
)

no_kind = replica_set(V1, H1, 5)
del no_kind["kind"]
case(
    "observe-related-without-kind",
    "related objects must say what they are",
    "observe",
    {"objects": objects(deployment(V1), no_kind)},
    err("invalid-input", "related object 1 of 1 must be a Kubernetes object with apiVersion and kind"),
)

# ---------------------------------------------------------------------------------------------
# takeover

case(
    "takeover-canary-start",
    "a new pod template under an enabled canary release: paused and marked, nothing else touched",
    "takeover",
    {"rollout": ROLLOUT, "style": "canary", "old": deployment(V1), "new": deployment(V2)},
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"paused": True}}),
)

case(
    "takeover-partition-start",
    "a new pod template under a partition release: paused, marked, rolling settings recorded, "
    "strategy switched to Recreate so the paused controller does not scale proportionally",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": deployment(V1), "new": deployment(V2)},
    ok(
        {
            "metadata": {"annotations": {IN_PROGRESSING: MARK, STRATEGY: PARTITION_STRATEGY}},
            "spec": {"paused": True, "strategy": {"type": "Recreate", "rollingUpdate": None}},
        }
    ),
)

case(
    "takeover-scale-only",
    "an update that does not change the pod template is admitted unchanged",
    "takeover",
    {"rollout": ROLLOUT, "style": "canary", "old": deployment(V1), "new": deployment(V1, replicas=8)},
    ok(None),
)

case(
    "takeover-zero-replicas",
    "a Deployment scaled to zero has nothing to release",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": deployment(V1, 0), "new": deployment(V2, 0)},
    ok(None),
)

case(
    "takeover-rollout-id-same-template",
    "a new rollout-id label starts a release even for the same template",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "canary",
        "old": deployment(V1, labels={ROLLOUT_ID: "r20250215"}),
        "new": deployment(V1, labels={ROLLOUT_ID: "r20250301"}),
    },
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"paused": True}}),
)

case(
    "takeover-rollout-id-unchanged",
    "with the same rollout-id label a template change does not start a release",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "canary",
        "old": deployment(V1, labels={ROLLOUT_ID: "r20250215"}),
        "new": deployment(V2, labels={ROLLOUT_ID: "r20250215"}),
    },
    ok(None),
)

case(
    "takeover-stale-stable-label",
    "a stable-revision label left by an earlier release is removed when a release starts",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "canary",
        "old": deployment(V1, labels={STABLE_LABEL: "5c4b3a291"}),
        "new": deployment(V2, labels={STABLE_LABEL: "5c4b3a291"}),
    },
    ok(
        {
            "metadata": {"annotations": {IN_PROGRESSING: MARK}, "labels": {STABLE_LABEL: None}},
            "spec": {"paused": True},
        }
    ),
)

reapplied = held_partition(V3)
reapplied["spec"]["paused"] = False
reapplied["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
case(
    "takeover-partition-reapplied-manifest",
    "during a partition release a GitOps tool re-applies the manifest (unpaused, RollingUpdate "
    "with new settings): held again, the new settings recorded",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held_partition(V2), "new": reapplied},
    ok(
        {
            "metadata": {
                "annotations": {
                    STRATEGY: json.dumps(
                        {"rollingStyle": "Partition", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                        separators=(",", ":"),
                    )
                }
            },
            "spec": {"paused": True, "strategy": {"type": "Recreate", "rollingUpdate": None}},
        }
    ),
)

to_recreate = held_canary(V2, strategy_type="Recreate", rolling_update=None)
case(
    "takeover-canary-refuses-recreate",
    "during a canary release a switch to Recreate is undone, as Kruise does",
    "takeover",
    {"rollout": ROLLOUT, "style": "canary", "old": held_canary(V2), "new": to_recreate},
    ok(
        {
            "spec": {
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
            }
        }
    ),
)

case(
    "takeover-in-progress-no-change",
    "an update during a release that keeps it held needs no patch",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held_partition(V2), "new": held_partition(V2, 6)},
    ok(None),
)

# ---------------------------------------------------------------------------------------------
# release-batch, partition style

partition_rs = {
    "apply": {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"web-{C2}",
            "namespace": NS,
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": C2},
            "annotations": {
                "shop.example.com/owner": "storefront-team",
                IN_PROGRESSING: MARK,
                STRATEGY: PARTITION_STRATEGY,
                "deployment.kubernetes.io/revision": "4",
                "deployment.kubernetes.io/desired-replicas": "5",
                "deployment.kubernetes.io/max-replicas": "7",
            },
            "ownerReferences": [owner("Deployment", NAME, UID)],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web", "tier": "frontend", "pod-template-hash": C2}},
            "template": {
                **copy.deepcopy(V2),
                "metadata": {
                    "labels": {"app": "web", "tier": "frontend", "pod-template-hash": C2},
                    "annotations": V2["metadata"]["annotations"],
                },
            },
        },
    }
}
case(
    "partition-first-batch-creates-replica-set",
    "partition, batch 1 of 5 replicas at 20%: the stable-revision label is written, the new "
    "ReplicaSet created with 1 pod, the old one scaled to 4",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("percent", 20), 1),
        "objects": objects(held_partition(V2, stable_label=None), replica_set(V1, H1, 5), pod(H1, "x7k2p", image_tag="1.4.2")),
    },
    ok(
        [
            merge_patch("Deployment", NAME, {"metadata": {"labels": {STABLE_LABEL: H1}}}),
            partition_rs,
            scale_rs(f"web-{H1}", 4),
        ]
    ),
)

case(
    "partition-first-batch-waits-for-availability",
    "partition, batch 1: the new pod is not available yet, so nothing else changes",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("percent", 20), 1),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 4),
            replica_set(V2, C2, 1, available=0, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([]),
)

case(
    "partition-second-batch-40-percent",
    "partition, batch 2 of 5 replicas at 40%: new ReplicaSet scaled to 2, old to 3",
    "release-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 4),
            replica_set(V2, C2, 1, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([scale_rs(f"web-{C2}", 2), scale_rs(f"web-{H1}", 3)]),
)

case(
    "partition-labels-new-pods-only",
    "partition with a rollout id, batch 2: the pod released in batch 2 gets batch id 2, the batch-1 "
    "pod keeps its labels, stable pods get none",
    "release-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
            pod(H1, "x7k2p", image_tag="1.4.2"),
            pod(C2, "b4n8q", labels=labelled(1), born="2025-03-01T10:00:05Z"),
            pod(C2, "t9w3d", born="2025-03-01T10:20:00Z"),
        ),
    },
    ok([label_pod(f"web-{C2}-t9w3d", 2)]),
)

case(
    "partition-relabels-replacement-pod",
    "partition with a rollout id, batch 1: an evicted pod was replaced; the replacement gets the "
    "labels, the terminating pod is ignored",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("percent", 20), 1, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 4),
            replica_set(V2, C2, 1, revision=4, born="2025-03-01T10:00:00Z"),
            {
                **pod(C2, "b4n8q", labels=labelled(1), born="2025-03-01T10:00:05Z"),
                "metadata": {
                    **pod(C2, "b4n8q", labels=labelled(1))["metadata"],
                    "deletionTimestamp": "2025-03-01T10:30:00Z",
                },
            },
            pod(C2, "m2c6v", ready=False, born="2025-03-01T10:30:01Z"),
        ),
    },
    ok([label_pod(f"web-{C2}-m2c6v", 1)]),
)

case(
    "partition-scale-up-mid-step",
    "partition, batch 2 at 40% while the Deployment grew from 5 to 10: the new ReplicaSet goes to "
    "4, the old one takes the other 6",
    "release-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 4),
        "objects": objects(
            held_partition(V2, 10),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([scale_rs(f"web-{C2}", 4, 10, 3), scale_rs(f"web-{H1}", 6, 10, 3)]),
)

case(
    "partition-scale-down-mid-step",
    "partition, batch 2 at 40% while the Deployment shrank from 10 to 5: the new ReplicaSet keeps "
    "its 4 pods, the old one goes down to 1",
    "release-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2),
        "objects": objects(
            held_partition(V2, 5),
            replica_set(V1, H1, 6),
            replica_set(V2, C2, 4, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([scale_rs(f"web-{H1}", 1)]),
)

case(
    "partition-percent-below-100-keeps-one-old-pod",
    "partition, 90% of 5 plans 5 pods, but like Kruise a percentage below 100% keeps one old pod",
    "release-batch",
    {
        "ctx": ctx("partition", 2, ("percent", 90), 5),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 2),
            replica_set(V2, C2, 3, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([scale_rs(f"web-{C2}", 4), scale_rs(f"web-{H1}", 1)]),
)

case(
    "partition-rollback",
    "partition: the template was rolled back to the stable one, whose ReplicaSet already runs more "
    "pods than planned: nothing to scale",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("percent", 20), 1),
        "objects": objects(
            held_partition(V1),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok([]),
)

case(
    "partition-zero-replicas",
    "partition with a Deployment scaled to zero: nothing to release",
    "release-batch",
    {"ctx": ctx("partition", 0, ("percent", 20), 1), "objects": objects(held_partition(V2, 0), replica_set(V1, H1, 0))},
    ok([]),
)

case(
    "partition-holds-an-unheld-deployment",
    "partition: a Deployment that escaped the webhook is held before anything is scaled",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("count", 1), 1),
        "objects": objects(deployment(V2), replica_set(V1, H1, 5)),
    },
    ok(
        [
            merge_patch(
                "Deployment",
                NAME,
                {
                    "metadata": {
                        "annotations": {IN_PROGRESSING: MARK, STRATEGY: PARTITION_STRATEGY},
                        "labels": {STABLE_LABEL: H1},
                    },
                    "spec": {"paused": True, "strategy": {"type": "Recreate", "rollingUpdate": None}},
                },
            ),
            {
                "apply": {
                    **partition_rs["apply"],
                    "metadata": {
                        **partition_rs["apply"]["metadata"],
                        "annotations": {
                            "shop.example.com/owner": "storefront-team",
                            "deployment.kubernetes.io/revision": "4",
                            "deployment.kubernetes.io/desired-replicas": "5",
                            "deployment.kubernetes.io/max-replicas": "7",
                        },
                    },
                }
            },
            scale_rs(f"web-{H1}", 4),
        ]
    ),
)

case(
    "partition-replica-set-name-taken",
    "partition: a ReplicaSet with the new ReplicaSet's name exists but belongs to something else",
    "release-batch",
    {
        "ctx": ctx("partition", 0, ("percent", 20), 1),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 5),
            replica_set(V3, C2, 1, owner_name="other", owner_uid="f00", name=f"web-{C2}"),
        ),
    },
    err("invalid-input", f"ReplicaSet web-{C2} exists but does not belong to Deployment web"),
)

# ---------------------------------------------------------------------------------------------
# check-batch, partition style

case(
    "partition-check-missing-replica-set",
    "partition: before release-batch created the new ReplicaSet the batch is not ready to judge",
    "check-batch",
    {"ctx": ctx("partition", 0, ("percent", 20), 1), "objects": objects(held_partition(V2), replica_set(V1, H1, 5))},
    err("not-ready", "has no ReplicaSet for its pod template yet"),
)

case(
    "partition-check-waiting-for-ready",
    "partition, batch 2: both new pods exist, one is ready",
    "check-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, available=1, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok(
        {
            "updated-replicas": 2,
            "updated-ready-replicas": 1,
            "ready": False,
            "message": "1 of 2 updated pods are ready (0 may fail); waiting for 1 more",
        }
    ),
)

case(
    "partition-check-tolerated-failure",
    "partition, batch 2 with one tolerated failure: one ready pod of two is enough",
    "check-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2, tolerated=1),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, available=1, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok({"updated-replicas": 2, "updated-ready-replicas": 1, "ready": True, "message": ""}),
)

case(
    "partition-check-pods-not-created",
    "partition, batch 2: the ReplicaSet was scaled but its second pod does not exist yet",
    "check-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, available=1, created=1, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok(
        {
            "updated-replicas": 1,
            "updated-ready-replicas": 1,
            "ready": False,
            "message": "1 of 2 pods run the update revision",
        }
    ),
)

case(
    "partition-check-labels-missing",
    "partition with a rollout id: pods are ready but one lacks the batch labels",
    "check-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
            pod(C2, "b4n8q", labels=labelled(1)),
            pod(C2, "t9w3d"),
        ),
    },
    ok(
        {
            "updated-replicas": 2,
            "updated-ready-replicas": 2,
            "ready": False,
            "message": "1 of 2 updated pods carry the batch labels of rollout id r20250301",
        }
    ),
)

case(
    "partition-check-ready",
    "partition with a rollout id: enough updated pods, ready and labelled",
    "check-batch",
    {
        "ctx": ctx("partition", 1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 2, revision=4, born="2025-03-01T10:00:00Z"),
            pod(C2, "b4n8q", labels=labelled(1)),
            pod(C2, "t9w3d", labels=labelled(2)),
        ),
    },
    ok({"updated-replicas": 2, "updated-ready-replicas": 2, "ready": True, "message": ""}),
)

case(
    "partition-check-zero-replicas",
    "partition with a Deployment scaled to zero: the batch is trivially done",
    "check-batch",
    {"ctx": ctx("partition", 0, ("percent", 20), 1), "objects": objects(held_partition(V2, 0))},
    ok({"updated-replicas": 0, "updated-ready-replicas": 0, "ready": True, "message": ""}),
)

# ---------------------------------------------------------------------------------------------
# abort, partition style

# Aborted at batch 2 (the state of partition-check-ready): the Deployment stays paused, marked
# and on Recreate, and neither ReplicaSet is scaled; the new one keeps its 2 pods, which get no
# traffic once the routes are restored. Scaling them back would be a second release; a retry
# releases the batch again.
case(
    "partition-abort-holds",
    "an abort holds the workload where it is: its new pods get no traffic once the routes are restored",
    "abort",
    CASES["partition-check-ready"]["args"],
    ok([]),
)

# ---------------------------------------------------------------------------------------------
# finalize, partition style

case(
    "partition-finalize",
    "partition: the recorded RollingUpdate settings come back, the Deployment is unpaused and the "
    "release's marks removed; the controller adopts the new ReplicaSet and finishes",
    "finalize",
    {
        "ctx": ctx("partition", 4, ("percent", 100), 5),
        "objects": objects(
            held_partition(V2),
            replica_set(V1, H1, 0),
            replica_set(V2, C2, 5, revision=4, born="2025-03-01T10:00:00Z"),
        ),
    },
    ok(
        [
            merge_patch(
                "Deployment",
                NAME,
                {
                    "metadata": {
                        "annotations": {IN_PROGRESSING: None, STRATEGY: None},
                        "labels": {STABLE_LABEL: None},
                    },
                    "spec": {
                        "paused": False,
                        "strategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                        },
                    },
                },
            )
        ]
    ),
)

case(
    "partition-finalize-done",
    "partition: once the marks are gone finalize has nothing left to do",
    "finalize",
    {
        "ctx": ctx("partition", 4, ("percent", 100), 5),
        "objects": objects(deployment(V2), replica_set(V2, C2, 5, revision=4)),
    },
    ok([]),
)

# ---------------------------------------------------------------------------------------------
# canary style


def canary_apply(pod_template, replicas):
    return {
        "apply": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web-canary",
                "namespace": NS,
                "labels": {CANARY_LABEL: NAME},
                "ownerReferences": [owner("Deployment", NAME, UID, controller=False)],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web", "tier": "frontend"}},
                "template": pod_template,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "paused": False,
            },
        }
    }


case(
    "canary-first-batch-creates-canary",
    "canary, batch 1 of 5 replicas at 20%: the stable-revision label is written and the canary "
    "Deployment created with the new template and 1 replica; the stable Deployment stays paused",
    "release-batch",
    {
        "ctx": ctx("canary", 0, ("percent", 20), 1),
        "objects": objects(held_canary(V2), replica_set(V1, H1, 5), pod(H1, "x7k2p", image_tag="1.4.2")),
    },
    ok(
        [
            merge_patch("Deployment", NAME, {"metadata": {"labels": {STABLE_LABEL: H1}}}),
            canary_apply(V2, 1),
        ]
    ),
)

with_metadata = copy.deepcopy(V2)
with_metadata["metadata"]["labels"]["track"] = "canary"
with_metadata["metadata"]["annotations"]["sidecar.istio.io/inject"] = "true"
case(
    "canary-patch-pod-template-metadata",
    "canary with patchPodTemplateMetadata: the canary pods carry the extra labels and annotations",
    "release-batch",
    {
        "ctx": ctx(
            "canary",
            0,
            ("count", 2),
            2,
            metadata={"labels": {"track": "canary"}, "annotations": {"sidecar.istio.io/inject": "true"}},
        ),
        "objects": objects(held_canary(V2, stable_label=H1), replica_set(V1, H1, 5)),
    },
    ok([canary_apply(with_metadata, 2)]),
)

case(
    "canary-patch-metadata-breaks-selector",
    "canary: patchPodTemplateMetadata may not change a label the selector requires",
    "release-batch",
    {
        "ctx": ctx("canary", 0, ("count", 1), 1, metadata={"labels": {"tier": "canary"}}),
        "objects": objects(held_canary(V2, stable_label=H1), replica_set(V1, H1, 5)),
    },
    err("invalid-input", "tier=canary"),
)

case(
    "canary-scale-up-and-label",
    "canary with a rollout id, batch 2 at 60%: the canary goes to 3 replicas; its new pod gets "
    "batch id 2, the batch-1 pod keeps its labels",
    "release-batch",
    {
        "ctx": ctx("canary", 1, ("percent", 60), 3, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_canary(V2, stable_label=H1),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 2),
            canary_rs(V2, 2),
            pod(H1, "x7k2p", image_tag="1.4.2"),
            pod(H2_CANARY, "f5g7h", labels=labelled(1), born="2025-03-01T09:58:10Z"),
            pod(H2_CANARY, "k3l9z", born="2025-03-01T10:40:00Z"),
        ),
    },
    ok(
        [
            merge_patch("Deployment", "web-canary", {"spec": {"replicas": 3}}),
            label_pod(f"web-{H2_CANARY}-k3l9z", 2),
        ]
    ),
)

case(
    "canary-never-scales-down",
    "canary: a smaller plan (the Deployment shrank) does not take canary pods away",
    "release-batch",
    {
        "ctx": ctx("canary", 1, ("percent", 40), 1),
        "objects": objects(
            held_canary(V2, 3, stable_label=H1),
            replica_set(V1, H1, 3),
            canary_deployment(V2, 2),
            canary_rs(V2, 2),
        ),
    },
    ok([]),
)

case(
    "canary-continuous-release",
    "canary: the user changed the template again mid-release; the canary is updated in place with "
    "the newest template at the batch's replicas",
    "release-batch",
    {
        "ctx": ctx("canary", 0, ("percent", 20), 1),
        "objects": objects(
            held_canary(V3, stable_label=H1),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 2),
            canary_rs(V2, 2),
        ),
    },
    ok([canary_apply(V3, 1)]),
)

case(
    "canary-zero-replicas",
    "canary with a Deployment scaled to zero: no canary is created",
    "release-batch",
    {"ctx": ctx("canary", 0, ("percent", 20), 1), "objects": objects(held_canary(V2, 0, stable_label=H1), replica_set(V1, H1, 0))},
    ok([]),
)

case(
    "canary-check-missing-canary",
    "canary: before the canary Deployment exists the batch is not ready to judge",
    "check-batch",
    {"ctx": ctx("canary", 0, ("percent", 20), 1), "objects": objects(held_canary(V2), replica_set(V1, H1, 5))},
    err("not-ready", "canary Deployment web-canary does not exist yet"),
)

case(
    "canary-check-missing-replica-set",
    "canary: the canary Deployment exists but its controller has not created the ReplicaSet yet",
    "check-batch",
    {
        "ctx": ctx("canary", 0, ("percent", 20), 1),
        "objects": objects(held_canary(V2), replica_set(V1, H1, 5), canary_deployment(V2, 1, status_replicas=0)),
    },
    err("not-ready", "canary Deployment web-canary has no ReplicaSet for its pod template yet"),
)

case(
    "canary-check-no-ready-pod",
    "canary: the canary pod exists but is not ready",
    "check-batch",
    {
        "ctx": ctx("canary", 0, ("percent", 20), 1),
        "objects": objects(held_canary(V2), replica_set(V1, H1, 5), canary_deployment(V2, 1), canary_rs(V2, 1, available=0)),
    },
    ok(
        {
            "updated-replicas": 1,
            "updated-ready-replicas": 0,
            "ready": False,
            "message": "0 of 1 updated pods are ready (0 may fail); waiting for 1 more",
        }
    ),
)

case(
    "canary-check-ready",
    "canary with a rollout id, batch 2: three canary pods, ready and labelled",
    "check-batch",
    {
        "ctx": ctx("canary", 1, ("percent", 60), 3, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_canary(V2, stable_label=H1),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 3),
            canary_rs(V2, 3),
            pod(H2_CANARY, "f5g7h", labels=labelled(1)),
            pod(H2_CANARY, "k3l9z", labels=labelled(2)),
            pod(H2_CANARY, "p8r2s", labels=labelled(2)),
        ),
    },
    ok({"updated-replicas": 3, "updated-ready-replicas": 3, "ready": True, "message": ""}),
)

case(
    "canary-check-stale-template",
    "canary: the canary still runs the previous template after a continuous release",
    "check-batch",
    {
        "ctx": ctx("canary", 0, ("percent", 20), 1),
        "objects": objects(held_canary(V3), replica_set(V1, H1, 5), canary_deployment(V2, 1), canary_rs(V2, 1)),
    },
    ok(
        {
            "updated-replicas": 0,
            "updated-ready-replicas": 0,
            "ready": False,
            "message": "canary Deployment web-canary runs an older pod template; release-batch updates it",
        }
    ),
)

# Aborted at batch 2 (the state of canary-check-ready): only the canary Deployment's
# spec.replicas goes to 0. It is not deleted (unlike finalize), so a retry scales it up again
# with the same template; the stable Deployment stays paused and marked, the pods' batch labels
# stay.
case(
    "canary-abort-scales-canary-to-zero",
    "an abort scales the canary Deployment to zero and keeps it for a retry",
    "abort",
    CASES["canary-check-ready"]["args"],
    ok([merge_patch("Deployment", "web-canary", {"spec": {"replicas": 0}})]),
)

# The same abort once the patch is in: the canary's spec.replicas is 0 while its status and
# ReplicaSet still count 3 pods. The plugin goes by spec.replicas and does not wait for the pods
# to go, so the abort is done and a repeated call changes nothing.
case(
    "canary-abort-done",
    "an aborted release whose canary Deployment is already at zero needs nothing more",
    "abort",
    {
        "ctx": ctx("canary", 1, ("percent", 60), 3, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held_canary(V2, stable_label=H1),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 0, status_replicas=3),
            canary_rs(V2, 3),
            pod(H2_CANARY, "f5g7h", labels=labelled(1)),
            pod(H2_CANARY, "k3l9z", labels=labelled(2)),
            pod(H2_CANARY, "p8r2s", labels=labelled(2)),
        ),
    },
    ok([]),
)

case(
    "canary-finalize-unpauses-stable",
    "canary: finalize first unpauses the stable Deployment and removes the release's marks",
    "finalize",
    {
        "ctx": ctx("canary", 4, ("percent", 100), 5),
        "objects": objects(held_canary(V2, stable_label=H1), replica_set(V1, H1, 5), canary_deployment(V2, 5), canary_rs(V2, 5)),
    },
    ok(
        [
            merge_patch(
                "Deployment",
                NAME,
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}, "labels": {STABLE_LABEL: None}},
                    "spec": {"paused": False},
                },
            )
        ]
    ),
)

rolling_stable = deployment(
    V2,
    generation=9,
    status={"observedGeneration": 9, "replicas": 6, "updatedReplicas": 3, "readyReplicas": 5, "availableReplicas": 5},
)
case(
    "canary-finalize-waits-for-stable",
    "canary: the stable Deployment is still rolling out, so the canary keeps serving",
    "finalize",
    {
        "ctx": ctx("canary", 4, ("percent", 100), 5),
        "objects": objects(
            rolling_stable,
            replica_set(V1, H1, 3),
            replica_set(V2, H2, 3, available=2, revision=4),
            canary_deployment(V2, 5),
            canary_rs(V2, 5),
        ),
    },
    err("not-ready", "waiting for Deployment web to roll out before deleting canary Deployment web-canary: 3 of 5 pods updated, 6 pods exist"),
)

rolled_stable = deployment(
    V2,
    generation=9,
    status={"observedGeneration": 9, "replicas": 5, "updatedReplicas": 5, "readyReplicas": 4, "availableReplicas": 4},
)
case(
    "canary-finalize-deletes-canary",
    "canary: the stable Deployment rolled out (one pod unavailable is within maxUnavailable): the "
    "canary Deployment is deleted",
    "finalize",
    {
        "ctx": ctx("canary", 4, ("percent", 100), 5),
        "objects": objects(
            rolled_stable,
            replica_set(V1, H1, 0),
            replica_set(V2, H2, 5, available=4, revision=4),
            canary_deployment(V2, 5),
            canary_rs(V2, 5),
        ),
    },
    ok([{"delete": target("Deployment", "web-canary")}]),
)

case(
    "canary-finalize-after-rollback",
    "canary after a rollback: the stable Deployment already runs its (old) template, so the canary "
    "is deleted at once",
    "finalize",
    {
        "ctx": ctx("canary", 1, ("percent", 40), 2),
        "objects": objects(
            deployment(V1, generation=9, observed=9),
            replica_set(V1, H1, 5),
            canary_deployment(V2, 2),
            canary_rs(V2, 2),
        ),
    },
    ok([{"delete": target("Deployment", "web-canary")}]),
)

case(
    "canary-finalize-done",
    "canary: no marks and no canary left, finalize is done",
    "finalize",
    {"ctx": ctx("canary", 4, ("percent", 100), 5), "objects": objects(deployment(V2), replica_set(V2, H2, 5, revision=4))},
    ok([]),
)


# ---------------------------------------------------------------------------------------------
# blue-green style: the Deployment's own rolling update, bounded so it only adds the batch's new
# pods (maxSurge = batch, maxUnavailable 0, minReadySeconds/progressDeadlineSeconds near MaxInt32
# so new pods never count as available); the settings it replaced recorded in Kruise's
# original-deployment-strategy annotation; HPAs pointed away from the Deployment meanwhile.

ORIGINAL = "rollouts.kruise.io/original-deployment-strategy"
MAX_PROGRESS = 2**31 - 1
MAX_READY = MAX_PROGRESS - 1
HPA_DISABLED = "-DisableByRollout"


def compact(value):
    return json.dumps(value, separators=(",", ":"))


# What the webhook records for the realistic Deployment: its 25%/25% and Kubernetes' 600 s.
DEFAULT_ORIGINAL = compact({"maxUnavailable": "25%", "maxSurge": "25%", "progressDeadlineSeconds": 600})
BOUND_SPEC = {
    "minReadySeconds": MAX_READY,
    "progressDeadlineSeconds": MAX_PROGRESS,
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
}


def bounded(pod_template, replicas=5, *, surge, paused, stable_label=H1, original=DEFAULT_ORIGINAL, **kwargs):
    """A Deployment held by a blue-green release: marked, recorded, bounded at `surge`."""
    d = deployment(
        pod_template,
        replicas,
        paused=paused,
        rolling_update={"maxSurge": surge, "maxUnavailable": 0},
        annotations={IN_PROGRESSING: MARK, ORIGINAL: original},
        labels={STABLE_LABEL: stable_label} if stable_label else None,
        **kwargs,
    )
    d["spec"]["minReadySeconds"] = MAX_READY
    d["spec"]["progressDeadlineSeconds"] = MAX_PROGRESS
    return d


def stable_rs(replicas=5, **kwargs):
    """The stable ReplicaSet during the release: its pods ready but, at the bounded
    minReadySeconds, never available."""
    return replica_set(V1, H1, replicas, available=0, min_ready=MAX_READY, **kwargs)


def new_rs(pod_template, pod_hash, replicas, *, ready=None, revision=4, born="2025-03-01T10:00:00Z", **kwargs):
    """A ReplicaSet the plugin created for the template: the controller synced the bounded
    minReadySeconds to it, so its pods are ready at most, never available."""
    return replica_set(
        pod_template,
        pod_hash,
        replicas,
        available=0,
        ready=replicas if ready is None else ready,
        min_ready=MAX_READY,
        revision=revision,
        born=born,
        **kwargs,
    )


def hpa(name, target_name, *, kind="Deployment"):
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"hpa-{name}-0000-4000-8000-000000000000",
            "resourceVersion": "918301",
            "creationTimestamp": "2025-02-10T09:12:45Z",
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target_name},
            "minReplicas": 5,
            "maxReplicas": 20,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        "status": {"currentReplicas": 5, "desiredReplicas": 5},
    }


def retarget_hpa(name, target_name):
    return merge_patch(
        "HorizontalPodAutoscaler",
        name,
        {"spec": {"scaleTargetRef": {"name": target_name}}},
        api_version="autoscaling/v2",
    )


def set_min_ready(name, seconds):
    return merge_patch("ReplicaSet", name, {"spec": {"minReadySeconds": seconds}})


def bluegreen_rs_apply(pod_template, pod_hash, *, revision, max_replicas):
    """The new ReplicaSet the plugin creates, empty, for the controller to scale: named and
    labelled with the template's content hash, the Deployment's annotations copied as the
    controller copies them, the bounded minReadySeconds."""
    labels = {"app": "web", "tier": "frontend", "pod-template-hash": pod_hash}
    return {
        "apply": {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"web-{pod_hash}",
                "namespace": NS,
                "labels": labels,
                "annotations": {
                    "shop.example.com/owner": "storefront-team",
                    IN_PROGRESSING: MARK,
                    ORIGINAL: DEFAULT_ORIGINAL,
                    "deployment.kubernetes.io/revision": str(revision),
                    "deployment.kubernetes.io/desired-replicas": "5",
                    "deployment.kubernetes.io/max-replicas": str(max_replicas),
                },
                "ownerReferences": [owner("Deployment", NAME, UID)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": MAX_READY,
                "selector": {"matchLabels": labels},
                "template": {
                    **copy.deepcopy(pod_template),
                    "metadata": {"labels": labels, "annotations": pod_template["metadata"]["annotations"]},
                },
            },
        }
    }


HANDED_BACK = {
    "metadata": {"annotations": {IN_PROGRESSING: None}, "labels": {STABLE_LABEL: None}},
    "spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "minReadySeconds": 0,
        "progressDeadlineSeconds": 600,
    },
}

case(
    "bluegreen-related-objects",
    "blue-green: while the Deployment carries the release's record, every HPA of the namespace is "
    "asked for too (HPAs have no labels to select by; the plugin keeps those targeting the "
    "Deployment)",
    "related-objects",
    {"workload": bounded(V2, surge=1, paused=True)},
    ok(
        [
            {"api-version": "apps/v1", "kind": "ReplicaSet", "label-selector": "app=web,tier=frontend"},
            {"api-version": "v1", "kind": "Pod", "label-selector": "app=web,tier=frontend"},
            {"api-version": "apps/v1", "kind": "Deployment", "label-selector": f"{CANARY_LABEL}=web"},
            {"api-version": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "label-selector": ""},
        ]
    ),
)

# --- takeover

case(
    "bluegreen-takeover-start",
    "blue-green, a new pod template: marked, the rolling settings recorded as Kruise records them, "
    "bounded (maxSurge 1, maxUnavailable 0, minReadySeconds and progressDeadlineSeconds near "
    "MaxInt32) and paused until the first batch",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": deployment(V1), "new": deployment(V2)},
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK, ORIGINAL: DEFAULT_ORIGINAL}}, "spec": {"paused": True, **BOUND_SPEC}}),
)

recreate_v1 = deployment(V1, strategy_type="Recreate", rolling_update=None)
recreate_v1["spec"]["minReadySeconds"] = 10
recreate_v2 = copy.deepcopy(recreate_v1)
recreate_v2["spec"]["template"] = copy.deepcopy(V2)
case(
    "bluegreen-takeover-start-recreate",
    "blue-green, a Recreate Deployment with minReadySeconds 10: the record keeps the type too, so "
    "finalize gives the Deployment back exactly as it was",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": recreate_v1, "new": recreate_v2},
    ok(
        {
            "metadata": {
                "annotations": {
                    IN_PROGRESSING: MARK,
                    ORIGINAL: compact({"minReadySeconds": 10, "progressDeadlineSeconds": 600, "type": "Recreate"}),
                }
            },
            "spec": {"paused": True, **BOUND_SPEC},
        }
    ),
)

case(
    "bluegreen-takeover-batch-changes-pass",
    "blue-green: the batch's own update (maxSurge to the batch, unpaused) keeps the Deployment "
    "bounded and passes unchanged",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "blue-green",
        "old": bounded(V2, surge=1, paused=True),
        "new": bounded(V2, surge=2, paused=False),
    },
    ok(None),
)

case(
    "bluegreen-takeover-continuous-release",
    "blue-green: a newer template mid-release pauses the Deployment, as Kruise's webhook does, so "
    "the controller neither creates its own ReplicaSet nor removes stable pods before the release "
    "restarts",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "blue-green",
        "old": bounded(V2, surge=2, paused=False),
        "new": bounded(V3, surge=2, paused=False),
    },
    ok({"spec": {"paused": True}}),
)

case(
    "bluegreen-takeover-rollback",
    "blue-green: the template back on the stable revision mid-release pauses the Deployment until "
    "traffic is back on stable and finalize hands it back",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "blue-green",
        "old": bounded(V2, surge=2, paused=False),
        "new": bounded(V1, surge=2, paused=False),
    },
    ok({"spec": {"paused": True}}),
)

reapplied_bg = bounded(V2, surge=2, paused=False)
reapplied_bg["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 3, "maxUnavailable": 1}
reapplied_bg["spec"]["minReadySeconds"] = 5
reapplied_bg["spec"]["progressDeadlineSeconds"] = 600
case(
    "bluegreen-takeover-reapplied-manifest",
    "blue-green: a GitOps tool re-applies the manifest with new settings mid-release: they are "
    "recorded for finalize and the bounds come back, maxSurge at the batch's 2",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": bounded(V2, surge=2, paused=False), "new": reapplied_bg},
    ok(
        {
            "metadata": {
                "annotations": {
                    ORIGINAL: compact(
                        {"maxUnavailable": 1, "maxSurge": 3, "minReadySeconds": 5, "progressDeadlineSeconds": 600}
                    )
                }
            },
            "spec": {**BOUND_SPEC, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}}},
        }
    ),
)

# --- release-batch

case(
    "bluegreen-first-batch",
    "blue-green, batch 1 of 2 new pods: the Deployment's HPA is disabled (not the ones of other "
    "workloads), the stable-revision label written, maxSurge set to 2, the stable ReplicaSet's pods "
    "made never-available (a rollback must not look saturated) and the new ReplicaSet created "
    "empty while the Deployment is still paused",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2),
        "objects": objects(
            bounded(V2, surge=1, paused=True, stable_label=None),
            replica_set(V1, H1, 5),
            pod(H1, "x7k2p", image_tag="1.4.2"),
            hpa("web", "web"),
            hpa("cart", "cart"),
            hpa("web-statefulset", "web", kind="StatefulSet"),
        ),
    },
    ok(
        [
            retarget_hpa("web", f"web{HPA_DISABLED}"),
            merge_patch(
                "Deployment",
                NAME,
                {"metadata": {"labels": {STABLE_LABEL: H1}}, "spec": {"strategy": {"rollingUpdate": {"maxSurge": 2}}}},
            ),
            set_min_ready(f"web-{H1}", MAX_READY),
            bluegreen_rs_apply(V2, C2, revision=4, max_replicas=7),
        ]
    ),
)

case(
    "bluegreen-first-batch-unpauses",
    "blue-green, batch 1: the new ReplicaSet exists and the bound is at the batch, so the "
    "Deployment is unpaused and its controller scales the new ReplicaSet to 2",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2),
        "objects": objects(
            bounded(V2, surge=2, paused=True),
            stable_rs(),
            new_rs(V2, C2, 0),
            hpa("web", f"web{HPA_DISABLED}"),
        ),
    },
    ok([merge_patch("Deployment", NAME, {"spec": {"paused": False}})]),
)

case(
    "bluegreen-later-batch",
    "blue-green, batch 2 at 100%: only the bound moves, to 5; the old pods all stay",
    "release-batch",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(bounded(V2, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2)),
    },
    ok([merge_patch("Deployment", NAME, {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 5}}}})]),
)

case(
    "bluegreen-labels-new-pods",
    "blue-green with a rollout id, batch 2: the pod created for batch 2 gets batch id 2, the "
    "batch-1 pods keep theirs, stable pods get none",
    "release-batch",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            bounded(V2, surge=5, paused=False),
            stable_rs(),
            new_rs(V2, C2, 5, ready=2),
            pod(H1, "x7k2p", image_tag="1.4.2"),
            pod(C2, "b4n8q", labels=labelled(1), born="2025-03-01T10:00:05Z"),
            pod(C2, "t9w3d", labels=labelled(1), born="2025-03-01T10:00:06Z"),
            pod(C2, "m2c6v", ready=False, born="2025-03-01T10:20:00Z"),
        ),
    },
    ok([label_pod(f"web-{C2}-m2c6v", 2)]),
)

case(
    "bluegreen-scale-up-mid-release",
    "blue-green, batch 1 at 40% while the Deployment grew from 5 to 10: the controller spread the "
    "5 new pods proportionally (stable 9, new 3); the stable ReplicaSet goes back to all 10 before "
    "the bound moves, or the new one would grow past the batch",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 40), 4),
        "objects": objects(bounded(V2, 10, surge=2, paused=False), stable_rs(9), new_rs(V2, C2, 3)),
    },
    ok([scale_rs(f"web-{H1}", 10, 10, 4)]),
)

case(
    "bluegreen-scale-up-raises-bound",
    "blue-green, batch 1 at 40% of 10 once the stable ReplicaSet is back at 10: maxSurge goes to 4",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 40), 4),
        "objects": objects(bounded(V2, 10, surge=2, paused=False), stable_rs(10), new_rs(V2, C2, 3)),
    },
    ok([merge_patch("Deployment", NAME, {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 4}}}})]),
)

case(
    "bluegreen-scale-down-mid-release",
    "blue-green, batch 1 at 40% while the Deployment shrank from 10 to 5 (stable 6, new 3 after "
    "the proportional scale-down): the stable ReplicaSet goes to 5, the new one keeps its 3",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 40), 2),
        "objects": objects(bounded(V2, surge=4, paused=False), stable_rs(6), new_rs(V2, C2, 3)),
    },
    ok([scale_rs(f"web-{H1}", 5, 5, 3)]),
)

case(
    "bluegreen-scale-down-keeps-new-pods",
    "blue-green, batch 1 at 40% of 5 with 3 new pods: the bound is the 3 pods that exist, not the "
    "2 planned, so no new pod is taken back",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 40), 2),
        "objects": objects(bounded(V2, surge=4, paused=False), stable_rs(5), new_rs(V2, C2, 3)),
    },
    ok([merge_patch("Deployment", NAME, {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 3}}}})]),
)

case(
    "bluegreen-holds-an-unbounded-deployment",
    "blue-green: a Deployment that escaped the webhook is marked, recorded, bounded and paused "
    "before anything else",
    "release-batch",
    {"ctx": ctx("blue-green", 0, ("count", 1), 1), "objects": objects(deployment(V2), replica_set(V1, H1, 5))},
    ok(
        [
            merge_patch(
                "Deployment",
                NAME,
                {
                    "metadata": {
                        "annotations": {IN_PROGRESSING: MARK, ORIGINAL: DEFAULT_ORIGINAL},
                        "labels": {STABLE_LABEL: H1},
                    },
                    "spec": {"paused": True, **BOUND_SPEC},
                },
            )
        ]
    ),
)

case(
    "bluegreen-zero-replicas",
    "blue-green with a Deployment scaled to zero: nothing to release",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 20), 1),
        "objects": objects(bounded(V2, 0, surge=1, paused=True), replica_set(V1, H1, 0)),
    },
    ok([]),
)

# --- continuous release: the user moved to V3 while V2 was being released (stable V1)

case(
    "bluegreen-continuous-pauses-first",
    "blue-green, restarted on a third revision, with the middle revision's pods still there and "
    "the Deployment not paused: it is paused before anything is scaled",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 20), 1, update=C3),
        "objects": objects(bounded(V3, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2)),
    },
    ok([merge_patch("Deployment", NAME, {"spec": {"paused": True}})]),
)

case(
    "bluegreen-continuous-scales-down-middle",
    "blue-green, restarted on a third revision (three ReplicaSets: stable V1, abandoned V2, no V3 "
    "yet): the abandoned revision's pods go first, the stable ones stay",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 20), 1, update=C3),
        "objects": objects(
            bounded(V3, surge=2, paused=True),
            stable_rs(),
            new_rs(V2, C2, 2),
            hpa("web", f"web{HPA_DISABLED}"),
        ),
    },
    ok([scale_rs(f"web-{C2}", 0, 5, 1)]),
)

case(
    "bluegreen-continuous-creates-new-replica-set",
    "blue-green, restarted on a third revision, the abandoned ReplicaSet at zero: the bound goes to "
    "the new batch and the third revision's ReplicaSet is created, empty, with the next revision",
    "release-batch",
    {
        "ctx": ctx("blue-green", 0, ("percent", 20), 1, update=C3),
        "objects": objects(bounded(V3, surge=2, paused=True), stable_rs(), new_rs(V2, C2, 0)),
    },
    ok(
        [
            merge_patch("Deployment", NAME, {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}}}),
            bluegreen_rs_apply(V3, C3, revision=5, max_replicas=6),
        ]
    ),
)

# --- check-batch

case(
    "bluegreen-check-missing-replica-set",
    "blue-green: before release-batch created the new ReplicaSet the batch is not ready to judge",
    "check-batch",
    {"ctx": ctx("blue-green", 0, ("count", 2), 2), "objects": objects(bounded(V2, surge=2, paused=True), stable_rs())},
    err("not-ready", "has no ReplicaSet for its pod template yet"),
)

case(
    "bluegreen-check-waiting-for-ready",
    "blue-green, batch 1: both new pods exist, one is ready",
    "check-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2),
        "objects": objects(bounded(V2, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2, ready=1)),
    },
    ok(
        {
            "updated-replicas": 2,
            "updated-ready-replicas": 1,
            "ready": False,
            "message": "1 of 2 updated pods are ready (0 may fail); waiting for 1 more",
        }
    ),
)

case(
    "bluegreen-check-ready",
    "blue-green, batch 1: both new pods are ready; they never become available (the bounded "
    "minReadySeconds), so readiness is what counts",
    "check-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2),
        "objects": objects(bounded(V2, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2)),
    },
    ok({"updated-replicas": 2, "updated-ready-replicas": 2, "ready": True, "message": ""}),
)

case(
    "bluegreen-check-tolerated-failure",
    "blue-green, batch 1 with one tolerated failure: one ready pod of two is enough",
    "check-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2, tolerated=1),
        "objects": objects(bounded(V2, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2, ready=1)),
    },
    ok({"updated-replicas": 2, "updated-ready-replicas": 1, "ready": True, "message": ""}),
)

case(
    "bluegreen-check-labels-missing",
    "blue-green with a rollout id: the new pods are ready but one lacks the batch labels",
    "check-batch",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            bounded(V2, surge=2, paused=False),
            stable_rs(),
            new_rs(V2, C2, 2),
            pod(C2, "b4n8q", labels=labelled(1)),
            pod(C2, "t9w3d"),
        ),
    },
    ok(
        {
            "updated-replicas": 2,
            "updated-ready-replicas": 2,
            "ready": False,
            "message": "1 of 2 updated pods carry the batch labels of rollout id r20250301",
        }
    ),
)

# --- observe


def bluegreen_state(update, update_hash, *, taken_over=True):
    return {
        "replicas": 5,
        "stable-revision": H1,
        "update-revision": update,
        "update-pod-template-hash": update_hash,
        "stable-pod-template-hash": H1,
        "settled": True,
        "taken-over": taken_over,
        "revision-label": "pod-template-hash",
    }


case(
    "bluegreen-observe-before-first-batch",
    "blue-green, taken over and paused, no ReplicaSet for the new template yet: the update "
    "revision is the content hash the plugin will name it with, its pods unknown",
    "observe",
    {"objects": objects(bounded(V2, surge=1, paused=True, stable_label=None), replica_set(V1, H1, 5))},
    ok(bluegreen_state(C2, "")),
)

case(
    "bluegreen-observe-in-progress",
    "blue-green mid-release: unpaused but bounded, so still taken over; both revisions' pods by "
    "their pod-template-hash",
    "observe",
    {"objects": objects(bounded(V2, surge=2, paused=False), stable_rs(), new_rs(V2, C2, 2))},
    ok(bluegreen_state(C2, C2)),
)

case(
    "bluegreen-observe-continuous-release",
    "blue-green with three ReplicaSets (stable V1, abandoned V2, new V3): the update revision is "
    "V3's, the stable one stays V1's",
    "observe",
    {
        "objects": objects(
            bounded(V3, surge=1, paused=False),
            stable_rs(),
            new_rs(V2, C2, 0),
            new_rs(V3, C3, 1, revision=5, born="2025-03-01T11:00:00Z"),
        )
    },
    ok(bluegreen_state(C3, C3)),
)

unbounded = bounded(V2, surge=2, paused=False)
unbounded["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = "25%"
case(
    "bluegreen-observe-unbounded",
    "blue-green: a Deployment whose bounds are gone (the native rollout may remove old pods) is "
    "not taken over",
    "observe",
    {"objects": objects(unbounded, stable_rs(), new_rs(V2, C2, 2))},
    ok(bluegreen_state(C2, C2, taken_over=False)),
)

# --- finalize

case(
    "bluegreen-finalize-after-success",
    "blue-green after a success (all traffic on the new pods): the recorded settings come back, "
    "the ReplicaSets' minReadySeconds too, and the release's marks go; the controller then removes "
    "the old pods",
    "finalize",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(
            bounded(V2, surge=5, paused=False),
            stable_rs(),
            new_rs(V2, C2, 5),
            hpa("web", f"web{HPA_DISABLED}"),
        ),
    },
    ok(
        [
            set_min_ready(f"web-{H1}", 0),
            set_min_ready(f"web-{C2}", 0),
            merge_patch("Deployment", NAME, HANDED_BACK),
        ]
    ),
)

case(
    "bluegreen-finalize-after-rollback",
    "blue-green after a rollback (template back on V1, paused by the webhook, traffic back on "
    "stable): the same hand-back, unpaused; the controller then removes the new pods",
    "finalize",
    {
        "ctx": ctx("blue-green", 0, ("count", 2), 2, update=H1),
        "objects": objects(bounded(V1, surge=2, paused=True), stable_rs(), new_rs(V2, C2, 2)),
    },
    ok(
        [
            set_min_ready(f"web-{H1}", 0),
            set_min_ready(f"web-{C2}", 0),
            merge_patch("Deployment", NAME, {**HANDED_BACK, "spec": {**HANDED_BACK["spec"], "paused": False}}),
        ]
    ),
)

case(
    "bluegreen-finalize-restores-recreate",
    "blue-green: a Deployment recorded as Recreate with minReadySeconds 10 gets exactly that back",
    "finalize",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(
            bounded(
                V2,
                surge=5,
                paused=False,
                original=compact({"minReadySeconds": 10, "progressDeadlineSeconds": 600, "type": "Recreate"}),
            ),
            stable_rs(),
            new_rs(V2, C2, 5),
        ),
    },
    ok(
        [
            set_min_ready(f"web-{H1}", 10),
            set_min_ready(f"web-{C2}", 10),
            merge_patch(
                "Deployment",
                NAME,
                {
                    **HANDED_BACK,
                    "spec": {
                        "strategy": {"type": "Recreate", "rollingUpdate": None},
                        "minReadySeconds": 10,
                        "progressDeadlineSeconds": 600,
                    },
                },
            ),
        ]
    ),
)

handing_back = deployment(
    V2,
    annotations={ORIGINAL: DEFAULT_ORIGINAL},
    generation=9,
    status={"observedGeneration": 9, "replicas": 8, "updatedReplicas": 5, "readyReplicas": 8, "availableReplicas": 5},
)
case(
    "bluegreen-finalize-waits-for-rollout",
    "blue-green: handed back, the controller is still removing old pods; the HPA stays disabled and "
    "the record stays until it is done",
    "finalize",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(
            handing_back,
            replica_set(V1, H1, 3),
            replica_set(V2, C2, 5, revision=4, born="2025-03-01T10:00:00Z"),
            hpa("web", f"web{HPA_DISABLED}"),
        ),
    },
    err("not-ready", "waiting for Deployment web to roll out before restoring its HPAs: 5 of 5 pods updated, 8 pods exist"),
)

case(
    "bluegreen-finalize-restores-hpa",
    "blue-green: the Deployment rolled out; the HPA targets it again and the record goes last",
    "finalize",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(
            deployment(V2, annotations={ORIGINAL: DEFAULT_ORIGINAL}),
            replica_set(V1, H1, 0),
            replica_set(V2, C2, 5, revision=4, born="2025-03-01T10:00:00Z"),
            hpa("web", f"web{HPA_DISABLED}"),
            hpa("cart", f"cart{HPA_DISABLED}"),
        ),
    },
    ok(
        [
            retarget_hpa("web", "web"),
            merge_patch("Deployment", NAME, {"metadata": {"annotations": {ORIGINAL: None}}}),
        ]
    ),
)

case(
    "bluegreen-finalize-done",
    "blue-green: no marks, no record, finalize is done",
    "finalize",
    {
        "ctx": ctx("blue-green", 1, ("percent", 100), 5),
        "objects": objects(deployment(V2), replica_set(V2, C2, 5, revision=4)),
    },
    ok([]),
)


def main():
    write_fixtures(FIXTURES, CASES)


if __name__ == "__main__":
    main()
