//! Property tests: random Rollouts driven through random histories (reconciles at random times,
//! plugins that succeed, lag or fail, people who approve, jump, pause, roll back, release again,
//! change the steps, disable and delete), checking the machine's invariants after every
//! reconcile against a simulated cluster.

mod common;

use std::time::Duration;

use common::{
    World, analysed, blue_green_rollout, canary_rollout, one_metric_analysis, routing, workload,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::prelude::*;
use waxwing_api::v1beta1::condition::{PROGRESSING, progressing as reasons};
use waxwing_api::v1beta1::{
    CanaryStep, CommonStatus, RolloutPause, RolloutPhase, RolloutStatus, StepState,
    TrafficRoutingStrategy,
};
use waxwing_machine::{
    BatchProgress, Decision, EventReason, FinaliseReason, Input, MeasurementOutcome,
    MeasurementResult, Plan, Transition, Work, WorkOutcome, advance, plan,
};

#[derive(Clone, Copy, Debug)]
enum Replicas {
    Count(u32),
    Percent(u32),
}

#[derive(Clone, Debug)]
struct StepSpec {
    replicas: Replicas,
    traffic: Option<u32>,
    pause: Option<i32>,
}

impl StepSpec {
    fn to_step(&self) -> CanaryStep {
        CanaryStep {
            traffic_routing_strategy: TrafficRoutingStrategy {
                traffic: self.traffic.map(|weight| format!("{weight}%")),
                ..Default::default()
            },
            replicas: Some(match self.replicas {
                Replicas::Count(count) => IntOrString::Int(count as i32),
                Replicas::Percent(percent) => IntOrString::String(format!("{percent}%")),
            }),
            pause: RolloutPause {
                duration: self.pause,
            },
            analysis: None,
        }
    }
}

/// The pods step `index` (one-based) may put on the new revision, computed independently of the
/// machine: the largest step value so far, percentages rounded up, clamped to the workload.
fn allowed(steps: &[StepSpec], index: usize, replicas: u32) -> u32 {
    steps[..index]
        .iter()
        .map(|step| match step.replicas {
            Replicas::Count(count) => count.min(replicas),
            Replicas::Percent(percent) => {
                ((f64::from(percent) * f64::from(replicas) / 100.0).ceil() as u32).min(replicas)
            }
        })
        .max()
        .unwrap_or(0)
}

#[derive(Clone, Debug)]
enum Action {
    /// Let `seconds` pass, then reconcile; `luck` picks how the work goes.
    Reconcile {
        seconds: u8,
        luck: u8,
    },
    Approve,
    /// Patch `nextStepIndex` (values outside the steps included).
    Jump(i32),
    TogglePause,
    Rollback,
    NewRevision,
    ToggleDisabled,
    Delete,
    ChangeSteps(Vec<StepSpec>),
}

fn step_spec() -> impl Strategy<Value = StepSpec> {
    (
        prop_oneof![
            (1u32..=12).prop_map(Replicas::Count),
            (1u32..=100).prop_map(Replicas::Percent),
        ],
        proptest::option::of(0u32..=100),
        proptest::option::of(0i32..=30),
    )
        .prop_map(|(replicas, traffic, pause)| StepSpec {
            replicas,
            traffic,
            pause,
        })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        12 => (any::<u8>(), any::<u8>()).prop_map(|(seconds, luck)| Action::Reconcile { seconds: seconds % 41, luck }),
        3 => Just(Action::Approve),
        1 => (-1i32..=6).prop_map(Action::Jump),
        1 => Just(Action::TogglePause),
        1 => Just(Action::Rollback),
        1 => Just(Action::NewRevision),
        1 => Just(Action::ToggleDisabled),
        1 => Just(Action::Delete),
        1 => proptest::collection::vec(step_spec(), 1..5).prop_map(Action::ChangeSteps),
    ]
}

/// Where the simulated routes send traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Routes {
    Stable,
    /// Routed for a step: `None` for matches only, else the weight.
    Canary(Option<u32>),
}

struct Sim {
    world: World,
    steps: Vec<StepSpec>,
    blue_green: bool,
    routes_traffic: bool,
    routes: Routes,
    revisions: u32,
    /// Set by a step change until the machine notices it.
    steps_changed: bool,
    /// The last batch planned in the current release, reset when the release legitimately
    /// moves back (a jump, a plan change, a restart).
    last_planned: Option<(String, u32)>,
}

