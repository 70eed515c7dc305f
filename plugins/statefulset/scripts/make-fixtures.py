#!/usr/bin/env python3
"""Writes the StatefulSet plugin's golden fixtures, plugins/statefulset/fixtures/<case>.json.

Inputs are built from one realistic StatefulSet ("shop/web", 5 replicas, pods web-0 to web-4)
in its three forms (native apps/v1, Advanced StatefulSet apps.kruise.io/v1beta1, and a custom
resource labelled rollouts.kruise.io/workload-type=statefulset), with the pods and status their
controllers would show at each point of a release. Every expectation is spelt out below by hand
from Kruise Rollout's StatefulSet batch release (see the crate docs). Run it after changing a
case: `python3 scripts/make-fixtures.py`.
"""

import copy
import json
import pathlib
import sys

# The helpers shared by the built-in plugins' fixture scripts, in plugins/fixtures_common.py.
sys.dont_write_bytecode = True  # no __pycache__ left in plugins/
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from fixtures_common import batch_status, err, objects, ok, write_fixtures  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"

NS = "shop"
NAME = "web"
UID = "8e2d4c61-0a3f-4b7e-9c15-2f6a1d0e9b34"
NATIVE = ("apps/v1", "StatefulSet")
ADVANCED = ("apps.kruise.io/v1beta1", "StatefulSet")
CUSTOM = ("games.example.com/v1", "GameServerSet")
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}
ROLLOUT_WITH_ID = {**ROLLOUT, "rollout-id": "seed"}
ROLLBACK_ID = {**ROLLOUT, "rollout-id": "r20250302"}

IN_PROGRESSING = "rollouts.kruise.io/in-progressing"
WORKLOAD_TYPE = "rollouts.kruise.io/workload-type"
ROLLOUT_ID = "rollouts.kruise.io/rollout-id"
BATCH_ID = "rollouts.kruise.io/rollout-batch-id"
NO_NEED_UPDATE = "rollouts.kruise.io/no-need-update"
MARK = json.dumps({"rolloutName": "web-rollout"}, separators=(",", ":"))
# Kruise's math.MaxInt16: the partition that holds every pod, however the workload scales.
HOLD_ALL = 32767

# The ControllerRevisions of the three templates.
R1 = "web-6b7f9c8d4"
R2 = "web-84c5d7f9b"
R3 = "web-5d8f6c7b9"

# ---------------------------------------------------------------------------------------------
# The pod template, as the API server stores it (defaults filled in).


def template(image_tag):
    return {
        "metadata": {"labels": {"app": "web"}, "annotations": {"prometheus.io/scrape": "true"}},
        "spec": {
            "serviceAccountName": "web",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 2000},
            "containers": [
                {
                    "name": "web",
                    "image": f"registry.example.com/shop/web:{image_tag}",
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz/ready", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 2,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/web"}],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
        },
    }


V1 = template("1.4.2")
V2 = template("1.5.0")
V3 = template("1.5.1")

# ---------------------------------------------------------------------------------------------
# Objects.


def statefulset(
    pod_template,
    replicas=5,
    *,
    kind=NATIVE,
    partition=None,
    paused=None,
    unordered=False,
    strategy_type="RollingUpdate",
    annotations=None,
    labels=None,
    generation=7,
    observed=7,
    current=R1,
    update=R1,
    updated=None,
    status=True,
):
    api_version, kind_name = kind
    strategy = {"type": strategy_type}
    if strategy_type == "RollingUpdate":
        rolling = {"maxUnavailable": 1} if kind == ADVANCED else {}
        if partition is not None:
            rolling["partition"] = partition
        if paused is not None:
            rolling["paused"] = paused
        if unordered:
            rolling["unorderedUpdate"] = {"priorityStrategy": {"weightPriority": [{"weight": 50, "matchSelector": {"matchLabels": {"zone": "a"}}}]}}
        if kind == ADVANCED:
            rolling["podUpdatePolicy"] = "ReCreate"
        if rolling:
            strategy["rollingUpdate"] = rolling
    type_label = {WORKLOAD_TYPE: "statefulset"} if kind == CUSTOM else {}
    obj = {
        "apiVersion": api_version,
        "kind": kind_name,
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": UID,
            "resourceVersion": "7730215",
            "generation": generation,
            "creationTimestamp": "2025-02-10T09:12:44Z",
            "labels": {"app": "web", **type_label, **(labels or {})},
            "annotations": {"shop.example.com/owner": "storefront-team", **(annotations or {})},
        },
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(pod_template),
            "updateStrategy": strategy,
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            ],
        },
    }
    if status:
        updated = replicas if updated is None else updated
        obj["status"] = {
            "observedGeneration": observed,
            "replicas": replicas,
            "readyReplicas": replicas,
            "currentReplicas": replicas - updated,
            "updatedReplicas": updated,
            "availableReplicas": replicas,
            "currentRevision": current,
            "updateRevision": update,
            "collisionCount": 0,
        }
    return obj


