//! The observed state of a v1beta1 Rollout, with Kruise's field names, states and reasons so
//! that tools written for Kruise (kubectl-kruise rollout approve, KubeVela, dashboards) work.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisRunStatus;
use crate::go_json::{empty_is_none, empty_or, is_zero_i64};

/// Status of a Rollout. `currentStepIndex` and `currentStepState` mirror the same fields of
/// whichever of `canaryStatus` / `blueGreenStatus` is set, for `kubectl get`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    /// The Rollout generation this status describes.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_status: Option<CanaryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green_status: Option<BlueGreenStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<RolloutCondition>,
    #[serde(
        default,
        deserialize_with = "empty_is_none::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<RolloutPhase>,
    /// Why the Rollout is in its phase, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub current_step_index: i32,
    /// The state of the current step, mirrored from the canary or blue-green status.
    // Written as `""` when unset, as Kruise does.
    #[serde(default, with = "empty_is_none")]
    #[schemars(schema_with = "empty_or::<StepState>")]
    pub current_step_state: Option<StepState>,
    /// The analysis of the current step and the background analysis of this release, with
    /// their latest measurements. Waxwing's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysis_runs: Vec<AnalysisRunStatus>,
    /// A person's request to abort the release in progress (`waxwing abort`, or this field
    /// patched through the status subresource). The controller takes it away when it acts on
    /// it, so a retried release is not aborted again. Waxwing's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_request: Option<AbortRequest>,
}

/// What `status.abortRequest` asks for.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AbortRequest {
    /// Why, for the Rollout's message and the RolloutAborted event.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Progress fields shared by the canary and the blue-green status.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The workload generation last observed.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_workload_generation: i64,
    /// The workload's `rollouts.kruise.io/rollout-id` label when this release was observed.
    #[serde(
        rename = "observedRolloutID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub observed_rollout_id: String,
    /// Hash of the Rollout spec the release runs with; a change restarts the current step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollout_hash: String,
    /// Revision of the pods that served before the release.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stable_revision: String,
    /// `pod-template-hash` of the new pods, used as the canary Service selector.
    #[serde(default)]
    pub pod_template_hash: String,
    /// One-based index of the step being executed.
    #[serde(default)]
    pub current_step_index: i32,
    /// The step to execute after the current one: normally current + 1, -1 after the last step
    /// and before the release. A person may patch it to jump to or repeat a step.
    #[serde(default)]
    pub next_step_index: i32,
    /// How far finalising has got; empty while not finalising.
    #[serde(default, with = "empty_is_none")]
    #[schemars(schema_with = "empty_or::<FinalisingStepType>")]
    pub finalising_step: Option<FinalisingStepType>,
    pub current_step_state: StepState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
}

/// Status of a canary (or partition) release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The new revision, as the Rollout computes it from the pod template (not usable as a
    /// selector: it may differ from the ReplicaSet's pod-template-hash).
    #[serde(default)]
    pub canary_revision: String,
    /// Pods on the new revision.
    #[serde(default)]
    pub canary_replicas: i32,
    /// Of those, the ready ones.
    #[serde(default)]
    pub canary_ready_replicas: i32,
}

/// Status of a blue-green release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The new revision, as the Rollout computes it from the pod template.
    #[serde(rename = "updatedRevision", default)]
    pub update_revision: String,
    #[serde(default)]
    pub updated_replicas: i32,
    #[serde(default)]
    pub updated_ready_replicas: i32,
}

/// Where a step is. A step normally goes BeforeStepUpgrade -> StepUpgrade ->
/// StepTrafficRouting -> StepMetricsAnalysis -> StepPaused -> StepReady, then on to the next
/// step, or to Completed after the last one. Approving a paused step is the status patch
/// StepPaused -> StepReady.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum StepState {
    /// Before the step's pods are upgraded; handles the cases where upgrading first would lose
    /// traffic.
    #[default]
    BeforeStepUpgrade,
    StepUpgrade,
    StepTrafficRouting,
    StepMetricsAnalysis,
    StepPaused,
    StepReady,
    Completed,
}

/// The lifecycle phase of a Rollout.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum RolloutPhase {
    Initial,
    /// The workload is not being released and the Rollout is ready for the next release.
    Healthy,
    /// A release is under way.
    Progressing,
    /// The Rollout is being deleted and is handing the workload back.
    Terminating,
    Disabled,
    /// The Rollout was disabled and is handing the workload back.
    Disabling,
}

/// The sub-steps of finalising a release (after the last step, or on rollback, deletion or
/// disabling), in the order Kruise runs them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum FinalisingStepType {
    /// Blue-green only: route all traffic to the new revision.
    #[serde(rename = "FinalisingStepRouteTrafficToNew")]
    RouteTrafficToNew,
    /// Restore the Gateway API route, Ingress or custom route to the stable Service.
    #[serde(rename = "FinalisingStepRouteTrafficToStable")]
    RouteTrafficToStable,
    /// Remove the revision selector the release added to the stable Service.
    RestoreStableService,
    RemoveCanaryService,
    /// Unpause the workload and set its partition to 0.
    ResumeWorkload,
    /// Stop controlling the workload (delete the batch release and any canary workload).
    ReleaseWorkloadControl,
    /// Finalising is done.
    #[serde(rename = "END")]
    End,
    /// Never leaves this step; for debugging only.
    WaitEndless,
}

