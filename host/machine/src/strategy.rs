//! A read-only view of the Rollout's strategy: which release style, which steps, which traffic
//! routings, checked once so the rest of the machine works with plain numbers.

use std::time::Duration;

use sha2::{Digest, Sha256};
use waxwing_api::v1beta1::{CanaryStep, RolloutSpec, RolloutStrategy, TrafficRoutingRef};

use crate::error::SpecError;
use crate::replicas::{IntOrPercent, planned_replicas, tolerated_failures};
use crate::work::TrafficPlan;

/// Kruise's default wait after a traffic change (`defaultGracePeriodSeconds`).
const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// Canary (including partition) or blue-green: they share the steps and the status fields but
/// finalise in different orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Canary,
    BlueGreen,
}

/// The strategy as written, before validation. Finalising needs only this, so a Rollout whose
/// steps are broken can still be disabled or deleted cleanly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StrategyView<'a> {
    pub style: Style,
    /// `spec.strategy.canary` or `spec.strategy.blueGreen`, for error messages.
    field: &'static str,
    /// Whether either strategy is set at all.
    defined: bool,
    pub raw_steps: &'a [CanaryStep],
    pub routings: &'a [TrafficRoutingRef],
    failure_threshold: Option<&'a k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
    /// `enableExtraWorkloadForCanary`: the new revision runs in a separate canary workload.
    pub extra_workload: bool,
}

impl<'a> StrategyView<'a> {
    /// Blue-green wins when both are set, as Kruise's `GetRollingStyle` decides.
    pub fn of(strategy: &'a RolloutStrategy) -> Self {
        match (&strategy.blue_green, &strategy.canary) {
            (Some(blue_green), _) => Self {
                style: Style::BlueGreen,
                field: "spec.strategy.blueGreen",
                defined: true,
                raw_steps: &blue_green.steps,
                routings: &blue_green.traffic_routings,
                failure_threshold: blue_green.failure_threshold.as_ref(),
                extra_workload: false,
            },
            (None, Some(canary)) => Self {
                style: Style::Canary,
                field: "spec.strategy.canary",
                defined: true,
                raw_steps: &canary.steps,
                routings: &canary.traffic_routings,
                failure_threshold: canary.failure_threshold.as_ref(),
                extra_workload: canary.enable_extra_workload_for_canary,
            },
            (None, None) => Self {
                style: Style::Canary,
                field: "spec.strategy",
                defined: false,
                raw_steps: &[],
                routings: &[],
                failure_threshold: None,
                extra_workload: false,
            },
        }
    }

    pub fn has_traffic_routings(&self) -> bool {
        !self.routings.is_empty()
    }

    /// The number of steps as written (also for a plan that fails validation).
    pub fn step_count(&self) -> usize {
        self.raw_steps.len()
    }

    /// How long to wait after a route change before trusting it: the longest
    /// `gracePeriodSeconds` of the routings, Kruise's 3 s when there is none or it is negative.
    pub fn traffic_grace(&self) -> Duration {
        self.routings
            .iter()
            .map(|routing| routing.grace_period_seconds)
            .max()
            .and_then(|seconds| u64::try_from(seconds).ok())
            .map_or(DEFAULT_GRACE, Duration::from_secs)
    }

    /// Checks every step and the failure threshold.
    pub fn plan(&self) -> Result<StepPlan<'a>, SpecError> {
        if !self.defined {
            return Err(SpecError::new(
                self.field,
                "set either canary or blueGreen with the steps of the release",
            ));
        }
        if self.raw_steps.is_empty() {
            return Err(SpecError::new(
                format!("{}.steps", self.field),
                "no steps: add at least one step, for example `- replicas: \"100%\"`",
            ));
        }
        let steps = self
            .raw_steps
            .iter()
            .enumerate()
            .map(|(index, raw)| Step::check(raw, &format!("{}.steps[{index}]", self.field)))
            .collect::<Result<Vec<_>, _>>()?;
        let failure_threshold = self
            .failure_threshold
            .map(|value| {
                let path = format!("{}.failureThreshold", self.field);
                match IntOrPercent::parse(value) {
                    Ok(IntOrPercent::Percent(percent)) if percent > 100 => Err(SpecError::new(
                        path,
                        format!("{percent}% is more than 100%"),
                    )),
                    Ok(threshold) => Ok(threshold),
                    Err(problem) => Err(SpecError::new(path, problem)),
                }
            })
            .transpose()?;
        Ok(StepPlan {
            style: self.style,
            steps,
            failure_threshold,
        })
    }
}