impl Sim {
    fn new(steps: Vec<StepSpec>, blue_green: bool, routes_traffic: bool, replicas: u32) -> Self {
        let specs: Vec<CanaryStep> = steps.iter().map(StepSpec::to_step).collect();
        let routings = if routes_traffic {
            vec![routing(2)]
        } else {
            vec![]
        };
        let rollout = analysed(if blue_green {
            blue_green_rollout(specs, routings)
        } else {
            canary_rollout(specs, routings)
        });
        Self {
            world: World {
                // Every step is analysed: measurements succeed, fail, are inconclusive or err
                // by luck.
                analysis: one_metric_analysis(),
                ..World::new(rollout, workload(replicas))
            },
            steps,
            blue_green,
            routes_traffic,
            routes: Routes::Stable,
            revisions: 1,
            steps_changed: false,
            last_planned: None,
        }
    }

    fn set_steps(&mut self, steps: Vec<StepSpec>) {
        let specs: Vec<CanaryStep> = steps.iter().map(StepSpec::to_step).collect();
        let strategy = &mut self.world.rollout.spec.strategy;
        match (&mut strategy.canary, &mut strategy.blue_green) {
            (_, Some(blue_green)) => blue_green.steps = specs,
            (Some(canary), None) => canary.steps = specs,
            (None, None) => unreachable!("fixtures always set a strategy"),
        }
        self.steps = steps;
        self.steps_changed = true;
    }

    fn common(status: &RolloutStatus) -> Option<&CommonStatus> {
        status
            .canary_status
            .as_ref()
            .map(|canary| &canary.common)
            .or(status
                .blue_green_status
                .as_ref()
                .map(|blue_green| &blue_green.common))
    }

    fn revision(status: &RolloutStatus) -> Option<&str> {
        status
            .canary_status
            .as_ref()
            .map(|canary| canary.canary_revision.as_str())
            .or(status
                .blue_green_status
                .as_ref()
                .map(|blue_green| blue_green.update_revision.as_str()))
    }

    fn has_progress(&self) -> bool {
        self.world
            .rollout
            .status
            .as_ref()
            .and_then(Self::common)
            .is_some()
    }

    fn apply(&mut self, action: Action) -> Result<(), TestCaseError> {
        match action {
            Action::Reconcile { seconds, luck } => {
                self.world.tick(u64::from(seconds));
                return self.reconcile(luck);
            }
            Action::Approve => {
                let progressing = self
                    .world
                    .rollout
                    .status
                    .as_ref()
                    .and_then(|status| status.phase)
                    == Some(RolloutPhase::Progressing);
                if progressing && self.has_progress() {
                    self.world.common_mut().current_step_state = StepState::StepReady;
                }
            }
            Action::Jump(next) => {
                if self.has_progress() {
                    self.world.common_mut().next_step_index = next;
                }
            }
            Action::TogglePause => {
                let paused = &mut self.world.rollout.spec.strategy.paused;
                *paused = !*paused;
            }
            Action::Rollback => {
                let workload = self
                    .world
                    .workload
                    .as_mut()
                    .expect("the simulation keeps its workload");
                workload.update_revision = workload.stable_revision.clone();
            }
            Action::NewRevision => {
                self.revisions += 1;
                let workload = self
                    .world
                    .workload
                    .as_mut()
                    .expect("the simulation keeps its workload");
                common::update_to(workload, &format!("v{}", self.revisions));
            }
            Action::ToggleDisabled => {
                let disabled = &mut self.world.rollout.spec.disabled;
                *disabled = !*disabled;
            }
            Action::Delete => {
                if self.world.rollout.metadata.deletion_timestamp.is_none() {
                    self.world.rollout.metadata.deletion_timestamp = Some(Time(self.world.now));
                }
            }
            Action::ChangeSteps(steps) => self.set_steps(steps),
        }
        Ok(())
    }

