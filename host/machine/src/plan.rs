//! Phase one of a reconcile: make every status transition that needs no work, then name the
//! work the controller must do for the state reached.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use waxwing_api::analysis::AnalysisPhase;
use waxwing_api::v1beta1::condition::{
    PROGRESSING, SUCCEEDED, TERMINATING, progressing as reasons, terminating,
};
use waxwing_api::v1beta1::{
    CommonStatus, ConditionStatus, FinalisingStepType, RolloutPhase, RolloutSpec, RolloutStatus,
    StepState,
};

use crate::abort;
use crate::analysis::{self, MeasurePlan, MetricSpec, ResolvedAnalysis};
use crate::conditions::{self, ABORTED, message};
use crate::error::{MachineError, SpecError};
use crate::event::{Event, EventReason};
use crate::finalise::{self, Position};
use crate::input::{Input, WorkloadObservation};
use crate::steps::{correct_next, expected_next, jump, requested_jump};
use crate::strategy::{StepPlan, StrategyView, Style, plan_hash};
use crate::substatus;
use crate::transitions::{Changes, elapsed, remaining};
use crate::work::{BatchPlan, FinaliseReason, PolicyCheck, TrafficPlan, Work};

/// How soon an analysis that cannot be resolved (a template missing) is looked at again.
const ANALYSIS_RECHECK: Duration = Duration::from_secs(10);

/// How soon to look again at work that is under way (Kruise's `defaultGracePeriodSeconds`).
pub(crate) const RECHECK: Duration = Duration::from_secs(3);

/// How long a new release waits before its first step, so a Rollout spec applied together
/// with the workload change has arrived (Kruise's initializing grace).
const INITIALIZING_GRACE: Duration = Duration::from_secs(3);

/// An upper bound on status-only transitions in one plan; reaching it is a bug.
const MAX_TRANSITIONS: usize = 64;

/// The outcome of [`plan`]: the status so far and the work to do now.
///
/// Pass it, unchanged, to [`crate::advance`] together with the outcome of the work.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The status after the transitions that needed no work. Not final: [`crate::advance`]
    /// returns the status to write.
    pub status: RolloutStatus,
    /// The one piece of work the controller must do now.
    pub work: Work,
    pub(crate) purpose: Purpose,
    pub(crate) events: Vec<Event>,
    pub(crate) requeue_after: Option<Duration>,
    pub(crate) remove_finalizer: bool,
    /// When the background analysis measures next, whatever the planned work.
    pub(crate) background_due: Option<Duration>,
}

/// What the planned work is for; decides how [`crate::advance`] applies its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Idle,
    /// The current step's work in this state.
    Step(StepState),
    Finalise {
        reason: FinaliseReason,
        task: FinalisingStepType,
    },
    /// Traffic back to stable before a release restarts on a newer revision.
    ContinuousReset,
    /// Traffic back to stable after a policy aborted the release.
    AbortRestore,
}

/// Phase one: from the Rollout, the workload and the clock, the status transitions that need no
/// work and the work to do next.
///
/// Planning is a fixpoint: planning again from the returned status (after a crash, or in a
/// second controller) yields the same status and the same work.
pub fn plan(input: &Input<'_>) -> Result<Plan, MachineError> {
    let persisted = input.rollout.status.clone().unwrap_or_default();
    let deleting = input.rollout.metadata.deletion_timestamp.is_some();
    if !deleting && input.workload.is_some_and(|workload| !workload.settled) {
        // The workload controller has not caught up with the workload's spec; anything read
        // from it may be stale. Kruise leaves the status alone and looks again shortly.
        return Ok(Plan {
            status: persisted,
            work: Work::None,
            purpose: Purpose::Idle,
            events: Vec::new(),
            requeue_after: Some(RECHECK),
            remove_finalizer: false,
            background_due: None,
        });
    }
    let mut planner = Planner {
        spec: &input.rollout.spec,
        view: StrategyView::of(&input.rollout.spec.strategy),
        hash: plan_hash(&input.rollout.spec),
        workload: input.workload,
        deleting,
        rollback_in_batch_asked: input
            .rollout
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(ROLLBACK_IN_BATCH))
            .is_some_and(|value| value == "true"),
        now: input.now,
        analysis: input.analysis,
        background_due: None,
        status: persisted,
        events: Vec::new(),
    };
    planner.status.observed_generation = input.rollout.metadata.generation.unwrap_or_default();
    for _ in 0..MAX_TRANSITIONS {
        let (work, purpose, requeue_after, remove_finalizer) = match planner.next() {
            Next::Changed => continue,
            Next::Work(work, purpose) => (work, purpose, None, false),
            Next::Wait(requeue_after) => (Work::None, Purpose::Idle, requeue_after, false),
            Next::Removable => (Work::None, Purpose::Idle, None, true),
        };
        planner.record_workload();
        substatus::mirror_to_top_level(&mut planner.status);
        return Ok(Plan {
            status: planner.status,
            work,
            purpose,
            events: planner.events,
            requeue_after: soonest(requeue_after, planner.background_due),
            remove_finalizer,
            background_due: planner.background_due,
        });
    }
    Err(MachineError::Unsettled(MAX_TRANSITIONS))
}

