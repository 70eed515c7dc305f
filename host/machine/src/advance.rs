//! Phase two of a reconcile: apply the outcome of the planned work.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use waxwing_api::v1beta1::{FinalisingStepType, RolloutStatus, StepState};

use crate::analysis::{self, MeasurePlan, MeasurementResult};
use crate::conditions::message;
use crate::error::MachineError;
use crate::event::{Event, EventReason};
use crate::finalise;
use crate::input::Input;
use crate::plan::{Plan, Purpose, RECHECK, soonest};
use crate::strategy::StrategyView;
use crate::substatus;
use crate::transitions::{Changes, remaining};
use crate::work::{BatchProgress, Decision, FinaliseReason, PolicyCheck, Work, WorkOutcome};

/// What the controller does at the end of a reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The status to write (through the status subresource, with the resourceVersion read at the
    /// start of the reconcile, so a status patch a person made meanwhile, such as an approval,
    /// is never overwritten: on a conflict, reconcile again).
    pub status: RolloutStatus,
    /// Events to publish on the Rollout, in order.
    pub events: Vec<Event>,
    /// Reconcile again after this long even if nothing changes; `Some(ZERO)` means right away,
    /// `None` means wait for a watch event (a person or a spec change).
    pub requeue_after: Option<Duration>,
    /// The Rollout is being deleted and has handed everything back: remove the finalizer.
    pub remove_finalizer: bool,
}

/// Phase two: the status, events and requeue that follow from the outcome of `plan.work`.
///
/// `input` must be the input `plan` was made from. Only outcomes the work can produce are
/// accepted: Done, Pending and Failed for any work (Done only for [`Work::None`]), plus
/// [`WorkOutcome::Batch`] for [`Work::ReleaseBatch`] and [`WorkOutcome::Decision`] for
/// [`Work::EvaluatePolicies`].
pub fn advance(
    input: &Input<'_>,
    plan: &Plan,
    outcome: WorkOutcome,
) -> Result<Transition, MachineError> {
    let mut advancer = Advancer {
        input,
        view: StrategyView::of(&input.rollout.spec.strategy),
        status: plan.status.clone(),
        events: plan.events.clone(),
        requeue_after: plan.requeue_after,
        remove_finalizer: plan.remove_finalizer,
    };
    match (&plan.work, outcome) {
        (Work::None, WorkOutcome::Done) => {}
        (Work::None, outcome) => return Err(mismatch(&plan.work, &outcome)),
        (
            work,
            WorkOutcome::Failed {
                message,
                retry_after,
            },
        ) => {
            advancer.failed(work, plan.purpose, &message, retry_after);
        }
        (work, WorkOutcome::Pending { message }) => advancer.pending(work, message),
        (_, WorkOutcome::Waiting { message, after }) => advancer.waiting(message, after),
        (Work::ReleaseBatch(_), WorkOutcome::Batch(progress)) => advancer.batch(progress),
        (Work::EvaluatePolicies(check), WorkOutcome::Decision(decision)) => {
            advancer.decide(check, decision);
        }
        (Work::Measure(measure), WorkOutcome::Measured(results)) => {
            advancer.measured(measure, &results);
        }
        (
            work @ (Work::ReleaseBatch(_) | Work::EvaluatePolicies(_) | Work::Measure(_)),
            outcome,
        ) => {
            return Err(mismatch(work, &outcome));
        }
        (work, WorkOutcome::Done) => advancer.done(work, plan.purpose),
        (work, outcome) => return Err(mismatch(work, &outcome)),
    }
    substatus::mirror_to_top_level(&mut advancer.status);
    // The background analysis measures on its own schedule, whatever the step waits for.
    let requeue_after = soonest(advancer.requeue_after, plan.background_due);
    Ok(Transition {
        status: advancer.status,
        events: advancer.events,
        requeue_after,
        remove_finalizer: advancer.remove_finalizer,
    })
}