    /// What the plugins and the cluster answer for the planned work.
    fn outcome(&mut self, plan: &Plan, luck: u8) -> WorkOutcome {
        let fails = luck.is_multiple_of(13);
        let lags = luck % 5 == 1;
        if fails && plan.work != Work::None {
            return WorkOutcome::Failed {
                message: "plugin failed".to_owned(),
                retry_after: Some(Duration::from_secs(5)),
            };
        }
        match &plan.work {
            Work::None => WorkOutcome::Done,
            Work::PrepareTraffic { .. } => {
                if lags {
                    WorkOutcome::Pending {
                        message: "preparing".to_owned(),
                    }
                } else {
                    WorkOutcome::Done
                }
            }
            Work::ReleaseBatch(batch) => WorkOutcome::Batch(BatchProgress {
                updated_replicas: batch.planned_replicas,
                updated_ready_replicas: if lags {
                    batch.planned_replicas.saturating_sub(1)
                } else {
                    batch.planned_replicas
                },
                ready: !lags,
                message: if lags {
                    "waiting for pods".to_owned()
                } else {
                    String::new()
                },
            }),
            Work::RouteTraffic(traffic) => {
                self.routes = Routes::Canary(traffic.weight);
                if lags {
                    WorkOutcome::Pending {
                        message: "routing".to_owned(),
                    }
                } else {
                    WorkOutcome::Done
                }
            }
            Work::RestoreTraffic => {
                self.routes = Routes::Stable;
                if lags {
                    WorkOutcome::Pending {
                        message: "restoring".to_owned(),
                    }
                } else {
                    WorkOutcome::Done
                }
            }
            Work::Measure(measure) => WorkOutcome::Measured(
                measure
                    .metrics
                    .iter()
                    .map(|metric| MeasurementResult {
                        metric: metric.name.clone(),
                        outcome: match luck % 17 {
                            2 => MeasurementOutcome::Failed("errors".to_owned()),
                            3 => MeasurementOutcome::Inconclusive("no data".to_owned()),
                            4 => MeasurementOutcome::Error("unreachable".to_owned()),
                            _ => MeasurementOutcome::Successful("fine".to_owned()),
                        },
                    })
                    .collect(),
            ),
            Work::AbortWorkload(_) => WorkOutcome::Done,
            Work::EvaluatePolicies(check) => WorkOutcome::Decision(match check.pause_seconds {
                None => Decision::Pause {
                    reason: String::new(),
                },
                Some(seconds) => {
                    let wait = Duration::from_secs(u64::from(seconds));
                    match wait
                        .checked_sub(check.elapsed)
                        .filter(|left| !left.is_zero())
                    {
                        None => Decision::Proceed,
                        Some(after) => Decision::Wait {
                            after,
                            reason: "pausing".to_owned(),
                        },
                    }
                }
            }),
            Work::FinalizeWorkload { reason } => {
                let workload = self
                    .world
                    .workload
                    .as_mut()
                    .expect("finalize needs a workload");
                workload.taken_over = false;
                if *reason == FinaliseReason::Success {
                    workload.stable_revision = workload.update_revision.clone();
                    workload.stable_pod_template_hash = workload.update_pod_template_hash.clone();
                }
                WorkOutcome::Done
            }
        }
    }

    fn reconcile(&mut self, luck: u8) -> Result<(), TestCaseError> {
        let before = self.world.rollout.status.clone().unwrap_or_default();
        let input = self.world.input();
        let plan = plan(&input).map_err(|error| TestCaseError::fail(error.to_string()))?;

        // Restart: planning again from the plan's own status plans the same.
        let mut replayed = self.world.rollout.clone();
        replayed.status = Some(plan.status.clone());
        let replay = waxwing_machine::plan(&Input {
            rollout: &replayed,
            ..input
        })
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(&replay.work, &plan.work, "replanning changed the work");
        prop_assert_eq!(
            &replay.status,
            &plan.status,
            "replanning changed the status"
        );

        self.check_finalise_order(&plan)?;

        let outcome = self.outcome(&plan, luck);
        let pending = matches!(outcome, WorkOutcome::Pending { .. });
        let input = self.world.input();
        let transition = advance(&input, &plan, outcome)
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        if moved_back(&transition) {
            self.last_planned = None;
        }
        self.check_batch(&plan)?;
        self.check_steps(&before, &transition)?;
        if transition.remove_finalizer {
            prop_assert!(self.world.rollout.metadata.deletion_timestamp.is_some());
            prop_assert_eq!(
                self.routes,
                Routes::Stable,
                "the finalizer went while traffic was routed"
            );
        }
        self.world.rollout.status = Some(transition.status.clone());
        if pending {
            // A reconcile that made no progress is repeated as it was.
            let again = waxwing_machine::plan(&self.world.input())
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert_eq!(
                &again.work,
                &plan.work,
                "pending work was not planned again"
            );
        }
        Ok(())
    }

