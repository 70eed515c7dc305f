//! Analysis runs: when each metric is due, how a measurement counts against the metric's
//! limits, and where a run stands (Argo Rollouts' AnalysisRun semantics, kept in the Rollout's
//! `status.analysisRuns`).
//!
//! The controller resolves the AnalysisTemplates into [`MetricSpec`]s and measures through the
//! policy plugins ([`crate::Work::Measure`]); everything about counting and deciding is here.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use waxwing_api::analysis::{
    AnalysisPhase, AnalysisRunStatus, MEASUREMENT_HISTORY, Measurement, MeasurementPhase,
    MetricStatus,
};

/// The name of the background analysis run in status.
pub const BACKGROUND: &str = "background";

/// How soon a measurement that ended in an error is retried when the metric has no interval.
const ERROR_RETRY: Duration = Duration::from_secs(10);

/// The name of a step's analysis run in status.
pub fn step_run(step_index: i32) -> String {
    format!("step-{step_index}")
}

/// One metric, resolved from its AnalysisTemplate by the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSpec {
    /// `<template>/<metric>`.
    pub name: String,
    /// The policy that measures it (the provider's key).
    pub policy: String,
    /// The policy's settings: the provider's, with the args filled in and the metric's
    /// conditions added, as a JSON object.
    pub config: String,
    pub interval: Option<Duration>,
    /// Measurements that make it successful; `None`: unbounded.
    pub count: Option<u32>,
    pub initial_delay: Duration,
    pub failure_limit: u32,
    pub inconclusive_limit: u32,
    pub consecutive_error_limit: u32,
}

/// The analysis a Rollout asks for, as far as the controller could resolve it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedAnalysis {
    /// The metrics of the steps the controller resolved (the status's current step, when it
    /// has an analysis) by one-based index, or why they cannot be resolved.
    pub steps: BTreeMap<i32, Result<Vec<MetricSpec>, String>>,
    /// The background analysis; `None` when the strategy has none.
    pub background: Option<BackgroundSpec>,
}

/// The strategy's background analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackgroundSpec {
    /// The one-based step from which it is measured.
    pub starting_step: u32,
    pub metrics: Result<Vec<MetricSpec>, String>,
}

/// The metrics of one run to measure now ([`crate::Work::Measure`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurePlan {
    /// The run's name in status (`step-N` or `background`).
    pub run: String,
    /// One-based index of the current step, and the number of steps.
    pub step_index: u32,
    pub step_count: u32,
    /// Time since the run started (the policy context's `elapsed-ms`).
    pub elapsed: Duration,
    pub metrics: Vec<MetricSpec>,
}

/// What one measurement gave: the policy's decision, read as a measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeasurementOutcome {
    /// Proceed.
    Successful(String),
    /// Abort.
    Failed(String),
    /// Pause.
    Inconclusive(String),
    /// The plugin or the provider failed.
    Error(String),
    /// Wait: nothing measured; ask again after `after`.
    NotYet { after: Duration, reason: String },
}

/// The outcome of measuring one metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurementResult {
    /// [`MetricSpec::name`].
    pub metric: String,
    pub outcome: MeasurementOutcome,
}

/// A new run of `metrics`, started `now`: every metric due after its initial delay.
pub(crate) fn start(name: &str, metrics: &[MetricSpec], now: Timestamp) -> AnalysisRunStatus {
    AnalysisRunStatus {
        name: name.to_owned(),
        phase: AnalysisPhase::Running,
        message: String::new(),
        started_at: Time(now),
        metrics: metrics
            .iter()
            .map(|metric| MetricStatus {
                name: metric.name.clone(),
                next_measurement_at: Some(Time(after(now, metric.initial_delay))),
                ..MetricStatus::default()
            })
            .collect(),
    }
}

/// The metrics of `run` due `now`, and how long until the next one is due when none is.
pub(crate) fn due(
    run: &AnalysisRunStatus,
    metrics: &[MetricSpec],
    now: Timestamp,
) -> (Vec<MetricSpec>, Option<Duration>) {
    let mut now_due = Vec::new();
    let mut soonest: Option<Duration> = None;
    for metric in metrics {
        let Some(status) = run.metrics.iter().find(|m| m.name == metric.name) else {
            // A metric added to the template mid-run: measure it now.
            now_due.push(metric.clone());
            continue;
        };
        if status.phase.is_finished() {
            continue;
        }
        match status.next_measurement_at.as_ref().map(|at| at.0) {
            Some(at) if at > now => {
                let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
                soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
            }
            _ => now_due.push(metric.clone()),
        }
    }
    (now_due, soonest)
}

