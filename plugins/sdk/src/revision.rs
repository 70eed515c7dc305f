//! Which revision a pod runs, told by the labels workload controllers put on their pods.
//!
//! Controllers that keep their revisions as ControllerRevisions (StatefulSets, Advanced
//! StatefulSets, CloneSets) name a revision `<workload>-<hash>` and label each pod
//! `controller-revision-hash` with that name (or with the bare hash: a CloneSet under Kruise's
//! `CloneSetShortHash` feature gate). CloneSets also write the bare hash as `pod-template-hash`,
//! the label Deployments' ReplicaSets use. Kruise Rollout accepts either label
//! (`IsConsistentWithRevision`), and so does [`pod_runs`].

use k8s_openapi::api::core::v1::Pod;

/// The label Deployments (through their ReplicaSets) and CloneSets put on pods: a template hash.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The label StatefulSets and CloneSets put on pods: the name of their ControllerRevision.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// True when `pod` runs `revision`, a ControllerRevision name (`web-6b7f9c8d4`) or a bare hash
/// (`6b7f9c8d4`): one of the two labels equals it, or equals the hash after its last `-`.
pub fn pod_runs(pod: &Pod, revision: &str) -> bool {
    let Some(labels) = pod.metadata.labels.as_ref() else {
        return false;
    };
    [POD_TEMPLATE_HASH_LABEL, CONTROLLER_REVISION_HASH_LABEL]
        .iter()
        .filter_map(|key| labels.get(*key))
        .filter(|value| !value.is_empty())
        .any(|value| {
            revision == value
                || revision
                    .strip_suffix(value.as_str())
                    .is_some_and(|name| name.ends_with('-'))
        })
}

/// The hash of a ControllerRevision name: the part after its last `-` (the whole text when it
/// has none), which is what Kruise Rollout records as a CloneSet's revision.
pub fn short_hash(revision: &str) -> &str {
    revision.rsplit_once('-').map_or(revision, |(_, hash)| hash)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(labels: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "web-0", "labels": labels}})).unwrap()
    }

    #[test]
    fn either_label_names_the_revision() {
        let sts = pod(json!({CONTROLLER_REVISION_HASH_LABEL: "web-6b7f9c8d4"}));
        assert!(pod_runs(&sts, "web-6b7f9c8d4"));
        assert!(!pod_runs(&sts, "web-84c5d7f9b"));
        let cloneset = pod(json!({
            CONTROLLER_REVISION_HASH_LABEL: "web-6b7f9c8d4",
            POD_TEMPLATE_HASH_LABEL: "6b7f9c8d4",
        }));
        assert!(pod_runs(&cloneset, "6b7f9c8d4"));
        assert!(pod_runs(&cloneset, "web-6b7f9c8d4"));
        let short = pod(json!({CONTROLLER_REVISION_HASH_LABEL: "6b7f9c8d4"}));
        assert!(pod_runs(&short, "web-6b7f9c8d4"));
    }

    #[test]
    fn a_partial_hash_is_not_a_match() {
        let odd = pod(json!({CONTROLLER_REVISION_HASH_LABEL: "9c8d4"}));
        assert!(!pod_runs(&odd, "web-6b7f9c8d4"));
        assert!(!pod_runs(
            &pod(json!({CONTROLLER_REVISION_HASH_LABEL: ""})),
            "web-"
        ));
        assert!(!pod_runs(&pod(json!({})), "web-6b7f9c8d4"));
    }

    #[test]
    fn short_hash_is_the_part_after_the_last_dash() {
        assert_eq!(short_hash("my-web-6b7f9c8d4"), "6b7f9c8d4");
        assert_eq!(short_hash("6b7f9c8d4"), "6b7f9c8d4");
    }
}
