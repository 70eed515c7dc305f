//! Errors: a Rollout spec the machine cannot run, and a controller that broke the protocol.

use thiserror::Error;

/// A part of the Rollout spec the steps cannot be run with. The release holds, with this
/// message in the status, until the spec is fixed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{path}: {problem}")]
pub struct SpecError {
    /// The offending field, as `kubectl explain` spells it
    /// (`spec.strategy.canary.steps[1].replicas`).
    pub path: String,
    /// What is wrong and what a valid value looks like.
    pub problem: String,
}

impl SpecError {
    pub(crate) fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The controller used the machine in a way the protocol does not allow. These are bugs in the
/// caller, never caused by what a user wrote.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum MachineError {
    /// [`crate::advance`] was given an outcome that the planned work cannot produce, for example
    /// a policy decision for a batch.
    #[error(
        "the controller reported {outcome} for {work} work; report Done, Pending or Failed, \
         or Batch for release-batch and Decision for evaluate-policies"
    )]
    OutcomeMismatch {
        work: &'static str,
        outcome: &'static str,
    },
    /// Planning kept changing the status without settling, which means a bug in the machine.
    #[error(
        "the step machine did not settle after {0} status transitions; this is a bug in Waxwing"
    )]
    Unsettled(usize),
}
