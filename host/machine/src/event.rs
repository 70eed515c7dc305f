//! Kubernetes events the controller publishes on the Rollout.
//!
//! Events mark transitions only (a release started, a step finished, a person is needed), never
//! a reconcile that changed nothing, so `kubectl describe rollout` reads as a history.

use std::fmt;

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub type_: EventType,
    pub reason: EventReason,
    /// For a person, complete on its own.
    pub message: String,
}

impl Event {
    pub(crate) fn normal(reason: EventReason, message: impl Into<String>) -> Self {
        Self {
            type_: EventType::Normal,
            reason,
            message: message.into(),
        }
    }

    pub(crate) fn warning(reason: EventReason, message: impl Into<String>) -> Self {
        Self {
            type_: EventType::Warning,
            reason,
            message: message.into(),
        }
    }
}

/// The Kubernetes event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// Why an event was published; the event's `reason` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventReason {
    /// The workload got a new revision and a release began.
    RolloutStarted,
    /// A step's pods run the new revision and are ready.
    StepUpgraded,
    /// A step waits for a person to approve it.
    StepPaused,
    /// A step is done; the release moves to the next step or completes.
    StepReady,
    /// A step's routing is in place and proxies have had the grace period to pick it up.
    TrafficRouted,
    /// Every route sends all traffic to the stable revision again.
    TrafficRestored,
    /// A person moved the release to another step through `nextStepIndex`.
    StepJumped,
    /// The steps changed during the release; it continues from the matching step.
    RolloutPlanChanged,
    /// `spec.strategy.paused` holds the release.
    RolloutPaused,
    /// The release goes on after a pause or an abort.
    RolloutResumed,
    /// A newer revision arrived during the release, which restarts from the first step.
    RolloutRestarted,
    /// The workload went back to the stable revision; the release is cancelled.
    RolloutRolledBack,
    /// A policy or a person stopped the release and traffic goes back to stable.
    RolloutAborted,
    /// A person's abort request found no release it could abort, and was dropped.
    AbortRefused,
    /// Every step is done and the workload is handed back on the new revision.
    RolloutCompleted,
    /// A cancelled release finished handing the workload back.
    RolloutCancelled,
    /// The Rollout was disabled and has handed the workload back.
    RolloutDisabled,
    /// The Rollout is being deleted and has handed the workload back.
    RolloutTerminated,
    /// The workload the Rollout points at does not exist.
    WorkloadNotFound,
    /// The Rollout's spec cannot be run as written.
    InvalidRollout,
    /// Work the controller did on the machine's behalf failed.
    WorkFailed,
    /// An analysis run (a step's or the background one) started measuring.
    AnalysisStarted,
    /// A step's analysis measured every metric successfully.
    AnalysisSucceeded,
    /// A step's analysis is inconclusive and waits for a person.
    AnalysisInconclusive,
    /// An analysis cannot run as written (a template or an argument is missing).
    AnalysisInvalid,
}

impl EventReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RolloutStarted => "RolloutStarted",
            Self::StepUpgraded => "StepUpgraded",
            Self::StepPaused => "StepPaused",
            Self::StepReady => "StepReady",
            Self::TrafficRouted => "TrafficRouted",
            Self::TrafficRestored => "TrafficRestored",
            Self::StepJumped => "StepJumped",
            Self::RolloutPlanChanged => "RolloutPlanChanged",
            Self::RolloutPaused => "RolloutPaused",
            Self::RolloutResumed => "RolloutResumed",
            Self::RolloutRestarted => "RolloutRestarted",
            Self::RolloutRolledBack => "RolloutRolledBack",
            Self::RolloutAborted => "RolloutAborted",
            Self::AbortRefused => "AbortRefused",
            Self::RolloutCompleted => "RolloutCompleted",
            Self::RolloutCancelled => "RolloutCancelled",
            Self::RolloutDisabled => "RolloutDisabled",
            Self::RolloutTerminated => "RolloutTerminated",
            Self::WorkloadNotFound => "WorkloadNotFound",
            Self::InvalidRollout => "InvalidRollout",
            Self::WorkFailed => "WorkFailed",
            Self::AnalysisStarted => "AnalysisStarted",
            Self::AnalysisSucceeded => "AnalysisSucceeded",
            Self::AnalysisInconclusive => "AnalysisInconclusive",
            Self::AnalysisInvalid => "AnalysisInvalid",
        }
    }
}

impl fmt::Display for EventReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