def held(pod_template, replicas=5, *, partition=HOLD_ALL, update=R2, **kwargs):
    return statefulset(
        pod_template,
        replicas,
        partition=partition,
        annotations={IN_PROGRESSING: MARK},
        update=update,
        **kwargs,
    )


def pod(revision, ordinal, *, ready=True, labels=None, born=None, owner=NATIVE, name=None):
    name = name or f"{NAME}-{ordinal}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"pod-{ordinal}-0000-4000-8000-000000000000",
            "creationTimestamp": born or f"2025-03-01T10:0{ordinal}:00Z",
            "labels": {
                "app": "web",
                "controller-revision-hash": revision,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(ordinal),
                **(labels or {}),
            },
            "ownerReferences": [
                {
                    "apiVersion": owner[0],
                    "kind": owner[1],
                    "name": NAME,
                    "uid": UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "hostname": name,
            "subdomain": "web",
            "nodeName": "node-b2",
            "containers": [{"name": "web", "image": "registry.example.com/shop/web"}],
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "ContainersReady", "status": "True" if ready else "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
        },
    }


def fleet(*revisions, owner=NATIVE, labels=None):
    """Pods web-0.. on the given revisions, in ordinal order."""
    return [pod(revision, i, owner=owner, labels=(labels or {}).get(i)) for i, revision in enumerate(revisions)]


def labelled(batch, rollout_id="seed"):
    return {ROLLOUT_ID: rollout_id, BATCH_ID: str(batch)}


def ctx(batch_index, step, planned, *, tolerated=0, rollout=ROLLOUT, stable=R1, update=R2, style="partition"):
    kind, value = step
    return {
        "rollout": rollout,
        "style": style,
        "batch-index": batch_index,
        "step-replicas": {kind: value},
        "planned-replicas": planned,
        "tolerated-failures": tolerated,
        "stable-revision": stable,
        "update-revision": update,
        "pod-template-metadata": "",
    }


def rollback_ctx(batch_index, step, planned):
    """A rollback in batches: the step machine passes the stable revision as both revisions."""
    return ctx(batch_index, step, planned, rollout=ROLLBACK_ID, stable=R1, update=R1)


def target(kind, name):
    return {"api-version": kind[0], "kind": kind[1], "namespace": NS, "name": name}


def merge_patch(kind, name, body):
    return {"merge-patch": {"target": target(kind, name), "subresource": None, "body": body}}


def patch_workload(body, kind=NATIVE):
    return merge_patch(kind, NAME, body)


def partition_patch(partition, kind=NATIVE):
    return patch_workload({"spec": {"updateStrategy": {"rollingUpdate": {"partition": partition}}}}, kind)


def label_pod(ordinal, batch, rollout_id="seed"):
    return merge_patch(("v1", "Pod"), f"{NAME}-{ordinal}", {"metadata": {"labels": labelled(batch, rollout_id)}})


def mark_pod(ordinal, rollout_id="r20250302"):
    return merge_patch(("v1", "Pod"), f"{NAME}-{ordinal}", {"metadata": {"labels": {NO_NEED_UPDATE: rollout_id}}})


def state(stable, update, *, settled=True, taken_over=False, replicas=5):
    return {
        "replicas": replicas,
        "stable-revision": stable,
        "update-revision": update,
        "update-pod-template-hash": update,
        "stable-pod-template-hash": stable,
        "settled": settled,
        "taken-over": taken_over,
        "revision-label": "controller-revision-hash",
    }


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


