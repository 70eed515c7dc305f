//! Status transitions that both phases make: [`crate::plan`] when a transition needs no work,
//! [`crate::advance`] when finished work leads to it.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use waxwing_api::v1beta1::condition::{
    PROGRESSING, SUCCEEDED, TERMINATING, progressing as reasons, terminating,
};
use waxwing_api::v1beta1::{
    ConditionStatus, FinalisingStepType, RolloutPhase, RolloutStatus, StepState,
};

use crate::conditions::{self, ABORTED, message};
use crate::event::{Event, EventReason};
use crate::substatus;
use crate::work::FinaliseReason;

/// Status changes and the events that announce them, against one clock reading.
pub(crate) struct Changes<'a> {
    pub status: &'a mut RolloutStatus,
    pub events: &'a mut Vec<Event>,
    pub now: Timestamp,
}

impl Changes<'_> {
    pub fn progressing(&mut self, status: ConditionStatus, reason: &str, message: Option<&str>) {
        conditions::progressing(self.status, status, reason, message, self.now);
    }

    /// A newer revision replaced the one being released: drop the progress and start over
    /// (Kruise's `handleContinuousRelease`, after traffic went back to stable).
    pub fn restart_release(&mut self, revision: &str) {
        substatus::clear(self.status);
        self.progressing(
            ConditionStatus::True,
            reasons::INITIALIZING,
            Some(message::CONTINUOUS),
        );
        self.events.push(Event::normal(
            EventReason::RolloutRestarted,
            format!("the workload moved on to revision {revision} during the release; restarting from the first step"),
        ));
    }

    /// Every finalising task for `reason` is done.
    pub fn finished(&mut self, reason: FinaliseReason) {
        let now = self.now;
        match reason {
            FinaliseReason::Success => {
                self.progressing(
                    ConditionStatus::False,
                    reasons::COMPLETED,
                    Some(message::COMPLETED),
                );
                conditions::set(self.status, SUCCEEDED, ConditionStatus::True, "", "", now);
                self.events.push(Event::normal(
                    EventReason::RolloutCompleted,
                    "every step is done and the workload runs the new revision",
                ));
            }
            FinaliseReason::Rollback => {
                self.progressing(
                    ConditionStatus::False,
                    reasons::COMPLETED,
                    Some(message::CANCELED),
                );
                conditions::set(self.status, SUCCEEDED, ConditionStatus::False, "", "", now);
                self.events.push(Event::normal(
                    EventReason::RolloutCancelled,
                    "traffic is back on the stable revision and the workload is handed back",
                ));
            }
            FinaliseReason::Disabled => {
                self.status.phase = Some(RolloutPhase::Disabled);
                self.status.message = Some(message::DISABLED.to_owned());
                self.events.push(Event::normal(
                    EventReason::RolloutDisabled,
                    "the Rollout is disabled and the workload is handed back",
                ));
            }
            FinaliseReason::Deleting => {
                conditions::set(
                    self.status,
                    TERMINATING,
                    ConditionStatus::False,
                    terminating::COMPLETED,
                    message::TERMINATING,
                    now,
                );
                self.events.push(Event::normal(
                    EventReason::RolloutTerminated,
                    "traffic is back on the stable revision and the workload is handed back; the Rollout can go",
                ));
            }
        }
    }

    /// A policy aborted step `step` of `steps`: hold the release for a person and, when the
    /// Rollout routes traffic, send it back to stable first.
    pub fn abort(&mut self, step: u32, steps: u32, reason: &str, routes_traffic: bool) {
        let now = self.now;
        let condition = format!("Rollout is aborted in step({step}/{steps}): {reason}");
        let detail = format!(
            "{condition}. Traffic goes back to the stable revision. To go on with the next step \
             approve it (set currentStepState to StepReady), to retry a step set nextStepIndex, \
             or roll the workload back"
        );
        conditions::set(
            self.status,
            PROGRESSING,
            ConditionStatus::True,
            ABORTED,
            &condition,
            now,
        );
        self.status.message = Some(detail.clone());
        if let Some(common) = substatus::common_mut(self.status) {
            common.current_step_state = StepState::StepPaused;
            common.finalising_step = Some(if routes_traffic {
                FinalisingStepType::RouteTrafficToStable
            } else {
                FinalisingStepType::End
            });
            common.last_update_time = Some(Time(now));
        }
        self.events
            .push(Event::warning(EventReason::RolloutAborted, detail));
    }
}

/// How long is left of `wait` since `since`, or `None` once it has passed (or there is no
/// starting point).
pub(crate) fn remaining(since: Option<&Time>, wait: Duration, now: Timestamp) -> Option<Duration> {
    let elapsed = elapsed(since, now)?;
    wait.checked_sub(elapsed).filter(|left| !left.is_zero())
}

/// Time since `since`; zero for a moment in the future (clock skew), `None` without a moment.
pub(crate) fn elapsed(since: Option<&Time>, now: Timestamp) -> Option<Duration> {
    let since = since?.0;
    Some(Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn remaining_counts_down_from_the_starting_point() {
        let since = Time(at(100));
        let wait = Duration::from_secs(3);
        assert_eq!(
            remaining(Some(&since), wait, at(101)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(remaining(Some(&since), wait, at(103)), None);
        assert_eq!(
            remaining(Some(&since), wait, at(99)),
            Some(wait),
            "clock skew"
        );
        assert_eq!(remaining(None, wait, at(101)), None);
    }
}
