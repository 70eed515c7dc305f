//! One test per transition of the step machine, driven through the public two-phase protocol.

mod common;

use std::time::Duration;

use common::*;
use waxwing_api::v1beta1::condition::{SUCCEEDED, progressing as reasons};
use waxwing_api::v1beta1::{
    AbortRequest, ConditionStatus, FinalisingStepType, Rollout, RolloutPhase, StepState,
};
use waxwing_machine::{
    ABORTED, BackgroundSpec, BatchProgress, Decision, EventReason, FinaliseReason, IntOrPercent,
    MachineError, MeasurementOutcome, MetricSpec, ResolvedAnalysis, Work, WorkOutcome,
    abort_refusal, advance, plan,
};

fn ready(plan: &waxwing_machine::Plan) -> WorkOutcome {
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("expected a batch, got {:?}", plan.work)
    };
    WorkOutcome::Batch(BatchProgress {
        updated_replicas: batch.planned_replicas,
        updated_ready_replicas: batch.planned_replicas,
        ready: true,
        message: String::new(),
    })
}

fn decide(decision: Decision) -> impl FnOnce(&waxwing_machine::Plan) -> WorkOutcome {
    move |_| WorkOutcome::Decision(decision)
}

fn done(_: &waxwing_machine::Plan) -> WorkOutcome {
    WorkOutcome::Done
}

fn reasons_of(transition: &waxwing_machine::Transition) -> Vec<EventReason> {
    transition.events.iter().map(|event| event.reason).collect()
}

/// Four pods, one of them with 10% of the traffic in step 1 (routes settle at once), then all.
fn routed_canary_rollout() -> Rollout {
    canary_rollout(
        vec![step("1").traffic("10%"), step("100%")],
        vec![routing(0)],
    )
}

fn routed_canary() -> World {
    World::new(routed_canary_rollout(), workload(4))
}

fn two_steps() -> World {
    World::new(
        canary_rollout(vec![step("20%"), step("100%")], vec![]),
        workload(10),
    )
}

#[test]
fn a_rollout_without_its_workload_waits_for_it() {
    let mut world = two_steps();
    world.workload = None;
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Initial));
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Workload Not Found")
    );
    assert_eq!(reasons_of(&transition), [EventReason::WorkloadNotFound]);
    // Nothing more to say the second time.
    let (_, again) = world.reconcile(done);
    assert!(again.events.is_empty());
    assert_eq!(again.status, transition.status);
}

#[test]
fn a_workload_never_released_is_recorded_as_completed() {
    let mut world = two_steps();
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Healthy));
    assert_eq!(
        transition.status.message.as_deref(),
        Some("workload deployment is completed")
    );
    assert_eq!(world.step(), (2, StepState::Completed));
    assert_eq!(world.common().next_step_index, -1);
    assert_eq!(world.common().observed_rollout_id, "v1");
    assert_eq!(transition.requeue_after, None);
}

#[test]
fn an_unsettled_workload_leaves_the_status_alone() {
    let mut world = two_steps();
    world.reconcile(done);
    let before = world.status().clone();
    world.workload.as_mut().unwrap().settled = false;
    update_to(world.workload.as_mut().unwrap(), "v2");
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(transition.status, before);
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(3)));
}

#[test]
fn a_new_revision_starts_a_release_after_the_initializing_grace() {
    let mut world = two_steps();
    world.reconcile(done);
    update_to(world.workload.as_mut().unwrap(), "v2");

    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(reasons_of(&transition), [EventReason::RolloutStarted]);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Progressing));
    assert_eq!(world.progressing_reason(), Some(reasons::INITIALIZING));
    assert_eq!(world.step(), (1, StepState::BeforeStepUpgrade));
    assert_eq!(world.common().stable_revision, "v1");
    assert_eq!(
        transition
            .status
            .canary_status
            .as_ref()
            .unwrap()
            .canary_revision,
        "v2"
    );
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(3)));

    world.tick(3);
    let plan = world.plan();
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(batch.batch_index, 0);
    assert_eq!(batch.step_replicas, IntOrPercent::Percent(20));
    assert_eq!(batch.planned_replicas, 2);
    assert_eq!(batch.tolerated_failures, 0);
    assert_eq!(
        (
            batch.stable_revision.as_str(),
            batch.update_revision.as_str()
        ),
        ("v1", "v2")
    );
    assert_eq!(
        plan.status.message.as_deref(),
        Some("Rollout is in step(1/2), and upgrade workload to new version")
    );
    assert_eq!(plan.status.current_step_state, Some(StepState::StepUpgrade));
}