/// The validated steps of a release.
#[derive(Clone, Debug)]
pub(crate) struct StepPlan<'a> {
    style: Style,
    steps: Vec<Step<'a>>,
    failure_threshold: Option<IntOrPercent>,
}

impl<'a> StepPlan<'a> {
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Step `index` (one-based), if it exists.
    pub fn step(&self, index: i32) -> Option<&Step<'a>> {
        let position = usize::try_from(index).ok()?.checked_sub(1)?;
        self.steps.get(position)
    }

    /// Pods on the update revision once step `index` (one-based, in range) is done.
    pub fn planned_replicas(&self, index: usize, workload_replicas: u32) -> u32 {
        let values: Vec<IntOrPercent> = self.steps.iter().map(|step| step.replicas).collect();
        planned_replicas(&values, index, workload_replicas)
    }

    /// The size of the batch for step `index` (one-based), if the step exists.
    pub fn batch_size(&self, index: usize, workload_replicas: u32) -> Option<BatchSize> {
        let step = self.steps.get(index.checked_sub(1)?)?;
        let planned = self.planned_replicas(index, workload_replicas);
        Some(BatchSize {
            step_replicas: step.replicas,
            planned_replicas: planned,
            tolerated_failures: tolerated_failures(self.failure_threshold, planned),
        })
    }

    /// Kruise skips the pause of a canary release's last step when it already runs 100% of
    /// the pods: there is nothing left to hold back.
    pub fn skips_pause(&self, index: usize) -> bool {
        self.style == Style::Canary
            && index == self.steps.len()
            && self
                .steps
                .last()
                .is_some_and(|step| step.replicas == IntOrPercent::Percent(100))
    }

    /// The step whose plan fits the pods already on the update revision, for a release whose
    /// steps changed: the current step if it still holds them, else the first step that does,
    /// else the last step. This is Kruise's `recalculateCanaryStep`, with the pods actually
    /// updated standing in for the old plan's batch size.
    pub fn step_for_replicas(&self, current: i32, updated: u32, workload_replicas: u32) -> i32 {
        let count = self.steps.len();
        let current = usize::try_from(current)
            .ok()
            .filter(|index| (1..=count).contains(index));
        let order = current
            .into_iter()
            .chain((1..=count).filter(|index| Some(*index) != current));
        let mut chosen = count;
        for index in order {
            chosen = index;
            if updated <= self.planned_replicas(index, workload_replicas) {
                break;
            }
        }
        i32::try_from(chosen).unwrap_or(i32::MAX)
    }
}

/// How big one batch is; the rest of a [`crate::work::BatchPlan`] comes from the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchSize {
    pub step_replicas: IntOrPercent,
    pub planned_replicas: u32,
    pub tolerated_failures: u32,
}

/// One validated step.
#[derive(Clone, Debug)]
pub(crate) struct Step<'a> {
    pub replicas: IntOrPercent,
    weight: Option<u32>,
    raw: &'a CanaryStep,
}

impl<'a> Step<'a> {
    /// The step names an analysis.
    pub fn has_analysis(&self) -> bool {
        self.raw.analysis.is_some()
    }

