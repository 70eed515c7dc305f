#!/usr/bin/env python3
"""Writes the CloneSet plugin's golden fixtures, plugins/cloneset/fixtures/<case>.json.

Inputs are built from one realistic CloneSet ("shop/web", 5 replicas) and the pods and status
the OpenKruise CloneSet controller would show at each point of a release. Every expectation is
spelt out below by hand from Kruise Rollout's CloneSet batch release (see the crate docs). Run it
after changing a case: `python3 scripts/make-fixtures.py`.
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
UID = "3a7c1e52-9d4b-4f6e-8a21-5b0c9d8e7f16"
API = "apps.kruise.io/v1alpha1"
ROLLOUT = {"namespace": NS, "name": "web-rollout", "rollout-id": None}
ROLLOUT_WITH_ID = {**ROLLOUT, "rollout-id": "r20250301"}
ROLLBACK_ID = {**ROLLOUT, "rollout-id": "r20250302"}

IN_PROGRESSING = "rollouts.kruise.io/in-progressing"
ROLLOUT_ID = "rollouts.kruise.io/rollout-id"
BATCH_ID = "rollouts.kruise.io/rollout-batch-id"
NO_NEED_UPDATE = "rollouts.kruise.io/no-need-update"
MARK = json.dumps({"rolloutName": "web-rollout"}, separators=(",", ":"))

# The hashes of the CloneSet's ControllerRevisions (named web-<hash>) for each template.
H1 = "6b7f9c8d4"
H2 = "84c5d7f9b"
H3 = "5d8f6c7b9"

# ---------------------------------------------------------------------------------------------
# The pod template, as the API server stores it (defaults filled in).


def template(image_tag):
    return {
        "metadata": {
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
        },
        "spec": {
            "serviceAccountName": "web",
            "terminationGracePeriodSeconds": 45,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {"runAsNonRoot": True, "fsGroup": 2000},
            "readinessGates": [{"conditionType": "InPlaceUpdateReady"}],
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
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                        },
                    ],
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "512Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz/ready", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "timeoutSeconds": 2,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": True}],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}],
        },
    }


V1 = template("1.4.2")
V2 = template("1.5.0")
V3 = template("1.5.1")

# ---------------------------------------------------------------------------------------------
# Objects.


def cloneset(
    pod_template,
    replicas=5,
    *,
    partition=None,
    paused=None,
    annotations=None,
    labels=None,
    generation=7,
    observed=7,
    current=H1,
    update=H1,
    updated=None,
    updated_ready=None,
    status=True,
):
    strategy = {"type": "ReCreate", "maxUnavailable": "20%", "maxSurge": 0}
    if partition is not None:
        strategy["partition"] = partition
    if paused is not None:
        strategy["paused"] = paused
    updated = replicas if updated is None else updated
    updated_ready = updated if updated_ready is None else updated_ready
    obj = {
        "apiVersion": API,
        "kind": "CloneSet",
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": UID,
            "resourceVersion": "5512093",
            "generation": generation,
            "creationTimestamp": "2025-02-10T09:12:44Z",
            "labels": {"app": "web", "rollouts.kruise.io/workload-type": "cloneset", **(labels or {})},
            "annotations": {"shop.example.com/owner": "storefront-team", **(annotations or {})},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "tier": "frontend"}},
            "template": copy.deepcopy(pod_template),
            "updateStrategy": strategy,
            "scaleStrategy": {"disablePVCReuse": False},
            "revisionHistoryLimit": 10,
        },
    }
    if status:
        obj["status"] = {
            "observedGeneration": observed,
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": updated,
            "updatedReadyReplicas": updated_ready,
            "updatedAvailableReplicas": updated_ready,
            "expectedUpdatedReplicas": updated,
            "currentRevision": f"{NAME}-{current}",
            "updateRevision": f"{NAME}-{update}",
            "collisionCount": 0,
            "labelSelector": "app=web,tier=frontend",
        }
    return obj


def held(pod_template, replicas=5, *, partition="100%", update=H2, **kwargs):
    return cloneset(
        pod_template,
        replicas,
        partition=partition,
        paused=False,
        annotations={IN_PROGRESSING: MARK},
        update=update,
        **kwargs,
    )


def pod(pod_hash, suffix, *, ready=True, labels=None, born="2025-03-01T10:00:00Z", owner_uid=UID, short_label=True):
    revision_labels = {"controller-revision-hash": f"{NAME}-{pod_hash}"}
    if short_label:
        revision_labels["pod-template-hash"] = pod_hash
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{suffix}",
            "namespace": NS,
            "uid": f"pod-{suffix}-0000-4000-8000-000000000000",
            "creationTimestamp": born,
            "labels": {
                "app": "web",
                "tier": "frontend",
                **revision_labels,
                "apps.kruise.io/cloneset-instance-id": suffix,
                **(labels or {}),
            },
            "ownerReferences": [
                {
                    "apiVersion": API,
                    "kind": "CloneSet",
                    "name": NAME,
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": "node-a3",
            "readinessGates": [{"conditionType": "InPlaceUpdateReady"}],
            "containers": [{"name": "web", "image": "registry.example.com/shop/web"}],
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "InPlaceUpdateReady", "status": "True"},
                {"type": "ContainersReady", "status": "True" if ready else "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
        },
    }


def labelled(batch, rollout_id="r20250301"):
    return {ROLLOUT_ID: rollout_id, BATCH_ID: str(batch)}


def ctx(batch_index, step, planned, *, tolerated=0, rollout=ROLLOUT, stable=H1, update=H2, style="partition"):
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


def rollback_ctx(batch_index, step, planned, *, rollout=ROLLBACK_ID):
    """A rollback in batches: the step machine passes the stable revision as both revisions."""
    return ctx(batch_index, step, planned, rollout=rollout, stable=H1, update=H1)


def target(kind, name, api_version=API):
    return {"api-version": api_version, "kind": kind, "namespace": NS, "name": name}


def merge_patch(kind, name, body, api_version=API):
    return {"merge-patch": {"target": target(kind, name, api_version), "subresource": None, "body": body}}


def patch_cloneset(body):
    return merge_patch("CloneSet", NAME, body)


def partition_patch(partition):
    return patch_cloneset({"spec": {"updateStrategy": {"partition": partition}}})


def label_pod(suffix, batch, rollout_id="r20250301"):
    return merge_patch("Pod", f"web-{suffix}", {"metadata": {"labels": labelled(batch, rollout_id)}}, api_version="v1")


def mark_pod(suffix, rollout_id="r20250302"):
    return merge_patch("Pod", f"web-{suffix}", {"metadata": {"labels": {NO_NEED_UPDATE: rollout_id}}}, api_version="v1")


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


# A fleet of five pods: `on_v1` of them still on the stable revision, the rest updated.
STABLE_PODS = ["x7k2p", "q9m4d", "h3t8w", "n5c2z", "r8v6b"]


def fleet(on_v1, *updated_pods):
    return [pod(H1, suffix) for suffix in STABLE_PODS[:on_v1]] + list(updated_pods)


# ---------------------------------------------------------------------------------------------
# related-objects

case(
    "related-objects",
    "the pods the CloneSet's selector matches",
    "related-objects",
    {"workload": cloneset(V1)},
    ok([{"api-version": "v1", "kind": "Pod", "label-selector": "app=web,tier=frontend"}]),
)

empty_selector = cloneset(V1)
empty_selector["spec"]["selector"] = {}
case(
    "related-objects-empty-selector",
    "an empty selector would select every pod: refused",
    "related-objects",
    {"workload": empty_selector},
    err("invalid-input", "empty selector"),
)

case(
    "related-objects-not-a-cloneset",
    "a workload of another kind is refused with the reason",
    "related-objects",
    {"workload": {**cloneset(V1), "apiVersion": "apps/v1", "kind": "Deployment"}},
    err(
        "invalid-input",
        "the workload is not a valid apps.kruise.io/v1alpha1 CloneSet: got apiVersion apps/v1, kind Deployment",
    ),
)

case(
    "related-objects-malformed-json",
    "text that is not JSON is refused",
    "related-objects",
    {"workload": '{"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "metadata": '},
    err("invalid-input", "the workload is not a valid apps.kruise.io/v1alpha1 CloneSet"),
)

negative = cloneset(V1)
negative["spec"]["replicas"] = -2
case(
    "related-objects-negative-replicas",
    "negative replicas are refused",
    "related-objects",
    {"workload": negative},
    err("invalid-input", "the workload has negative spec.replicas (-2)"),
)

# ---------------------------------------------------------------------------------------------
# observe

case(
    "observe-steady",
    "nothing to release: stable and update revision are the hash of the one ControllerRevision",
    "observe",
    {"objects": objects(cloneset(V1), *fleet(5))},
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
    "observe-in-progress",
    "a release holds the CloneSet at 40%: stable from status.currentRevision, update from "
    "status.updateRevision, taken over (marked and partitioned)",
    "observe",
    {
        "objects": objects(
            held(V2, partition="60%", updated=2),
            *fleet(3, pod(H2, "b4n8q"), pod(H2, "t9w3d")),
        )
    },
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": H2,
            "update-pod-template-hash": H2,
            "stable-pod-template-hash": H1,
            "settled": True,
            "taken-over": True,
            "revision-label": "pod-template-hash",
        }
    ),
)

case(
    "observe-not-settled",
    "the controller has not observed the latest generation yet; a partition without the "
    "release's mark is the user's, not a takeover",
    "observe",
    {"objects": objects(cloneset(V2, partition=2, generation=8, observed=7, update=H2, updated=0))},
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": H2,
            "update-pod-template-hash": H2,
            "stable-pod-template-hash": H1,
            "settled": False,
            "taken-over": False,
            "revision-label": "pod-template-hash",
        }
    ),
)

case(
    "observe-no-status",
    "a CloneSet the Kruise controller never handled has no revisions to report yet",
    "observe",
    {"objects": objects(cloneset(V1, status=False))},
    err("not-ready", "CloneSet web has no status.updateRevision yet"),
)

no_kind = pod(H1, "x7k2p")
del no_kind["kind"]
case(
    "observe-related-without-kind",
    "related objects must say what they are",
    "observe",
    {"objects": objects(cloneset(V1), no_kind)},
    err("invalid-input", "related object 1 of 1 must be a Kubernetes object with apiVersion and kind"),
)

case(
    "observe-related-not-a-pod",
    "the plugin asks for pods only",
    "observe",
    {"objects": objects(cloneset(V1), {**cloneset(V1), "kind": "CloneSet"})},
    err("invalid-input", "related object 1 of 1 is a apps.kruise.io/v1alpha1 CloneSet; the CloneSet plugin asks for Pods only"),
)

no_uid = cloneset(V1)
del no_uid["metadata"]["uid"]
case(
    "observe-workload-without-uid",
    "the uid tells the CloneSet's pods from others the selector matches: required",
    "observe",
    {"objects": objects(no_uid)},
    err("invalid-input", "CloneSet web has no metadata.uid"),
)

# ---------------------------------------------------------------------------------------------
# takeover

case(
    "takeover-template-change",
    "a new pod template under an enabled Rollout: partition 100% so no pod is updated, marked, "
    "everything else of the update kept",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": cloneset(V1), "new": cloneset(V2)},
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"updateStrategy": {"partition": "100%"}}}),
)

case(
    "takeover-scale-only",
    "an update that does not change the pod template is admitted unchanged",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": cloneset(V1), "new": cloneset(V1, 8)},
    ok(None),
)

case(
    "takeover-user-partition",
    "the user had set partition 2: the release takes the partition over (100% now, removed by "
    "finalize) as Kruise does",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": cloneset(V1, partition=2), "new": cloneset(V2, partition=2)},
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"updateStrategy": {"partition": "100%"}}}),
)

case(
    "takeover-unpauses",
    "a paused CloneSet updates no pod at all, so the release unpauses it along with the partition",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": cloneset(V1, paused=True), "new": cloneset(V2, paused=True)},
    ok(
        {
            "metadata": {"annotations": {IN_PROGRESSING: MARK}},
            "spec": {"updateStrategy": {"partition": "100%", "paused": False}},
        }
    ),
)

case(
    "takeover-zero-replicas",
    "a CloneSet scaled to zero has nothing to release",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": cloneset(V1, 0), "new": cloneset(V2, 0)},
    ok(None),
)

case(
    "takeover-rollout-id-same-template",
    "a new rollout-id label starts a release even for the same template",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "partition",
        "old": cloneset(V1, labels={ROLLOUT_ID: "r20250215"}),
        "new": cloneset(V1, labels={ROLLOUT_ID: "r20250301"}),
    },
    ok({"metadata": {"annotations": {IN_PROGRESSING: MARK}}, "spec": {"updateStrategy": {"partition": "100%"}}}),
)

case(
    "takeover-rollout-id-unchanged",
    "with the same rollout-id label a template change does not start a release",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "partition",
        "old": cloneset(V1, labels={ROLLOUT_ID: "r20250215"}),
        "new": cloneset(V2, labels={ROLLOUT_ID: "r20250215"}),
    },
    ok(None),
)

case(
    "takeover-new-template-mid-release",
    "a third template (or a rollback) arrives at 40%: every pod is held again, the next release "
    "starts from its first batch",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held(V2, partition="60%"), "new": held(V3, partition="60%")},
    ok({"spec": {"updateStrategy": {"partition": "100%"}}}),
)

case(
    "takeover-partition-change-mid-release",
    "release-batch's own partition change passes the webhook too: admitted unchanged",
    "takeover",
    {"rollout": ROLLOUT, "style": "partition", "old": held(V2, partition="80%"), "new": held(V2, partition="60%")},
    ok(None),
)

case(
    "takeover-canary",
    "a CloneSet has no extra canary workload: the canary style is refused",
    "takeover",
    {"rollout": ROLLOUT, "style": "canary", "old": cloneset(V1), "new": cloneset(V2)},
    err("invalid-input", "it cannot run a canary release"),
)

# ---------------------------------------------------------------------------------------------
# release-batch

case(
    "release-first-batch-20-percent",
    "batch 1 at 20% of 5: the step is a percentage, so the partition is too: 80% keeps 4 pods",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, updated=0), *fleet(5))},
    ok([partition_patch("80%")]),
)

case(
    "release-second-batch-40-percent",
    "batch 2 at 40% of 5: partition 60%",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, partition="80%", updated=1), *fleet(4, pod(H2, "b4n8q")))},
    ok([partition_patch("60%")]),
)

case(
    "release-count-step",
    "a step of 2 pods is a count, so the partition is a count: 3",
    "release-batch",
    {"ctx": ctx(1, ("count", 2), 2), "objects": objects(held(V2, partition=4, updated=1), *fleet(4, pod(H2, "b4n8q")))},
    ok([partition_patch(3)]),
)

case(
    "release-last-batch",
    "the last batch at 100%: partition 0%",
    "release-batch",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(held(V2, partition="60%", updated=2))},
    ok([partition_patch("0%")]),
)

case(
    "release-batch-done",
    "the partition is in place: nothing to change",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, partition="60%", updated=2))},
    ok([]),
)

case(
    "release-labels-pods-of-the-batch",
    "with a rollout id, batch 2: the pod updated in batch 2 gets batch id 2, the batch-1 pod keeps "
    "its labels, stable pods and other workloads' pods get none",
    "release-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held(V2, partition="60%", updated=2),
            *fleet(3),
            pod(H2, "b4n8q", labels=labelled(1), born="2025-03-01T10:00:05Z"),
            pod(H2, "t9w3d", born="2025-03-01T10:20:00Z"),
            pod(H2, "z1z1z", owner_uid="0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"),
        ),
    },
    ok([label_pod("t9w3d", 2)]),
)

case(
    "release-labels-with-the-partition-change",
    "with a rollout id, batch 1: the partition is lowered; the pod already updated (in place, it "
    "keeps its name) is labelled in the same round",
    "release-batch",
    {
        "ctx": ctx(0, ("percent", 20), 1, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, updated=1), *fleet(4, pod(H2, "r8v6b"))),
    },
    ok([partition_patch("80%"), label_pod("r8v6b", 1)]),
)

case(
    "release-labels-pods-by-controller-revision-hash",
    "a pod labelled only with controller-revision-hash (no pod-template-hash) is still known to "
    "run the update revision by the status's revision name",
    "release-batch",
    {
        "ctx": ctx(0, ("percent", 20), 1, rollout=ROLLOUT_WITH_ID),
        "objects": objects(held(V2, partition="80%", updated=1), *fleet(4, pod(H2, "r8v6b", short_label=False))),
    },
    ok([label_pod("r8v6b", 1)]),
)

case(
    "release-holds-an-unheld-cloneset",
    "a CloneSet that escaped the webhook (paused, no mark) is marked and unpaused with the "
    "batch's partition",
    "release-batch",
    {
        "ctx": ctx(0, ("percent", 20), 1),
        "objects": objects(cloneset(V2, paused=True, update=H2, updated=0), *fleet(5)),
    },
    ok(
        [
            patch_cloneset(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: MARK}},
                    "spec": {"updateStrategy": {"paused": False, "partition": "80%"}},
                }
            )
        ]
    ),
)

case(
    "release-scale-up-mid-step-percent",
    "batch 2 at 40% while the CloneSet grew from 5 to 10: the percentage partition already keeps "
    "60%, now 6 of 10 pods, so the 4 planned pods are updated without a change",
    "release-batch",
    {"ctx": ctx(1, ("percent", 40), 4), "objects": objects(held(V2, 10, partition="60%", updated=2))},
    ok([]),
)

case(
    "release-scale-up-mid-step-count",
    "a step of 2 pods while the CloneSet grew from 5 to 10: the count partition follows, so the "
    "5 new pods start on the stable revision",
    "release-batch",
    {"ctx": ctx(1, ("count", 2), 2), "objects": objects(held(V2, 10, partition=3, updated=2))},
    ok([partition_patch(8)]),
)

case(
    "release-scale-down-mid-step",
    "a step of 4 pods while the CloneSet shrank from 10 to 5: 4 pods planned, partition 1",
    "release-batch",
    {"ctx": ctx(1, ("count", 4), 4), "objects": objects(held(V2, 5, partition=6, updated=4))},
    ok([partition_patch(1)]),
)

case(
    "release-percent-without-exact-share",
    "25% of 201 pods plans 51: no whole percentage keeps exactly 150 pods, so the count is used",
    "release-batch",
    {"ctx": ctx(0, ("percent", 25), 51), "objects": objects(held(V2, 201, updated=0))},
    ok([partition_patch(150)]),
)

case(
    "release-zero-replicas",
    "a CloneSet scaled to zero: nothing to release",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, 0, updated=0))},
    ok([]),
)

case(
    "release-canary",
    "the canary style is refused",
    "release-batch",
    {"ctx": ctx(0, ("percent", 20), 1, style="canary"), "objects": objects(held(V2, updated=0))},
    err("invalid-input", "implements the partition release style only"),
)

case(
    "release-malformed-partition",
    "a partition that is neither a count nor a percentage cannot be judged",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, partition="all", update=H1, updated=2), *fleet(2)),
    },
    err("invalid-input", 'spec.updateStrategy.partition must be a whole number or a percentage like "25%", got "all"'),
)

# ---------------------------------------------------------------------------------------------
# Rollback in batches: the release of v2 stood at 60% (2 pods on v1, 3 on v2) when the template
# went back to v1; the takeover held every pod (partition 100%). The step machine passes v1 as
# both revisions, and the CloneSet's update revision is v1 again.

V2_PODS = [pod(H2, suffix, labels=labelled(i)) for i, suffix in [(1, "b4n8q"), (2, "t9w3d"), (2, "m2c6v")]]

case(
    "rollback-in-batch-marks-pods-already-back",
    "rollback in batches, batch 1 at 20%: the 2 pods still on v1 are marked no-need-update before "
    "the partition moves anything; they already cover the 1 planned pod, so 80% moves none",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, update=H1, updated=2), *fleet(2), *V2_PODS),
    },
    ok([mark_pod("x7k2p"), mark_pod("q9m4d"), partition_patch("80%")]),
)

KEPT = [pod(H1, suffix, labels={NO_NEED_UPDATE: "r20250302"}) for suffix in STABLE_PODS[:2]]

case(
    "rollback-in-batch-marks-only-once",
    "rollback in batches, batch 1 again: the partition no longer holds every pod, the marked "
    "pods count for the batch and get no batch label: nothing to do",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1),
        "objects": objects(held(V1, partition="80%", update=H1, updated=2), *KEPT, *V2_PODS),
    },
    ok([]),
)

case(
    "rollback-in-batch-second-batch",
    "rollback in batches, batch 2 at 60%: 3 pods planned, 2 already back: partition 40% moves one",
    "release-batch",
    {
        "ctx": rollback_ctx(1, ("percent", 60), 3),
        "objects": objects(held(V1, partition="80%", update=H1, updated=2), *KEPT, *V2_PODS),
    },
    ok([partition_patch("40%")]),
)

case(
    "rollback-in-batch-labels-moved-pod",
    "rollback in batches, batch 2: the pod moved back gets batch id 2; the marked pods none",
    "release-batch",
    {
        "ctx": rollback_ctx(1, ("percent", 60), 3),
        "objects": objects(
            held(V1, partition="40%", update=H1, updated=3),
            *KEPT,
            pod(H1, "m2c6v", labels=labelled(2)),
            *V2_PODS[:2],
        ),
    },
    ok([label_pod("m2c6v", 2, "r20250302")]),
)

case(
    "rollback-in-batch-without-rollout-id",
    "rollback in batches without a rollout id: no labels, so no marks; the pods already back "
    "count towards the batch all the same",
    "release-batch",
    {
        "ctx": rollback_ctx(0, ("percent", 20), 1, rollout=ROLLOUT),
        "objects": objects(held(V1, update=H1, updated=2), *fleet(2), *V2_PODS),
    },
    ok([partition_patch("80%")]),
)

# ---------------------------------------------------------------------------------------------
# check-batch

case(
    "check-ready",
    "with a rollout id, batch 2: 2 updated pods, ready and labelled",
    "check-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held(V2, partition="60%", updated=2),
            *fleet(3, pod(H2, "b4n8q", labels=labelled(1)), pod(H2, "t9w3d", labels=labelled(2))),
        ),
    },
    ok(batch_status(2, 2)),
)

case(
    "check-waiting-for-ready",
    "batch 2: both pods updated, one ready",
    "check-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, partition="60%", updated=2, updated_ready=1))},
    ok(batch_status(2, 1, "1 of 2 updated pods are ready (0 may fail); waiting for 1 more")),
)

case(
    "check-tolerated-failure",
    "batch 2 with one tolerated failure: one ready pod of two is enough",
    "check-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2, tolerated=1),
        "objects": objects(held(V2, partition="60%", updated=2, updated_ready=1)),
    },
    ok(batch_status(2, 1)),
)

case(
    "check-no-ready-pod",
    "every failure tolerated, but a batch needs one ready pod",
    "check-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2, tolerated=2),
        "objects": objects(held(V2, partition="60%", updated=2, updated_ready=0)),
    },
    ok(batch_status(2, 0, "no updated pod is ready yet")),
)

case(
    "check-pods-not-updated",
    "batch 2: the partition is lowered but the second pod is not updated yet",
    "check-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V2, partition="60%", updated=1))},
    ok(batch_status(1, 1, "1 of 2 pods run the update revision")),
)

case(
    "check-labels-missing",
    "with a rollout id: pods are ready but one lacks the batch labels",
    "check-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            held(V2, partition="60%", updated=2),
            *fleet(3, pod(H2, "b4n8q", labels=labelled(1)), pod(H2, "t9w3d")),
        ),
    },
    ok(batch_status(2, 2, "1 of 2 updated pods carry the batch labels of rollout id r20250301")),
)

case(
    "check-stale-generation",
    "the controller has not observed the lowered partition's generation: its counts are stale",
    "check-batch",
    {
        "ctx": ctx(1, ("percent", 40), 2),
        "objects": objects(held(V2, partition="60%", generation=9, observed=8, updated=1)),
    },
    ok(batch_status(1, 1, "CloneSet web has not observed its latest spec yet (generation 9, observed 8)")),
)

case(
    "check-other-update-revision",
    "the CloneSet's update revision is not the one this release rolls out",
    "check-batch",
    {"ctx": ctx(1, ("percent", 40), 2), "objects": objects(held(V3, partition="60%", update=H3, updated=0))},
    ok(batch_status(0, 0, f"CloneSet web runs update revision {H3}, not {H2} of this release")),
)

case(
    "check-rollback-counts-pods-already-back",
    "rollback in batches, batch 2 of 3 pods: 2 marked pods and the labelled pod moved back satisfy "
    "the labels",
    "check-batch",
    {
        "ctx": rollback_ctx(1, ("percent", 60), 3),
        "objects": objects(
            held(V1, partition="40%", update=H1, updated=3),
            *KEPT,
            pod(H1, "m2c6v", labels=labelled(2, "r20250302")),
            *V2_PODS[:2],
        ),
    },
    ok(batch_status(3, 3)),
)

case(
    "check-zero-replicas",
    "a CloneSet scaled to zero: the batch is trivially done",
    "check-batch",
    {"ctx": ctx(0, ("percent", 20), 1), "objects": objects(held(V2, 0, updated=0))},
    ok(batch_status(0, 0)),
)

# ---------------------------------------------------------------------------------------------
# abort

# Aborted at batch 2 (the state of check-ready): the CloneSet stays marked and held at partition
# 60%, and its 2 updated pods are not moved back; they get no traffic once the routes are
# restored, and updating them back would be a second release. A retry releases the batch again.
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
    "after the last batch: the partition and the mark go; the controller owns the CloneSet again",
    "finalize",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(held(V2, partition="0%"))},
    ok([patch_cloneset({"metadata": {"annotations": {IN_PROGRESSING: None}}, "spec": {"updateStrategy": {"partition": None}}})]),
)

paused_after_rollback = held(V1, partition="60%", update=H1, updated=3)
paused_after_rollback["spec"]["updateStrategy"]["paused"] = True
case(
    "finalize-after-rollback",
    "rolled back at 40% (template on v1 again) while someone paused the CloneSet: partition and "
    "mark go and it is unpaused, so the controller moves the v2 pods back to v1",
    "finalize",
    {"ctx": ctx(1, ("count", 2), 2, update=H1), "objects": objects(paused_after_rollback)},
    ok(
        [
            patch_cloneset(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}},
                    "spec": {"updateStrategy": {"partition": None, "paused": False}},
                }
            )
        ]
    ),
)

case(
    "finalize-done",
    "no mark left: finalize is done, and a partition the user sets afterwards is not touched",
    "finalize",
    {"ctx": ctx(2, ("percent", 100), 5), "objects": objects(cloneset(V2, partition=1, current=H2, update=H2))},
    ok([]),
)


# ---------------------------------------------------------------------------------------------
# Blue-green: the new revision's pods are surge pods beside every stable pod (see the crate's
# blue_green module). A bounded CloneSet has minReadySeconds near i32::MAX and maxUnavailable 0,
# so no pod is available and the controller updates and deletes no ready pod; the replaced
# settings are recorded in Kruise's annotation.

ORIGINAL = "rollouts.kruise.io/original-deployment-strategy"
SPECIFIED_DELETE = "apps.kruise.io/specified-delete"
MAX_READY = 2**31 - 2
# What the fixture CloneSet's settings record as: maxUnavailable "20%", maxSurge 0, no
# minReadySeconds (0 is left out, as Kruise leaves it out).
RECORD = json.dumps({"maxUnavailable": "20%", "maxSurge": 0}, separators=(",", ":"))
NEW_PODS = ["b4n8q", "t9w3d", "m2c6v", "k7p3x", "w5j9r"]
HPA_API = "autoscaling/v2"


def bg(pod_template, replicas=5, *, pods=None, max_surge=1, max_unavailable=0, partition=None,
       paused=False, update=H2, updated=0, updated_ready=None, marked=True, record=RECORD,
       min_ready=MAX_READY, **kwargs):
    """A CloneSet a blue-green release holds, running `pods` pods in all (replicas + new)."""
    annotations = {}
    if marked:
        annotations[IN_PROGRESSING] = MARK
    if record is not None:
        annotations[ORIGINAL] = record
    obj = cloneset(pod_template, replicas, partition=partition, paused=paused, annotations=annotations,
                   update=update, updated=updated, updated_ready=updated_ready, **kwargs)
    strategy = obj["spec"]["updateStrategy"]
    strategy["maxSurge"] = max_surge
    strategy["maxUnavailable"] = max_unavailable
    if min_ready:
        obj["spec"]["minReadySeconds"] = min_ready
    total = replicas + updated if pods is None else pods
    obj["status"].update({"replicas": total, "readyReplicas": total})
    if min_ready == MAX_READY:
        obj["status"].update({"availableReplicas": 0, "updatedAvailableReplicas": 0})
    return obj


def bg_ctx(batch_index, step, planned, **kwargs):
    return ctx(batch_index, step, planned, style="blue-green", **kwargs)


def stable_pods(count, **kwargs):
    return [pod(H1, suffix, **kwargs) for suffix in STABLE_PODS[:count]]


def new_pods(count, pod_hash=H2, labels=None):
    return [
        pod(pod_hash, suffix, labels=labels(i) if labels else None, born=f"2025-03-01T11:0{i}:00Z")
        for i, suffix in enumerate(NEW_PODS[:count])
    ]


def bounds_patch(**update_strategy):
    return patch_cloneset({"spec": {"updateStrategy": update_strategy}})


def mark_for_deletion(suffix):
    return merge_patch("Pod", f"web-{suffix}", {"metadata": {"labels": {SPECIFIED_DELETE: "true"}}}, api_version="v1")


def hpa(name, target_kind, target_name, target_api=API):
    return {
        "apiVersion": HPA_API,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": NS, "uid": f"hpa-{name}"},
        "spec": {
            "scaleTargetRef": {"apiVersion": target_api, "kind": target_kind, "name": target_name},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
            ],
        },
    }


def retarget_hpa(name, target_name):
    return merge_patch("HorizontalPodAutoscaler", name, {"spec": {"scaleTargetRef": {"name": target_name}}}, api_version=HPA_API)


DISABLED = "web-DisableByRollout"

# related-objects

case(
    "bluegreen-related-objects-lists-hpas",
    "while the CloneSet carries the blue-green record, the namespace's HPAs are asked for too (they "
    "have no label to select by)",
    "related-objects",
    {"workload": bg(V2)},
    ok(
        [
            {"api-version": "v1", "kind": "Pod", "label-selector": "app=web,tier=frontend"},
            {"api-version": HPA_API, "kind": "HorizontalPodAutoscaler", "label-selector": ""},
        ]
    ),
)

# takeover

case(
    "bluegreen-takeover-template-change",
    "a new template under a blue-green Rollout: marked, held by partition 100% (no update, no "
    "surge), bounded (minReadySeconds near i32::MAX, maxUnavailable 0, maxSurge 1 because "
    "OpenKruise refuses both below 1; the partition holds every pod, so no pod is surged) with "
    "the replaced settings in Kruise's annotation",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": cloneset(V1), "new": cloneset(V2)},
    ok(
        {
            "metadata": {"annotations": {IN_PROGRESSING: MARK, ORIGINAL: RECORD}},
            "spec": {"minReadySeconds": MAX_READY, "updateStrategy": {"maxUnavailable": 0, "maxSurge": 1, "partition": "100%"}},
        }
    ),
)

unset = cloneset(V1, paused=True)
del unset["spec"]["updateStrategy"]["maxUnavailable"]
del unset["spec"]["updateStrategy"]["maxSurge"]
unset["spec"]["minReadySeconds"] = 10
unset_v2 = copy.deepcopy(unset)
unset_v2["spec"]["template"] = copy.deepcopy(V2)
case(
    "bluegreen-takeover-records-defaults-and-unpauses",
    "unset maxSurge and maxUnavailable are recorded as Kruise records them (0% and 20%), "
    "minReadySeconds 10 as it is; a paused CloneSet is unpaused, the partition holds it",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": unset, "new": unset_v2},
    ok(
        {
            "metadata": {
                "annotations": {
                    IN_PROGRESSING: MARK,
                    ORIGINAL: '{"maxUnavailable":"20%","maxSurge":"0%","minReadySeconds":10}',
                }
            },
            "spec": {
                "minReadySeconds": MAX_READY,
                "updateStrategy": {"maxUnavailable": 0, "maxSurge": 1, "partition": "100%", "paused": False},
            },
        }
    ),
)

case(
    "bluegreen-takeover-own-batch-change",
    "release-batch's own change (the partition goes, maxSurge 2) passes the webhook: admitted "
    "unchanged",
    "takeover",
    {
        "rollout": ROLLOUT,
        "style": "blue-green",
        "old": bg(V2, partition="100%"),
        "new": bg(V2, max_surge=2),
    },
    ok(None),
)

case(
    "bluegreen-takeover-new-template-mid-release",
    "a third template arrives at 40%: paused, so the controller neither updates pods nor surges "
    "until traffic is back on stable and the release restarts; the bounds stay",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": bg(V2, max_surge=2), "new": bg(V3, max_surge=2)},
    ok({"spec": {"updateStrategy": {"paused": True}}}),
)

case(
    "bluegreen-takeover-rollback-mid-release",
    "the template goes back to v1 at 40%: paused as well; finalize hands the CloneSet back once "
    "traffic is restored",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": bg(V2, max_surge=2), "new": bg(V1, max_surge=2)},
    ok({"spec": {"updateStrategy": {"paused": True}}}),
)

user_settings = bg(V2, max_surge=2, max_unavailable=1)
user_settings["spec"]["minReadySeconds"] = 30
case(
    "bluegreen-takeover-user-changes-bounded-settings",
    "mid-release the user applies minReadySeconds 30 and maxUnavailable 1: both become the "
    "recorded settings and are bounded again; maxSurge stays the release's",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": bg(V2, max_surge=2), "new": user_settings},
    ok(
        {
            "metadata": {"annotations": {ORIGINAL: '{"maxUnavailable":1,"maxSurge":0,"minReadySeconds":30}'}},
            "spec": {"minReadySeconds": MAX_READY, "updateStrategy": {"maxUnavailable": 0}},
        }
    ),
)

# release-batch

case(
    "bluegreen-release-first-batch",
    "batch 1 at 20% of 5: the partition goes (as in Kruise) and maxSurge is the batch, 1 new pod "
    "beside the 5 stable ones",
    "release-batch",
    {"ctx": bg_ctx(0, ("percent", 20), 1), "objects": objects(bg(V2, partition="100%", max_surge=0), *stable_pods(5))},
    ok([bounds_patch(partition=None, maxSurge=1)]),
)

case(
    "bluegreen-release-later-batch-labels",
    "with a rollout id, batch 2 at 40%: maxSurge 2; the pod added in batch 2 gets batch id 2, the "
    "batch-1 pod keeps its labels",
    "release-batch",
    {
        "ctx": bg_ctx(1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            bg(V2, updated=2),
            *stable_pods(5),
            *new_pods(2, labels=lambda i: labelled(1) if i == 0 else None),
        ),
    },
    ok([bounds_patch(maxSurge=2), label_pod("t9w3d", 2)]),
)

case(
    "bluegreen-release-batch-done",
    "maxSurge 2 in place and 2 new pods running: nothing to change",
    "release-batch",
    {"ctx": bg_ctx(1, ("percent", 40), 2), "objects": objects(bg(V2, max_surge=2, updated=2), *stable_pods(5), *new_pods(2))},
    ok([]),
)

case(
    "bluegreen-release-holds-an-unheld-cloneset",
    "a CloneSet that escaped the webhook (paused, no mark, no record): marked, recorded, bounded "
    "and unpaused with the batch's maxSurge in one patch",
    "release-batch",
    {"ctx": bg_ctx(0, ("percent", 20), 1), "objects": objects(cloneset(V2, paused=True, update=H2, updated=0), *stable_pods(5))},
    ok(
        [
            patch_cloneset(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: MARK, ORIGINAL: RECORD}},
                    "spec": {
                        "minReadySeconds": MAX_READY,
                        "updateStrategy": {"maxUnavailable": 0, "paused": False, "maxSurge": 1},
                    },
                }
            )
        ]
    ),
)

case(
    "bluegreen-release-disables-hpas",
    "the HPA of the CloneSet is pointed at web-DisableByRollout before anything else; an HPA of "
    "another workload and one already disabled are left alone",
    "release-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 1),
        "objects": objects(
            bg(V2, partition="100%", max_surge=0),
            *stable_pods(5),
            hpa("web", "CloneSet", "web"),
            hpa("api", "Deployment", "web", target_api="apps/v1"),
            hpa("web-old", "CloneSet", DISABLED),
        ),
    },
    ok([retarget_hpa("web", DISABLED), bounds_patch(partition=None, maxSurge=1)]),
)

case(
    "bluegreen-release-scale-up-refills-stable",
    "batch 1 while the CloneSet grew from 5 to 10: the controller surges only new pods, so the "
    "partition goes back to 100% until it has added stable pods up to 10 pods in all",
    "release-batch",
    {"ctx": bg_ctx(0, ("percent", 20), 2), "objects": objects(bg(V2, 10, pods=6, updated=1), *stable_pods(5), *new_pods(1))},
    ok([bounds_patch(partition="100%")]),
)

refilled = [pod(H1, f"s{i}x9z") for i in range(4)]
case(
    "bluegreen-release-scale-up-after-refill",
    "refilled to 9 stable pods beside the 1 new: the partition goes and maxSurge stays 1 "
    "(9 + 2 planned - 10), so the controller adds the second new pod",
    "release-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 2),
        "objects": objects(bg(V2, 10, pods=10, partition="100%", updated=1), *stable_pods(5), *refilled, *new_pods(1)),
    },
    ok([bounds_patch(partition=None)]),
)

shrunk = stable_pods(5)
shrunk[2] = pod(H1, STABLE_PODS[2], ready=False)
shrunk[4] = pod(H1, STABLE_PODS[4], born="2025-03-01T10:30:00Z")
case(
    "bluegreen-release-scale-down-removes-stable-pods",
    "the CloneSet shrank from 5 to 3 mid-release: the 2 stable pods beyond 3 (the not-ready one, "
    "then the youngest) are marked specified-delete, and the CloneSet is paused with "
    "maxUnavailable 100%, which lets its controller delete exactly the marked ready pods",
    "release-batch",
    {"ctx": bg_ctx(0, ("percent", 20), 1), "objects": objects(bg(V2, 3, pods=6, updated=1), *shrunk, *new_pods(1))},
    ok([bounds_patch(paused=True, maxUnavailable="100%"), mark_for_deletion("h3t8w"), mark_for_deletion("r8v6b")]),
)

case(
    "bluegreen-release-scale-down-removed",
    "the marked pods are gone: unpaused and bounded again; maxSurge 1 (3 + 1 - 3) is in place",
    "release-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 1),
        "objects": objects(
            bg(V2, 3, pods=4, paused=True, max_unavailable="100%", updated=1), *stable_pods(3), *new_pods(1)
        ),
    },
    ok([bounds_patch(paused=False, maxUnavailable=0)]),
)

case(
    "bluegreen-release-continuous-removes-abandoned-pods",
    "continuous release: the template moved to v3 at 40%, the webhook paused the CloneSet and the "
    "release restarted for v3; the 2 v2 pods are marked for deletion under the removal budget, "
    "the 5 stable v1 pods stay",
    "release-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 1, update=H3),
        "objects": objects(bg(V3, pods=7, paused=True, max_surge=2, update=H3), *stable_pods(5), *new_pods(2)),
    },
    ok([bounds_patch(maxUnavailable="100%"), mark_for_deletion("b4n8q"), mark_for_deletion("t9w3d")]),
)

case(
    "bluegreen-release-continuous-first-batch",
    "continuous release, the v2 pods gone: unpaused and bounded again with maxSurge 1 for the "
    "first v3 batch",
    "release-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 1, update=H3),
        "objects": objects(
            bg(V3, pods=5, paused=True, max_surge=2, max_unavailable="100%", update=H3), *stable_pods(5)
        ),
    },
    ok([bounds_patch(paused=False, maxUnavailable=0, maxSurge=1)]),
)

case(
    "bluegreen-release-refuses-rollback-in-batches",
    "a blue-green release does not roll back in batches, as in Kruise",
    "release-batch",
    {"ctx": {**bg_ctx(0, ("percent", 20), 1), "update-revision": H1}, "objects": objects(bg(V1, update=H1))},
    err("invalid-input", "does not roll back in batches"),
)

# check-batch

case(
    "bluegreen-check-waiting-for-ready",
    "batch 2: both new pods exist, one ready",
    "check-batch",
    {
        "ctx": bg_ctx(1, ("percent", 40), 2),
        "objects": objects(bg(V2, max_surge=2, updated=2, updated_ready=1), *stable_pods(5), *new_pods(2)),
    },
    ok(batch_status(2, 1, "1 of 2 updated pods are ready (0 may fail); waiting for 1 more")),
)

case(
    "bluegreen-check-ready",
    "with a rollout id, batch 2: 2 new pods, ready (readiness, not availability: no pod is available "
    "under the bounds) and labelled",
    "check-batch",
    {
        "ctx": bg_ctx(1, ("percent", 40), 2, rollout=ROLLOUT_WITH_ID),
        "objects": objects(
            bg(V2, max_surge=2, updated=2), *stable_pods(5), *new_pods(2, labels=lambda i: labelled(i + 1))
        ),
    },
    ok(batch_status(2, 2)),
)

case(
    "bluegreen-check-tolerated-failure",
    "batch 2 with one tolerated failure: one ready new pod of two is enough",
    "check-batch",
    {
        "ctx": bg_ctx(1, ("percent", 40), 2, tolerated=1),
        "objects": objects(bg(V2, max_surge=2, updated=2, updated_ready=1), *stable_pods(5), *new_pods(2)),
    },
    ok(batch_status(2, 1)),
)

case(
    "bluegreen-check-waiting-for-removal",
    "continuous release: the abandoned v2 pods are not gone yet",
    "check-batch",
    {
        "ctx": bg_ctx(0, ("percent", 20), 1, update=H3),
        "objects": objects(
            bg(V3, pods=7, paused=True, max_surge=2, max_unavailable="100%", update=H3),
            *stable_pods(5),
            *new_pods(2),
        ),
    },
    ok(
        batch_status(
            0,
            0,
            "waiting for CloneSet web to delete pods of an abandoned revision or beyond its 5 replicas: "
            "web-b4n8q, web-t9w3d",
        )
    ),
)

case(
    "bluegreen-check-surge-cannot-reach",
    "100% after 40% of 5: the controller surged once to 3 new pods and adds no more (it surges only "
    "for the 5 - 3 pods it still has to update); said instead of waiting silently as Kruise does",
    "check-batch",
    {
        "ctx": bg_ctx(2, ("percent", 100), 5),
        "objects": objects(bg(V2, max_surge=5, updated=3), *stable_pods(5), *new_pods(3)),
    },
    ok(
        batch_status(
            3,
            3,
            "CloneSet web runs 3 new pods and will not add more than 0 of the 2 planned: its controller "
            "surges only for the pods it still has to update (5 replicas - 3 updated), so a blue-green "
            "batch can grow the new pods to at most the replicas minus those it starts from (plan the "
            "first step with every pod, or smaller steps)",
        )
    ),
)

# observe

case(
    "bluegreen-observe-in-progress",
    "a blue-green release at 40%: no partition, but marked and bounded, so taken over; the stable "
    "and new pods tell apart by pod-template-hash",
    "observe",
    {"objects": objects(bg(V2, max_surge=2, updated=2), *stable_pods(5), *new_pods(2))},
    ok(
        {
            "replicas": 5,
            "stable-revision": H1,
            "update-revision": H2,
            "update-pod-template-hash": H2,
            "stable-pod-template-hash": H1,
            "settled": True,
            "taken-over": True,
            "revision-label": "pod-template-hash",
        }
    ),
)

# finalize

RESTORED = {"maxUnavailable": "20%", "maxSurge": 0}

case(
    "bluegreen-finalize-after-success",
    "traffic is all on v2: the recorded settings come back and the mark goes; the controller then "
    "scales the 5 v1 pods in (they are surplus and not the update revision)",
    "finalize",
    {"ctx": bg_ctx(2, ("percent", 100), 5), "objects": objects(bg(V2, max_surge=5, updated=5), *stable_pods(5), *new_pods(5))},
    ok(
        [
            patch_cloneset(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}},
                    "spec": {"minReadySeconds": 0, "updateStrategy": RESTORED},
                }
            )
        ]
    ),
)

case(
    "bluegreen-finalize-after-rollback",
    "rolled back at 40% (template on v1 again, paused by the webhook): settings restored, "
    "unpaused, mark removed; the controller scales the 2 v2 pods in, the v1 pods being the update "
    "revision again",
    "finalize",
    {
        "ctx": bg_ctx(1, ("percent", 40), 2, update=H1),
        "objects": objects(bg(V1, pods=7, paused=True, max_surge=2, update=H1, updated=5), *stable_pods(5), *new_pods(2)),
    },
    ok(
        [
            patch_cloneset(
                {
                    "metadata": {"annotations": {IN_PROGRESSING: None}},
                    "spec": {"minReadySeconds": 0, "updateStrategy": {**RESTORED, "paused": False}},
                }
            )
        ]
    ),
)

case(
    "bluegreen-finalize-waits-for-the-controller",
    "handed back after a success, the old pods not scaled in yet: not ready, as Kruise waits, since "
    "the host routes the stable Service again next",
    "finalize",
    {
        "ctx": bg_ctx(2, ("percent", 100), 5),
        "objects": objects(
            bg(V2, pods=10, marked=False, max_surge=0, max_unavailable="20%", min_ready=0, updated=5, current=H1),
            hpa("web", "CloneSet", DISABLED),
        ),
    },
    err(
        "not-ready",
        "waiting for CloneSet web to finish before restoring its HPAs: 5 of its 10 pods run update "
        f"revision {H2} (5 replicas wanted)",
    ),
)

case(
    "bluegreen-finalize-restores-hpas",
    "the controller has finished: the HPA points at the CloneSet again, and the record goes last "
    "(it is what makes the plugin list HPAs)",
    "finalize",
    {
        "ctx": bg_ctx(2, ("percent", 100), 5),
        "objects": objects(
            bg(V2, pods=5, marked=False, max_surge=0, max_unavailable="20%", min_ready=0, updated=5, current=H2),
            hpa("web", "CloneSet", DISABLED),
        ),
    },
    ok([retarget_hpa("web", "web"), patch_cloneset({"metadata": {"annotations": {ORIGINAL: None}}})]),
)

case(
    "bluegreen-finalize-done",
    "no mark and no record left: done",
    "finalize",
    {"ctx": bg_ctx(2, ("percent", 100), 5), "objects": objects(cloneset(V2, current=H2, update=H2))},
    ok([]),
)


def main():
    write_fixtures(FIXTURES, CASES)


if __name__ == "__main__":
    main()
