//! The order of finalising: the work that hands a release back, recorded step by step in
//! `status.*.finalisingStep` so a restarted controller resumes where the last one stopped.
//!
//! Kruise splits finalising into five sub-steps (stable Service, routes, canary Service,
//! workload resume, BatchRelease removal). Here the traffic plugins restore routes and Services
//! in one piece of work, and the workload plugin's `finalize` both resumes and releases the
//! workload, so two of Kruise's values are used: `FinalisingStepRouteTrafficToStable` for the
//! traffic and `ResumeWorkload` for the workload (plus `FinalisingStepRouteTrafficToNew` for a
//! successful blue-green release). The rule Kruise follows for every reason holds here by
//! construction: traffic stops depending on the pods the workload will lose before the workload
//! is handed back.

use waxwing_api::v1beta1::FinalisingStepType;

use crate::strategy::Style;
use crate::work::FinaliseReason;

/// The finalising tasks for a release, in order. Traffic tasks are left out when the Rollout
/// routes no traffic, the workload task when there is no workload to hand back.
pub(crate) fn tasks(
    style: Style,
    reason: FinaliseReason,
    routes_traffic: bool,
    has_workload: bool,
) -> Vec<FinalisingStepType> {
    use FinalisingStepType::{ResumeWorkload, RouteTrafficToNew, RouteTrafficToStable};
    let order: &[FinalisingStepType] = match (style, reason) {
        // Blue-green success: all traffic to the new pods first, then let the workload drop
        // the old ones, then put the routes back (now pointing at new pods only).
        (Style::BlueGreen, FinaliseReason::Success) => {
            &[RouteTrafficToNew, ResumeWorkload, RouteTrafficToStable]
        }
        // Everything else: traffic back to stable before the workload changes.
        _ => &[RouteTrafficToStable, ResumeWorkload],
    };
    order
        .iter()
        .copied()
        .filter(|task| match task {
            ResumeWorkload => has_workload,
            _ => routes_traffic,
        })
        .collect()
}

/// Where finalising stands, given the recorded step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// Run this task.
    Task(FinalisingStepType),
    /// Every task is done.
    Done,
}

/// Resumes from the recorded step. A step that is not one of `tasks` (written by another
/// controller, or made irrelevant by a spec change) restarts from the first task, which is safe
/// because every task is idempotent.
pub(crate) fn resume(
    tasks: &[FinalisingStepType],
    recorded: Option<FinalisingStepType>,
) -> Position {
    match recorded {
        Some(FinalisingStepType::End) => Position::Done,
        Some(task) if tasks.contains(&task) => Position::Task(task),
        _ => tasks
            .first()
            .copied()
            .map_or(Position::Done, Position::Task),
    }
}

/// The step to record once `done` has finished.
pub(crate) fn after(tasks: &[FinalisingStepType], done: FinalisingStepType) -> FinalisingStepType {
    tasks
        .iter()
        .skip_while(|task| **task != done)
        .nth(1)
        .copied()
        .unwrap_or(FinalisingStepType::End)
}

#[cfg(test)]
mod tests {
    use FinalisingStepType::{
        End, ReleaseWorkloadControl, ResumeWorkload, RouteTrafficToNew, RouteTrafficToStable,
    };

    use super::*;

    #[test]
    fn traffic_goes_back_to_stable_before_the_workload_for_every_canary_reason() {
        for reason in [
            FinaliseReason::Success,
            FinaliseReason::Rollback,
            FinaliseReason::Disabled,
            FinaliseReason::Deleting,
        ] {
            assert_eq!(
                tasks(Style::Canary, reason, true, true),
                [RouteTrafficToStable, ResumeWorkload],
                "{reason:?}"
            );
        }
        assert_eq!(
            tasks(Style::BlueGreen, FinaliseReason::Rollback, true, true),
            [RouteTrafficToStable, ResumeWorkload]
        );
    }

    #[test]
    fn blue_green_success_moves_traffic_to_new_first() {
        assert_eq!(
            tasks(Style::BlueGreen, FinaliseReason::Success, true, true),
            [RouteTrafficToNew, ResumeWorkload, RouteTrafficToStable]
        );
    }

    #[test]
    fn tasks_without_an_object_to_act_on_are_left_out() {
        assert_eq!(
            tasks(Style::Canary, FinaliseReason::Success, false, true),
            [ResumeWorkload]
        );
        assert_eq!(
            tasks(Style::Canary, FinaliseReason::Deleting, true, false),
            [RouteTrafficToStable]
        );
        assert!(tasks(Style::BlueGreen, FinaliseReason::Success, false, false).is_empty());
    }

    #[test]
    fn resume_and_after_walk_the_order() {
        let order = tasks(Style::Canary, FinaliseReason::Rollback, true, true);
        assert_eq!(resume(&order, None), Position::Task(RouteTrafficToStable));
        assert_eq!(
            resume(&order, Some(ResumeWorkload)),
            Position::Task(ResumeWorkload)
        );
        assert_eq!(resume(&order, Some(End)), Position::Done);
        // A Kruise-only step restarts from the first task.
        assert_eq!(
            resume(&order, Some(ReleaseWorkloadControl)),
            Position::Task(RouteTrafficToStable)
        );
        assert_eq!(resume(&[], None), Position::Done);
        assert_eq!(after(&order, RouteTrafficToStable), ResumeWorkload);
        assert_eq!(after(&order, ResumeWorkload), End);
    }
}
