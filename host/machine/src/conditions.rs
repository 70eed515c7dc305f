//! Rollout conditions, updated the way Kruise's `util/condition.go` does, and the status
//! messages Kruise writes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use waxwing_api::v1beta1::{ConditionStatus, RolloutCondition, RolloutStatus};

/// Waxwing's own reason of the Progressing condition: a policy aborted the release, traffic
/// went back to stable and the release waits for a person. Kruise has no abort, so no Kruise
/// reason fits; tools that do not know it still see phase Progressing and step state
/// StepPaused, which is what they show for any release waiting for approval.
pub const ABORTED: &str = "Aborted";

pub(crate) fn get<'a>(status: &'a RolloutStatus, type_: &str) -> Option<&'a RolloutCondition> {
    status
        .conditions
        .iter()
        .find(|condition| condition.type_ == type_)
}

/// The reason of the condition `type_`, if present.
pub(crate) fn reason<'a>(status: &'a RolloutStatus, type_: &str) -> Option<&'a str> {
    get(status, type_).map(|condition| condition.reason.as_str())
}

/// Sets a condition. Nothing changes when status, reason and message are already the same;
/// the transition time is kept while the condition's status does not change. Returns whether
/// anything changed.
pub(crate) fn set(
    status: &mut RolloutStatus,
    type_: &str,
    condition_status: ConditionStatus,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    let current = get(status, type_);
    if current.is_some_and(|current| {
        current.status == condition_status && current.reason == reason && current.message == message
    }) {
        return false;
    }
    let last_transition_time = match current {
        Some(current) if current.status == condition_status => current.last_transition_time.clone(),
        _ => Some(Time(now)),
    };
    let condition = RolloutCondition {
        type_: type_.to_owned(),
        status: condition_status,
        last_update_time: Some(Time(now)),
        last_transition_time,
        reason: reason.to_owned(),
        message: message.to_owned(),
    };
    remove(status, type_);
    status.conditions.push(condition);
    true
}

pub(crate) fn remove(status: &mut RolloutStatus, type_: &str) {
    status
        .conditions
        .retain(|condition| condition.type_ != type_);
}

/// Moves the Progressing condition to `reason` and shows its message as the Rollout's message
/// (Kruise's `progressingStateTransition`). `None` keeps the condition's current message.
pub(crate) fn progressing(
    status: &mut RolloutStatus,
    condition_status: ConditionStatus,
    reason: &str,
    message: Option<&str>,
    now: Timestamp,
) {
    use waxwing_api::v1beta1::condition::PROGRESSING;
    let message = match message {
        Some(message) => message.to_owned(),
        None => get(status, PROGRESSING)
            .map(|condition| condition.message.clone())
            .unwrap_or_default(),
    };
    set(status, PROGRESSING, condition_status, reason, &message, now);
    status.message = Some(message);
}

/// Status messages, worded as Kruise words them so that people and scripts used to Kruise read
/// the same text.
pub(crate) mod message {
    use std::fmt::Display;

    pub const HEALTHY: &str = "rollout is healthy";
    pub const DEPLOYED: &str = "workload deployment is completed";
    pub const WORKLOAD_NOT_FOUND: &str = "Workload Not Found";
    pub const DISABLING: &str = "Disabling rollout, release resources";
    pub const DISABLED: &str = "Rollout is disabled";
    pub const TERMINATING: &str = "Rollout is in terminating";
    pub const PROGRESSING: &str = "Rollout is in Progressing";
    pub const PAUSED: &str = "Rollout has been paused, you can resume it by kube-cli";
    pub const CONTINUOUS: &str = "Workload is continuous release";
    pub const ROLLED_BACK: &str =
        "The workload has been rolled back and the rollout process will be canceled";
    pub const FINALISING: &str = "Rollout has been completed and some closing work is being done";
    pub const COMPLETED: &str = "Rollout progressing has been completed";
    pub const CANCELED: &str = "Rollout progressing has been canceled";

    pub fn upgrading(step: impl Display, steps: impl Display) -> String {
        format!("Rollout is in step({step}/{steps}), and upgrade workload to new version")
    }

    pub fn manual_confirm(step: impl Display, steps: impl Display) -> String {
        format!(
            "Rollout is in step({step}/{steps}), and you need manually confirm to enter the next step"
        )
    }

    pub fn timed_pause(step: impl Display, steps: impl Display, seconds: u32) -> String {
        format!(
            "Rollout is in step({step}/{steps}), and wait duration({seconds} seconds) to enter the next step"
        )
    }
}

#[cfg(test)]
mod tests {
    use waxwing_api::v1beta1::condition::{PROGRESSING, progressing as reasons};

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn setting_the_same_condition_changes_nothing() {
        let mut status = RolloutStatus::default();
        assert!(set(
            &mut status,
            PROGRESSING,
            ConditionStatus::True,
            reasons::IN_ROLLING,
            "m",
            at(1)
        ));
        let before = status.clone();
        assert!(!set(
            &mut status,
            PROGRESSING,
            ConditionStatus::True,
            reasons::IN_ROLLING,
            "m",
            at(2)
        ));
        assert_eq!(status, before);
    }

    #[test]
    fn transition_time_moves_only_when_the_condition_status_does() {
        let mut status = RolloutStatus::default();
        set(
            &mut status,
            PROGRESSING,
            ConditionStatus::True,
            reasons::INITIALIZING,
            "",
            at(1),
        );
        set(
            &mut status,
            PROGRESSING,
            ConditionStatus::True,
            reasons::IN_ROLLING,
            "",
            at(2),
        );
        let condition = get(&status, PROGRESSING).unwrap();
        assert_eq!(condition.last_transition_time, Some(Time(at(1))));
        assert_eq!(condition.last_update_time, Some(Time(at(2))));

        set(
            &mut status,
            PROGRESSING,
            ConditionStatus::False,
            reasons::COMPLETED,
            "",
            at(3),
        );
        let condition = get(&status, PROGRESSING).unwrap();
        assert_eq!(condition.last_transition_time, Some(Time(at(3))));
        assert_eq!(status.conditions.len(), 1);
    }

    #[test]
    fn progressing_keeps_the_message_when_none_is_given_and_mirrors_it() {
        let mut status = RolloutStatus::default();
        progressing(
            &mut status,
            ConditionStatus::True,
            reasons::PAUSED,
            Some(message::PAUSED),
            at(1),
        );
        progressing(
            &mut status,
            ConditionStatus::True,
            reasons::IN_ROLLING,
            None,
            at(2),
        );
        assert_eq!(get(&status, PROGRESSING).unwrap().message, message::PAUSED);
        assert_eq!(status.message.as_deref(), Some(message::PAUSED));
        assert_eq!(reason(&status, PROGRESSING), Some(reasons::IN_ROLLING));
    }
}