#[test]
fn a_workload_that_is_not_taken_over_starts_nothing() {
    let mut world = two_steps();
    world.reconcile(done);
    update_to(world.workload.as_mut().unwrap(), "v2");
    world.workload.as_mut().unwrap().taken_over = false;
    let (_, transition) = world.reconcile(done);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Healthy));
}

#[test]
fn a_batch_holds_the_step_until_ready() {
    let mut world = two_steps();
    world.start_release("v2");
    let (_, transition) = world.reconcile(|_| {
        WorkOutcome::Batch(BatchProgress {
            updated_replicas: 2,
            updated_ready_replicas: 1,
            ready: false,
            message: "1 of 2 new pods ready".to_owned(),
        })
    });
    assert_eq!(world.step(), (1, StepState::StepUpgrade));
    let canary = transition.status.canary_status.as_ref().unwrap();
    assert_eq!(
        (canary.canary_replicas, canary.canary_ready_replicas),
        (2, 1)
    );
    assert_eq!(canary.common.message, "1 of 2 new pods ready");
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(3)));
    assert!(transition.events.is_empty());

    let (_, transition) = world.reconcile(ready);
    assert_eq!(world.step(), (1, StepState::StepTrafficRouting));
    assert_eq!(reasons_of(&transition), [EventReason::StepUpgraded]);
    assert_eq!(world.common().pod_template_hash, "hash-v2");
    assert_eq!(transition.requeue_after, Some(Duration::ZERO));
}

#[test]
fn without_traffic_routing_the_traffic_state_is_skipped() {
    let mut world = two_steps();
    world.start_release("v2");
    world.reconcile(ready);
    let plan = world.plan();
    let Work::EvaluatePolicies(check) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((check.step_index, check.step_count), (1, 2));
    // No analysis either: straight to the step's pause.
    assert_eq!(plan.status.current_step_state, Some(StepState::StepPaused));
}

#[test]
fn manual_pause_holds_until_a_person_approves() {
    let mut world = two_steps();
    world.start_release("v2");
    world.reconcile(ready);
    world.settle();
    assert_eq!(world.step(), (1, StepState::StepPaused));

    let (plan, transition) = world.reconcile(decide(Decision::Pause {
        reason: String::new(),
    }));
    let Work::EvaluatePolicies(check) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(check.pause_seconds, None);
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Rollout is in step(1/2), and you need manually confirm to enter the next step")
    );
    assert_eq!(reasons_of(&transition), [EventReason::StepPaused]);
    assert_eq!(transition.requeue_after, None);
    // Asked again: still paused, no second event.
    let (_, transition) = world.reconcile(decide(Decision::Pause {
        reason: String::new(),
    }));
    assert!(transition.events.is_empty());
    assert_eq!(world.step(), (1, StepState::StepPaused));

    world.approve();
    let (plan, transition) = world.reconcile(ready);
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((batch.batch_index, batch.planned_replicas), (1, 10));
    assert_eq!(
        reasons_of(&transition),
        [EventReason::StepReady, EventReason::StepUpgraded]
    );
    assert_eq!(world.common().next_step_index, -1);
}

#[test]
fn timed_pause_waits_with_a_requeue_and_then_proceeds() {
    let mut world = World::new(
        canary_rollout(vec![step("1").pause_for(60), step("100%")], vec![]),
        workload(4),
    );
    world.start_release("v2");
    world.reconcile(ready);
    world.settle();
    world.tick(20);
    let (plan, transition) = world.reconcile(decide(Decision::Wait {
        after: Duration::from_secs(40),
        reason: "pausing".to_owned(),
    }));
    let Work::EvaluatePolicies(check) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(check.pause_seconds, Some(60));
    assert_eq!(check.elapsed, Duration::from_secs(20));
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Rollout is in step(1/2), and wait duration(60 seconds) to enter the next step")
    );
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(40)));

    world.tick(40);
    world.reconcile(decide(Decision::Proceed));
    assert_eq!(world.step(), (1, StepState::StepReady));
}

#[test]
fn the_last_canary_step_at_100_percent_does_not_pause() {
    let mut world = World::new(canary_rollout(vec![step("100%")], vec![]), workload(3));
    world.start_release("v2");
    world.reconcile(ready);
    world.settle();
    // StepPaused is skipped: the plan goes straight to finalising the workload.
    let plan = world.settle();
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Success
        }
    );
    assert_eq!(world.progressing_reason(), Some(reasons::FINALISING));
    assert_eq!(world.step(), (1, StepState::Completed));
}

