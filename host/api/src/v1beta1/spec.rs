//! The desired state of a v1beta1 Rollout.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::RolloutStatus;
use super::traffic::{TrafficRoutingRef, TrafficRoutingStrategy};
use crate::analysis::{BackgroundAnalysis, RolloutAnalysis};
use crate::go_json::is_false;

/// Step replicas given as a string: a percentage from "1%" to "100%". (Schema `pattern` and
/// `minimum` apply to strings and integers respectively, so an integer must be at least 1.)
pub(crate) const STEP_REPLICAS_PERCENT: &str = "^0*(100|[1-9][0-9]?)%$";
/// A failure threshold given as a string: a percentage from "0%" to "100%".
pub(crate) const FAILURE_THRESHOLD_PERCENT: &str = "^0*(100|[1-9]?[0-9])%$";

/// What a Rollout releases and how.
// The `Rollout` object itself is generated from this struct by the `CustomResource` derive.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1beta1",
    kind = "Rollout",
    namespaced,
    derive = "PartialEq",
    status = "RolloutStatus",
    doc = "A Rollout releases a new revision of a workload step by step, shifting traffic as it goes.",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    ),
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.phase","description":"The rollout status phase"}"#,
    printcolumn = r#"{"name":"CANARY_STEP","type":"integer","jsonPath":".status.currentStepIndex","description":"The rollout canary status step"}"#,
    printcolumn = r#"{"name":"CANARY_STATE","type":"string","jsonPath":".status.currentStepState","description":"The rollout canary status step state"}"#,
    printcolumn = r#"{"name":"MESSAGE","type":"string","jsonPath":".status.message","description":"The rollout canary status message"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    /// The workload (Deployment, CloneSet, StatefulSet, ...) this Rollout releases.
    pub workload_ref: ObjectRef,
    pub strategy: RolloutStrategy,
    /// A disabled Rollout stops watching its workload and hands it back to its native
    /// controller.
    // Written even when false, as Kruise does.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub disabled: bool,
}

/// Names an object in the Rollout's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `group/version` of the referent, `v1` for the core group.
    #[schemars(length(min = 1))]
    pub api_version: String,
    #[schemars(length(min = 1))]
    pub kind: String,
    #[schemars(length(min = 1))]
    pub name: String,
}

/// How the next release of the workload proceeds: exactly one of `canary` or `blueGreen`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.canary) != has(self.blueGreen)",
        "message": "set exactly one of strategy.canary and strategy.blueGreen"
    }
]))]
pub struct RolloutStrategy {
    /// Holds the release at its current step until set back to false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreenStrategy>,
}

/// Releases the new revision to a growing number of pods, step by step, either by updating the
/// workload in place (partition) or through an extra canary workload.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.steps) && size(self.steps) > 0",
        "message": "at least one step is required"
    },
    {
        "rule": "!has(self.steps) || self.steps.all(step, !has(step.traffic) || !step.traffic.matches('^0+%$'))",
        "message": "a canary step's traffic must be between \"1%\" and \"100%\" (\"0%\" is allowed in blueGreen steps only)"
    }
]))]
pub struct CanaryStrategy {
    /// The release plan, for example 20%, 50%, 100% of the pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub steps: Vec<CanaryStep>,
    /// Where traffic is shifted (Ingress, Gateway API route, custom network objects). Kruise
    /// supports one entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub traffic_routings: Vec<TrafficRoutingRef>,
    /// How many updated pods may be unready for a step to count as done, as a count or a
    /// percentage of the step's pods. Unset means the workload's maxUnavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = FAILURE_THRESHOLD_PERCENT, "minimum" = 0))]
    pub failure_threshold: Option<IntOrString>,
    /// Labels and annotations added to the canary workload's pod template (canary style only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod_template_metadata: Option<PatchPodTemplateMetadata>,
    /// Runs the new revision in an extra `<name>-canary` workload beside the untouched stable
    /// one instead of updating the workload in place. Only Deployments support it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_extra_workload_for_canary: bool,
    /// Name of a TrafficRouting object whose routes follow this Rollout's steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routing_ref: Option<String>,
    /// Routes to the stable Service without creating a `<service>-canary` Service.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_generate_canary_service: bool,
    /// Metrics measured in the background from `startingStep` until the release ends; a
    /// failure aborts the release. Waxwing's own (Kruise has no analysis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<BackgroundAnalysis>,
}

/// Scales the new revision up beside the old one, step by step, shifting traffic between them;
/// the old revision stays until the release completes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.steps) && size(self.steps) > 0",
        "message": "at least one step is required"
    }
]))]
pub struct BlueGreenStrategy {
    /// The release plan; a step's traffic may be "0%" here, to scale up without traffic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub steps: Vec<CanaryStep>,
    /// Where traffic is shifted. Kruise supports one entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub traffic_routings: Vec<TrafficRoutingRef>,
    /// How many updated pods may be unready for a step to count as done, as a count or a
    /// percentage of the step's pods. Unset means the workload's maxUnavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = FAILURE_THRESHOLD_PERCENT, "minimum" = 0))]
    pub failure_threshold: Option<IntOrString>,
    /// Name of a TrafficRouting object whose routes follow this Rollout's steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routing_ref: Option<String>,
    /// Routes to the stable Service without creating a `<service>-canary` Service.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_generate_canary_service: bool,
    /// Metrics measured in the background from `startingStep` until the release ends; a
    /// failure aborts the release. Waxwing's own (Kruise has no analysis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<BackgroundAnalysis>,
}

/// Metadata patched into the canary pod template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchPodTemplateMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// One step of a release: how many pods run the new revision, what traffic they get, and
/// whether to pause afterwards.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.replicas)",
        "message": "every step needs replicas: a pod count such as 5 or a percentage such as \"20%\""
    }
]))]
pub struct CanaryStep {
    #[serde(flatten)]
    pub traffic_routing_strategy: TrafficRoutingStrategy,
    /// Pods on the new revision when the step is done: a count (`5`) or a percentage of the
    /// workload's replicas (`"20%"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = STEP_REPLICAS_PERCENT, "minimum" = 1))]
    pub replicas: Option<IntOrString>,
    /// A pause after the step: `{}` waits for approval, a duration waits that long.
    // Go writes this struct even when empty (`pause: {}`), so it is always serialised.
    #[serde(default)]
    pub pause: RolloutPause,
    /// Metrics measured once the step's traffic is routed; the step goes on when they are
    /// successful, aborts when one fails, and waits for a person when one is inconclusive.
    /// Waxwing's own (Kruise has no analysis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// A pause after a step: for `duration` seconds, or until approved when no duration is set.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutPause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub duration: Option<i32>,
}