impl StepState {
    /// The name Kruise writes (`StepPaused`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            StepState::BeforeStepUpgrade => "BeforeStepUpgrade",
            StepState::StepUpgrade => "StepUpgrade",
            StepState::StepTrafficRouting => "StepTrafficRouting",
            StepState::StepMetricsAnalysis => "StepMetricsAnalysis",
            StepState::StepPaused => "StepPaused",
            StepState::StepReady => "StepReady",
            StepState::Completed => "Completed",
        }
    }
}

impl RolloutPhase {
    /// The name Kruise writes (`Progressing`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            RolloutPhase::Initial => "Initial",
            RolloutPhase::Healthy => "Healthy",
            RolloutPhase::Progressing => "Progressing",
            RolloutPhase::Terminating => "Terminating",
            RolloutPhase::Disabled => "Disabled",
            RolloutPhase::Disabling => "Disabling",
        }
    }
}

impl FinalisingStepType {
    /// The name Kruise writes (`RestoreStableService`, `END`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            FinalisingStepType::RouteTrafficToNew => "FinalisingStepRouteTrafficToNew",
            FinalisingStepType::RouteTrafficToStable => "FinalisingStepRouteTrafficToStable",
            FinalisingStepType::RestoreStableService => "RestoreStableService",
            FinalisingStepType::RemoveCanaryService => "RemoveCanaryService",
            FinalisingStepType::ResumeWorkload => "ResumeWorkload",
            FinalisingStepType::ReleaseWorkloadControl => "ReleaseWorkloadControl",
            FinalisingStepType::End => "END",
            FinalisingStepType::WaitEndless => "WaitEndless",
        }
    }
}

macro_rules! display_as_str {
    ($($name:ty),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(StepState, RolloutPhase, FinalisingStepType);

/// A condition of a Rollout.
// `type_` and `reason` take the values in the `condition` module.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

/// Whether a condition holds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// Condition types and reasons, as Kruise writes them.
pub mod condition {
    /// A release is progressing (or finished progressing, per the reason).
    pub const PROGRESSING: &str = "Progressing";
    /// Whether the last release succeeded.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The Rollout is being deleted.
    pub const TERMINATING: &str = "Terminating";

    /// Reasons of the Progressing condition.
    pub mod progressing {
        pub const INITIALIZING: &str = "Initializing";
        pub const IN_ROLLING: &str = "InRolling";
        pub const FINALISING: &str = "Finalising";
        pub const COMPLETED: &str = "Completed";
        pub const CANCELLING: &str = "Cancelling";
        pub const PAUSED: &str = "Paused";
    }

    /// Reasons of the Terminating condition.
    pub mod terminating {
        pub const IN_TERMINATING: &str = "InTerminating";
        pub const COMPLETED: &str = "Completed";
    }

    /// Why a release is finalised, recorded in the Progressing condition's message.
    pub mod finalise {
        /// The last step is done and every pod moves to the new revision.
        pub const SUCCESS: &str = "Success";
        /// The workload went back to the stable revision.
        pub const ROLLBACK: &str = "Rollback";
        /// A newer revision arrived during the release.
        pub const CONTINUOUS: &str = "Continuous";
        /// The Rollout was disabled.
        pub const DISABLED: &str = "RolloutDisabled";
        /// The Rollout is being deleted.
        pub const DELETING: &str = "RolloutDeleting";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` and serde must agree, or status written by patch and by serde would differ.
    fn assert_names_match<T: Serialize + fmt::Display>(values: &[T]) {
        for value in values {
            assert_eq!(serde_json::to_value(value).unwrap(), value.to_string());
        }
    }

    #[test]
    fn display_names_are_the_wire_names() {
        use FinalisingStepType as F;
        use StepState as S;
        assert_names_match(&[
            S::BeforeStepUpgrade,
            S::StepUpgrade,
            S::StepTrafficRouting,
            S::StepMetricsAnalysis,
            S::StepPaused,
            S::StepReady,
            S::Completed,
        ]);
        use RolloutPhase as P;
        assert_names_match(&[
            P::Initial,
            P::Healthy,
            P::Progressing,
            P::Terminating,
            P::Disabled,
            P::Disabling,
        ]);
        assert_names_match(&[
            F::RouteTrafficToNew,
            F::RouteTrafficToStable,
            F::RestoreStableService,
            F::RemoveCanaryService,
            F::ResumeWorkload,
            F::ReleaseWorkloadControl,
            F::End,
            F::WaitEndless,
        ]);
        assert_eq!(F::End.to_string(), "END");
    }

    #[test]
    fn approval_patch_parses() {
        // kubectl-kruise rollout approve patches the state from StepPaused to StepReady.
        let status: RolloutStatus = serde_json::from_value(serde_json::json!({
            "currentStepIndex": 1,
            "currentStepState": "StepReady",
            "canaryStatus": {"currentStepIndex": 1, "currentStepState": "StepReady",
                             "podTemplateHash": "", "nextStepIndex": 2, "finalisingStep": "",
                             "canaryRevision": "", "canaryReplicas": 0, "canaryReadyReplicas": 0}
        }))
        .unwrap();
        assert_eq!(status.current_step_state, Some(StepState::StepReady));
        let common = status.sub_status().unwrap();
        assert_eq!(common.current_step_state, StepState::StepReady);
        assert_eq!(common.finalising_step, None);
    }

    #[test]
    fn an_unknown_step_state_is_an_error_that_lists_the_states() {
        let err = serde_json::from_value::<RolloutStatus>(serde_json::json!({
            "currentStepState": "StepSideways"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("StepPaused"), "{err}");
    }
}