#[test]
fn success_restores_traffic_before_handing_the_workload_back() {
    let mut world = World::new(
        canary_rollout(
            vec![step("50%").traffic("20%"), step("100%")],
            vec![routing(0)],
        ),
        workload(4),
    );
    let plan = world.start_release("v2");
    assert_eq!(plan.work, Work::PrepareTraffic { step_index: 1 });
    world.reconcile(done);
    world.reconcile(ready);
    let plan = world.plan();
    let Work::RouteTraffic(traffic) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((traffic.step_index, traffic.weight), (1, Some(20)));
    world.reconcile(done);
    world.settle();
    world.approve();
    // Step 2 routes nothing: the canary route of step 1 is cleared before more pods move.
    assert_eq!(world.settle().work, Work::RestoreTraffic);
    world.reconcile(done);
    world.reconcile(ready);
    world.settle();
    let plan = world.settle();
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(
        world.common().finalising_step,
        Some(FinalisingStepType::RouteTrafficToStable)
    );
    world.reconcile(done);
    assert_eq!(
        world.common().finalising_step,
        Some(FinalisingStepType::ResumeWorkload)
    );
    let (plan, transition) = world.reconcile(done);
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Success
        }
    );
    assert_eq!(reasons_of(&transition), [EventReason::RolloutCompleted]);
    assert_eq!(
        world.common().finalising_step,
        Some(FinalisingStepType::End)
    );
    let succeeded = world
        .status()
        .conditions
        .iter()
        .find(|c| c.type_ == SUCCEEDED)
        .unwrap();
    assert_eq!(succeeded.status, ConditionStatus::True);
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Rollout progressing has been completed")
    );

    // Then Healthy, and the finished revision does not start a second release even while the
    // workload still reports it as taken over.
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Healthy));

    // A late kubectl-kruise approval (a status patch without resourceVersion) does not make
    // the completed release look like a step in progress.
    world.approve();
    let (plan, _) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(world.step(), (2, StepState::Completed));
    assert_eq!(
        world.status().current_step_state,
        Some(StepState::Completed)
    );
}

#[test]
fn traffic_work_waits_for_the_grace_period() {
    let mut world = World::new(
        canary_rollout(
            vec![step("1").traffic("10%"), step("100%")],
            vec![routing(5)],
        ),
        workload(4),
    );
    world.start_release("v2");
    world.tick(5);
    world.reconcile(done);
    world.reconcile(ready);
    // The route needed changes: Pending stamps the time of the change.
    world.reconcile(|_| WorkOutcome::Pending {
        message: "route updated".to_owned(),
    });
    world.tick(2);
    let (_, transition) = world.reconcile(done);
    assert_eq!(world.step(), (1, StepState::StepTrafficRouting));
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(3)));
    world.tick(3);
    world.reconcile(done);
    assert_eq!(world.step(), (1, StepState::StepMetricsAnalysis));
}

#[test]
fn matches_route_without_a_weight() {
    let mut world = World::new(
        canary_rollout(
            vec![step("1").traffic("10%").matching(), step("100%")],
            vec![routing(0)],
        ),
        workload(4),
    );
    world.start_release("v2");
    world.reconcile(done);
    world.reconcile(ready);
    let plan = world.plan();
    let Work::RouteTraffic(traffic) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(traffic.weight, None);
    assert_eq!(traffic.matches.len(), 1);
}

fn three_steps_at_step_one_paused() -> World {
    let mut world = World::new(
        canary_rollout(vec![step("1"), step("2"), step("4")], vec![]),
        workload(4),
    );
    world.start_release("v2");
    world.reconcile(ready);
    world.settle();
    world
}

#[test]
fn a_patched_next_step_index_jumps() {
    let mut world = three_steps_at_step_one_paused();
    world.common_mut().next_step_index = 3;
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(reasons_of(&transition)[0], EventReason::StepJumped);
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((batch.batch_index, batch.planned_replicas), (2, 4));
    assert_eq!(world.common().next_step_index, -1);
}

#[test]
fn jumping_to_the_current_step_runs_it_again_without_upgrading() {
    let mut world = three_steps_at_step_one_paused();
    world.common_mut().next_step_index = 1;
    let plan = world.settle();
    // One pod already runs the new revision, as step 1 plans: no new batch, straight to
    // traffic routing (none here), the analysis (none) and the pause.
    assert!(
        matches!(plan.work, Work::EvaluatePolicies(_)),
        "{:?}",
        plan.work
    );
    assert_eq!(world.step(), (1, StepState::StepPaused));
    assert_eq!(world.common().next_step_index, 2);
}