/// What one look at the status found.
enum Next {
    /// A transition was made; look again.
    Changed,
    Work(Work, Purpose),
    /// Nothing to do until something changes, or until `requeue_after`.
    Wait(Option<Duration>),
    /// The Rollout is being deleted and has handed everything back.
    Removable,
}

struct Planner<'a> {
    spec: &'a RolloutSpec,
    view: StrategyView<'a>,
    hash: String,
    workload: Option<&'a WorkloadObservation>,
    deleting: bool,
    /// The Rollout carries `rollouts.kruise.io/rollback-in-batch: "true"`.
    rollback_in_batch_asked: bool,
    now: Timestamp,
    analysis: &'a ResolvedAnalysis,
    /// Set when the background analysis has nothing due now: how long until it has.
    background_due: Option<Duration>,
    status: RolloutStatus,
    events: Vec<Event>,
}

/// The sooner of two optional requeues (`None`: no timed requeue).
pub(crate) fn soonest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Planner<'_> {
    fn changes(&mut self) -> Changes<'_> {
        Changes {
            status: &mut self.status,
            events: &mut self.events,
            now: self.now,
        }
    }

    /// Kruise records the workload's generation and rollout id while the release is for the
    /// workload's current revision. Done once the status has settled, so that planning again
    /// from the result records the same.
    fn record_workload(&mut self) {
        let Some(workload) = self.workload else {
            return;
        };
        let revision = substatus::revision(&self.status);
        if revision.is_empty() || revision != workload.update_revision {
            return;
        }
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.observed_rollout_id = workload.observed_rollout_id();
            common.observed_workload_generation = workload.generation;
        }
    }

    fn next(&mut self) -> Next {
        if let Some(request) = self.status.abort_request.take() {
            self.abort_requested(&request.reason);
            return Next::Changed;
        }
        if self.deleting {
            return self.terminating();
        }
        let disabled = self.spec.disabled;
        let phase = self.status.phase;
        if disabled
            && !matches!(
                phase,
                Some(RolloutPhase::Disabled | RolloutPhase::Disabling)
            )
        {
            // A release in progress must hand everything back first.
            let (phase, text) = if phase == Some(RolloutPhase::Progressing) {
                (RolloutPhase::Disabling, message::DISABLING)
            } else {
                (RolloutPhase::Disabled, message::DISABLED)
            };
            self.status.phase = Some(phase);
            self.status.message = Some(text.to_owned());
            self.restart_finalising();
            return Next::Changed;
        }
        let Some(phase) = phase else {
            self.status.phase = Some(RolloutPhase::Initial);
            return Next::Changed;
        };
        if self.workload.is_none() && !disabled {
            return self.workload_missing();
        }
        match phase {
            RolloutPhase::Initial => {
                self.status.phase = Some(RolloutPhase::Healthy);
                self.status.message = Some(message::HEALTHY.to_owned());
                Next::Changed
            }
            RolloutPhase::Healthy => self.healthy(),
            RolloutPhase::Disabled if !disabled => {
                self.status.phase = Some(RolloutPhase::Healthy);
                self.status.message = Some(message::HEALTHY.to_owned());
                Next::Changed
            }
            RolloutPhase::Disabled => Next::Wait(None),
            RolloutPhase::Disabling => self.finalise(FinaliseReason::Disabled),
            RolloutPhase::Progressing => self.progressing(),
            // Only reachable for a Rollout whose deletion was somehow undone: nothing to do.
            RolloutPhase::Terminating => Next::Wait(None),
        }
    }

    /// Kruise resets the status when the workload is gone, so the next workload starts fresh.
    fn workload_missing(&mut self) -> Next {
        let reset = RolloutStatus {
            observed_generation: self.status.observed_generation,
            phase: Some(RolloutPhase::Initial),
            message: Some(message::WORKLOAD_NOT_FOUND.to_owned()),
            ..Default::default()
        };
        if self.status == reset {
            return Next::Wait(None);
        }
        let name = &self.spec.workload_ref;
        self.events.push(Event::warning(
            EventReason::WorkloadNotFound,
            format!(
                "{} {} does not exist; the Rollout waits for it",
                name.kind, name.name
            ),
        ));
        self.status = reset;
        Next::Changed
    }

    fn healthy(&mut self) -> Next {
        let Some(workload) = self.workload else {
            return Next::Wait(None);
        };
        let succeeded = conditions::get(&self.status, SUCCEEDED)
            .is_some_and(|condition| condition.status == ConditionStatus::True);
        if let Some(common) = substatus::common_mut(&mut self.status)
            && succeeded
            && common.current_step_state == StepState::StepReady
        {
            // An approval sent without a resourceVersion (kubectl-kruise's status patch) that
            // landed just after the release completed: the release stays completed.
            common.current_step_state = StepState::Completed;
            return Next::Changed;
        }
        if self.release_requested(workload) {
            self.status.phase = Some(RolloutPhase::Progressing);
            self.changes().progressing(
                ConditionStatus::True,
                reasons::INITIALIZING,
                Some(message::PROGRESSING),
            );
            conditions::remove(&mut self.status, SUCCEEDED);
            self.events.push(Event::normal(
                EventReason::RolloutStarted,
                format!(
                    "releasing revision {} in {} steps (stable revision {})",
                    workload.update_revision,
                    self.view.step_count(),
                    workload.stable_revision
                ),
            ));
            return Next::Changed;
        }
        if substatus::common(&self.status).is_some() {
            return Next::Wait(None);
        }
        // Nothing was ever released: record the workload as a completed release, so a tool can
        // tell the first deployment is done the same way it tells any later one (Kruise does
        // this for PaaS platforms that compare observedRolloutID and the step state).
        let steps = i32::try_from(self.view.step_count()).unwrap_or(i32::MAX);
        let common = CommonStatus {
            observed_workload_generation: workload.generation,
            observed_rollout_id: workload.observed_rollout_id(),
            rollout_hash: self.hash.clone(),
            stable_revision: workload.stable_revision.clone(),
            pod_template_hash: workload.update_pod_template_hash.clone(),
            current_step_index: steps,
            next_step_index: expected_next(steps, self.view.step_count()),
            current_step_state: StepState::Completed,
            ..Default::default()
        };
        substatus::install(
            &mut self.status,
            self.view.style,
            common,
            &workload.update_revision,
        );
        self.status.message = Some(message::DEPLOYED.to_owned());
        Next::Changed
    }

    /// A release starts when the webhook has taken over a workload whose template moved away
    /// from the stable revision, unless that revision is the one just released (the workload
    /// controller may still be finishing it).
    fn release_requested(&self, workload: &WorkloadObservation) -> bool {
        let just_released = substatus::common(&self.status).is_some_and(|common| {
            common.current_step_state == StepState::Completed
                && substatus::revision(&self.status) == workload.update_revision
        });
        workload.taken_over && !workload.rolled_back() && !just_released
    }

    fn progressing(&mut self) -> Next {
        let reason = conditions::reason(&self.status, PROGRESSING).map(str::to_owned);
        match reason.as_deref() {
            Some(reasons::INITIALIZING) => self.initializing(),
            Some(reasons::IN_ROLLING) => self.in_rolling(false),
            Some(ABORTED) => self.in_rolling(true),
            Some(reasons::FINALISING) => self.finalise(FinaliseReason::Success),
            Some(reasons::CANCELLING) => self.finalise(FinaliseReason::Rollback),
            Some(reasons::PAUSED) if self.spec.strategy.paused => Next::Wait(None),
            Some(reasons::PAUSED) => {
                self.changes().progressing(
                    ConditionStatus::True,
                    reasons::IN_ROLLING,
                    Some(message::PROGRESSING),
                );
                self.events.push(Event::normal(
                    EventReason::RolloutResumed,
                    "spec.strategy.paused is off; the release goes on",
                ));
                Next::Changed
            }
            Some(reasons::COMPLETED) => {
                self.status.phase = Some(RolloutPhase::Healthy);
                Next::Changed
            }
            // No or an unknown Progressing condition (hand-edited status): pick the release up
            // where the progress says, or start it.
            _ => {
                let reason = if substatus::common(&self.status).is_some() {
                    reasons::IN_ROLLING
                } else {
                    reasons::INITIALIZING
                };
                self.changes().progressing(
                    ConditionStatus::True,
                    reason,
                    Some(message::PROGRESSING),
                );
                Next::Changed
            }
        }
    }

    fn initializing(&mut self) -> Next {
        let Some(workload) = self.workload else {
            return Next::Wait(None);
        };
        let current = substatus::common(&self.status).is_some()
            && substatus::revision(&self.status) == workload.update_revision;
        if !current {
            let common = CommonStatus {
                observed_workload_generation: workload.generation,
                observed_rollout_id: workload.observed_rollout_id(),
                rollout_hash: self.hash.clone(),
                stable_revision: workload.stable_revision.clone(),
                pod_template_hash: workload.update_pod_template_hash.clone(),
                current_step_index: 1,
                next_step_index: expected_next(1, self.view.step_count()),
                current_step_state: StepState::BeforeStepUpgrade,
                last_update_time: Some(Time(self.now)),
                ..Default::default()
            };
            substatus::install(
                &mut self.status,
                self.view.style,
                common,
                &workload.update_revision,
            );
            return Next::Changed;
        }
        if let Err(error) = self.view.plan() {
            return self.invalid(&error);
        }
        let since = conditions::get(&self.status, PROGRESSING)
            .and_then(|condition| condition.last_update_time.as_ref());
        if let Some(left) = remaining(since, INITIALIZING_GRACE, self.now) {
            return Next::Wait(Some(left));
        }
        self.changes().progressing(
            ConditionStatus::True,
            reasons::IN_ROLLING,
            Some(message::PROGRESSING),
        );
        Next::Changed
    }

    /// Holds the release with the spec problem in the status; a spec change wakes it up.
    fn invalid(&mut self, error: &SpecError) -> Next {
        let text = format!("The Rollout cannot run its steps: {error}");
        if self.status.message.as_deref() != Some(text.as_str()) {
            self.events
                .push(Event::warning(EventReason::InvalidRollout, text.clone()));
            self.status.message = Some(text);
        }
        Next::Wait(None)
    }

    /// A release under way (`aborted`: held after a policy abort). The special cases come
    /// first, in Kruise's order.
    fn in_rolling(&mut self, aborted: bool) -> Next {
        let Some(workload) = self.workload else {
            return Next::Wait(None);
        };
        if substatus::common(&self.status).is_none() {
            self.changes().progressing(
                ConditionStatus::True,
                reasons::INITIALIZING,
                Some(message::PROGRESSING),
            );
            return Next::Changed;
        }
        let releasing = substatus::revision(&self.status).to_owned();
        let rolled_back = workload.rolled_back() && workload.update_revision != releasing;
        if rolled_back && !self.rollback_in_batches() {
            substatus::set_revision(&mut self.status, &workload.update_revision);
            if let Some(common) = substatus::common_mut(&mut self.status) {
                common.finalising_step = None;
            }
            self.changes().progressing(
                ConditionStatus::True,
                reasons::CANCELLING,
                Some(message::ROLLED_BACK),
            );
            self.events.push(Event::normal(
                EventReason::RolloutRolledBack,
                format!(
                    "the workload went back to the stable revision {}; cancelling the release of {releasing}",
                    workload.update_revision
                ),
            ));
            return Next::Changed;
        }
        if !aborted && self.spec.strategy.paused {
            self.changes().progressing(
                ConditionStatus::True,
                reasons::PAUSED,
                Some(message::PAUSED),
            );
            self.events.push(Event::normal(
                EventReason::RolloutPaused,
                "spec.strategy.paused holds the release",
            ));
            return Next::Changed;
        }
        if rolled_back {
            return self.roll_back_in_batches(workload, &releasing, aborted);
        }
        if !releasing.is_empty() && workload.update_revision != releasing && !workload.rolled_back()
        {
            return self.continuous_release(workload);
        }
        let plan = match self.view.plan() {
            Ok(plan) => plan,
            Err(error) => return self.invalid(&error),
        };
        if let Some(common) = substatus::common_mut(&mut self.status)
            && common.pod_template_hash.is_empty()
        {
            common.pod_template_hash = workload.update_pod_template_hash.clone();
        }
        let recorded_hash =
            substatus::common(&self.status).map(|common| common.rollout_hash.as_str());
        if recorded_hash.is_some_and(|hash| !hash.is_empty() && hash != self.hash) {
            return self.plan_changed(&plan, workload, aborted);
        }
        if aborted {
            return self.aborted(&plan);
        }
        self.rolling(&plan, workload)
    }

    /// Kruise rolls back step by step, instead of at once, only when asked through the
    /// `rollouts.kruise.io/rollback-in-batch: "true"` annotation, for a release without traffic
    /// routing that updates the workload in place (partition style).
    fn rollback_in_batches(&self) -> bool {
        self.rollback_in_batch_asked
            && !self.view.has_traffic_routings()
            && self.view.style == Style::Canary
            && !self.view.extra_workload
    }

    fn roll_back_in_batches(
        &mut self,
        workload: &WorkloadObservation,
        releasing: &str,
        aborted: bool,
    ) -> Next {
        let steps = self.view.step_count();
        let (hash, now) = (self.hash.clone(), self.now);
        substatus::set_revision(&mut self.status, &workload.update_revision);
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.current_step_index = 1;
            common.next_step_index = expected_next(1, steps);
            common.current_step_state = StepState::BeforeStepUpgrade;
            common.finalising_step = None;
            common.rollout_hash = hash;
            common.last_update_time = Some(Time(now));
        }
        if aborted {
            self.changes().progressing(
                ConditionStatus::True,
                reasons::IN_ROLLING,
                Some(message::PROGRESSING),
            );
        }
        self.events.push(Event::normal(
            EventReason::RolloutRolledBack,
            format!(
                "the workload went back to the stable revision {}; rolling {releasing} back step by step",
                workload.update_revision
            ),
        ));
        Next::Changed
    }

    /// A third revision arrived mid-release: traffic back to stable, then start over.
    fn continuous_release(&mut self, workload: &WorkloadObservation) -> Next {
        if !self.view.has_traffic_routings() {
            self.changes().restart_release(&workload.update_revision);
            return Next::Changed;
        }
        let now = self.now;
        if let Some(common) = substatus::common_mut(&mut self.status)
            && common.finalising_step != Some(FinalisingStepType::RouteTrafficToStable)
        {
            common.finalising_step = Some(FinalisingStepType::RouteTrafficToStable);
            common.last_update_time = Some(Time(now));
        }
        Next::Work(Work::RestoreTraffic, Purpose::ContinuousReset)
    }

    /// The steps changed mid-release: continue from the step that fits the pods already
    /// updated (Kruise's `handleRolloutPlanChanged`).
    fn plan_changed(
        &mut self,
        plan: &StepPlan<'_>,
        workload: &WorkloadObservation,
        aborted: bool,
    ) -> Next {
        let updated = substatus::updated_replicas(&self.status);
        let (hash, now) = (self.hash.clone(), self.now);
        if aborted {
            self.changes().progressing(
                ConditionStatus::True,
                reasons::IN_ROLLING,
                Some(message::PROGRESSING),
            );
        }
        let Some(common) = substatus::common_mut(&mut self.status) else {
            return Next::Wait(None);
        };
        let target = plan.step_for_replicas(common.current_step_index, updated, workload.replicas);
        common.rollout_hash = hash;
        common.last_update_time = Some(Time(now));
        common.finalising_step = None;
        if common.next_step_index == target {
            // The new plan's next step is the one already queued: this step is done.
            common.current_step_state = StepState::StepReady;
        } else {
            common.next_step_index = target;
            if let Some(target) = requested_jump(common, plan.len()) {
                jump(common, plan, target, updated, workload.replicas, now);
            }
        }
        self.events.push(Event::normal(
            EventReason::RolloutPlanChanged,
            format!(
                "the steps changed during the release; {updated} pods run the new revision, so it continues with step({target}/{})",
                plan.len()
            ),
        ));
        Next::Changed
    }

    /// Held after an abort: traffic goes back to stable, then the release waits for approval,
    /// a jump, a rollback or a newer revision.
    fn aborted(&mut self, plan: &StepPlan<'_>) -> Next {
        let Some(common) = substatus::common(&self.status) else {
            return Next::Wait(None);
        };
        let approved = common.current_step_state == StepState::StepReady;
        let retry = requested_jump(common, plan.len());
        if approved || retry.is_some() {
            let now = self.now;
            let steps = plan.len();
            if let Some(common) = substatus::common_mut(&mut self.status) {
                common.finalising_step = None;
                if let Some(target) = retry {
                    // The abort may have taken the step's pods away: the step starts over
                    // from its batch (releasing an existing batch again changes nothing).
                    common.current_step_index = target;
                    common.next_step_index = expected_next(target, steps);
                    common.current_step_state = StepState::BeforeStepUpgrade;
                    common.last_update_time = Some(Time(now));
                }
            }
            // A retried or approved release measures afresh.
            self.status.analysis_runs.clear();
            self.changes().progressing(
                ConditionStatus::True,
                reasons::IN_ROLLING,
                Some(message::PROGRESSING),
            );
            self.events.push(Event::normal(
                EventReason::RolloutResumed,
                "a person approved or moved the aborted release; it goes on",
            ));
            return Next::Changed;
        }
        if common.finalising_step == Some(FinalisingStepType::RouteTrafficToStable) {
            return Next::Work(Work::RestoreTraffic, Purpose::AbortRestore);
        }
        match self.current_batch(plan) {
            Some(batch) => Next::Work(Work::AbortWorkload(batch), Purpose::Idle),
            None => Next::Wait(None),
        }
    }

    /// The current step's batch, as `release-batch` is told it.
    fn current_batch(&self, plan: &StepPlan<'_>) -> Option<BatchPlan> {
        let workload = self.workload?;
        let common = substatus::common(&self.status)?;
        let position = usize::try_from(common.current_step_index).ok()?;
        let size = plan.batch_size(position, workload.replicas)?;
        Some(BatchPlan {
            batch_index: size_index(position),
            step_replicas: size.step_replicas,
            planned_replicas: size.planned_replicas,
            tolerated_failures: size.tolerated_failures,
            stable_revision: common.stable_revision.clone(),
            update_revision: substatus::revision(&self.status).to_owned(),
            rollout_id: workload.rollout_id().map(str::to_owned),
        })
    }

    /// The current step's analysis (`StepMetricsAnalysis`): start its run, measure what is
    /// due, and act on the run's phase.
    fn step_analysis(&mut self, index: i32, steps: usize) -> Next {
        let Some(resolved) = self.analysis.steps.get(&index) else {
            return Next::Wait(Some(Duration::ZERO));
        };
        let metrics = match resolved {
            Ok(metrics) => metrics,
            Err(problem) => {
                return self.analysis_unresolved(
                    &format!("the analysis of step({index}/{steps})"),
                    problem,
                );
            }
        };
        let name = analysis::step_run(index);
        let Some(run) = self
            .status
            .analysis_runs
            .iter()
            .find(|run| run.name == name)
        else {
            self.start_run(&name, metrics, format!("step({index}/{steps})"));
            return Next::Changed;
        };
        let (phase, detail) = (run.phase, run.message.clone());
        match phase {
            AnalysisPhase::Successful => {
                self.events.push(Event::normal(
                    EventReason::AnalysisSucceeded,
                    format!("the analysis of step({index}/{steps}) is successful: {detail}"),
                ));
                self.set_step_state(StepState::StepPaused);
                Next::Changed
            }
            AnalysisPhase::Failed | AnalysisPhase::Error => {
                let reason = format!("the analysis of step({index}/{steps}) failed: {detail}");
                self.abort(index, steps, &reason);
                Next::Changed
            }
            AnalysisPhase::Inconclusive => {
                let text = format!(
                    "Rollout is in step({index}/{steps}), and its analysis is inconclusive: \
                     {detail}; approve to enter the next step"
                );
                if self.status.message.as_deref() != Some(text.as_str()) {
                    self.events.push(Event::warning(
                        EventReason::AnalysisInconclusive,
                        text.clone(),
                    ));
                }
                self.status.message = Some(text);
                Next::Wait(None)
            }
            AnalysisPhase::Running => {
                let text = if detail.is_empty() {
                    "no measurement yet".to_owned()
                } else {
                    detail
                };
                self.status.message = Some(format!(
                    "Rollout is in step({index}/{steps}), and waiting for analysis: {text}"
                ));
                self.measure_due(&name, metrics, index, steps)
                    .unwrap_or_else(Next::Wait)
            }
        }
    }

    /// The background analysis, from its starting step until the release ends. `None` when
    /// it has nothing to say and the step goes on; a failure aborts the release.
    fn background_analysis(&mut self, steps: usize) -> Option<Next> {
        let background = self.analysis.background.as_ref()?;
        let common = substatus::common(&self.status)?;
        let (index, state) = (common.current_step_index, common.current_step_state);
        let starting = i32::try_from(background.starting_step).unwrap_or(i32::MAX);
        if state == StepState::Completed || index < starting {
            return None;
        }
        let metrics = match &background.metrics {
            Ok(metrics) => metrics,
            Err(problem) => {
                return Some(self.analysis_unresolved("the background analysis", problem));
            }
        };
        let Some(run) = self
            .status
            .analysis_runs
            .iter()
            .find(|run| run.name == analysis::BACKGROUND)
        else {
            self.start_run(
                analysis::BACKGROUND,
                metrics,
                format!("the background, from step({index}/{steps})"),
            );
            return Some(Next::Changed);
        };
        let (phase, detail) = (run.phase, run.message.clone());
        match phase {
            AnalysisPhase::Failed | AnalysisPhase::Error => {
                self.abort(
                    index,
                    steps,
                    &format!("the background analysis failed: {detail}"),
                );
                Some(Next::Changed)
            }
            AnalysisPhase::Inconclusive if state == StepState::StepReady => {
                // A person approved the inconclusive result: measure afresh.
                self.status
                    .analysis_runs
                    .retain(|run| run.name != analysis::BACKGROUND);
                Some(Next::Changed)
            }
            AnalysisPhase::Inconclusive => {
                self.status.message = Some(format!(
                    "Rollout is in step({index}/{steps}), and its background analysis is \
                     inconclusive: {detail}; approve to go on"
                ));
                Some(Next::Wait(None))
            }
            AnalysisPhase::Successful => None,
            AnalysisPhase::Running => {
                match self.measure_due(analysis::BACKGROUND, metrics, index, steps) {
                    Ok(work) => Some(work),
                    Err(due) => {
                        self.background_due = due;
                        None
                    }
                }
            }
        }
    }

    /// The measurements of run `name` due now, or how long until one is.
    fn measure_due(
        &self,
        name: &str,
        metrics: &[MetricSpec],
        index: i32,
        steps: usize,
    ) -> Result<Next, Option<Duration>> {
        let run = self
            .status
            .analysis_runs
            .iter()
            .find(|run| run.name == name);
        let Some(run) = run else {
            return Err(None);
        };
        let (due, next) = analysis::due(run, metrics, self.now);
        if due.is_empty() {
            return Err(next);
        }
        Ok(Next::Work(
            Work::Measure(MeasurePlan {
                run: name.to_owned(),
                step_index: u32::try_from(index).unwrap_or(0),
                step_count: u32::try_from(steps).unwrap_or(u32::MAX),
                elapsed: elapsed(Some(&run.started_at), self.now).unwrap_or_default(),
                metrics: due,
            }),
            Purpose::Idle,
        ))
    }

    fn start_run(&mut self, name: &str, metrics: &[MetricSpec], what: String) {
        self.status.analysis_runs.retain(|run| run.name != name);
        self.status
            .analysis_runs
            .push(analysis::start(name, metrics, self.now));
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        self.events.push(Event::normal(
            EventReason::AnalysisStarted,
            format!("analysis of {what} started: {}", names.join(", ")),
        ));
    }

    /// An analysis that cannot be resolved holds the release and says why; it is looked at
    /// again shortly (the template may be applied after the Rollout).
    fn analysis_unresolved(&mut self, what: &str, problem: &str) -> Next {
        let text = format!("cannot run {what}: {problem}");
        if self.status.message.as_deref() != Some(text.as_str()) {
            self.events
                .push(Event::warning(EventReason::AnalysisInvalid, text.clone()));
        }
        self.status.message = Some(text);
        Next::Wait(Some(ANALYSIS_RECHECK))
    }

    /// A person asked to abort (`status.abortRequest`, already taken from the status): the
    /// release in progress is aborted as a failed analysis aborts it; anything else drops the
    /// request and says why.
    fn abort_requested(&mut self, reason: &str) {
        let reason = abort::requested(reason);
        if let Some(why) = abort::abort_refusal(&self.status, self.spec.disabled, self.deleting) {
            self.events.push(Event::warning(
                EventReason::AbortRefused,
                format!("the Rollout cannot be aborted: {why}; the request ({reason}) is dropped"),
            ));
            return;
        }
        if let Some(index) = substatus::common(&self.status).map(|c| c.current_step_index) {
            self.abort(index, self.view.step_count(), &reason);
        }
    }

    fn abort(&mut self, index: i32, steps: usize, reason: &str) {
        let routes_traffic = self.view.has_traffic_routings();
        self.changes().abort(
            u32::try_from(index).unwrap_or(0),
            u32::try_from(steps).unwrap_or(u32::MAX),
            reason,
            routes_traffic,
        );
    }

    fn set_step_state(&mut self, state: StepState) {
        let now = self.now;
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.current_step_state = state;
            common.last_update_time = Some(Time(now));
        }
    }

    /// The step states, one at a time (Kruise's `runCanary`).
    fn rolling(&mut self, plan: &StepPlan<'_>, workload: &WorkloadObservation) -> Next {
        let steps = plan.len();
        if let Some(next) = self.background_analysis(steps) {
            return next;
        }
        let updated = substatus::updated_replicas(&self.status);
        let now = self.now;
        let routes_traffic = self.view.has_traffic_routings();
        let Some(common) = substatus::common_mut(&mut self.status) else {
            return Next::Wait(None);
        };

        if common.current_step_state == StepState::Completed {
            common.finalising_step = None;
            self.changes().progressing(
                ConditionStatus::True,
                reasons::FINALISING,
                Some(message::FINALISING),
            );
            return Next::Changed;
        }
        let from = common.current_step_index;
        let target = if plan.step(from).is_none() {
            // The index names no step (a hand-edited status): continue where the pods are.
            Some(plan.step_for_replicas(from, updated, workload.replicas))
        } else if correct_next(common, steps) {
            return Next::Changed;
        } else {
            requested_jump(common, steps)
        };
        if let Some(target) = target {
            jump(common, plan, target, updated, workload.replicas, now);
            self.events.push(Event::normal(
                EventReason::StepJumped,
                format!("moved from step({from}/{steps}) to step({target}/{steps}) as nextStepIndex asked"),
            ));
            return Next::Changed;
        }

        let index = common.current_step_index;
        let (Some(step), Ok(position)) = (plan.step(index), usize::try_from(index)) else {
            return Next::Wait(None);
        };
        if rescaled(common, workload) {
            // Scaled (or otherwise edited, same template) after this step's batch was
            // released: release it again for the new replica count, as Kruise's batch release
            // does when the workload's replicas change mid-batch.
            common.current_step_state = StepState::StepUpgrade;
            common.last_update_time = Some(Time(now));
            self.events.push(Event::normal(
                EventReason::StepUpgraded,
                format!(
                    "the workload changed to {} replicas during step({index}/{steps}); its batch is released again",
                    workload.replicas
                ),
            ));
            return Next::Changed;
        }
        if matches!(
            common.current_step_state,
            StepState::BeforeStepUpgrade | StepState::StepUpgrade | StepState::StepTrafficRouting
        ) {
            // A step entered (again) measures afresh once its traffic is routed.
            self.status
                .analysis_runs
                .retain(|run| run.name == analysis::BACKGROUND);
        }
        let Some(common) = substatus::common_mut(&mut self.status) else {
            return Next::Wait(None);
        };
        match common.current_step_state {
            StepState::BeforeStepUpgrade if routes_traffic => {
                let work = if step.routes_traffic() {
                    Work::PrepareTraffic {
                        step_index: u32::try_from(index).unwrap_or(0),
                    }
                } else {
                    // This step sends no traffic through the routes: clear what an earlier
                    // step routed before more pods move.
                    Work::RestoreTraffic
                };
                Next::Work(work, Purpose::Step(StepState::BeforeStepUpgrade))
            }
            StepState::BeforeStepUpgrade => {
                common.current_step_state = StepState::StepUpgrade;
                common.last_update_time = Some(Time(now));
                Next::Changed
            }
            StepState::StepUpgrade => {
                let Some(batch) = self.current_batch(plan) else {
                    return Next::Wait(None);
                };
                self.status.message = Some(message::upgrading(index, steps));
                Next::Work(
                    Work::ReleaseBatch(batch),
                    Purpose::Step(StepState::StepUpgrade),
                )
            }
            StepState::StepTrafficRouting if routes_traffic && step.routes_traffic() => Next::Work(
                Work::RouteTraffic(step.traffic(index)),
                Purpose::Step(StepState::StepTrafficRouting),
            ),
            StepState::StepTrafficRouting => {
                common.current_step_state = StepState::StepMetricsAnalysis;
                common.last_update_time = Some(Time(now));
                Next::Changed
            }
            StepState::StepMetricsAnalysis if !step.has_analysis() => {
                common.current_step_state = StepState::StepPaused;
                common.last_update_time = Some(Time(now));
                Next::Changed
            }
            StepState::StepMetricsAnalysis if !self.analysis.steps.contains_key(&index) => {
                // The analysis was resolved for another step (this plan moved on): resolve
                // again for this one.
                Next::Wait(Some(Duration::ZERO))
            }
            StepState::StepMetricsAnalysis => self.step_analysis(index, steps),
            StepState::StepPaused if plan.skips_pause(position) => {
                common.current_step_state = StepState::StepReady;
                common.last_update_time = Some(Time(now));
                Next::Changed
            }
            StepState::StepPaused => Next::Work(
                Work::EvaluatePolicies(policy_check(common, steps, step.pause_seconds(), now)),
                Purpose::Step(StepState::StepPaused),
            ),
            // A step is ready when its pause ended or a person approved it: never undo that,
            // move on.
            StepState::StepReady => {
                common.last_update_time = Some(Time(now));
                let text = if position < steps {
                    common.current_step_index = index + 1;
                    common.next_step_index = expected_next(index + 1, steps);
                    common.current_step_state = StepState::BeforeStepUpgrade;
                    format!(
                        "step({index}/{steps}) is ready; entering step({}/{steps})",
                        index + 1
                    )
                } else {
                    common.current_step_state = StepState::Completed;
                    format!("step({index}/{steps}) is ready; every step is done")
                };
                self.events
                    .push(Event::normal(EventReason::StepReady, text));
                Next::Changed
            }
            StepState::Completed => Next::Wait(None),
        }
    }

    /// Deletion: hand everything back, then let the finalizer go.
    fn terminating(&mut self) -> Next {
        if self.status.phase != Some(RolloutPhase::Terminating)
            || conditions::get(&self.status, TERMINATING).is_none()
        {
            if self.status.phase != Some(RolloutPhase::Terminating) {
                self.restart_finalising();
            }
            self.status.phase = Some(RolloutPhase::Terminating);
            conditions::set(
                &mut self.status,
                TERMINATING,
                ConditionStatus::True,
                terminating::IN_TERMINATING,
                message::TERMINATING,
                self.now,
            );
            return Next::Changed;
        }
        if conditions::reason(&self.status, TERMINATING) == Some(terminating::COMPLETED) {
            return Next::Removable;
        }
        self.finalise(FinaliseReason::Deleting)
    }

    /// Forgets how far an earlier finalising (or an abort's traffic restore) got: a new reason
    /// has its own order, and resuming another order's step could hand the workload back
    /// before traffic left it.
    fn restart_finalising(&mut self) {
        if let Some(common) = substatus::common_mut(&mut self.status) {
            common.finalising_step = None;
        }
    }

    /// Runs (or resumes) the finalising tasks for `reason`.
    fn finalise(&mut self, reason: FinaliseReason) -> Next {
        let tasks = finalise::tasks(
            self.view.style,
            reason,
            self.view.has_traffic_routings(),
            self.workload.is_some(),
        );
        let now = self.now;
        let last_step = self.view.step_count();
        let Some(common) = substatus::common_mut(&mut self.status) else {
            // Nothing was ever released: nothing to hand back.
            self.changes().finished(reason);
            return Next::Changed;
        };
        match finalise::resume(&tasks, common.finalising_step) {
            Position::Done => {
                common.finalising_step = Some(FinalisingStepType::End);
                self.changes().finished(reason);
                Next::Changed
            }
            Position::Task(task) => {
                if common.finalising_step != Some(task) {
                    common.finalising_step = Some(task);
                    common.last_update_time = Some(Time(now));
                }
                let work = finalising_work(task, reason, last_step);
                Next::Work(work, Purpose::Finalise { reason, task })
            }
        }
    }
}