HOLD_PATCH = {"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"updateStrategy": {"rollingUpdate": {"partition": HOLD_ALL}}}}

# ---------------------------------------------------------------------------------------------
# related-objects

case(
    "related-objects",
    "the pods the StatefulSet's selector matches",
    "related-objects",
    {"workload": statefulset(V1)},
    ok([{"api-version": "v1", "kind": "Pod", "label-selector": "app=web"}]),
)

case(
    "related-objects-custom-resource",
    "a custom resource labelled workload-type=statefulset is handled like a StatefulSet",
    "related-objects",
    {"workload": statefulset(V1, kind=CUSTOM)},
    ok([{"api-version": "v1", "kind": "Pod", "label-selector": "app=web"}]),
)

unlabelled = statefulset(V1, kind=CUSTOM)
del unlabelled["metadata"]["labels"][WORKLOAD_TYPE]
case(
    "related-objects-unlabelled-custom-resource",
    "a custom resource without the workload-type label is not known to be StatefulSet-like",
    "related-objects",
    {"workload": unlabelled},
    err(
        "invalid-input",
        "the workload is a games.example.com/v1 GameServerSet; the StatefulSet plugin handles apps/v1 "
        "and apps.kruise.io StatefulSets, and custom resources labelled rollouts.kruise.io/workload-type=statefulset",
    ),
)

empty_selector = statefulset(V1)
empty_selector["spec"]["selector"] = {}
case(
    "related-objects-empty-selector",
    "an empty selector would select every pod: refused",
    "related-objects",
    {"workload": empty_selector},
    err("invalid-input", "StatefulSet web has an empty selector"),
)

case(
    "related-objects-malformed-json",
    "text that is not JSON is refused",
    "related-objects",
    {"workload": '{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": '},
    err("invalid-input", "the workload is not a valid StatefulSet"),
)

text_partition = statefulset(V1)
text_partition["spec"]["updateStrategy"]["rollingUpdate"] = {"partition": "20%"}
case(
    "related-objects-percent-partition",
    "a StatefulSet partition is a count of ordinals; a percentage is refused",
    "related-objects",
    {"workload": text_partition},
    err("invalid-input", "the workload is not a valid StatefulSet"),
)

# ---------------------------------------------------------------------------------------------
# observe

case(
    "observe-steady",
    "nothing to release: both revisions are the one ControllerRevision",
    "observe",
    {"objects": objects(statefulset(V1), *fleet(R1, R1, R1, R1, R1))},
    ok(state(R1, R1)),
)

case(
    "observe-in-progress",
    "a release holds the StatefulSet at 2 of 5 pods: revisions from status, taken over (marked and "
    "partitioned)",
    "observe",
    {"objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2))},
    ok(state(R1, R2, taken_over=True)),
)

case(
    "observe-advanced-statefulset",
    "an Advanced StatefulSet reads the same",
    "observe",
    {"objects": objects(held(V2, kind=ADVANCED, partition=4, paused=False, updated=1), *fleet(R1, R1, R1, R1, R2, owner=ADVANCED))},
    ok(state(R1, R2, taken_over=True)),
)

case(
    "observe-not-settled",
    "the controller has not observed the latest generation; a partition without the release's "
    "mark is the user's, not a takeover",
    "observe",
    {"objects": objects(statefulset(V2, partition=2, generation=8, observed=7, update=R2, updated=0))},
    ok(state(R1, R2, settled=False)),
)

case(
    "observe-on-delete",
    "an OnDelete StatefulSet is never taken over, whatever its marks",
    "observe",
    {"objects": objects(held(V2, strategy_type="OnDelete", updated=0))},
    ok(state(R1, R2)),
)

case(
    "observe-no-status",
    "a custom resource whose controller never reported revisions",
    "observe",
    {"objects": objects(statefulset(V1, kind=CUSTOM, status=False))},
    err("not-ready", "GameServerSet web has no status.updateRevision yet"),
)

case(
    "observe-related-not-a-pod",
    "the plugin asks for pods only",
    "observe",
    {"objects": objects(statefulset(V1), statefulset(V1))},
    err("invalid-input", "related object 1 of 1 is a apps/v1 StatefulSet; the StatefulSet plugin asks for Pods only"),
)

# ---------------------------------------------------------------------------------------------
# takeover

case(
    "takeover-template-change",
    "a new pod template under an enabled Rollout: partition 32767 so no ordinal is updated, "
    "marked, everything else of the update kept",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": statefulset(V1), "new": statefulset(V2)},
    ok(HOLD_PATCH),
)

case(
    "takeover-advanced-statefulset-unpauses",
    "a paused Advanced StatefulSet updates no pod at all, so the release unpauses it",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "partition",
        "old": statefulset(V1, kind=ADVANCED, paused=True),
        "new": statefulset(V2, kind=ADVANCED, paused=True),
    },
    ok(
        {
            "metadata": {"annotations": {IN_PROGRESSING: MARK}},
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": HOLD_ALL, "paused": False}}},
        }
    ),
)

case(
    "takeover-custom-resource",
    "a StatefulSet-like custom resource is held the same way",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": statefulset(V1, kind=CUSTOM), "new": statefulset(V2, kind=CUSTOM)},
    ok(HOLD_PATCH),
)

case(
    "takeover-scale-only",
    "an update that does not change the pod template is admitted unchanged",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": statefulset(V1), "new": statefulset(V1, 7)},
    ok(None),
)

case(
    "takeover-user-partition",
    "the user had set partition 2: the release takes the partition over (held now, removed by "
    "finalize) as Kruise does",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": statefulset(V1, partition=2), "new": statefulset(V2, partition=2)},
    ok(HOLD_PATCH),
)

case(
    "takeover-on-delete",
    "no partition controls an OnDelete StatefulSet: admitted unchanged, as Kruise does",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "partition",
        "old": statefulset(V1, strategy_type="OnDelete"),
        "new": statefulset(V2, strategy_type="OnDelete"),
    },
    ok(None),
)