    fn check(raw: &'a CanaryStep, path: &str) -> Result<Self, SpecError> {
        let replicas_path = format!("{path}.replicas");
        let replicas = raw.replicas.as_ref().ok_or_else(|| {
            SpecError::new(
                &replicas_path,
                "missing: set a pod count such as 5 or a percentage such as \"20%\"",
            )
        })?;
        let replicas = match IntOrPercent::parse(replicas) {
            Ok(IntOrPercent::Count(0) | IntOrPercent::Percent(0)) => {
                return Err(SpecError::new(
                    replicas_path,
                    "must be at least 1 pod or more than 0%",
                ));
            }
            Ok(IntOrPercent::Percent(percent)) if percent > 100 => {
                return Err(SpecError::new(
                    replicas_path,
                    format!("{percent}% is more than 100%"),
                ));
            }
            Ok(replicas) => replicas,
            Err(problem) => return Err(SpecError::new(replicas_path, problem)),
        };
        let weight = raw
            .traffic_routing_strategy
            .traffic
            .as_deref()
            .map(|traffic| {
                traffic
                    .strip_suffix('%')
                    .and_then(|digits| digits.parse::<u32>().ok())
                    .filter(|percent| *percent <= 100)
                    .ok_or_else(|| {
                        SpecError::new(
                            format!("{path}.traffic"),
                            format!("{traffic:?} is not a percentage from \"0%\" to \"100%\""),
                        )
                    })
            })
            .transpose()?;
        Ok(Self {
            replicas,
            weight,
            raw,
        })
    }

    /// The step sends some traffic to the canary through the routes (a weight or matches).
    pub fn routes_traffic(&self) -> bool {
        self.weight.is_some() || !self.raw.traffic_routing_strategy.matches.is_empty()
    }

    pub fn pause_seconds(&self) -> Option<u32> {
        self.raw
            .pause
            .duration
            .map(|seconds| u32::try_from(seconds).unwrap_or(0))
    }

    pub fn traffic(&self, index: i32) -> TrafficPlan {
        let strategy = &self.raw.traffic_routing_strategy;
        TrafficPlan {
            step_index: u32::try_from(index).unwrap_or(0),
            // Matches take precedence over a weight (Kruise's TrafficRoutingStrategy docs).
            weight: self.weight.filter(|_| strategy.matches.is_empty()),
            matches: strategy.matches.clone(),
            request_header_modifier: strategy.request_header_modifier.clone(),
        }
    }
}