#[test]
fn scaling_during_a_paused_step_releases_its_batch_again() {
    let mut world = three_steps_at_step_one_paused();
    let workload = world.workload.as_mut().unwrap();
    workload.replicas = 8;
    workload.generation += 1;
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(reasons_of(&transition)[0], EventReason::StepUpgraded);
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    // Step 1 is one pod whatever the size: the batch is checked again, not enlarged.
    assert_eq!((batch.batch_index, batch.planned_replicas), (0, 1));
    assert_eq!(world.step().0, 1);
    // Once released again, the same generation is no reason for another round.
    world.settle();
    assert_eq!(world.step(), (1, StepState::StepPaused));
    assert!(matches!(world.plan().work, Work::EvaluatePolicies(_)));
}

#[test]
fn a_next_step_index_naming_no_step_is_repaired() {
    let mut world = three_steps_at_step_one_paused();
    world.common_mut().next_step_index = 0;
    let plan = world.plan();
    assert_eq!(
        plan.status
            .canary_status
            .as_ref()
            .unwrap()
            .common
            .next_step_index,
        2
    );
    assert_eq!(plan.status.current_step_index, 1);
}

#[test]
fn changed_steps_continue_from_the_step_that_fits_the_updated_pods() {
    let mut world = three_steps_at_step_one_paused();
    // The plan now starts at 2 pods: step 1 (1 pod) is done already; continue with step 1 of the
    // new plan, which holds the pod.
    world.rollout.spec.strategy.canary.as_mut().unwrap().steps = vec![step("2"), step("4")];
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutPlanChanged);
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((batch.batch_index, batch.planned_replicas), (0, 2));
    // A pause change alone is not a plan change.
    let before = world.common().rollout_hash.clone();
    world.rollout.spec.strategy.canary.as_mut().unwrap().steps[0]
        .pause
        .duration = Some(5);
    let plan = world.plan();
    assert_eq!(
        plan.status
            .canary_status
            .as_ref()
            .unwrap()
            .common
            .rollout_hash,
        before
    );
}

#[test]
fn a_rollback_cancels_and_finalises_traffic_first() {
    let mut world = routed_canary();
    world.start_release("v2");
    world.reconcile(done);
    world.reconcile(ready);
    let workload = world.workload.as_mut().unwrap();
    workload.update_revision = "v1".to_owned();
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(
        reasons_of(&transition),
        [EventReason::RolloutRolledBack, EventReason::TrafficRestored]
    );
    assert_eq!(world.progressing_reason(), Some(reasons::CANCELLING));
    let (plan, transition) = world.reconcile(done);
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Rollback
        }
    );
    assert_eq!(reasons_of(&transition), [EventReason::RolloutCancelled]);
    let succeeded = world
        .status()
        .conditions
        .iter()
        .find(|c| c.type_ == SUCCEEDED)
        .unwrap();
    assert_eq!(succeeded.status, ConditionStatus::False);
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Rollout progressing has been canceled")
    );
}

#[test]
fn rollback_in_batches_restarts_the_steps_when_annotated() {
    let mut world = three_steps_at_step_one_paused();
    world.approve();
    world.reconcile(ready);
    world.rollout.metadata.annotations = Some(
        [(
            "rollouts.kruise.io/rollback-in-batch".to_owned(),
            "true".to_owned(),
        )]
        .into(),
    );
    world.workload.as_mut().unwrap().update_revision = "v1".to_owned();
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutRolledBack);
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(
        (batch.batch_index, batch.update_revision.as_str()),
        (0, "v1")
    );
    assert_eq!(world.progressing_reason(), Some(reasons::IN_ROLLING));
}

#[test]
fn a_newer_revision_restores_traffic_then_restarts() {
    let mut world = routed_canary();
    world.start_release("v2");
    world.reconcile(done);
    world.reconcile(ready);
    update_to(world.workload.as_mut().unwrap(), "v3");
    let (plan, _) = world.reconcile(|_| WorkOutcome::Pending {
        message: "restoring".into(),
    });
    assert_eq!(plan.work, Work::RestoreTraffic);
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(
        reasons_of(&transition),
        [EventReason::TrafficRestored, EventReason::RolloutRestarted]
    );
    assert!(transition.status.canary_status.is_none());
    assert_eq!(world.progressing_reason(), Some(reasons::INITIALIZING));
    world.settle();
    world.tick(3);
    let plan = world.settle();
    assert_eq!(plan.work, Work::PrepareTraffic { step_index: 1 });
    assert_eq!(world.step(), (1, StepState::BeforeStepUpgrade));
    assert_eq!(
        world
            .status()
            .canary_status
            .as_ref()
            .unwrap()
            .canary_revision,
        "v3"
    );
    assert_eq!(world.common().stable_revision, "v1");
}