case(
    "takeover-zero-replicas",
    "a StatefulSet scaled to zero has nothing to release",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": statefulset(V1, 0), "new": statefulset(V2, 0)},
    ok(None),
)

case(
    "takeover-rollout-id-same-template",
    "a new rollout-id label starts a release even for the same template",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "partition",
        "old": statefulset(V1, labels={ROLLOUT_ID: "r20250215"}),
        "new": statefulset(V1, labels={ROLLOUT_ID: "seed"}),
    },
    ok(HOLD_PATCH),
)

case(
    "takeover-new-template-mid-release",
    "a third template (or a rollback) arrives with ordinals 2-4 updated: every ordinal is held "
    "again, the next release starts from its first batch",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held(V2, partition=2), "new": held(V3, partition=2)},
    ok({"spec": {"updateStrategy": {"rollingUpdate": {"partition": HOLD_ALL}}}}),
)

case(
    "takeover-partition-change-mid-release",
    "release-batch's own partition change passes the webhook too: admitted unchanged",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held(V2, partition=4), "new": held(V2, partition=3)},
    ok(None),
)

case(
    "takeover-canary",
    "a StatefulSet has no extra canary workload: the canary style is refused, naming the "
    "supported style",
    "takeover",
    {"rollout": ROLLOUT, "style": "canary", "old": statefulset(V1), "new": statefulset(V2)},
    err("invalid-input", "implements the partition release style only"),
)

# ---------------------------------------------------------------------------------------------
# release-batch: the seed example, steps of 1, 2 and 2 pods with rollout id "seed".

case(
    "release-first-batch-one-pod",
    "batch 1 of 1 pod: partition 4 releases the highest ordinal, web-4",
    "release-batch",
    {"ctx": ctx(0, ("count", 1), 1, rollout=ROLLOUT_WITH_ID), "objects": objects(held(V2, updated=0), *fleet(R1, R1, R1, R1, R1))},
    ok([partition_patch(4)]),
)

