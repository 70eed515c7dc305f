//! Rollbacks in batches: Kruise's `rollouts.kruise.io/no-need-update` pod mark.
//!
//! A Rollout annotated `rollouts.kruise.io/rollback-in-batch: "true"` rolls a release back step
//! by step when the workload's template goes back to the stable revision. The target of that
//! rollback is then the old stable revision, which some pods never left. Kruise marks those
//! pods, when the rollback starts, with `rollouts.kruise.io/no-need-update=<rollout id>`, so
//! they can be told apart from the pods the rollback's batches move back. Here a marked pod
//! counts once towards every batch's planned pods and never receives a batch label: batch
//! labels name the pods a batch actually released. (Kruise instead leaves the marked pods out
//! of the plan and tops the batch labels up with them; the Waxwing step machine plans a
//! rollback against all replicas, so the pods already back count.)
//!
//! A mark has to land before the rollback moves any pod: afterwards a pod moved by the first
//! batch looks like one that never left. Workload plugins therefore mark only while the
//! workload still holds every pod back, as the takeover leaves it, and return the marks before
//! the change that releases the first pods.

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use crate::batch_labels::{self, ROLLOUT_ID_LABEL};
use crate::change;
use crate::types::{Change, ObjectRef, PluginError};
use crate::workload::BatchContext;

/// Pod label: the pod already ran the target revision when the rollback of this rollout id
/// started.
pub const NO_NEED_UPDATE_LABEL: &str = "rollouts.kruise.io/no-need-update";

/// True when the batch belongs to a rollback in batches. The batch context carries neither a
/// field for it nor the Rollout's annotations; but the step machine runs batches for a workload
/// back on its stable revision only when the Rollout asks for a rollback in batches, and then
/// passes that revision as both the stable and the update revision.
pub fn rollback_in_batches(ctx: &BatchContext) -> bool {
    ctx.stable_revision == ctx.update_revision
}

/// The patches that mark the pods of `updated_pods` (live pods on the rollback's target
/// revision) that carry neither the mark nor a batch label of `rollout_id`.
pub fn mark_changes(updated_pods: &[&Pod], rollout_id: &str) -> Result<Vec<Change>, PluginError> {
    let body = json!({"metadata": {"labels": {NO_NEED_UPDATE_LABEL: rollout_id}}});
    updated_pods
        .iter()
        .filter(|pod| {
            label(pod, NO_NEED_UPDATE_LABEL) != Some(rollout_id)
                && label(pod, ROLLOUT_ID_LABEL) != Some(rollout_id)
        })
        .map(|pod| Ok(change::merge_patch(ObjectRef::of(*pod)?, &body)))
        .collect()
}

/// The live pods on the update revision of a release, split into the pods its batches
/// released and the pods marked as already there when a rollback in batches started. Outside
/// such a rollback no pod carries the release's mark, so every pod counts as released.
#[derive(Debug, Clone)]
pub struct UpdatedPods<'a> {
    released: Vec<&'a Pod>,
    kept: u32,
}