#[test]
fn spec_paused_holds_and_keeps_an_approval() {
    let mut world = three_steps_at_step_one_paused();
    world.approve();
    world.rollout.spec.strategy.paused = true;
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(reasons_of(&transition), [EventReason::RolloutPaused]);
    assert_eq!(world.progressing_reason(), Some(reasons::PAUSED));
    assert_eq!(world.step(), (1, StepState::StepReady));
    assert_eq!(transition.requeue_after, None);

    world.rollout.spec.strategy.paused = false;
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(
        reasons_of(&transition)[..2],
        [EventReason::RolloutResumed, EventReason::StepReady]
    );
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(batch.batch_index, 1);
}

#[test]
fn disabling_a_release_hands_it_back_then_disables() {
    let mut world = three_steps_at_step_one_paused();
    world.rollout.spec.disabled = true;
    let (plan, _) = world.reconcile(done);
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Disabled
        }
    );
    assert_eq!(plan.status.phase, Some(RolloutPhase::Disabling));
    assert_eq!(world.status().phase, Some(RolloutPhase::Disabled));
    assert_eq!(
        world.status().message.as_deref(),
        Some("Rollout is disabled")
    );
    // Enabled again: healthy.
    world.rollout.spec.disabled = false;
    world.workload.as_mut().unwrap().taken_over = false;
    let (_, transition) = world.reconcile(done);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Healthy));
}

#[test]
fn deletion_finalises_then_releases_the_finalizer() {
    let mut world = routed_canary();
    world.start_release("v2");
    world.reconcile(done);
    world.rollout.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(world.now),
    );
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(transition.status.phase, Some(RolloutPhase::Terminating));
    assert!(!transition.remove_finalizer);
    let (plan, transition) = world.reconcile(done);
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Deleting
        }
    );
    assert!(transition.remove_finalizer);
    assert_eq!(reasons_of(&transition), [EventReason::RolloutTerminated]);
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert!(transition.remove_finalizer);
}

#[test]
fn deleting_a_rollout_that_never_released_frees_it_at_once() {
    let mut world = two_steps();
    world.workload = None;
    world.rollout.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(world.now),
    );
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert!(transition.remove_finalizer);
}

#[test]
fn finalising_resumes_from_the_recorded_step_after_a_restart() {
    let mut world = World::new(
        canary_rollout(vec![step("100%")], vec![routing(0)]),
        workload(2),
    );
    // Step 1 routes nothing, so its first work clears routes.
    assert_eq!(world.start_release("v2").work, Work::RestoreTraffic);
    world.reconcile(done);
    world.reconcile(ready);
    world.settle();
    assert_eq!(world.settle().work, Work::RestoreTraffic);
    assert_eq!(world.progressing_reason(), Some(reasons::FINALISING));
    world.reconcile(done);
    // A new controller reads the persisted status: it goes on with the workload, never back to
    // traffic, and never skips the workload.
    let plan = plan(&world.input()).unwrap();
    assert_eq!(
        plan.work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Success
        }
    );
}

#[test]
fn blue_green_success_moves_all_traffic_to_new_before_the_workload() {
    let mut world = World::new(
        blue_green_rollout(
            vec![step("50%").traffic("0%"), step("100%").traffic("100%")],
            vec![routing(0)],
        ),
        workload(2),
    );
    world.start_release("v2");
    assert!(world.status().blue_green_status.is_some());
    world.reconcile(done);
    world.reconcile(ready);
    world.reconcile(done);
    world.settle();
    world.approve();
    world.settle();
    world.reconcile(done);
    world.reconcile(ready);
    world.reconcile(done);
    world.settle();
    // Blue-green pauses even at 100% on the last step.
    assert_eq!(world.step(), (2, StepState::StepPaused));
    world.approve();
    let plan = world.settle();
    let Work::RouteTraffic(traffic) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(traffic.weight, Some(100));
    world.reconcile(done);
    assert_eq!(
        world.plan().work,
        Work::FinalizeWorkload {
            reason: FinaliseReason::Success
        }
    );
    world.reconcile(done);
    assert_eq!(world.plan().work, Work::RestoreTraffic);
    world.reconcile(done);
    assert_eq!(world.progressing_reason(), Some(reasons::COMPLETED));
}