    /// Never more pods on the new revision than the current step allows, never fewer than an
    /// earlier batch of the release.
    fn check_batch(&mut self, plan: &Plan) -> Result<(), TestCaseError> {
        let Work::ReleaseBatch(batch) = &plan.work else {
            return Ok(());
        };
        let replicas = self
            .world
            .workload
            .as_ref()
            .map_or(0, |workload| workload.replicas);
        let index = batch.batch_index as usize + 1;
        let current = Self::common(&plan.status).map(|common| common.current_step_index);
        prop_assert_eq!(
            current,
            Some(index as i32),
            "the batch is not the current step's"
        );
        let allowed = allowed(&self.steps, index, replicas);
        prop_assert_eq!(
            batch.planned_replicas,
            allowed,
            "planned differs from the step's replicas"
        );
        prop_assert!(batch.planned_replicas <= replicas);
        prop_assert!(
            replicas == 0 || batch.planned_replicas >= 1,
            "no canary pod planned"
        );
        prop_assert!(batch.tolerated_failures < batch.planned_replicas.max(1));
        let release = batch.update_revision.clone();
        if let Some((last_release, last)) = &self.last_planned
            && *last_release == release
        {
            prop_assert!(
                batch.planned_replicas >= *last,
                "batch shrank from {} to {}",
                last,
                batch.planned_replicas
            );
        }
        self.last_planned = Some((release, batch.planned_replicas));
        Ok(())
    }

    /// The workload is handed back only once traffic no longer depends on the pods it loses:
    /// back on stable, or (blue-green success) entirely on the new revision.
    fn check_finalise_order(&self, plan: &Plan) -> Result<(), TestCaseError> {
        let Work::FinalizeWorkload { reason } = plan.work else {
            return Ok(());
        };
        if !self.routes_traffic {
            return Ok(());
        }
        if self.blue_green && reason == FinaliseReason::Success {
            prop_assert_eq!(
                self.routes,
                Routes::Canary(Some(100)),
                "blue-green handed back before all traffic moved"
            );
        } else {
            prop_assert_eq!(
                self.routes,
                Routes::Stable,
                "workload handed back while traffic was routed to it"
            );
        }
        Ok(())
    }

    /// Steps are never skipped unless asked, and an approved step is never taken back.
    fn check_steps(
        &mut self,
        before: &RolloutStatus,
        transition: &Transition,
    ) -> Result<(), TestCaseError> {
        let after = &transition.status;
        let announced = |reason: EventReason| announced(transition, reason);
        let moved_back = moved_back(transition);
        if announced(EventReason::RolloutPlanChanged) {
            prop_assert!(self.steps_changed, "a plan change nobody made");
        }
        if announced(EventReason::RolloutPlanChanged) || announced(EventReason::RolloutStarted) {
            self.steps_changed = false;
        }
        let (Some(old), Some(new)) = (Self::common(before), Self::common(after)) else {
            return Ok(());
        };
        let same_release = Self::revision(before) == Self::revision(after)
            && before.phase == Some(RolloutPhase::Progressing)
            && after.phase == Some(RolloutPhase::Progressing);
        if !same_release {
            return Ok(());
        }
        let steps = self.steps.len() as i32;
        if announced(EventReason::StepJumped) {
            let expected = if old.current_step_index >= steps {
                -1
            } else {
                old.current_step_index + 1
            };
            let asked =
                (1..=steps).contains(&old.next_step_index) && old.next_step_index != expected;
            let lost = !(1..=steps).contains(&old.current_step_index);
            prop_assert!(
                asked || lost || self.steps_changed,
                "a jump nobody asked for"
            );
        }
        let (from, to) = (old.current_step_index, new.current_step_index);
        if to != from && !moved_back {
            prop_assert_eq!(to, from + 1, "skipped from step {} to {}", from, to);
            prop_assert_eq!(
                old.current_step_state,
                StepState::StepReady,
                "left step {} before it was ready",
                from
            );
        }
        if old.current_step_state == StepState::StepReady && to == from && !moved_back {
            let regressed = matches!(
                new.current_step_state,
                StepState::BeforeStepUpgrade
                    | StepState::StepUpgrade
                    | StepState::StepTrafficRouting
                    | StepState::StepMetricsAnalysis
                    | StepState::StepPaused
            );
            prop_assert!(
                !regressed,
                "the approval of step {} was lost: {:?}",
                from,
                new.current_step_state
            );
        }
        Ok(())
    }
}