case(
    "release-first-batch-labels-highest-ordinal",
    "batch 1, once web-4 runs the update revision: it gets batch id 1",
    "release-batch",
    {"ctx": ctx(0, ("count", 1), 1, rollout=ROLLOUT_WITH_ID), "objects": objects(held(V2, partition=4, updated=1), *fleet(R1, R1, R1, R1, R2))},
    ok([label_pod(4, 1)]),
)

case(
    "release-second-batch-two-pods",
    "batch 2 of 2 pods: partition 3 adds web-3; web-4 keeps its batch-1 labels",
    "release-batch",
    {
        "ctx": ctx(1, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=4, updated=1), *fleet(R1, R1, R1, R1, R2, labels={4: labelled(1)})),
    },
    ok([partition_patch(3)]),
)

case(
    "release-second-batch-labels-next-ordinal",
    "batch 2, once web-3 runs the update revision: it gets batch id 2",
    "release-batch",
    {
        "ctx": ctx(1, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2, labels={4: labelled(1)})),
    },
    ok([label_pod(3, 2)]),
)

case(
    "release-step-adding-no-pod",
    "batch 3 plans 2 pods again: partition and labels are in place, nothing to do",
    "release-batch",
    {
        "ctx": ctx(2, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2, labels={3: labelled(2), 4: labelled(1)})),
    },
    ok([]),
)

case(
    "release-20-percent",
    "batch 1 at 20% of 5: 1 pod, partition 4 (a StatefulSet partition is always a count)",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, updated=0))},
    ok([partition_patch(4)]),
)

case(
    "release-60-percent",
    "batch 2 at 60% of 5: 3 pods, partition 2",
    "release-batch",
    {"ctx": ctx(1, ("percent", 60), 3), "objects": objects(held(V2, partition=4, updated=1))},
    ok([partition_patch(2)]),
)

case(
    "release-last-batch",
    "the last batch at 100%: partition 0",
    "release-batch",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(held(V2, partition=2, updated=3))},
    ok([partition_patch(0)]),
)

case(
    "release-advanced-statefulset",
    "an Advanced StatefulSet paused during the release is unpaused with the batch's partition",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, kind=ADVANCED, partition=4, paused=True, updated=1))},
    ok([patch_workload({"spec": {"updateStrategy": {"rollingUpdate": {"paused": False, "partition": 3}}}}, ADVANCED)]),
)

case(
    "release-custom-resource",
    "a StatefulSet-like custom resource: the patch goes to its own apiVersion and kind",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, kind=CUSTOM, updated=0))},
    ok([partition_patch(4, CUSTOM)]),
)

case(
    "release-holds-an-unheld-statefulset",
    "a StatefulSet that escaped the webhook (no mark, no partition) is marked with the batch's "
    "partition",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(statefulset(V2, update=R2, updated=0))},
    ok(
        [
            patch_workload(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: MARK}},
                    "spec": {"updateStrategy": {"rollingUpdate": {"partition": 4}}},
                }
            )
        ]
    ),
)

case(
    "release-scale-up-mid-step",
    "batch 2 at 40% while the StatefulSet grew from 5 to 10: 4 pods planned, partition 6 (new "
    "ordinals 5-9 would otherwise start on the update revision)",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 4), "objects": objects(held(V2, 10, partition=3, updated=2))},
    ok([partition_patch(6)]),
)

case(
    "release-scale-down-mid-step",
    "batch 2 at 40% while the StatefulSet shrank from 10 to 5 (removing ordinals 5-9): 2 pods "
    "planned, partition 3",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, 5, partition=6, updated=0))},
    ok([partition_patch(3)]),
)

case(
    "release-unordered-update",
    "an Advanced StatefulSet with unorderedUpdate picks the pods by priority: the updated pods "
    "are labelled whatever their ordinals, oldest first",
    "release-batch",
    {
        "ctx": ctx(1, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held(V2, kind=ADVANCED, partition=3, unordered=True, updated=2),
            pod(R1, 0, owner=ADVANCED),
            pod(R2, 1, owner=ADVANCED, labels=labelled(1)),
            pod(R1, 2, owner=ADVANCED),
            pod(R2, 3, owner=ADVANCED),
            pod(R1, 4, owner=ADVANCED),
        ),
    },
    ok([label_pod(3, 2)]),
)

