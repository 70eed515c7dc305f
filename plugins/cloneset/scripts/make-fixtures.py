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


def objects(workload, *related):
    return {"workload": workload, "related": list(related)}


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


def batch_status(updated, ready, message=""):
    return {"updated-replicas": updated, "updated-ready-replicas": ready, "ready": not message, "message": message}


CASES = {}


def case(name, description, call, args, expect):
    assert name not in CASES, name
    CASES[name] = {"description": description, "call": call, "args": args, "expect": expect}


def ok(value):
    return {"ok": value}


def err(kind, fragment):
    return {"err": {kind: fragment}}


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
    "takeover-blue-green",
    "a CloneSet is released in place only: blue-green is refused, naming the supported style",
    "takeover",
    {"rollout": ROLLOUT, "style": "blue-green", "old": cloneset(V1), "new": cloneset(V2)},
    err("invalid-input", "implements the partition release style only"),
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


def main():
    FIXTURES.mkdir(exist_ok=True)
    for old in FIXTURES.glob("*.json"):
        old.unlink()
    for name, fixture in CASES.items():
        text = json.dumps(fixture, indent=1, ensure_ascii=False) + "\n"
        (FIXTURES / f"{name}.json").write_text(text)
    print(f"wrote {len(CASES)} fixtures to {FIXTURES}")


if __name__ == "__main__":
    main()