/// Counts `results` into `run` and works out its phase.
pub(crate) fn record(
    run: &mut AnalysisRunStatus,
    metrics: &[MetricSpec],
    results: &[MeasurementResult],
    now: Timestamp,
) {
    for result in results {
        let Some(spec) = metrics.iter().find(|m| m.name == result.metric) else {
            continue;
        };
        let index = match run.metrics.iter().position(|m| m.name == spec.name) {
            Some(index) => index,
            None => {
                run.metrics.push(MetricStatus {
                    name: spec.name.clone(),
                    ..MetricStatus::default()
                });
                run.metrics.len() - 1
            }
        };
        count(&mut run.metrics[index], spec, &result.outcome, now);
    }
    settle(run);
    // A metric that is not measured yet says why, while the run waits for it.
    let waiting = results.iter().find_map(|result| match &result.outcome {
        MeasurementOutcome::NotYet { reason, .. } => Some((&result.metric, reason)),
        _ => None,
    });
    if let (AnalysisPhase::Running, Some((metric, reason))) = (run.phase, waiting) {
        run.message = format!("{metric} is not measured yet: {reason}");
    }
}

/// One measurement into one metric.
fn count(
    status: &mut MetricStatus,
    spec: &MetricSpec,
    outcome: &MeasurementOutcome,
    now: Timestamp,
) {
    if status.phase.is_finished() {
        return;
    }
    let (phase, message) = match outcome {
        MeasurementOutcome::NotYet { after: wait, .. } => {
            // A gate is asked again at the metric's interval at the latest, so a change of its
            // configuration (a freeze lifted early) is seen without waiting out its answer.
            let wait = spec.interval.map_or(*wait, |interval| interval.min(*wait));
            status.next_measurement_at = Some(Time(after(now, wait)));
            return;
        }
        MeasurementOutcome::Successful(m) => (MeasurementPhase::Successful, m),
        MeasurementOutcome::Failed(m) => (MeasurementPhase::Failed, m),
        MeasurementOutcome::Inconclusive(m) => (MeasurementPhase::Inconclusive, m),
        MeasurementOutcome::Error(m) => (MeasurementPhase::Error, m),
    };
    match phase {
        MeasurementPhase::Error => {
            status.error += 1;
            status.consecutive_error += 1;
        }
        measured => {
            status.count += 1;
            status.consecutive_error = 0;
            match measured {
                MeasurementPhase::Successful => status.successful += 1,
                MeasurementPhase::Failed => status.failed += 1,
                _ => status.inconclusive += 1,
            }
        }
    }
    status.measurements.push(Measurement {
        phase,
        message: message.clone(),
        measured_at: Time(now),
    });
    let excess = status
        .measurements
        .len()
        .saturating_sub(MEASUREMENT_HISTORY);
    status.measurements.drain(..excess);

    status.phase = metric_phase(status, spec);
    status.next_measurement_at = (!status.phase.is_finished()).then(|| {
        let wait = match (phase, spec.interval) {
            (_, Some(interval)) => interval,
            (MeasurementPhase::Error, None) => ERROR_RETRY,
            // Without an interval a metric is measured once; a count above one needs one.
            (_, None) => Duration::ZERO,
        };
        Time(after(now, wait))
    });
}

/// Where a metric stands after its counts changed: a limit passed decides at once.
fn metric_phase(status: &MetricStatus, spec: &MetricSpec) -> AnalysisPhase {
    let exceeds = |value: i32, limit: u32| i64::from(value) > i64::from(limit);
    if exceeds(status.consecutive_error, spec.consecutive_error_limit) {
        return AnalysisPhase::Error;
    }
    if exceeds(status.failed, spec.failure_limit) {
        return AnalysisPhase::Failed;
    }
    if exceeds(status.inconclusive, spec.inconclusive_limit) {
        return AnalysisPhase::Inconclusive;
    }
    // Without an interval there is nothing to repeat: one measurement is the whole metric.
    let wanted = spec.count.or(spec.interval.is_none().then_some(1));
    match wanted {
        Some(wanted) if i64::from(status.count) >= i64::from(wanted) => AnalysisPhase::Successful,
        _ => AnalysisPhase::Running,
    }
}