impl<'a> UpdatedPods<'a> {
    pub fn split(updated_pods: &[&'a Pod], rollout_id: &str) -> Self {
        let (kept, released): (Vec<&Pod>, Vec<&Pod>) = updated_pods
            .iter()
            .partition(|pod| is_marked(pod, rollout_id));
        Self {
            released,
            kept: u32::try_from(kept.len()).unwrap_or(u32::MAX),
        }
    }

    /// The batch-label patches ([`batch_labels::label_changes`]) for the released pods; the
    /// marked pods already cover part of the `planned` pods.
    pub fn label_changes(
        &self,
        rollout_id: &str,
        batch_index: u32,
        planned: u32,
    ) -> Result<Vec<Change>, PluginError> {
        batch_labels::label_changes(
            &self.released,
            rollout_id,
            batch_index,
            planned.saturating_sub(self.kept),
        )
    }

    /// How many pods satisfy the batch's label requirement: released pods labelled with the
    /// rollout id, and marked pods.
    pub fn labelled_count(&self, rollout_id: &str) -> u32 {
        batch_labels::labelled_count(&self.released, rollout_id).saturating_add(self.kept)
    }
}

/// Kruise's test: marked for this release and not labelled by one of its batches.
fn is_marked(pod: &Pod, rollout_id: &str) -> bool {
    label(pod, NO_NEED_UPDATE_LABEL) == Some(rollout_id)
        && label(pod, ROLLOUT_ID_LABEL) != Some(rollout_id)
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::batch_labels::BATCH_ID_LABEL;

    fn pod(name: &str, labels: &[(&str, &str)]) -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": name,
                "namespace": "shop",
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": labels.iter().copied().collect::<BTreeMap<_, _>>(),
            }
        }))
        .unwrap()
    }

    fn targets(changes: &[Change]) -> Vec<&str> {
        changes
            .iter()
            .map(|change| match change {
                Change::MergePatch(patch) => patch.target.name.as_str(),
                other => panic!("unexpected change {other:?}"),
            })
            .collect()
    }

    #[test]
    fn marks_only_pods_without_a_mark_or_label_of_the_release() {
        let plain = pod("web-a", &[]);
        let marked = pod("web-b", &[(NO_NEED_UPDATE_LABEL, "r2")]);
        let stale = pod("web-c", &[(NO_NEED_UPDATE_LABEL, "r1")]);
        let labelled = pod("web-d", &[(ROLLOUT_ID_LABEL, "r2"), (BATCH_ID_LABEL, "1")]);
        let changes = mark_changes(&[&plain, &marked, &stale, &labelled], "r2").unwrap();
        assert_eq!(targets(&changes), ["web-a", "web-c"]);
        let Change::MergePatch(patch) = &changes[0] else {
            unreachable!()
        };
        assert_eq!(
            patch.body,
            json!({"metadata": {"labels": {NO_NEED_UPDATE_LABEL: "r2"}}}).to_string()
        );
    }

    #[test]
    fn marked_pods_count_once_and_get_no_batch_label() {
        let kept_a = pod("web-a", &[(NO_NEED_UPDATE_LABEL, "r2")]);
        let kept_b = pod("web-b", &[(NO_NEED_UPDATE_LABEL, "r2")]);
        let moved = pod("web-c", &[]);
        let pods = UpdatedPods::split(&[&kept_a, &kept_b, &moved], "r2");
        // Batch 1 plans 1 pod: the two kept pods cover it.
        assert!(pods.label_changes("r2", 0, 1).unwrap().is_empty());
        assert_eq!(pods.labelled_count("r2"), 2);
        // Batch 2 plans 3 pods: the moved one is labelled, the kept ones are not.
        let changes = pods.label_changes("r2", 1, 3).unwrap();
        assert_eq!(targets(&changes), ["web-c"]);
    }

    #[test]
    fn a_rollback_in_batches_releases_the_stable_revision() {
        let mut ctx: BatchContext = serde_json::from_value(json!({
            "rollout": {"namespace": "shop", "name": "web", "rollout-id": null},
            "style": "partition",
            "batch-index": 0,
            "step-replicas": {"percent": 20},
            "planned-replicas": 1,
            "tolerated-failures": 0,
            "stable-revision": "web-1",
            "update-revision": "web-1",
            "pod-template-metadata": "",
        }))
        .unwrap();
        assert!(rollback_in_batches(&ctx));
        ctx.update_revision = "web-2".into();
        assert!(!rollback_in_batches(&ctx));
    }

    #[test]
    fn without_marks_every_pod_is_released() {
        let a = pod("web-a", &[(ROLLOUT_ID_LABEL, "r2"), (BATCH_ID_LABEL, "1")]);
        let b = pod("web-b", &[]);
        let pods = UpdatedPods::split(&[&a, &b], "r2");
        assert_eq!(targets(&pods.label_changes("r2", 1, 2).unwrap()), ["web-b"]);
        assert_eq!(pods.labelled_count("r2"), 1);
    }
}
