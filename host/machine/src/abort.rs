//! A person's abort: `status.abortRequest`, written by `waxwing abort` (or any status patch),
//! taken by the machine into the same abort a failed analysis makes.

use waxwing_api::v1beta1::condition::{PROGRESSING, progressing as reasons};
use waxwing_api::v1beta1::{RolloutPhase, RolloutStatus, StepState};

use crate::conditions::{self, ABORTED};
use crate::substatus;

/// Why the release recorded in `status` cannot be aborted now, or `None` when it can: only a
/// release running its steps (or held by `spec.strategy.paused`) can. `disabled`: the
/// Rollout's `spec.disabled`; `deleting`: it has a deletion timestamp.
pub fn abort_refusal(
    status: &RolloutStatus,
    disabled: bool,
    deleting: bool,
) -> Option<&'static str> {
    if deleting {
        return Some("it is being deleted");
    }
    if disabled {
        return Some("it is disabled");
    }
    if status.phase != Some(RolloutPhase::Progressing) {
        return Some("it has no release in progress");
    }
    match conditions::reason(status, PROGRESSING) {
        Some(reasons::IN_ROLLING | reasons::PAUSED) => {}
        Some(ABORTED) => return Some("its release is already aborted"),
        Some(reasons::INITIALIZING) => {
            return Some("its release is starting; abort it once its first step runs");
        }
        Some(reasons::FINALISING | reasons::CANCELLING) => {
            return Some("its release is already ending");
        }
        _ => return Some("it has no release in progress"),
    }
    match substatus::common(status) {
        Some(common) if common.current_step_state == StepState::Completed => {
            Some("its release has passed its last step and is ending")
        }
        Some(_) => None,
        None => Some("it has no release in progress"),
    }
}

/// Whether the release recorded in `status` is aborted (by a policy or a person) and waits for
/// a person.
pub fn is_aborted(status: &RolloutStatus) -> bool {
    conditions::reason(status, PROGRESSING) == Some(ABORTED)
}

/// The abort reason the Rollout's message and event give for a person's request.
pub(crate) fn requested(reason: &str) -> String {
    if reason.is_empty() {
        "a person asked to abort it".to_owned()
    } else {
        format!("a person asked to abort it: {reason}")
    }
}
