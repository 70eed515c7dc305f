//! Pod readiness and liveness, as Kubernetes controllers judge them.

use k8s_openapi::api::core::v1::Pod;

/// True when the pod's `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .iter()
        .flat_map(|status| status.conditions.iter().flatten())
        .any(|condition| condition.type_ == "Ready" && condition.status == "True")
}

/// True when the pod still counts: not being deleted and not finished (`Succeeded`/`Failed`).
/// Controllers replace the others, so they never count towards a batch.
pub fn is_active(pod: &Pod) -> bool {
    let finished = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .is_some_and(|phase| phase == "Succeeded" || phase == "Failed");
    pod.metadata.deletion_timestamp.is_none() && !finished
}

/// True when the workload with this `uid` controls the pod (its controller owner reference).
/// A label selector may match pods of other workloads; only the controller's pods are its own.
pub fn is_controlled_by(pod: &Pod, uid: &str) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| owner.controller == Some(true) && owner.uid == uid)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn readiness_follows_the_ready_condition() {
        let ready = pod(json!({"status": {"conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "True"}]}}));
        let unready = pod(json!({"status": {"conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "False"}]}}));
        assert!(is_ready(&ready));
        assert!(!is_ready(&unready));
        assert!(!is_ready(&pod(json!({}))));
    }

    #[test]
    fn terminating_and_finished_pods_are_not_active() {
        assert!(is_active(&pod(json!({"status": {"phase": "Running"}}))));
        assert!(is_active(&pod(json!({}))));
        assert!(!is_active(&pod(json!({"status": {"phase": "Failed"}}))));
        assert!(!is_active(&pod(json!({"status": {"phase": "Succeeded"}}))));
        assert!(!is_active(&pod(json!({
            "metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"},
            "status": {"phase": "Running"}}))));
    }

    #[test]
    fn only_the_controller_owns_a_pod() {
        let owned = pod(json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "other"},
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u1",
             "controller": true}]}}));
        assert!(is_controlled_by(&owned, "u1"));
        assert!(!is_controlled_by(&owned, "other"));
        assert!(!is_controlled_by(&pod(json!({})), "u1"));
    }
}
