//! Kruise's batch labels: with a rollout id, every pod released by a rollout carries
//! `rollouts.kruise.io/rollout-id=<id>` and `rollouts.kruise.io/rollout-batch-id=<n>`, the
//! one-based batch it was released in, so people and tools can select the pods of a batch.
//!
//! Kruise's label patcher keeps the labels of pods released in earlier batches and gives the
//! current batch's id to updated pods that carry no valid label of this release (new pods,
//! pods recreated after an eviction, pods labelled by an earlier release), until as many pods
//! carry the release's labels as the batch plans. Our batch context knows the planned count of
//! the current batch only, not the per-batch plan of earlier batches, so a pod that replaces a
//! pod of an earlier batch is labelled with the current batch; Kruise does the same while the
//! current batch still has room, which is the usual case.

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use crate::change;
use crate::types::{Change, ObjectRef, PluginError};

/// Pod label carrying the Rollout's release id.
pub const ROLLOUT_ID_LABEL: &str = "rollouts.kruise.io/rollout-id";
/// Pod label carrying the one-based batch a pod was released in.
pub const BATCH_ID_LABEL: &str = "rollouts.kruise.io/rollout-batch-id";

/// The label patches that make `planned` of `updated_pods` carry this release's labels.
///
/// `updated_pods` are the live pods on the update revision (see [`crate::pod::is_active`]);
/// `batch_index` is zero-based. Pods already labelled for batch 1 to the current one keep their
/// labels; other pods are labelled oldest first, for a stable choice between calls.
pub fn label_changes(
    updated_pods: &[&Pod],
    rollout_id: &str,
    batch_index: u32,
    planned: u32,
) -> Result<Vec<Change>, PluginError> {
    let batch_id = batch_index + 1;
    let (labelled, mut unlabelled): (Vec<&Pod>, Vec<&Pod>) = updated_pods.iter().partition(|pod| {
        released_in(pod, rollout_id).is_some_and(|id| (1..=batch_id).contains(&id))
    });
    let missing = usize::try_from(planned)
        .unwrap_or(usize::MAX)
        .saturating_sub(labelled.len());
    unlabelled.sort_by(|a, b| {
        let key = |pod: &Pod| {
            (
                pod.metadata.creation_timestamp.clone(),
                pod.metadata.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let body = json!({"metadata": {"labels": {
        ROLLOUT_ID_LABEL: rollout_id,
        BATCH_ID_LABEL: batch_id.to_string(),
    }}});
    unlabelled
        .into_iter()
        .take(missing)
        .map(|pod| Ok(change::merge_patch(ObjectRef::of(pod)?, &body)))
        .collect()
}

/// How many of `updated_pods` carry this release's rollout id.
pub fn labelled_count(updated_pods: &[&Pod], rollout_id: &str) -> u32 {
    let count = updated_pods
        .iter()
        .filter(|pod| label(pod, ROLLOUT_ID_LABEL) == Some(rollout_id))
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The batch a pod was released in by the release `rollout_id`, if its labels say so.
fn released_in(pod: &Pod, rollout_id: &str) -> Option<u32> {
    if label(pod, ROLLOUT_ID_LABEL) != Some(rollout_id) {
        return None;
    }
    label(pod, BATCH_ID_LABEL)?.parse().ok()
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn pod(name: &str, created: &str, labels: &[(&str, &str)]) -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": name,
                "namespace": "shop",
                "creationTimestamp": created,
                "labels": labels.iter().copied().collect::<std::collections::BTreeMap<_, _>>(),
            }
        }))
        .unwrap()
    }

    fn labelled(changes: &[Change]) -> Vec<(String, Value)> {
        changes
            .iter()
            .map(|change| match change {
                Change::MergePatch(patch) => (
                    patch.target.name.clone(),
                    serde_json::from_str::<Value>(&patch.body).unwrap()["metadata"]["labels"]
                        .clone(),
                ),
                other => panic!("unexpected change {other:?}"),
            })
            .collect()
    }

    #[test]
    fn labels_new_pods_oldest_first_with_the_one_based_batch() {
        let a = pod("web-a", "2025-01-01T00:00:02Z", &[]);
        let b = pod("web-b", "2025-01-01T00:00:01Z", &[]);
        let c = pod("web-c", "2025-01-01T00:00:03Z", &[]);
        let changes = label_changes(&[&a, &b, &c], "r1", 0, 2).unwrap();
        let expected = json!({ROLLOUT_ID_LABEL: "r1", BATCH_ID_LABEL: "1"});
        assert_eq!(
            labelled(&changes),
            vec![
                ("web-b".to_string(), expected.clone()),
                ("web-a".to_string(), expected)
            ]
        );
    }

    #[test]
    fn keeps_earlier_batches_and_fills_the_current_one() {
        let first = pod(
            "web-a",
            "2025-01-01T00:00:01Z",
            &[(ROLLOUT_ID_LABEL, "r1"), (BATCH_ID_LABEL, "1")],
        );
        let new = pod("web-b", "2025-01-01T00:00:09Z", &[]);
        let stale = pod(
            "web-c",
            "2025-01-01T00:00:05Z",
            &[(ROLLOUT_ID_LABEL, "r0"), (BATCH_ID_LABEL, "1")],
        );
        let ahead = pod(
            "web-d",
            "2025-01-01T00:00:07Z",
            &[(ROLLOUT_ID_LABEL, "r1"), (BATCH_ID_LABEL, "9")],
        );
        let changes = label_changes(&[&first, &new, &stale, &ahead], "r1", 1, 3).unwrap();
        let names: Vec<_> = labelled(&changes)
            .into_iter()
            .map(|(name, labels)| {
                assert_eq!(labels[BATCH_ID_LABEL], "2");
                name
            })
            .collect();
        assert_eq!(names, ["web-c", "web-d"]);
    }

    #[test]
    fn nothing_to_do_once_the_batch_is_labelled() {
        let a = pod(
            "web-a",
            "2025-01-01T00:00:01Z",
            &[(ROLLOUT_ID_LABEL, "r1"), (BATCH_ID_LABEL, "1")],
        );
        let b = pod(
            "web-b",
            "2025-01-01T00:00:02Z",
            &[(ROLLOUT_ID_LABEL, "r1"), (BATCH_ID_LABEL, "2")],
        );
        assert!(label_changes(&[&a, &b], "r1", 1, 2).unwrap().is_empty());
        assert_eq!(labelled_count(&[&a, &b], "r1"), 2);
        assert_eq!(labelled_count(&[&a, &b], "r2"), 0);
    }
}