fn mismatch(work: &Work, outcome: &WorkOutcome) -> MachineError {
    MachineError::OutcomeMismatch {
        work: work.name(),
        outcome: outcome.name(),
    }
}

struct Advancer<'a> {
    input: &'a Input<'a>,
    view: StrategyView<'a>,
    status: RolloutStatus,
    events: Vec<Event>,
    requeue_after: Option<Duration>,
    remove_finalizer: bool,
}

impl Advancer<'_> {
    fn changes(&mut self) -> Changes<'_> {
        Changes {
            status: &mut self.status,
            events: &mut self.events,
            now: self.input.now,
        }
    }

    /// `(current step, number of steps)` for messages.
    fn position(&self) -> (i32, usize) {
        let step = substatus::common(&self.status).map_or(0, |common| common.current_step_index);
        (step, self.view.step_count())
    }

    /// Whether `text` is news: events announce a message once, not on every reconcile that
    /// repeats it.
    fn is_new_message(&self, text: &str) -> bool {
        let persisted = self
            .input
            .rollout
            .status
            .as_ref()
            .and_then(|status| status.message.as_deref());
        persisted != Some(text)
    }

    fn stamp(&mut self) {
        let now = self.input.now;
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.last_update_time = Some(Time(now));
        }
    }

    fn set_state(&mut self, state: StepState) {
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.current_step_state = state;
        }
        self.stamp();
        self.requeue_after = Some(Duration::ZERO);
    }

    fn failed(&mut self, work: &Work, purpose: Purpose, text: &str, retry_after: Option<Duration>) {
        let text = match purpose {
            Purpose::Step(_) => {
                let (step, steps) = self.position();
                format!(
                    "Rollout is in step({step}/{steps}), and {} failed: {text}",
                    work.name()
                )
            }
            _ => format!("{} failed: {text}", work.name()),
        };
        if self.is_new_message(&text) {
            self.events
                .push(Event::warning(EventReason::WorkFailed, text.clone()));
        }
        self.status.message = Some(text);
        self.requeue_after = retry_after;
    }

    fn pending(&mut self, work: &Work, text: String) {
        // Kruise measures the traffic grace period from the last route change.
        if work.touches_traffic() {
            self.stamp();
        }
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.message = text;
        }
        self.requeue_after = Some(RECHECK);
    }

    fn waiting(&mut self, text: String, after: Duration) {
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.message = text;
        }
        self.requeue_after = Some(after);
    }

    fn batch(&mut self, progress: BatchProgress) {
        substatus::set_updated_replicas(
            &mut self.status,
            progress.updated_replicas,
            progress.updated_ready_replicas,
        );
        let hash = self
            .input
            .workload
            .map(|workload| workload.update_pod_template_hash.clone())
            .filter(|hash| !hash.is_empty());
        let Some(common) = substatus::common_mut(&mut self.status) else {
            return;
        };
        if !progress.ready {
            common.message = progress.message;
            self.requeue_after = Some(RECHECK);
            return;
        }
        // The new pods exist now, so their pod-template-hash is known for the canary Service.
        if let Some(hash) = hash {
            common.pod_template_hash = hash;
        }
        common.message.clear();
        let (step, steps) = self.position();
        self.set_state(StepState::StepTrafficRouting);
        self.events.push(Event::normal(
            EventReason::StepUpgraded,
            format!(
                "step({step}/{steps}): {} pods run the new revision, {} of them ready",
                progress.updated_replicas, progress.updated_ready_replicas
            ),
        ));
    }

    /// Counts the measurements into their run; the next plan acts on the run's phase.
    fn measured(&mut self, measure: &MeasurePlan, results: &[MeasurementResult]) {
        let now = self.input.now;
        if let Some(run) = self
            .status
            .analysis_runs
            .iter_mut()
            .find(|run| run.name == measure.run)
        {
            analysis::record(run, &measure.metrics, results, now);
        }
        self.requeue_after = Some(Duration::ZERO);
    }

    fn decide(&mut self, check: &PolicyCheck, decision: Decision) {
        let (step, steps) = (check.step_index, check.step_count);
        match decision {
            Decision::Proceed => self.set_state(StepState::StepReady),
            Decision::Wait { after, reason } => {
                let text = match check.pause_seconds {
                    Some(seconds) => message::timed_pause(step, steps, seconds),
                    None => format!(
                        "Rollout is in step({step}/{steps}), and waiting to enter the next step: {reason}"
                    ),
                };
                self.status.message = Some(text);
                self.requeue_after = Some(after);
            }
            Decision::Pause { reason } => {
                let text = if reason.is_empty() {
                    message::manual_confirm(step, steps)
                } else {
                    format!("{}: {reason}", message::manual_confirm(step, steps))
                };
                if self.is_new_message(&text) {
                    self.events
                        .push(Event::normal(EventReason::StepPaused, text.clone()));
                }
                self.status.message = Some(text);
                self.requeue_after = None;
            }
            Decision::Abort { reason } => {
                let routes_traffic = self.view.has_traffic_routings();
                self.changes().abort(step, steps, &reason, routes_traffic);
                self.requeue_after = Some(Duration::ZERO);
            }
        }
    }

    fn done(&mut self, work: &Work, purpose: Purpose) {
        if work.touches_traffic() {
            let since =
                substatus::common(&self.status).and_then(|common| common.last_update_time.as_ref());
            if let Some(left) = remaining(since, self.view.traffic_grace(), self.input.now) {
                // Routes are right, but proxies need the grace period to pick them up.
                self.requeue_after = Some(left);
                return;
            }
        }
        match (work, purpose) {
            (Work::RouteTraffic(plan), _) => {
                let (step, steps) = self.position();
                let share = match plan.weight {
                    Some(weight) if plan.matches.is_empty() => format!("{weight}% of requests go"),
                    _ => format!("requests matching {} rule(s) go", plan.matches.len()),
                };
                self.events.push(Event::normal(
                    EventReason::TrafficRouted,
                    format!("step({step}/{steps}): {share} to the new revision"),
                ));
            }
            (Work::RestoreTraffic, _) => self.events.push(Event::normal(
                EventReason::TrafficRestored,
                "every route sends all requests to the stable revision again".to_owned(),
            )),
            _ => {}
        }
        match purpose {
            Purpose::Step(StepState::BeforeStepUpgrade) => self.set_state(StepState::StepUpgrade),
            Purpose::Step(StepState::StepTrafficRouting) => {
                self.set_state(StepState::StepMetricsAnalysis);
            }
            Purpose::Finalise { reason, task } => self.finalised(reason, task),
            Purpose::ContinuousReset => {
                let revision = self
                    .input
                    .workload
                    .map(|workload| workload.update_revision.clone())
                    .unwrap_or_default();
                self.changes().restart_release(&revision);
                self.requeue_after = Some(Duration::ZERO);
            }
            Purpose::AbortRestore => {
                if let Some(common) = substatus::common_mut(&mut self.status) {
                    common.finalising_step = Some(FinalisingStepType::End);
                }
                self.stamp();
                self.requeue_after = None;
            }
            // Work for these states reports Batch or Decision, never Done.
            Purpose::Idle | Purpose::Step(_) => {}
        }
    }

    fn finalised(&mut self, reason: FinaliseReason, task: FinalisingStepType) {
        let tasks = finalise::tasks(
            self.view.style,
            reason,
            self.view.has_traffic_routings(),
            self.input.workload.is_some(),
        );
        let next = finalise::after(&tasks, task);
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.finalising_step = Some(next);
        }
        self.stamp();
        self.requeue_after = Some(Duration::ZERO);
        if next == FinalisingStepType::End {
            self.changes().finished(reason);
            self.remove_finalizer = reason == FinaliseReason::Deleting;
        }
    }
}