fn announced(transition: &Transition, reason: EventReason) -> bool {
    transition.events.iter().any(|event| event.reason == reason)
}

/// The release legitimately went back to an earlier step (or started over).
fn moved_back(transition: &Transition) -> bool {
    [
        EventReason::StepJumped,
        EventReason::RolloutPlanChanged,
        EventReason::RolloutRolledBack,
        EventReason::RolloutRestarted,
        EventReason::RolloutStarted,
    ]
    .into_iter()
    .any(|reason| announced(transition, reason))
}

fn progressing_reason(status: &RolloutStatus) -> Option<&str> {
    status
        .conditions
        .iter()
        .find(|condition| condition.type_ == PROGRESSING)
        .map(|condition| condition.reason.as_str())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_over_random_histories(
        steps in proptest::collection::vec(step_spec(), 1..5),
        blue_green in any::<bool>(),
        routes_traffic in any::<bool>(),
        replicas in 0u32..=12,
        actions in proptest::collection::vec(action(), 1..80),
    ) {
        let mut sim = Sim::new(steps, blue_green, routes_traffic, replicas);
        sim.reconcile(0)?;
        sim.apply(Action::NewRevision)?;
        for action in actions {
            sim.apply(action)?;
        }
    }

    /// Left alone with cooperative plugins and a person approving every pause, every release
    /// completes, with traffic back on stable.
    #[test]
    fn a_release_left_alone_completes(
        steps in proptest::collection::vec(step_spec(), 1..5),
        blue_green in any::<bool>(),
        routes_traffic in any::<bool>(),
        replicas in 0u32..=12,
    ) {
        let mut sim = Sim::new(steps, blue_green, routes_traffic, replicas);
        sim.reconcile(4)?;
        sim.apply(Action::NewRevision)?;
        for _ in 0..200 {
            // Luck 4: no failure, no lag, analysis proceeds.
            sim.apply(Action::Reconcile { seconds: 10, luck: 4 })?;
            if sim.has_progress() && sim.world.step().1 == StepState::StepPaused {
                sim.apply(Action::Approve)?;
            }
            if sim.world.rollout.status.as_ref().and_then(|status| status.phase) == Some(RolloutPhase::Healthy) {
                break;
            }
        }
        let status = sim.world.rollout.status.clone().unwrap_or_default();
        prop_assert_eq!(status.phase, Some(RolloutPhase::Healthy));
        prop_assert_eq!(progressing_reason(&status), Some(reasons::COMPLETED));
        prop_assert_eq!(sim.routes, Routes::Stable);
        let workload = sim.world.workload.as_ref().unwrap();
        prop_assert_eq!(&workload.stable_revision, &workload.update_revision);
        prop_assert_eq!(Sim::common(&status).map(|common| common.current_step_state), Some(StepState::Completed));
    }
}

#[test]
fn the_oracle_agrees_with_kruise_examples() {
    let steps = |values: &[Replicas]| -> Vec<StepSpec> {
        values
            .iter()
            .map(|replicas| StepSpec {
                replicas: *replicas,
                traffic: None,
                pause: None,
            })
            .collect()
    };
    let plan = steps(&[
        Replicas::Percent(20),
        Replicas::Count(3),
        Replicas::Percent(100),
    ]);
    assert_eq!(allowed(&plan, 1, 11), 3);
    assert_eq!(allowed(&plan, 2, 11), 3);
    assert_eq!(allowed(&plan, 3, 11), 11);
}