#[test]
fn an_invalid_spec_holds_the_release_with_an_actionable_message() {
    let mut world = two_steps();
    world.rollout.spec.strategy.canary.as_mut().unwrap().steps[1].replicas = None;
    world.reconcile(done);
    update_to(world.workload.as_mut().unwrap(), "v2");
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(
        reasons_of(&transition),
        [EventReason::RolloutStarted, EventReason::InvalidRollout]
    );
    assert_eq!(
        transition.status.message.as_deref(),
        Some(
            "The Rollout cannot run its steps: spec.strategy.canary.steps[1].replicas: missing: \
             set a pod count such as 5 or a percentage such as \"20%\""
        )
    );
    assert_eq!(transition.requeue_after, None);
    let (_, again) = world.reconcile(done);
    assert!(again.events.is_empty());
}

#[test]
fn failed_work_is_reported_once_and_retried_as_asked() {
    let mut world = two_steps();
    world.start_release("v2");
    let failure = || WorkOutcome::Failed {
        message: "the Deployment has no selector".to_owned(),
        retry_after: Some(Duration::from_secs(30)),
    };
    let (_, transition) = world.reconcile(|_| failure());
    assert_eq!(
        transition.status.message.as_deref(),
        Some("Rollout is in step(1/2), and release-batch failed: the Deployment has no selector")
    );
    assert_eq!(reasons_of(&transition), [EventReason::WorkFailed]);
    assert_eq!(transition.requeue_after, Some(Duration::from_secs(30)));
    assert_eq!(world.step(), (1, StepState::StepUpgrade));
    let (_, again) = world.reconcile(|_| failure());
    assert!(again.events.is_empty());
}

#[test]
fn an_outcome_the_work_cannot_produce_is_a_protocol_error() {
    let mut world = two_steps();
    let plan = world.start_release("v2");
    let input = world.input();
    assert_eq!(
        advance(&input, &plan, WorkOutcome::Done),
        Err(MachineError::OutcomeMismatch {
            work: "release-batch",
            outcome: "Done"
        })
    );
    assert_eq!(
        advance(&input, &plan, WorkOutcome::Decision(Decision::Proceed)),
        Err(MachineError::OutcomeMismatch {
            work: "release-batch",
            outcome: "Decision"
        })
    );
    world.rollout.status = None;
    let idle = world.plan();
    assert_eq!(idle.work, Work::None);
    assert!(
        advance(
            &world.input(),
            &idle,
            WorkOutcome::Batch(BatchProgress::default())
        )
        .is_err()
    );
}

#[test]
fn an_abort_restores_traffic_and_waits_for_a_person() {
    let mut world = World::new(analysed(routed_canary_rollout()), workload(4));
    world.analysis = one_metric_analysis();
    world.start_release("v2");
    world.reconcile(done);
    world.reconcile(ready);
    world.reconcile(done);
    let (plan, transition) = world.reconcile(measured(MeasurementOutcome::Failed(
        "error rate 7%".to_owned(),
    )));
    assert!(reasons_of(&transition).contains(&EventReason::AnalysisStarted));
    let Work::Measure(measure) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(measure.run, "step-1");
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutAborted);
    assert_eq!(world.progressing_reason(), Some(ABORTED));
    assert_eq!(world.step(), (1, StepState::StepPaused));
    assert!(
        transition.status.message.as_deref().unwrap().starts_with(
            "Rollout is aborted in step(1/2): the analysis of step(1/2) failed: metric \
                 health/errors failed 1 time(s): error rate 7%"
        ),
        "{:?}",
        transition.status.message
    );

    let (plan, transition) = world.reconcile(done);
    let Work::AbortWorkload(batch) = &plan.work else {
        panic!("the new revision is taken out of service: {:?}", plan.work)
    };
    assert_eq!(batch.planned_replicas, 1);
    assert_eq!(transition.requeue_after, None);
    // A policy cannot undo it: only a person can.
    assert_eq!(world.step(), (1, StepState::StepPaused));

    world.approve();
    let (plan, transition) = world.reconcile(done);
    assert_eq!(
        reasons_of(&transition),
        [
            EventReason::RolloutResumed,
            EventReason::StepReady,
            // Step 2 routes nothing: what step 1 routed is cleared before its pods move.
            EventReason::TrafficRestored
        ]
    );
    assert_eq!(
        plan.work,
        Work::RestoreTraffic,
        "step 2 starts by clearing step 1's route"
    );
    assert_eq!(world.step(), (2, StepState::StepUpgrade));
    assert_eq!(world.progressing_reason(), Some(reasons::IN_ROLLING));
}

