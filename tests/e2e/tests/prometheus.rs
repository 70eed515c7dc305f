//! Analysis measured by the built-in Prometheus plugin against the test cluster's real
//! Prometheus, which scrapes a metrics endpoint whose error ratio each test sets
//! (`waxwing_e2e::metrics`): a healthy canary completes, a rising error rate aborts the release
//! (traffic back on stable through an nginx Ingress, the failing value in the status) and
//! `waxwing retry` completes it once the errors are gone, a result between the conditions waits
//! for approval, an unreachable Prometheus aborts after the tolerated errors in a row, and a
//! background analysis aborts a release while its step waits for a person.

use std::time::Duration;

use anyhow::{Result, ensure};
use waxwing_e2e::cli::waxwing;
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::metrics::MetricsEndpoint;
use waxwing_e2e::rollout::{Scenario, deployment, message, phase, rollout};
use waxwing_e2e::traffic::{SERVICE, ingress, routing, traffic_restored};
use waxwing_e2e::waxwing_api::analysis::{AnalysisPhase, MetricStatus};
use waxwing_e2e::waxwing_api::v1beta1::{Rollout, RolloutPhase, StepState};
use waxwing_e2e::{Check, poll_until};

const WEB: &str = "app=web";

/// Steps 1 and 2 analysed by template `errors`, then all pods; with `traffic`, the steps send
/// 20% and 40% of the requests through the nginx Ingress `web`.
fn analysed_rollout(traffic: bool) -> String {
    let analysed = |replicas: &str, weight: &str| {
        let traffic = if traffic {
            format!("          traffic: \"{weight}\"\n")
        } else {
            String::new()
        };
        format!(
            "        - replicas: {replicas}
{traffic}          analysis:
            templates:
              - templateName: errors
          pause: {{duration: 0}}
"
        )
    };
    let steps = format!(
        "{}{}        - replicas: 100%\n",
        analysed("1", "20%"),
        analysed("2", "40%")
    );
    let routing = if traffic {
        routing("ingress: {name: web}")
    } else {
        String::new()
    };
    format!("{}{routing}", rollout("web", true, &steps))
}

/// AnalysisTemplate `errors`: the endpoint's error ratio, measured `count` times `interval`
/// apart, through `provider`.
fn template(query: &str, provider: &str, conditions: &str, limits: &str) -> String {
    let query = query.replace('"', "\\\"");
    format!(
        "apiVersion: waxwing.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: errors
spec:
  metrics:
    - name: error-ratio
      provider:
        prometheus:
          provider: {provider}
          query: \"{query}\"
      interval: 1s
{conditions}{limits}"
    )
}

const CONDITIONS: &str =
    "      successCondition: result[0] < 0.1\n      failureCondition: result[0] >= 0.4\n";

async fn released(s: &Scenario, template: &str) -> Result<()> {
    released_routing(s, template, false).await
}

/// Template, Deployment `web` (3 pods), with `traffic` its Service and Ingress, the Rollout;
/// then v2 released.
async fn released_routing(s: &Scenario, template: &str, traffic: bool) -> Result<()> {
    s.apply(template).await?;
    s.apply(&deployment("web", 3, "v1")).await?;
    if traffic {
        s.apply(SERVICE).await?;
        s.apply(&ingress("nginx")).await?;
    }
    s.apply(&analysed_rollout(traffic)).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    s.release("web", "v2", Some("r2")).await
}

#[tokio::test]
async fn a_healthy_canary_passes_every_analysis_and_completes() -> Result<()> {
    let s = Scenario::new("prom-healthy").await?;
    let endpoint = MetricsEndpoint::start(s.ns.name()).await?;
    endpoint.set_error_ratio(0.01);
    endpoint.wait_scraped(0.01).await?;
    let limits = "      count: 2\n";
    released(
        &s,
        &template(
            &endpoint.error_ratio_query(),
            "prometheus",
            CONDITIONS,
            limits,
        ),
    )
    .await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 3)]).await?;
    let events = s.event_reasons("web").await?;
    let succeeded = events.iter().filter(|r| *r == "AnalysisSucceeded").count();
    ensure!(
        succeeded == 2,
        "AnalysisSucceeded {succeeded} times: {events:?}"
    );
    s.ns.cleanup().await
}

