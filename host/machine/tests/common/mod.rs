//! Fixtures for the machine's tests: Rollouts built in a line, a clock, and a reconcile loop that
//! persists the status the way the controller does.

#![allow(dead_code)] // each test binary uses a different part of the fixtures

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use waxwing_api::v1beta1::condition::PROGRESSING;
use waxwing_api::v1beta1::{
    BlueGreenStrategy, CanaryStep, CanaryStrategy, CommonStatus, HttpRouteMatch, Rollout,
    RolloutPause, RolloutSpec, RolloutStatus, RolloutStrategy, StepState, TrafficRoutingRef,
    TrafficRoutingStrategy,
};
use waxwing_machine::{
    Input, Plan, ResolvedAnalysis, Transition, Work, WorkOutcome, WorkloadObservation, advance,
    plan,
};

pub const START: i64 = 1_700_000_000;

pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(START + seconds).unwrap()
}

/// A step with `replicas` (`5` or `"20%"`) and no traffic; pause waits for a person.
pub fn step(replicas: &str) -> CanaryStep {
    let replicas = match replicas.parse::<i32>() {
        Ok(count) => IntOrString::Int(count),
        Err(_) => IntOrString::String(replicas.to_owned()),
    };
    CanaryStep {
        traffic_routing_strategy: TrafficRoutingStrategy::default(),
        replicas: Some(replicas),
        pause: RolloutPause::default(),
        analysis: None,
    }
}

pub trait StepExt {
    fn traffic(self, weight: &str) -> Self;
    fn matching(self) -> Self;
    fn pause_for(self, seconds: i32) -> Self;
}

impl StepExt for CanaryStep {
    fn traffic(mut self, weight: &str) -> Self {
        self.traffic_routing_strategy.traffic = Some(weight.to_owned());
        self
    }

    fn matching(mut self) -> Self {
        self.traffic_routing_strategy.matches = vec![HttpRouteMatch::default()];
        self
    }

    fn pause_for(mut self, seconds: i32) -> Self {
        self.pause.duration = Some(seconds);
        self
    }
}

/// An ingress routing with a grace period.
pub fn routing(grace_seconds: i32) -> TrafficRoutingRef {
    TrafficRoutingRef {
        service: "web".to_owned(),
        grace_period_seconds: grace_seconds,
        ..Default::default()
    }
}

pub fn canary_rollout(steps: Vec<CanaryStep>, routings: Vec<TrafficRoutingRef>) -> Rollout {
    rollout(RolloutStrategy {
        canary: Some(CanaryStrategy {
            steps,
            traffic_routings: routings,
            ..Default::default()
        }),
        ..Default::default()
    })
}