#[test]
fn a_retry_after_an_abort_starts_the_step_over_and_measures_afresh() {
    let mut world = World::new(
        analysed(canary_rollout(vec![step("1"), step("100%")], vec![])),
        workload(4),
    );
    world.analysis = one_metric_analysis();
    world.start_release("v2");
    world.reconcile(ready);
    world.reconcile(measured(MeasurementOutcome::Error(
        "connection refused".to_owned(),
    )));
    assert_eq!(world.step(), (1, StepState::StepMetricsAnalysis));
    // Errors are retried until there are more in a row than the limit (4).
    for _ in 0..4 {
        world.now += std::time::Duration::from_secs(10);
        world.reconcile(measured(MeasurementOutcome::Error(
            "connection refused".to_owned(),
        )));
    }
    world.reconcile(done);
    assert_eq!(world.progressing_reason(), Some(ABORTED));
    let status = world.rollout.status.clone().unwrap();
    assert_eq!(status.analysis_runs[0].metrics[0].consecutive_error, 5);

    world.common_mut().next_step_index = 1;
    let (plan, transition) = world.reconcile(ready);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutResumed);
    assert!(
        matches!(plan.work, Work::ReleaseBatch(_)),
        "{:?}",
        plan.work
    );
    assert!(
        world
            .rollout
            .status
            .as_ref()
            .unwrap()
            .analysis_runs
            .is_empty()
    );
    world.reconcile(measured(MeasurementOutcome::Successful("0.1%".to_owned())));
    let (plan, transition) = world.reconcile(decide(Decision::Pause {
        reason: String::new(),
    }));
    assert_eq!(reasons_of(&transition)[0], EventReason::AnalysisSucceeded);
    assert!(
        matches!(plan.work, Work::EvaluatePolicies(_)),
        "{:?}",
        plan.work
    );
}

#[test]
fn an_inconclusive_analysis_waits_for_approval() {
    let mut world = World::new(
        analysed(canary_rollout(vec![step("20%"), step("100%")], vec![])),
        workload(10),
    );
    world.analysis = one_metric_analysis();
    world.start_release("v2");
    world.reconcile(ready);
    world.reconcile(measured(MeasurementOutcome::Inconclusive(
        "no samples".to_owned(),
    )));
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::None);
    assert_eq!(reasons_of(&transition), [EventReason::AnalysisInconclusive]);
    assert_eq!(world.step(), (1, StepState::StepMetricsAnalysis));
    world.approve();
    world.reconcile(ready);
    assert_eq!(world.step().0, 2);
}

#[test]
fn failure_threshold_resolves_against_the_planned_pods() {
    let mut rollout = canary_rollout(vec![step("50%"), step("100%")], vec![]);
    rollout
        .spec
        .strategy
        .canary
        .as_mut()
        .unwrap()
        .failure_threshold =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("20%".to_owned()));
    let mut world = World::new(rollout, workload(10));
    let plan = world.start_release("v2");
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!((batch.planned_replicas, batch.tolerated_failures), (5, 1));
}

#[test]
fn the_rollout_id_label_is_recorded_and_passed_to_batches() {
    let mut world = two_steps();
    world.reconcile(done);
    world.workload.as_mut().unwrap().rollout_id = Some("release-7".to_owned());
    let plan = world.start_release("v2");
    let Work::ReleaseBatch(batch) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(batch.rollout_id.as_deref(), Some("release-7"));
    assert_eq!(world.common().observed_rollout_id, "release-7");
}