/// A fingerprint of the parts of the strategy that decide where each step leaves the release:
/// everything except the failure threshold and the pauses (Kruise's `calculateRolloutHash`).
/// A release records it when it starts; a different value later means the steps changed.
pub(crate) fn plan_hash(spec: &RolloutSpec) -> String {
    let strategy = &spec.strategy;
    let canonical = match (&strategy.blue_green, &strategy.canary) {
        (Some(blue_green), _) => {
            let mut blue_green = blue_green.clone();
            blue_green.failure_threshold = None;
            blue_green
                .steps
                .iter_mut()
                .for_each(|step| step.pause = Default::default());
            serde_json::to_vec(&blue_green)
        }
        (None, Some(canary)) => {
            let mut canary = canary.clone();
            canary.failure_threshold = None;
            canary
                .steps
                .iter_mut()
                .for_each(|step| step.pause = Default::default());
            serde_json::to_vec(&canary)
        }
        (None, None) => Ok(Vec::new()),
    };
    // Serialising these types cannot fail (every map has string keys); an empty input keeps
    // the function total regardless.
    let digest = Sha256::digest(canonical.unwrap_or_default());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use waxwing_api::v1beta1::{CanaryStrategy, RolloutPause, TrafficRoutingStrategy};

    use super::*;

    fn step(replicas: IntOrString, traffic: Option<&str>) -> CanaryStep {
        CanaryStep {
            traffic_routing_strategy: TrafficRoutingStrategy {
                traffic: traffic.map(str::to_owned),
                ..Default::default()
            },
            replicas: Some(replicas),
            pause: RolloutPause::default(),
            analysis: None,
        }
    }

    fn canary(steps: Vec<CanaryStep>) -> RolloutStrategy {
        RolloutStrategy {
            canary: Some(CanaryStrategy {
                steps,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn invalid_steps_name_the_field() {
        let cases = [
            (
                canary(vec![]),
                "spec.strategy.canary.steps: no steps: add at least one step",
            ),
            (
                canary(vec![
                    step(IntOrString::Int(1), None),
                    step(IntOrString::Int(0), None),
                ]),
                "spec.strategy.canary.steps[1].replicas: must be at least 1 pod",
            ),
            (
                canary(vec![step(IntOrString::String("150%".into()), None)]),
                "spec.strategy.canary.steps[0].replicas: 150% is more than 100%",
            ),
            (
                canary(vec![step(IntOrString::Int(1), Some("5"))]),
                "spec.strategy.canary.steps[0].traffic: \"5\" is not a percentage",
            ),
            (
                RolloutStrategy::default(),
                "spec.strategy: set either canary or blueGreen",
            ),
        ];
        for (strategy, expected) in cases {
            let err = StrategyView::of(&strategy).plan().unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn matches_take_precedence_over_the_weight() {
        let mut with_matches = step(IntOrString::Int(1), Some("20%"));
        with_matches.traffic_routing_strategy.matches = vec![Default::default()];
        let strategy = canary(vec![step(IntOrString::Int(1), Some("20%")), with_matches]);
        let view = StrategyView::of(&strategy);
        let plan = view.plan().unwrap();
        assert_eq!(plan.step(1).unwrap().traffic(1).weight, Some(20));
        assert_eq!(plan.step(2).unwrap().traffic(2).weight, None);
        assert!(plan.step(2).unwrap().routes_traffic());
        assert!(plan.step(3).is_none() && plan.step(0).is_none() && plan.step(-1).is_none());
    }

    #[test]
    fn the_hash_ignores_pauses_and_the_failure_threshold_only() {
        let spec = |strategy: RolloutStrategy| RolloutSpec {
            workload_ref: Default::default(),
            strategy,
            disabled: false,
        };
        let base = canary(vec![step(IntOrString::Int(1), None)]);
        let mut paused = base.clone();
        let canary_strategy = paused.canary.as_mut().unwrap();
        canary_strategy.steps[0].pause.duration = Some(60);
        canary_strategy.failure_threshold = Some(IntOrString::Int(2));
        let mut resized = base.clone();
        resized.canary.as_mut().unwrap().steps[0].replicas = Some(IntOrString::Int(2));

        assert_eq!(plan_hash(&spec(base.clone())), plan_hash(&spec(paused)));
        assert_ne!(plan_hash(&spec(base)), plan_hash(&spec(resized)));
    }

    #[test]
    fn step_for_replicas_prefers_the_current_step() {
        let strategy = canary(vec![
            step(IntOrString::Int(2), None),
            step(IntOrString::Int(5), None),
            step(IntOrString::Int(10), None),
        ]);
        let view = StrategyView::of(&strategy);
        let plan = view.plan().unwrap();
        assert_eq!(
            plan.step_for_replicas(2, 2, 10),
            2,
            "current still holds them"
        );
        assert_eq!(plan.step_for_replicas(3, 4, 10), 3);
        assert_eq!(
            plan.step_for_replicas(1, 4, 10),
            2,
            "first step that holds them"
        );
        assert_eq!(
            plan.step_for_replicas(7, 11, 10),
            3,
            "none does: the last step"
        );
    }

    #[test]
    fn grace_is_the_longest_routing_grace_or_kruise_default() {
        let mut strategy = canary(vec![step(IntOrString::Int(1), None)]);
        assert_eq!(StrategyView::of(&strategy).traffic_grace(), DEFAULT_GRACE);
        let routings = &mut strategy.canary.as_mut().unwrap().traffic_routings;
        routings.push(TrafficRoutingRef {
            grace_period_seconds: 5,
            ..Default::default()
        });
        routings.push(TrafficRoutingRef::default());
        assert_eq!(
            StrategyView::of(&strategy).traffic_grace(),
            Duration::from_secs(5)
        );
    }
}
