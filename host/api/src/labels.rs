//! Label, annotation and finalizer keys, as Kruise uses them, so that objects touched by
//! Waxwing look the same as objects touched by Kruise.
//!
//! # The rollout id
//!
//! A release may carry an id that ends up on every pod it updates (with the batch number), so
//! that people and tools can select "the pods of release X, batch 2". There is exactly one
//! source for it: the workload's **label** `rollouts.kruise.io/rollout-id`, read by
//! [`rollout_id`]. Kruise is inconsistent here (its controller reads the label, its admission
//! webhook the annotation of the same name); Waxwing reads the label everywhere. The deprecated
//! v1alpha1 field `spec.rolloutID` is not a source either: Kruise ignores it, and Waxwing only
//! keeps it through conversion so that v1alpha1 objects round-trip.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Workload label: the id of the release in progress. See the module documentation.
pub const ROLLOUT_ID: &str = "rollouts.kruise.io/rollout-id";
/// Pod label: the one-based step (batch) in which the pod was updated. Written only together
/// with [`ROLLOUT_ID`].
pub const ROLLOUT_BATCH_ID: &str = "rollouts.kruise.io/rollout-batch-id";
/// Rollout annotation: on rollback, go back step by step instead of all at once.
pub const ROLLBACK_IN_BATCH: &str = "rollouts.kruise.io/rollback-in-batch";
/// Workload label: the kind of workload (`deployment`, `cloneset`, `statefulset`, `daemonset`).
pub const WORKLOAD_TYPE: &str = "rollouts.kruise.io/workload-type";
/// Workload annotation: a release is in progress, so the workload must stay paused.
pub const IN_PROGRESSING: &str = "rollouts.kruise.io/in-progressing";
/// Annotation recording the hash of the Rollout spec a release observed.
pub const ROLLOUT_HASH: &str = "rollouts.kruise.io/hash";
/// Finalizer on the Rollout (and the objects it changed) until traffic and the workload are
/// handed back.
pub const ROLLOUT_FINALIZER: &str = "rollouts.kruise.io/rollout";
/// Finalizer on a TrafficRouting object.
pub const TRAFFIC_ROUTING_FINALIZER: &str = "rollouts.kruise.io/trafficrouting";
/// Label on the extra canary Deployment created for canary-style releases.
pub const CANARY_DEPLOYMENT: &str = "rollouts.kruise.io/canary-deployment";
/// Label on ReplicaSets/pods of the stable revision of a Deployment released in partition style.
pub const STABLE_REVISION: &str = "rollouts.kruise.io/stable-revision";
/// Deployment annotation: the release strategy handed to the partition-style Deployment logic.
pub const DEPLOYMENT_STRATEGY: &str = "rollouts.kruise.io/deployment-strategy";
/// Deployment annotation: the Deployment's own strategy before the Rollout changed it.
pub const ORIGINAL_DEPLOYMENT_STRATEGY: &str = "rollouts.kruise.io/original-deployment-strategy";
/// Pod label: on a rollback in batches, the pod already runs the target revision.
pub const NO_NEED_UPDATE: &str = "rollouts.kruise.io/no-need-update";
/// Annotation on a custom route object: its spec before the Rollout changed it.
pub const ORIGINAL_SPEC_CONFIGURATION: &str = "rollouts.kruise.io/original-spec-configuration";

/// v1alpha1 Rollout annotation: `partition` or `canary` (any case). Absent means canary, which
/// Kruise applies to Deployments only. In v1beta1 it is `enableExtraWorkloadForCanary`.
pub const ROLLING_STYLE: &str = "rollouts.kruise.io/rolling-style";
/// v1alpha1 Rollout annotation: the TrafficRouting object the Rollout drives. In v1beta1 it is
/// `trafficRoutingRef`.
pub const TRAFFIC_ROUTING: &str = "rollouts.kruise.io/trafficrouting";

/// Annotation on a v1beta1 Rollout converted from v1alpha1: the v1alpha1 spec, JSON, when
/// v1beta1 cannot hold all of it (the deprecated `rolloutID`, steps written with `weight` and no
/// `replicas`). Converting back to v1alpha1 restores it and removes the annotation.
pub const V1ALPHA1_CONVERSION_DATA: &str = "rollouts.kruise.io/v1alpha1-conversion-data";
/// Annotation on a v1alpha1 Rollout converted from v1beta1: the v1beta1 spec and/or status,
/// JSON, when v1alpha1 cannot hold all of it (blue-green, path and query matches, ...).
/// Converting back to v1beta1 restores it, unless the v1alpha1 object was changed in a way the
/// stored data no longer matches, and removes the annotation.
pub const V1BETA1_CONVERSION_DATA: &str = "rollouts.kruise.io/v1beta1-conversion-data";

/// Values of [`WORKLOAD_TYPE`].
pub mod workload_type {
    pub const DEPLOYMENT: &str = "deployment";
    pub const CLONESET: &str = "cloneset";
    pub const STATEFULSET: &str = "statefulset";
    pub const DAEMONSET: &str = "daemonset";
}

/// The rollout id of a workload: its [`ROLLOUT_ID`] label, `None` when absent or empty.
pub fn rollout_id(workload: &ObjectMeta) -> Option<&str> {
    workload
        .labels
        .as_ref()?
        .get(ROLLOUT_ID)
        .map(String::as_str)
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ObjectMeta {
        let map = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        ObjectMeta {
            labels: map(labels),
            annotations: map(annotations),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn rollout_id_comes_from_the_label() {
        assert_eq!(rollout_id(&meta(&[(ROLLOUT_ID, "v2")], &[])), Some("v2"));
    }

    #[test]
    fn rollout_id_ignores_the_annotation_of_the_same_name() {
        assert_eq!(rollout_id(&meta(&[], &[(ROLLOUT_ID, "v2")])), None);
    }

    #[test]
    fn empty_or_missing_rollout_id_is_none() {
        assert_eq!(rollout_id(&meta(&[(ROLLOUT_ID, "")], &[])), None);
        assert_eq!(rollout_id(&ObjectMeta::default()), None);
    }
}