case(
    "release-pod-without-ordinal",
    "a pod of the StatefulSet not named <name>-<ordinal> cannot be placed against the partition",
    "release-batch",
    {
        "ctx": ctx(0, ("count", 1), 1, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=4, updated=1), *fleet(R1, R1, R1, R1), pod(R2, 4, name="web-debug")),
    },
    err("invalid-input", "pod web-debug of StatefulSet web is not named web-<ordinal>"),
)

case(
    "release-on-delete",
    "an OnDelete StatefulSet cannot be released by partition",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, strategy_type="OnDelete", updated=0))},
    err("invalid-input", "StatefulSet web uses the OnDelete update strategy"),
)

case(
    "release-zero-replicas",
    "a StatefulSet scaled to zero: nothing to release",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, 0, updated=0))},
    ok([]),
)

case(
    "release-blue-green",
    "the blue-green style is refused",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1, style="blue-green"), "objects": objects(held(V2, updated=0))},
    err("invalid-input", "it cannot run a blue-green release"),
)

# ---------------------------------------------------------------------------------------------
# Rollback in batches: the release of v2 stood at 60% (web-0 and web-1 on v1, web-2 to web-4 on
# v2) when the template went back to v1; the takeover held every ordinal. The step machine
# passes v1 as both revisions, and the StatefulSet's update revision is v1 again.

case(
    "rollback-in-batch-marks-pods-already-back",
    "rollback in batches, batch 1 at 20%: web-0 and web-1 are marked no-need-update before the "
    "partition moves anything; partition 4 moves web-4 back",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, update=R1, updated=2), *fleet(R1, R1, R2, R2, R2)),
    },
    ok([mark_pod(0), mark_pod(1), partition_patch(4)]),
)

KEPT = {0: {NO_NEED_UPDATE: "r20250302"}, 1: {NO_NEED_UPDATE: "r20250302"}}

case(
    "rollback-in-batch-labels-moved-ordinal",
    "rollback in batches, batch 1: web-4 is back on v1 and gets batch id 1; the marked pods none",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, partition=4, update=R1, updated=3), *fleet(R1, R1, R2, R2, R1, labels=KEPT)),
    },
    ok([label_pod(4, 1, "r20250302")]),
)

# ---------------------------------------------------------------------------------------------
# check-batch

case(
    "check-ready",
    "seed batch 2: web-3 and web-4 updated, ready and labelled",
    "check-batch",
    {
        "ctx": ctx(1, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2, labels={3: labelled(2), 4: labelled(1)})),
    },
    ok(batch_status(2, 2)),
)

waiting = fleet(R1, R1, R1, R2, R2)
waiting[3] = pod(R2, 3, ready=False)
case(
    "check-waiting-for-ready",
    "batch 2: web-3 is updated but not ready yet; a native StatefulSet's status has no "
    "updatedReadyReplicas, the pods tell",
    "check-batch",
    {"ctx": ctx(1, ("count", 2), 2), "objects": objects(held(V2, partition=3, updated=2), *waiting)},
    ok(batch_status(2, 1, "1 of 2 updated pods are ready (0 may fail); waiting for 1 more")),
)

case(
    "check-tolerated-failure",
    "batch 2 with one tolerated failure: one ready pod of two is enough",
    "check-batch",
    {"ctx": ctx(1, ("count", 2), 2, tolerated=1), "objects": objects(held(V2, partition=3, updated=2), *waiting)},
    ok(batch_status(2, 1)),
)

case(
    "check-ordinal-not-updated",
    "batch 2: the partition is lowered but web-3 still runs the stable revision (it is being "
    "recreated)",
    "check-batch",
    {"ctx": ctx(1, ("count", 2), 2), "objects": objects(held(V2, partition=3, updated=1), *fleet(R1, R1, R1, R1, R2))},
    ok(batch_status(1, 1, "1 of 2 pods run the update revision")),
)

case(
    "check-labels-missing",
    "with a rollout id: web-3 is ready but not labelled yet",
    "check-batch",
    {
        "ctx": ctx(1, ("count", 2), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2, labels={4: labelled(1)})),
    },
    ok(batch_status(2, 2, "1 of 2 updated pods carry the batch labels of rollout id seed")),
)

