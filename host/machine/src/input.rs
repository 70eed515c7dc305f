//! What the machine is told at the start of a reconcile.

use k8s_openapi::jiff::Timestamp;
use waxwing_api::v1beta1::Rollout;

use crate::analysis::ResolvedAnalysis;

/// Everything one reconcile decides from. The same input always yields the same plan.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The Rollout as read from the API server: spec, status (as persisted, including any status
    /// patch a person made, such as an approval), annotations, generation, deletion timestamp.
    pub rollout: &'a Rollout,
    /// The workload as the workload plugin's `observe` saw it; `None` when it does not exist.
    pub workload: Option<&'a WorkloadObservation>,
    /// The wall clock. The machine has no clock of its own, so timed pauses and grace periods
    /// are measured against this.
    pub now: Timestamp,
    /// The analysis of the current step and the background analysis, with the Rollout's
    /// AnalysisTemplates resolved by the controller.
    pub analysis: &'a ResolvedAnalysis,
}

/// The workload's state, from the workload plugin's `observe` (`workload-state` in
/// `wit/plugin.wit`) plus two fields the host reads from the object's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadObservation {
    /// The replicas the user asked for.
    pub replicas: u32,
    /// Opaque id of the pod template that serves now (before the release).
    pub stable_revision: String,
    /// Opaque id of the pod template the user wants. Equal to `stable_revision` when nothing is
    /// being released, or when the user rolled the template back.
    pub update_revision: String,
    /// `pod-template-hash` (or controller-revision-hash) of pods on the update revision, for the
    /// canary Service selector; empty while unknown.
    pub update_pod_template_hash: String,
    /// The same for the stable revision; empty while unknown.
    pub stable_pod_template_hash: String,
    /// The pod label holding those hashes, for the Services' selectors.
    pub revision_label: String,
    /// The workload controller has observed the latest spec. Until it has, the machine does not
    /// act on the workload (Kruise's "workload status is inconsistent").
    pub settled: bool,
    /// The admission webhook has stopped the workload's native rollout for this Rollout. A
    /// release starts only for a workload that is taken over.
    pub taken_over: bool,
    /// The workload's `rollouts.kruise.io/rollout-id` label, if set.
    pub rollout_id: Option<String>,
    /// The workload's `metadata.generation`.
    pub generation: i64,
}

impl WorkloadObservation {
    /// The user put the template back to the stable revision.
    pub(crate) fn rolled_back(&self) -> bool {
        self.update_revision == self.stable_revision
    }

    /// The rollout-id label, when set to something.
    pub(crate) fn rollout_id(&self) -> Option<&str> {
        self.rollout_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The release id recorded in `status.*.observedRolloutID`: the rollout-id label, or, as
    /// Kruise does when there is none, the update revision, so a tool can tell that the release
    /// it made has completed.
    pub(crate) fn observed_rollout_id(&self) -> String {
        self.rollout_id()
            .map_or_else(|| self.update_revision.clone(), str::to_owned)
    }
}
