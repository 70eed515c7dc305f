//! The Rollout step machine: pure functions from a Rollout, its workload and the clock to the
//! next status, the work to do and the events to publish. No Kubernetes client, no WebAssembly,
//! no I/O and no clock: the controller reads, the machine decides, the controller acts.
//!
//! It runs Kruise Rollout's state machine (`pkg/controller/rollout` in openkruise/rollouts) over
//! Kruise's own status fields, so existing tools keep working: phases Initial, Healthy,
//! Progressing, Disabling, Disabled, Terminating; the Progressing condition's reasons
//! Initializing, InRolling, Paused, Cancelling, Finalising, Completed (plus Waxwing's
//! [`ABORTED`]); step states BeforeStepUpgrade, StepUpgrade, StepTrafficRouting,
//! StepMetricsAnalysis, StepPaused, StepReady and Completed; `nextStepIndex` jumps; and
//! `finalisingStep` for resumable finalising.
//!
//! # The protocol: two phases per reconcile
//!
//! 1. [`plan`] makes every transition that needs no work (a release starts, a rollback or a
//!    newer revision is detected, the Rollout is paused, disabled or deleted, a step moves on)
//!    and names the one piece of [`Work`] the current state needs.
//! 2. The controller does that work, calling the plugins, and reports a [`WorkOutcome`].
//! 3. [`advance`] applies the outcome and returns the [`Transition`]: the status to write, the
//!    events to publish, when to reconcile again and whether the finalizer may go.
//!
//! Always call [`advance`], also for [`Work::None`] (with [`WorkOutcome::Done`]): the events
//! and the requeue of the plan travel through it.
//!
//! ```
//! use waxwing_api::v1beta1::Rollout;
//! use waxwing_machine::{
//!     advance, plan, Input, MachineError, ResolvedAnalysis, Transition, Work, WorkOutcome,
//!     WorkloadObservation,
//! };
//!
//! /// One reconcile. `observed` comes from the workload plugin's `observe`; `now` from the
//! /// wall clock; `run` calls the plugins and applies what they return.
//! fn reconcile(
//!     rollout: &Rollout,
//!     observed: Option<&WorkloadObservation>,
//!     now: k8s_openapi::jiff::Timestamp,
//!     run: impl FnOnce(&Work) -> WorkOutcome,
//! ) -> Result<Transition, MachineError> {
//!     let analysis = ResolvedAnalysis::default(); // the step has no analysis
//!     let input = Input { rollout, workload: observed, now, analysis: &analysis };
//!     let plan = plan(&input)?;
//!     let outcome = match &plan.work {
//!         Work::None => WorkOutcome::Done,
//!         // release-batch + check-batch, route, restore, evaluate, finalize...
//!         work => run(work),
//!     };
//!     advance(&input, &plan, outcome)
//!     // Then: write transition.status (with the resourceVersion that was read, so a person's
//!     // approval made meanwhile is never overwritten), publish transition.events, requeue
//!     // after transition.requeue_after, and remove the finalizer if
//!     // transition.remove_finalizer.
//! }
//! ```
//!
//! Every piece of work is idempotent and every transition is recorded in the status before the
//! next piece of work starts, so a controller that restarts anywhere resumes from the status
//! alone, and planning twice from the same status plans the same work.
//!
//! # Choices worth knowing
//!
//! - Replicas: a step's replicas are resolved against the workload's (percentages rounded up),
//!   clamped to them and never below an earlier step's; see [`planned_replicas`].
//! - failureThreshold: resolved against the planned pods, rounded up as Kruise's batch check
//!   does; unset means zero tolerance, which is what Kruise actually does (its docs promise the
//!   workload's maxUnavailable, which the workload plugin does not report); see
//!   [`tolerated_failures`].
//! - Pauses are policy decisions: the machine asks ([`Work::EvaluatePolicies`])
//!   with the step's pause and the time spent in the state; the pause policy answers Wait,
//!   Pause or Proceed. A `StepReady` written by a person is honoured from any step state.
//! - Traffic work completes only after the routings' grace period (Kruise's
//!   `gracePeriodSeconds`, 3 s by default) since the last route change.
//! - Rollback (the template back on the stable revision) cancels the release and finalises
//!   at once, traffic first; `rollouts.kruise.io/rollback-in-batch: "true"` instead rolls back
//!   through the steps, for in-place (partition) releases without traffic routing, as in Kruise.
//! - A newer revision mid-release (continuous release) restores traffic, then restarts from the
//!   first step, for canary and blue-green alike (Kruise refuses it for blue-green).
//! - Analysis ([`analysis`](crate::MetricSpec)): a step's metrics are measured once its
//!   traffic is routed ([`Work::Measure`]); successful goes on, inconclusive waits for a
//!   person, failed (or too many errors in a row) aborts. Background metrics are measured from
//!   their starting step until the release ends; only their failure matters.
//! - An abort sends traffic back to stable, then takes the new revision out of service
//!   ([`Work::AbortWorkload`]) and holds the release for a person: approving goes on with the
//!   next step, `nextStepIndex` set to the current step retries it from its batch. A person
//!   aborts through `status.abortRequest` (see [`abort_refusal`]); the machine takes the
//!   request away as it acts on it, so a retried release is not aborted again.

mod abort;
mod advance;
mod analysis;
mod conditions;
mod error;
mod event;
mod finalise;
mod input;
mod plan;
mod replicas;
mod steps;
mod strategy;
mod substatus;
mod transitions;
mod work;

pub use abort::{abort_refusal, is_aborted};
pub use advance::{Transition, advance};
pub use analysis::{
    BACKGROUND, BackgroundSpec, MeasurePlan, MeasurementOutcome, MeasurementResult, MetricSpec,
    ResolvedAnalysis, step_run,
};
pub use conditions::ABORTED;
pub use error::{MachineError, SpecError};
pub use event::{Event, EventReason, EventType};
pub use input::{Input, WorkloadObservation};
pub use plan::{Plan, plan};
pub use replicas::{IntOrPercent, planned_replicas, tolerated_failures};
pub use work::{
    BatchPlan, BatchProgress, Decision, FinaliseReason, PolicyCheck, TrafficPlan, Work, WorkOutcome,
};

/// How long proxies get to pick up a route change: the longest `gracePeriodSeconds` of the
/// routings, 3 seconds when unset.
pub fn traffic_grace(strategy: &waxwing_api::v1beta1::RolloutStrategy) -> std::time::Duration {
    strategy::StrategyView::of(strategy).traffic_grace()
}

/// Checks that a Rollout's strategy can be run: a strategy with steps, every step's replicas a
/// positive count or a percentage up to 100%, traffic a percentage, the failure threshold a
/// count or a percentage. The admission webhook can refuse what the machine would hold on.
pub fn validate(spec: &waxwing_api::v1beta1::RolloutSpec) -> Result<(), SpecError> {
    strategy::StrategyView::of(&spec.strategy).plan().map(drop)
}