case(
    "check-stale-generation",
    "the controller has not observed the lowered partition's generation yet",
    "check-batch",
    {
        "ctx": ctx(1, ("count", 2), 2),
        "objects": objects(held(V2, partition=3, generation=9, observed=8, updated=1), *fleet(R1, R1, R1, R1, R2)),
    },
    ok(batch_status(1, 1, "StatefulSet web has not observed its latest spec yet (generation 9, observed 8)")),
)

case(
    "check-other-update-revision",
    "the StatefulSet's update revision is not the one this release rolls out",
    "check-batch",
    {"ctx": ctx(1, ("count", 2), 2), "objects": objects(held(V3, partition=3, update=R3, updated=0), *fleet(R1, R1, R1, R1, R1))},
    ok(batch_status(0, 0, f"StatefulSet web runs update revision {R3}, not {R2} of this release")),
)

case(
    "check-rollback-waits-for-the-released-ordinal",
    "rollback in batches, batch 1: web-0 and web-1 already run v1, but partition 4 releases web-4, "
    "which is still on v2: the pods below the partition do not stand in for it",
    "check-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, partition=4, update=R1, updated=2), *fleet(R1, R1, R2, R2, R2, labels=KEPT)),
    },
    ok(batch_status(0, 0, "0 of 1 pods run the update revision")),
)

case(
    "check-rollback-ready",
    "rollback in batches, batch 1: web-4 is back on v1, ready and labelled",
    "check-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(
            held(V1, partition=4, update=R1, updated=3),
            *fleet(R1, R1, R2, R2, R1, labels={**KEPT, 4: labelled(1, "r20250302")}),
        ),
    },
    ok(batch_status(1, 1)),
)

case(
    "check-unordered-update",
    "with unorderedUpdate the controller picks the pods: any pods on the update revision count",
    "check-batch",
    {
        "ctx": ctx(1, ("count", 2), 2),
        "objects": objects(
            held(V2, kind=ADVANCED, partition=3, unordered=True, updated=2),
            *fleet(R1, R2, R1, R2, R1, owner=ADVANCED),
        ),
    },
    ok(batch_status(2, 2)),
)

case(
    "check-zero-replicas",
    "a StatefulSet scaled to zero: the batch is trivially done",
    "check-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, 0, updated=0))},
    ok(batch_status(0, 0)),
)

# ---------------------------------------------------------------------------------------------
# abort

# Aborted at seed batch 2 (the state of check-ready): the StatefulSet stays marked and held at
# partition 3, and web-3 and web-4 stay on the update revision with their batch labels; they
# get no traffic once the routes are restored, and updating them back would be a second release.
# A retry releases the batch again.
case(
    "abort-holds-the-partition",
    "an abort holds the workload where it is: its new pods get no traffic once the routes are restored",
    "abort",
    CASES["check-ready"]["args"],
    ok([]),
)

# ---------------------------------------------------------------------------------------------
# finalize

case(
    "finalize-clears-partition",
    "after the last step (2 of 5 pods, seed example): partition and mark go; the controller "
    "updates web-0 to web-2, which get no batch labels",
    "finalize",
    {"ctx": ctx(2, ("count", 2), 2), "objects": objects(held(V2, partition=3, updated=2), *fleet(R1, R1, R1, R2, R2))},
    ok(
        [
            patch_workload(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}},
                    "spec": {"updateStrategy": {"rollingUpdate": {"partition": None}}},
                }
            )
        ]
    ),
)

case(
    "finalize-custom-resource",
    "a StatefulSet-like custom resource is handed back the same way",
    "finalize",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(held(V2, kind=CUSTOM, partition=0))},
    ok(
        [
            patch_workload(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}},
                    "spec": {"updateStrategy": {"rollingUpdate": {"partition": None}}},
                },
                CUSTOM,
            )
        ]
    ),
)

case(
    "finalize-done",
    "no mark left: finalize is done, and a partition the user sets afterwards is not touched",
    "finalize",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(statefulset(V2, partition=1, current=R2, update=R2))},
    ok([]),
)


def main():
    write_fixtures(FIXTURES, CASES)


if __name__ == "__main__":
    main()