/// The annotation that asks for a step-by-step rollback.
const ROLLBACK_IN_BATCH: &str = "rollouts.kruise.io/rollback-in-batch";

/// The workload's spec changed (same template: the release would have restarted otherwise)
/// after the current step's batch was released, so the batch may no longer fit.
fn rescaled(common: &CommonStatus, workload: &WorkloadObservation) -> bool {
    matches!(
        common.current_step_state,
        StepState::StepTrafficRouting | StepState::StepMetricsAnalysis | StepState::StepPaused
    ) && common.observed_workload_generation != 0
        && common.observed_workload_generation != workload.generation
}

fn size_index(position: usize) -> u32 {
    u32::try_from(position.saturating_sub(1)).unwrap_or(u32::MAX)
}

fn policy_check(
    common: &CommonStatus,
    steps: usize,
    pause_seconds: Option<u32>,
    now: Timestamp,
) -> PolicyCheck {
    PolicyCheck {
        step_index: u32::try_from(common.current_step_index).unwrap_or(0),
        step_count: u32::try_from(steps).unwrap_or(u32::MAX),
        elapsed: elapsed(common.last_update_time.as_ref(), now).unwrap_or_default(),
        pause_seconds,
    }
}

/// The work behind a finalising task.
fn finalising_work(task: FinalisingStepType, reason: FinaliseReason, last_step: usize) -> Work {
    match task {
        FinalisingStepType::RouteTrafficToNew => Work::RouteTraffic(TrafficPlan {
            step_index: u32::try_from(last_step).unwrap_or(u32::MAX),
            weight: Some(100),
            matches: Vec::new(),
            request_header_modifier: None,
        }),
        FinalisingStepType::ResumeWorkload | FinalisingStepType::ReleaseWorkloadControl => {
            Work::FinalizeWorkload { reason }
        }
        FinalisingStepType::RouteTrafficToStable
        | FinalisingStepType::RestoreStableService
        | FinalisingStepType::RemoveCanaryService => Work::RestoreTraffic,
        FinalisingStepType::End | FinalisingStepType::WaitEndless => Work::None,
    }
}