pub fn blue_green_rollout(steps: Vec<CanaryStep>, routings: Vec<TrafficRoutingRef>) -> Rollout {
    rollout(RolloutStrategy {
        blue_green: Some(BlueGreenStrategy {
            steps,
            traffic_routings: routings,
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn rollout(strategy: RolloutStrategy) -> Rollout {
    let mut rollout = Rollout::new(
        "web",
        RolloutSpec {
            workload_ref: waxwing_api::v1beta1::ObjectRef {
                api_version: "apps/v1".to_owned(),
                kind: "Deployment".to_owned(),
                name: "web".to_owned(),
            },
            strategy,
            disabled: false,
        },
    );
    rollout.metadata.namespace = Some("default".to_owned());
    rollout.metadata.generation = Some(1);
    rollout
}

/// A settled workload of `replicas` pods with nothing being released.
pub fn workload(replicas: u32) -> WorkloadObservation {
    WorkloadObservation {
        replicas,
        stable_revision: "v1".to_owned(),
        update_revision: "v1".to_owned(),
        update_pod_template_hash: "hash-v1".to_owned(),
        stable_pod_template_hash: "hash-v1".to_owned(),
        revision_label: "pod-template-hash".to_owned(),
        settled: true,
        taken_over: false,
        rollout_id: None,
        generation: 1,
    }
}

/// The user updated the template to `revision` and the webhook took the workload over.
pub fn update_to(workload: &mut WorkloadObservation, revision: &str) {
    workload.update_revision = revision.to_owned();
    workload.update_pod_template_hash = format!("hash-{revision}");
    workload.taken_over = true;
    workload.generation += 1;
}

/// A Rollout, its workload and a clock, reconciled the way the controller does it.
pub struct World {
    pub rollout: Rollout,
    pub workload: Option<WorkloadObservation>,
    pub now: Timestamp,
    pub analysis: ResolvedAnalysis,
}

impl World {
    pub fn new(rollout: Rollout, workload: WorkloadObservation) -> Self {
        Self {
            rollout,
            workload: Some(workload),
            now: at(0),
            analysis: ResolvedAnalysis::default(),
        }
    }

    pub fn input(&self) -> Input<'_> {
        Input {
            rollout: &self.rollout,
            workload: self.workload.as_ref(),
            now: self.now,
            analysis: &self.analysis,
        }
    }

    pub fn plan(&self) -> Plan {
        plan(&self.input()).expect("plan")
    }

    /// One reconcile: plan, report `outcome` for the planned work, persist the status.
    pub fn reconcile(&mut self, outcome: impl FnOnce(&Plan) -> WorkOutcome) -> (Plan, Transition) {
        let plan = self.plan();
        let outcome = outcome(&plan);
        let transition = advance(&self.input(), &plan, outcome).expect("advance");
        self.rollout.status = Some(transition.status.clone());
        (plan, transition)
    }

    /// Reconciles with Done until the plan asks for real work; returns that plan, with its
    /// status persisted (a plan's status is a valid status to persist: planning is a fixpoint).
    pub fn settle(&mut self) -> Plan {
        for _ in 0..8 {
            let plan = self.plan();
            if plan.work != waxwing_machine::Work::None {
                self.rollout.status = Some(plan.status.clone());
                return plan;
            }
            let transition = advance(&self.input(), &plan, WorkOutcome::Done).expect("advance");
            let unchanged = self.rollout.status.as_ref() == Some(&transition.status);
            self.rollout.status = Some(transition.status);
            if unchanged {
                return self.plan();
            }
        }
        self.plan()
    }

    pub fn tick(&mut self, seconds: u64) {
        self.now += Duration::from_secs(seconds);
    }

    pub fn status(&self) -> &RolloutStatus {
        self.rollout.status.as_ref().expect("a status")
    }

    pub fn common(&self) -> &CommonStatus {
        let status = self.status();
        status
            .canary_status
            .as_ref()
            .map(|canary| &canary.common)
            .or(status
                .blue_green_status
                .as_ref()
                .map(|blue_green| &blue_green.common))
            .expect("release progress")
    }

    pub fn common_mut(&mut self) -> &mut CommonStatus {
        let status = self.rollout.status.as_mut().expect("a status");
        match (&mut status.canary_status, &mut status.blue_green_status) {
            (Some(canary), _) => &mut canary.common,
            (None, Some(blue_green)) => &mut blue_green.common,
            (None, None) => panic!("no release progress"),
        }
    }

    pub fn step(&self) -> (i32, StepState) {
        let common = self.common();
        (common.current_step_index, common.current_step_state)
    }

    pub fn progressing_reason(&self) -> Option<&str> {
        self.status()
            .conditions
            .iter()
            .find(|condition| condition.type_ == PROGRESSING)
            .map(|condition| condition.reason.as_str())
    }

    /// A person approves the paused step, as `kubectl-kruise rollout approve` does.
    pub fn approve(&mut self) {
        self.common_mut().current_step_state = StepState::StepReady;
    }

    /// Starts a release of `revision` and settles until the first real work, past the
    /// initializing grace.
    pub fn start_release(&mut self, revision: &str) -> Plan {
        update_to(self.workload.as_mut().expect("a workload"), revision);
        self.settle();
        self.tick(3);
        self.settle()
    }

    pub fn last_update_time(&self) -> Option<&Time> {
        self.common().last_update_time.as_ref()
    }
}

/// Every step analysed: one metric measured once, by the policy `gate`.
pub fn one_metric_analysis() -> ResolvedAnalysis {
    let metric = waxwing_machine::MetricSpec {
        name: "health/errors".to_owned(),
        policy: "gate".to_owned(),
        config: "{}".to_owned(),
        interval: None,
        count: None,
        initial_delay: Duration::ZERO,
        failure_limit: 0,
        inconclusive_limit: 0,
        consecutive_error_limit: 4,
    };
    ResolvedAnalysis {
        steps: (1..=60)
            .map(|index| (index, Ok(vec![metric.clone()])))
            .collect(),
        background: None,
    }
}

/// The rollout with an analysis on every step (the metrics come from
/// [`one_metric_analysis`]).
pub fn analysed(mut rollout: Rollout) -> Rollout {
    let strategy = &mut rollout.spec.strategy;
    let steps = match (&mut strategy.canary, &mut strategy.blue_green) {
        (Some(canary), _) => &mut canary.steps,
        (None, Some(blue_green)) => &mut blue_green.steps,
        (None, None) => return rollout,
    };
    for step in steps {
        step.analysis = Some(waxwing_api::analysis::RolloutAnalysis {
            templates: vec![waxwing_api::analysis::AnalysisTemplateRef {
                template_name: "health".to_owned(),
            }],
            args: Vec::new(),
        });
    }
    rollout
}

/// Reports one measurement with `outcome` for every metric the plan measures.
pub fn measured(outcome: waxwing_machine::MeasurementOutcome) -> impl FnOnce(&Plan) -> WorkOutcome {
    move |plan| {
        let Work::Measure(measure) = &plan.work else {
            panic!("expected a measurement, planned {:?}", plan.work)
        };
        WorkOutcome::Measured(
            measure
                .metrics
                .iter()
                .map(|metric| waxwing_machine::MeasurementResult {
                    metric: metric.name.clone(),
                    outcome: outcome.clone(),
                })
                .collect(),
        )
    }
}
