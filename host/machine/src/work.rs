//! The work a plan asks the controller to do, and how the controller reports back.

use std::time::Duration;

use waxwing_api::v1beta1::{HttpHeaderFilter, HttpRouteMatch};

use crate::analysis::{MeasurePlan, MeasurementResult};
use crate::replicas::IntOrPercent;

/// The single piece of work the controller does between [`crate::plan`] and
/// [`crate::advance`]. Every piece is idempotent: doing it again after a crash or a conflict is
/// safe, because plugins describe the desired objects rather than changes.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    /// Nothing to do now; report [`WorkOutcome::Done`].
    None,
    /// Before a step that routes traffic upgrades any pod: make sure the canary Service exists
    /// and the stable Service selects only stable pods, so new pods get no traffic until the
    /// route says so (Kruise's `PatchStableService`). Done when nothing is left to change.
    PrepareTraffic { step_index: u32 },
    /// Let exactly `planned_replicas` pods run the update revision (workload plugin
    /// `release-batch`, then `check-batch`); report [`WorkOutcome::Batch`].
    ReleaseBatch(BatchPlan),
    /// Send this step's traffic to the canary (traffic plugins' `route`). Done when every route
    /// needs no more changes.
    RouteTraffic(TrafficPlan),
    /// Ask the policy plugins whether the step may go on; report [`WorkOutcome::Decision`].
    EvaluatePolicies(PolicyCheck),
    /// Take one measurement of each metric (the metric's policy plugin's `evaluate`); report
    /// [`WorkOutcome::Measured`].
    Measure(MeasurePlan),
    /// Put every route back to the stable Service exactly as before the release and restore
    /// the Services (traffic plugins' `restore`). Done when nothing is left to change.
    RestoreTraffic,
    /// Take the new revision out of service after an abort, once traffic is back on stable
    /// (workload plugin `abort`). Done when `abort` returns no changes.
    AbortWorkload(BatchPlan),
    /// Hand the workload back to its native controller (workload plugin `finalize`), only ever
    /// asked for once traffic no longer depends on the pods it removes. Done when `finalize`
    /// returns no changes.
    FinalizeWorkload { reason: FinaliseReason },
}

impl Work {
    /// A short name for messages and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "no",
            Self::PrepareTraffic { .. } => "prepare-traffic",
            Self::ReleaseBatch(_) => "release-batch",
            Self::RouteTraffic(_) => "route-traffic",
            Self::EvaluatePolicies(_) => "evaluate-policies",
            Self::Measure(_) => "measure",
            Self::RestoreTraffic => "restore-traffic",
            Self::AbortWorkload(_) => "abort-workload",
            Self::FinalizeWorkload { .. } => "finalize-workload",
        }
    }

    /// Work whose completion waits for the traffic grace period (proxies need a moment to pick
    /// up a route change).
    pub(crate) fn touches_traffic(&self) -> bool {
        matches!(
            self,
            Self::PrepareTraffic { .. } | Self::RouteTraffic(_) | Self::RestoreTraffic
        )
    }
}

/// One batch of the release: the workload plugin's `batch-context`, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchPlan {
    /// Zero-based batch index: the current step index minus one.
    pub batch_index: u32,
    /// The step's replicas as the user wrote them.
    pub step_replicas: IntOrPercent,
    /// Pods that must run the update revision when the batch is done: the step's replicas
    /// resolved against the workload's (percentages rounded up), clamped to them, and never
    /// below an earlier step's.
    pub planned_replicas: u32,
    /// Updated pods that may be unready while the batch still counts as ready (the
    /// failureThreshold resolved against `planned_replicas`).
    pub tolerated_failures: u32,
    /// Revisions recorded when the release started.
    pub stable_revision: String,
    pub update_revision: String,
    /// The workload's rollout-id label, for the batch labels on released pods; `None` when the
    /// user set none (then no batch labels are written).
    pub rollout_id: Option<String>,
}

