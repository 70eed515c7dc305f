//! The v1alpha1 Rollout.

use crate::analysis::{AnalysisRunStatus, BackgroundAnalysis, RolloutAnalysis};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::traffic::TrafficRoutingStrategy;
use crate::go_json::{empty_is_none, empty_or, is_false, is_zero_i64};
use crate::v1beta1::spec::{FAILURE_THRESHOLD_PERCENT, STEP_REPLICAS_PERCENT};
use crate::v1beta1::{
    AbortRequest, FinalisingStepType, PatchPodTemplateMetadata, RolloutCondition, RolloutPause,
    RolloutPhase, StepState, TrafficRoutingRef,
};

/// What a v1alpha1 Rollout releases and how.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1alpha1",
    kind = "Rollout",
    namespaced,
    derive = "PartialEq",
    status = "RolloutStatus",
    doc = "A Rollout releases a new revision of a workload step by step, shifting traffic as it goes.",
    storage = false,
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    ),
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.phase","description":"The rollout status phase"}"#,
    printcolumn = r#"{"name":"CANARY_STEP","type":"integer","jsonPath":".status.canaryStatus.currentStepIndex","description":"The rollout canary status step"}"#,
    printcolumn = r#"{"name":"CANARY_STATE","type":"string","jsonPath":".status.canaryStatus.currentStepState","description":"The rollout canary status step state"}"#,
    printcolumn = r#"{"name":"MESSAGE","type":"string","jsonPath":".status.message","description":"The rollout canary status message"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    pub object_ref: ObjectRef,
    pub strategy: RolloutStrategy,
    /// Deprecated and ignored: the rollout id is the workload's `rollouts.kruise.io/rollout-id`
    /// label.
    // Kruise ignores it too (see `crate::labels`); it is kept only so that the object
    // round-trips.
    #[serde(
        rename = "rolloutID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub rollout_id: String,
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub disabled: bool,
}

/// Wraps the workload reference.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.workloadRef)", "message": "objectRef.workloadRef is required"}
]))]
pub struct ObjectRef {
    /// The workload this Rollout releases.
    // Optional in Kruise's Go type, required in practice: a Rollout without it cannot run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_ref: Option<WorkloadRef>,
}

/// The workload a Rollout releases.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    #[schemars(length(min = 1))]
    pub api_version: String,
    #[schemars(length(min = 1))]
    pub kind: String,
    #[schemars(length(min = 1))]
    pub name: String,
}

/// v1alpha1 has the canary strategy only. Whether the canary runs in an extra workload or in
/// place is the `rollouts.kruise.io/rolling-style` annotation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.canary)", "message": "strategy.canary is required"}
]))]
pub struct RolloutStrategy {
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
}

/// The v1alpha1 canary strategy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.steps) && size(self.steps) > 0",
        "message": "at least one step is required"
    }
]))]
pub struct CanaryStrategy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub steps: Vec<CanaryStep>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub traffic_routings: Vec<TrafficRoutingRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = FAILURE_THRESHOLD_PERCENT, "minimum" = 0))]
    pub failure_threshold: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod_template_metadata: Option<PatchPodTemplateMetadata>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_generate_canary_service: bool,
    /// Waxwing's background analysis, as in v1beta1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<BackgroundAnalysis>,
}

/// A v1alpha1 step. Without `replicas`, the step runs `weight` percent of the pods.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.replicas) || has(self.weight)",
        "message": "every step needs replicas (a pod count such as 5 or a percentage such as \"20%\") or weight"
    }
]))]
pub struct CanaryStep {
    #[serde(flatten)]
    pub traffic_routing_strategy: TrafficRoutingStrategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = STEP_REPLICAS_PERCENT, "minimum" = 1))]
    pub replicas: Option<IntOrString>,
    #[serde(default)]
    pub pause: RolloutPause,
    /// Waxwing's step analysis, as in v1beta1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// Status of a v1alpha1 Rollout.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_status: Option<CanaryStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<RolloutCondition>,
    #[serde(
        default,
        deserialize_with = "empty_is_none::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<RolloutPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Waxwing's analysis runs, as in v1beta1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysis_runs: Vec<AnalysisRunStatus>,
    /// A person's request to abort the release, as in v1beta1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_request: Option<AbortRequest>,
}

/// Status of a v1alpha1 canary release: v1beta1's `CommonStatus` and `CanaryStatus` in one.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStatus {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_workload_generation: i64,
    #[serde(
        rename = "observedRolloutID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub observed_rollout_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollout_hash: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stable_revision: String,
    #[serde(default)]
    pub canary_revision: String,
    #[serde(default)]
    pub pod_template_hash: String,
    #[serde(default)]
    pub canary_replicas: i32,
    #[serde(default)]
    pub canary_ready_replicas: i32,
    #[serde(default)]
    pub next_step_index: i32,
    #[serde(default)]
    pub current_step_index: i32,
    pub current_step_state: StepState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    #[serde(default, with = "empty_is_none")]
    #[schemars(schema_with = "empty_or::<FinalisingStepType>")]
    pub finalising_step: Option<FinalisingStepType>,
}