/// The run's phase from its metrics' (an error or a failure outweighs an inconclusive metric,
/// which outweighs one still running), and the message of the metric that decided it.
fn settle(run: &mut AnalysisRunStatus) {
    let rank = |phase: AnalysisPhase| match phase {
        AnalysisPhase::Error => 4,
        AnalysisPhase::Failed => 3,
        AnalysisPhase::Inconclusive => 2,
        AnalysisPhase::Running => 1,
        AnalysisPhase::Successful => 0,
    };
    let deciding = run.metrics.iter().max_by_key(|metric| rank(metric.phase));
    let Some(deciding) = deciding else {
        run.phase = AnalysisPhase::Successful;
        return;
    };
    run.phase = deciding.phase;
    let last = deciding
        .measurements
        .last()
        .map(|m| m.message.as_str())
        .unwrap_or_default();
    run.message = match deciding.phase {
        AnalysisPhase::Successful => format!("every metric is successful; last: {last}"),
        AnalysisPhase::Running => format!(
            "{}: {} measurement(s), {} error(s) so far{}",
            deciding.name,
            deciding.count,
            deciding.error,
            if last.is_empty() {
                String::new()
            } else {
                format!("; last: {last}")
            }
        ),
        AnalysisPhase::Failed => format!(
            "metric {} failed {} time(s): {last}",
            deciding.name, deciding.failed
        ),
        AnalysisPhase::Inconclusive => format!(
            "metric {} was inconclusive {} time(s): {last}",
            deciding.name, deciding.inconclusive
        ),
        AnalysisPhase::Error => format!(
            "metric {} could not be measured {} time(s) in a row: {last}",
            deciding.name, deciding.consecutive_error
        ),
    };
}

