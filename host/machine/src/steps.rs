//! Step indices: what comes next, and jumps a person asks for through `nextStepIndex`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use waxwing_api::v1beta1::{CommonStatus, StepState};

use crate::strategy::StepPlan;

/// The `nextStepIndex` a release has when nobody touched it: the following step, or -1 after
/// the last one (Kruise's `NextBatchIndex`).
pub(crate) fn expected_next(current: i32, steps: usize) -> i32 {
    let steps = i32::try_from(steps).unwrap_or(i32::MAX);
    if current >= steps { -1 } else { current + 1 }
}

/// The step a person asked to go to by patching `nextStepIndex` to something other than the
/// expected value. Kruise's semantics: any existing step, including the current one (run it
/// again) or an earlier one. Other values (0, negative, past the end) are not requests.
pub(crate) fn requested_jump(common: &CommonStatus, steps: usize) -> Option<i32> {
    let next = common.next_step_index;
    let in_range = usize::try_from(next).is_ok_and(|next| (1..=steps).contains(&next));
    (in_range && next != expected_next(common.current_step_index, steps)).then_some(next)
}

/// Repairs a `nextStepIndex` that names no step (Kruise's `CheckNextBatchIndexWithCorrect`).
/// Returns whether it changed.
pub(crate) fn correct_next(common: &mut CommonStatus, steps: usize) -> bool {
    let next = common.next_step_index;
    let names_a_step = usize::try_from(next).is_ok_and(|next| (1..=steps).contains(&next));
    let expected = expected_next(common.current_step_index, steps);
    if names_a_step || next == expected {
        return false;
    }
    common.next_step_index = expected;
    true
}

/// Moves the release to step `target` (Kruise's `doStepJump`). When the pods already on the
/// update revision are what the target step plans, the upgrade is skipped and the step starts
/// at its traffic routing; otherwise it starts from the beginning.
pub(crate) fn jump(
    common: &mut CommonStatus,
    plan: &StepPlan<'_>,
    target: i32,
    updated_replicas: u32,
    workload_replicas: u32,
    now: Timestamp,
) {
    let planned = usize::try_from(target)
        .ok()
        .map(|index| plan.planned_replicas(index, workload_replicas));
    common.current_step_index = target;
    common.next_step_index = expected_next(target, plan.len());
    common.current_step_state = if planned == Some(updated_replicas) {
        StepState::StepTrafficRouting
    } else {
        StepState::BeforeStepUpgrade
    };
    common.last_update_time = Some(Time(now));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(current: i32, next: i32) -> CommonStatus {
        CommonStatus {
            current_step_index: current,
            next_step_index: next,
            ..Default::default()
        }
    }

    #[test]
    fn expected_next_is_minus_one_after_the_last_step() {
        assert_eq!(expected_next(1, 3), 2);
        assert_eq!(expected_next(3, 3), -1);
        assert_eq!(expected_next(5, 3), -1);
    }

    #[test]
    fn only_a_patched_next_naming_a_step_is_a_jump() {
        assert_eq!(requested_jump(&at(1, 2), 3), None, "untouched");
        assert_eq!(
            requested_jump(&at(3, -1), 3),
            None,
            "untouched at the last step"
        );
        assert_eq!(requested_jump(&at(1, 3), 3), Some(3), "skip ahead");
        assert_eq!(
            requested_jump(&at(2, 2), 3),
            Some(2),
            "run the current step again"
        );
        assert_eq!(requested_jump(&at(3, 1), 3), Some(1), "back to the start");
        assert_eq!(requested_jump(&at(1, 0), 3), None);
        assert_eq!(requested_jump(&at(1, 4), 3), None);
    }

    #[test]
    fn a_next_naming_no_step_is_repaired() {
        let mut common = at(1, 0);
        assert!(correct_next(&mut common, 3));
        assert_eq!(common.next_step_index, 2);
        let mut common = at(3, -1);
        assert!(!correct_next(&mut common, 3));
        let mut common = at(3, 7);
        assert!(correct_next(&mut common, 3));
        assert_eq!(common.next_step_index, -1);
        let mut common = at(1, 3);
        assert!(
            !correct_next(&mut common, 3),
            "a jump request is left alone"
        );
    }
}