#[test]
fn a_failing_background_analysis_aborts_whatever_the_step() {
    let mut world = World::new(
        canary_rollout(vec![step("1").pause_for(60), step("100%")], vec![]),
        workload(4),
    );
    let metric = one_metric_analysis().steps[&1].clone().unwrap()[0].clone();
    world.analysis = ResolvedAnalysis {
        background: Some(BackgroundSpec {
            starting_step: 1,
            metrics: Ok(vec![MetricSpec {
                name: "health/background".to_owned(),
                interval: Some(Duration::from_secs(10)),
                count: None,
                ..metric
            }]),
        }),
        ..ResolvedAnalysis::default()
    };
    world.start_release("v2");
    // Measured before the step's own work, then the batch is released.
    let (plan, _) = world.reconcile(measured(MeasurementOutcome::Successful("fine".to_owned())));
    let Work::Measure(measure) = &plan.work else {
        panic!("{:?}", plan.work)
    };
    assert_eq!(measure.run, "background");
    assert_eq!(
        world.rollout.status.as_ref().unwrap().analysis_runs[0].metrics[0].count,
        1
    );
    let (plan, _) = world.reconcile(ready);
    assert!(
        matches!(plan.work, Work::ReleaseBatch(_)),
        "{:?}",
        plan.work
    );
    // During the timed pause the background metric is due again every 10 s.
    let (plan, transition) = world.reconcile(decide(Decision::Wait {
        after: Duration::from_secs(60),
        reason: "pausing".to_owned(),
    }));
    assert!(
        matches!(plan.work, Work::EvaluatePolicies(_)),
        "{:?}",
        plan.work
    );
    assert!(
        transition.requeue_after <= Some(Duration::from_secs(10)),
        "{:?}",
        transition.requeue_after
    );
    world.now += Duration::from_secs(10);
    world.reconcile(measured(MeasurementOutcome::Failed(
        "errors 30%".to_owned(),
    )));
    let (_, transition) = world.reconcile(done);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutAborted);
    assert_eq!(world.progressing_reason(), Some(ABORTED));
    assert!(
        transition.status.message.as_deref().unwrap().contains(
            "the background analysis failed: metric health/background failed 1 time(s): errors 30%"
        ),
        "{:?}",
        transition.status.message
    );
}

#[test]
fn a_persons_abort_request_aborts_the_step_once() {
    let mut world = routed_canary();
    world.start_release("v2");
    world.reconcile(done);
    world.reconcile(ready);
    world.reconcile(done);
    world.reconcile(decide(Decision::Pause {
        reason: String::new(),
    }));
    assert_eq!(world.step(), (1, StepState::StepPaused));

    world.rollout.status.as_mut().unwrap().abort_request = Some(AbortRequest {
        reason: "p99 latency doubled".to_owned(),
    });
    let (plan, transition) = world.reconcile(done);
    assert_eq!(plan.work, Work::RestoreTraffic);
    assert_eq!(
        reasons_of(&transition),
        [EventReason::RolloutAborted, EventReason::TrafficRestored]
    );
    assert_eq!(world.progressing_reason(), Some(ABORTED));
    assert!(
        transition.status.message.as_deref().unwrap().starts_with(
            "Rollout is aborted in step(1/2): a person asked to abort it: p99 latency doubled."
        ),
        "{:?}",
        transition.status.message
    );
    assert_eq!(world.status().abort_request, None, "the request is taken");
    let (plan, _) = world.reconcile(done);
    assert!(
        matches!(plan.work, Work::AbortWorkload(_)),
        "{:?}",
        plan.work
    );

    // A retry runs the step again and is not aborted a second time.
    world.common_mut().next_step_index = 1;
    let (plan, transition) = world.reconcile(done);
    assert_eq!(reasons_of(&transition)[0], EventReason::RolloutResumed);
    assert_eq!(plan.work, Work::PrepareTraffic { step_index: 1 });
    assert_eq!(world.step(), (1, StepState::StepUpgrade));
    assert_eq!(world.progressing_reason(), Some(reasons::IN_ROLLING));
}

#[test]
fn an_abort_request_without_a_release_to_abort_is_dropped_with_the_reason() {
    let mut world = two_steps();
    world.settle();
    let before = world.status().clone();
    world.rollout.status.as_mut().unwrap().abort_request = Some(AbortRequest::default());
    let (_, transition) = world.reconcile(done);
    assert_eq!(reasons_of(&transition), [EventReason::AbortRefused]);
    assert_eq!(
        transition.events[0].message,
        "the Rollout cannot be aborted: it has no release in progress; the request (a person \
         asked to abort it) is dropped"
    );
    assert_eq!(world.status(), &before, "nothing else changed");
}

#[test]
fn abort_refusals_name_the_state() {
    let mut world = two_steps();
    world.settle();
    update_to(world.workload.as_mut().unwrap(), "v2");
    world.settle();
    let starting = world.status().clone();
    assert_eq!(
        abort_refusal(&starting, false, false),
        Some("its release is starting; abort it once its first step runs")
    );
    world.tick(3);
    world.settle();
    let running = world.status().clone();
    assert_eq!(abort_refusal(&running, false, false), None);
    assert_eq!(abort_refusal(&running, true, false), Some("it is disabled"));
    assert_eq!(
        abort_refusal(&running, false, true),
        Some("it is being deleted")
    );
}