#[tokio::test]
async fn a_rising_error_rate_aborts_and_retry_completes_once_it_recovers() -> Result<()> {
    let s = Scenario::new("prom-abort").await?;
    let endpoint = MetricsEndpoint::start(s.ns.name()).await?;
    endpoint.wait_scraped(0.0).await?;
    // While the rate climbs, a measurement may land between the conditions: tolerated.
    let limits = "      count: 6\n      failureLimit: 1\n      inconclusiveLimit: 10\n";
    let template = template(
        &endpoint.error_ratio_query(),
        "prometheus",
        CONDITIONS,
        limits,
    );
    released_routing(&s, &template, true).await?;

    // Step 1 passes; the errors rise while step 2 releases its batch.
    s.wait_event("web", "AnalysisSucceeded").await?;
    endpoint.set_error_ratio(0.5);
    let r = s.wait_aborted("web").await?;
    let text = message(&r);
    ensure!(
        text.contains("the analysis of step(2/3) failed")
            && text.contains("meets failureCondition"),
        "message: {text}"
    );
    let run = &r.status.as_ref().unwrap().analysis_runs[0];
    ensure!(
        run.name == "step-2" && run.phase == AnalysisPhase::Failed,
        "run {run:?}"
    );
    let failed = &run.metrics[0];
    ensure!(failed.failed == 2, "metric {failed:?}");
    // The failing value is in the recorded measurement (the ratio is near 0.5 by then).
    let last = failed.measurements.last().unwrap();
    ensure!(last.message.contains("result [0."), "measurement {last:?}");
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    // Every request goes to the stable pods again: no canary Ingress or Service, the stable
    // Service selecting every pod as written.
    poll_until(
        "traffic back on stable",
        Duration::from_secs(30),
        || async {
            Ok(match traffic_restored(&s).await {
                Ok(()) => Check::Done(()),
                Err(pending) => Check::Pending(pending.to_string()),
            })
        },
    )
    .await?;
    let canary = s.ns.api::<Deployment>().get("web-canary").await?;
    ensure!(
        canary.spec.and_then(|spec| spec.replicas) == Some(0),
        "the canary Deployment is not scaled to zero"
    );

    endpoint.set_error_ratio(0.0);
    endpoint.wait_scraped(0.0).await?;
    waxwing(&["retry", "web", "-n", s.ns.name()]).await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 3)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn a_result_between_the_conditions_waits_for_approval() -> Result<()> {
    let s = Scenario::new("prom-inconclusive").await?;
    let endpoint = MetricsEndpoint::start(s.ns.name()).await?;
    endpoint.set_error_ratio(0.25);
    endpoint.wait_scraped(0.25).await?;
    released(
        &s,
        &template(&endpoint.error_ratio_query(), "prometheus", CONDITIONS, ""),
    )
    .await?;
    let r = s
        .wait_rollout("web", "an inconclusive analysis", |r| {
            message(r).contains("its analysis is inconclusive")
        })
        .await?;
    ensure!(
        message(&r).contains("meets neither successCondition"),
        "message: {}",
        message(&r)
    );
    // Step 2 is analysed too: healthy by then.
    endpoint.set_error_ratio(0.0);
    endpoint.wait_scraped(0.0).await?;
    waxwing(&["approve", "web", "-n", s.ns.name()]).await?;
    s.wait_completed("web").await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn an_unreachable_prometheus_aborts_after_the_tolerated_errors() -> Result<()> {
    let s = Scenario::new("prom-unreachable").await?;
    let limits = "      consecutiveErrorLimit: 2\n";
    released(
        &s,
        &template("up", "prometheus-unreachable", CONDITIONS, limits),
    )
    .await?;
    let r = s.wait_aborted("web").await?;
    let text = message(&r);
    ensure!(
        text.contains("could not be measured 3 time(s) in a row")
            && text.contains("cannot reach metrics provider \"prometheus-unreachable\""),
        "message: {text}"
    );
    s.ns.cleanup().await
}

/// Background analysis (`strategy.canary.analysis` from step 2): nothing is measured at step
/// 1; from step 2 on the error ratio is measured while the step waits for a person, and when it
/// rises the release aborts though no step is being analysed.
#[tokio::test]
async fn a_background_analysis_aborts_a_step_waiting_for_a_person() -> Result<()> {
    let s = Scenario::new("prom-background").await?;
    let endpoint = MetricsEndpoint::start(s.ns.name()).await?;
    endpoint.wait_scraped(0.0).await?;
    // While the rate climbs, a measurement may land between the conditions: tolerated.
    let limits = "      inconclusiveLimit: 100\n";
    s.apply(&template(
        &endpoint.error_ratio_query(),
        "prometheus",
        CONDITIONS,
        limits,
    ))
    .await?;
    s.apply(&deployment("web", 3, "v1")).await?;
    let steps = "        - replicas: 1\n          pause: {}\n        - replicas: 2\n          pause: {}\n        - replicas: 100%\n";
    let analysis = "      analysis:\n        templates:\n          - templateName: errors\n        startingStep: 2\n      steps:\n";
    s.apply(&rollout("web", true, steps).replace("      steps:\n", analysis))
        .await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.release("web", "v2", Some("r2")).await?;

    s.wait_step("web", 1, StepState::StepPaused).await?;
    // Long enough for a background run to have started had it been due.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = s.wait_step("web", 1, StepState::StepPaused).await?;
    ensure!(
        r.status
            .as_ref()
            .is_some_and(|s| s.analysis_runs.is_empty()),
        "measured before the starting step: {:?}",
        r.status.map(|s| s.analysis_runs)
    );

    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_rollout(
        "web",
        "three background measurements, all successful",
        |r| {
            background(r).is_some_and(|m| {
                m.phase == AnalysisPhase::Running && m.successful >= 3 && m.failed == 0
            })
        },
    )
    .await?;

    endpoint.set_error_ratio(0.6);
    let r = s.wait_aborted("web").await?;
    let text = message(&r);
    ensure!(
        text.contains("step(2/3): the background analysis failed")
            && text.contains("meets failureCondition"),
        "message: {text}"
    );
    ensure!(
        background(&r).is_some_and(|m| m.phase == AnalysisPhase::Failed),
        "background metric: {:?}",
        background(&r)
    );
    // The canary Deployment is taken out of service.
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    s.ns.cleanup().await
}

/// The background run's one metric.
fn background(r: &Rollout) -> Option<&MetricStatus> {
    let runs = &r.status.as_ref()?.analysis_runs;
    runs.iter()
        .find(|run| run.name == "background")?
        .metrics
        .first()
}