/// The traffic one step sends to the canary: the traffic plugins' `traffic-context`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficPlan {
    /// One-based step index the routing belongs to.
    pub step_index: u32,
    /// Percent of requests for the canary; `None` when the step routes by matches only (matches
    /// take precedence over a weight, as in Kruise).
    pub weight: Option<u32>,
    /// A request matching any of these goes to the canary.
    pub matches: Vec<HttpRouteMatch>,
    /// Header changes for requests sent to the canary.
    pub request_header_modifier: Option<HttpHeaderFilter>,
}

/// A question for the policy plugins: may the current step leave its pause?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyCheck {
    /// One-based index of the current step, and the number of steps.
    pub step_index: u32,
    pub step_count: u32,
    /// Time since the step entered the guarded state (the policy context's `elapsed-ms`).
    pub elapsed: Duration,
    /// The step's `pause.duration` in seconds, for the pause policy's config (`{"duration": N}`,
    /// or `{}` for a pause that waits for a person).
    pub pause_seconds: Option<u32>,
}

/// Why a release is being finalised; decides the order of the finalising steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FinaliseReason {
    /// Every step is done: the whole workload moves to the update revision.
    Success,
    /// The workload was rolled back to the stable revision.
    Rollback,
    /// The Rollout was disabled.
    Disabled,
    /// The Rollout is being deleted.
    Deleting,
}

impl FinaliseReason {
    /// Kruise's name for the reason (`FinaliseReason*` in `rollout_types.go`).
    pub fn as_str(self) -> &'static str {
        use waxwing_api::v1beta1::condition::finalise;
        match self {
            Self::Success => finalise::SUCCESS,
            Self::Rollback => finalise::ROLLBACK,
            Self::Disabled => finalise::DISABLED,
            Self::Deleting => finalise::DELETING,
        }
    }
}

/// How the work went.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkOutcome {
    /// The work is complete (or there was none).
    Done,
    /// Progress was made, or nothing could be done yet (for example a change was applied and
    /// the plugin must be asked again, or an apply hit a conflict). The message is shown in the
    /// release status.
    Pending { message: String },
    /// Nothing changed and nothing can be done before `after` (for example the traffic grace
    /// period that must pass between a route change and removing the Service it sent traffic
    /// to). Unlike [`WorkOutcome::Pending`] this does not restart the grace period.
    Waiting { message: String, after: Duration },
    /// The result of `check-batch`, for [`Work::ReleaseBatch`].
    Batch(BatchProgress),
    /// The combined answer of the policy plugins, for [`Work::EvaluatePolicies`].
    Decision(Decision),
    /// One result per metric measured, for [`Work::Measure`].
    Measured(Vec<MeasurementResult>),
    /// The work failed. The message goes verbatim into the status and a Warning event.
    /// `retry_after` is `None` when retrying cannot help until the Rollout or the objects change
    /// (a plugin's `invalid-input`).
    Failed {
        message: String,
        retry_after: Option<Duration>,
    },
}

impl WorkOutcome {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Done => "Done",
            Self::Pending { .. } => "Pending",
            Self::Waiting { .. } => "Waiting",
            Self::Batch(_) => "Batch",
            Self::Decision(_) => "Decision",
            Self::Measured(_) => "Measured",
            Self::Failed { .. } => "Failed",
        }
    }
}

/// How far a batch has got (`batch-status` in the plugin contract).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchProgress {
    /// Pods running the update revision.
    pub updated_replicas: u32,
    /// Of those, the ready ones.
    pub updated_ready_replicas: u32,
    /// Enough updated pods exist and are ready, allowing for the tolerated failures.
    pub ready: bool,
    /// What the batch waits for, for a person; empty when ready.
    pub message: String,
}

/// What the policies decided. When several policies guard a state, the controller combines
/// them: any Abort wins, then any Pause, then the shortest Wait; Proceed only if all proceed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The step may go on.
    Proceed,
    /// Ask again after `after`.
    Wait { after: Duration, reason: String },
    /// Stop until a person approves, by patching the step state to `StepReady`
    /// (`kubectl-kruise rollout approve`).
    Pause { reason: String },
    /// Stop the release: traffic goes back to the stable revision and the release waits for a
    /// person (approve to go on with the next step, set `nextStepIndex` to retry a step, or roll
    /// the workload back).
    Abort { reason: String },
}