fn after(now: Timestamp, wait: Duration) -> Timestamp {
    SignedDuration::try_from(wait)
        .ok()
        .and_then(|wait| now.checked_add(wait).ok())
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> MetricSpec {
        MetricSpec {
            name: name.into(),
            policy: "prometheus".into(),
            config: "{}".into(),
            interval: Some(Duration::from_secs(10)),
            count: Some(3),
            initial_delay: Duration::ZERO,
            failure_limit: 1,
            inconclusive_limit: 0,
            consecutive_error_limit: 2,
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    fn measure(
        run: &mut AnalysisRunStatus,
        specs: &[MetricSpec],
        outcome: MeasurementOutcome,
        t: i64,
    ) {
        let results: Vec<_> = specs
            .iter()
            .map(|s| MeasurementResult {
                metric: s.name.clone(),
                outcome: outcome.clone(),
            })
            .collect();
        record(run, specs, &results, at(t));
    }

    fn ok(value: &str) -> MeasurementOutcome {
        MeasurementOutcome::Successful(value.into())
    }

    #[test]
    fn a_metric_is_successful_after_count_measurements_at_its_interval() {
        let specs = [spec("t/errors")];
        let mut run = start("step-1", &specs, at(0));
        assert_eq!(due(&run, &specs, at(0)).0.len(), 1);
        measure(&mut run, &specs, ok("0.01"), 0);
        assert_eq!(run.phase, AnalysisPhase::Running);
        assert_eq!(
            due(&run, &specs, at(5)),
            (vec![], Some(Duration::from_secs(5)))
        );
        measure(&mut run, &specs, ok("0.01"), 10);
        measure(&mut run, &specs, ok("0.02"), 20);
        assert_eq!(run.phase, AnalysisPhase::Successful);
        assert_eq!(run.metrics[0].next_measurement_at, None);
        assert_eq!(due(&run, &specs, at(100)), (vec![], None));
    }

    #[test]
    fn failures_past_the_limit_fail_the_run_with_the_value() {
        let specs = [spec("t/errors")];
        let mut run = start("step-1", &specs, at(0));
        measure(
            &mut run,
            &specs,
            MeasurementOutcome::Failed("0.3".into()),
            0,
        );
        assert_eq!(
            run.phase,
            AnalysisPhase::Running,
            "one failure is tolerated"
        );
        measure(
            &mut run,
            &specs,
            MeasurementOutcome::Failed("0.4".into()),
            10,
        );
        assert_eq!(run.phase, AnalysisPhase::Failed);
        assert_eq!(run.message, "metric t/errors failed 2 time(s): 0.4");
    }

    #[test]
    fn errors_count_in_a_row_and_a_measurement_resets_them() {
        let specs = [spec("t/errors")];
        let mut run = start("step-1", &specs, at(0));
        let error = MeasurementOutcome::Error("connection refused".into());
        measure(&mut run, &specs, error.clone(), 0);
        measure(&mut run, &specs, error.clone(), 10);
        measure(&mut run, &specs, ok("0.0"), 20);
        assert_eq!(run.metrics[0].consecutive_error, 0);
        assert_eq!(run.metrics[0].error, 2);
        measure(&mut run, &specs, error.clone(), 30);
        measure(&mut run, &specs, error.clone(), 40);
        assert_eq!(run.phase, AnalysisPhase::Running);
        measure(&mut run, &specs, error, 50);
        assert_eq!(run.phase, AnalysisPhase::Error);
        assert!(
            run.message
                .contains("3 time(s) in a row: connection refused"),
            "{}",
            run.message
        );
    }

    #[test]
    fn an_inconclusive_measurement_past_the_limit_makes_the_run_inconclusive() {
        let specs = [spec("t/errors")];
        let mut run = start("step-1", &specs, at(0));
        measure(
            &mut run,
            &specs,
            MeasurementOutcome::Inconclusive("no data".into()),
            0,
        );
        assert_eq!(run.phase, AnalysisPhase::Inconclusive);
    }

    #[test]
    fn not_yet_moves_the_next_measurement_without_counting() {
        let specs = [spec("t/freeze")];
        let mut run = start("step-1", &specs, at(0));
        let wait = MeasurementOutcome::NotYet {
            after: Duration::from_secs(60),
            reason: "freeze".into(),
        };
        measure(&mut run, &specs, wait, 0);
        assert_eq!(run.metrics[0].count, 0);
        assert!(run.metrics[0].measurements.is_empty());
        assert_eq!(run.message, "t/freeze is not measured yet: freeze");
        // Asked again at the interval (10 s), not after the gate's 60 s.
        assert_eq!(due(&run, &specs, at(5)).1, Some(Duration::from_secs(5)));
        let mut no_interval = specs[0].clone();
        no_interval.interval = None;
        let specs = [no_interval];
        let mut run = start("step-1", &specs, at(0));
        let wait = MeasurementOutcome::NotYet {
            after: Duration::from_secs(60),
            reason: "freeze".into(),
        };
        measure(&mut run, &specs, wait, 0);
        assert_eq!(due(&run, &specs, at(30)).1, Some(Duration::from_secs(30)));
    }

    #[test]
    fn without_an_interval_one_measurement_decides() {
        let mut once = spec("t/gate");
        once.interval = None;
        once.count = None;
        let specs = [once];
        let mut run = start("step-1", &specs, at(0));
        measure(&mut run, &specs, ok("open"), 0);
        assert_eq!(run.phase, AnalysisPhase::Successful);
    }

    #[test]
    fn background_metrics_without_a_count_run_until_stopped() {
        let mut endless = spec("t/errors");
        endless.count = None;
        let specs = [endless];
        let mut run = start(BACKGROUND, &specs, at(0));
        for t in 0..20 {
            measure(&mut run, &specs, ok("0.0"), t * 10);
        }
        assert_eq!(run.phase, AnalysisPhase::Running);
        assert_eq!(run.metrics[0].measurements.len(), MEASUREMENT_HISTORY);
        assert_eq!(run.metrics[0].count, 20);
    }

    #[test]
    fn the_initial_delay_defers_the_first_measurement() {
        let mut delayed = spec("t/errors");
        delayed.initial_delay = Duration::from_secs(30);
        let specs = [delayed];
        let run = start("step-1", &specs, at(0));
        assert_eq!(
            due(&run, &specs, at(10)),
            (vec![], Some(Duration::from_secs(20)))
        );
        assert_eq!(due(&run, &specs, at(30)).0.len(), 1);
    }

    #[test]
    fn the_worst_metric_decides_the_run() {
        let specs = [spec("t/a"), spec("t/b")];
        let mut run = start("step-1", &specs, at(0));
        record(
            &mut run,
            &specs,
            &[
                MeasurementResult {
                    metric: "t/a".into(),
                    outcome: MeasurementOutcome::Inconclusive("?".into()),
                },
                MeasurementResult {
                    metric: "t/b".into(),
                    outcome: ok("fine"),
                },
            ],
            at(0),
        );
        assert_eq!(run.phase, AnalysisPhase::Inconclusive);
    }
}
