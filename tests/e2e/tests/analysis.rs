//! Step analysis end to end: AnalysisTemplates resolved from the cluster, measurements taken by
//! policy plugins and recorded in the Rollout's status, an inconclusive result waiting for a
//! person, measurement errors aborting the release (traffic and the canary Deployment taken
//! out of service) and `waxwing retry` running the step again.
//!
//! The metrics here are measured by the built-in `pause` policy, whose answer the test chooses
//! through the metric's settings (`{duration: 0}` proceeds, `{}` waits for a person), and by
//! a policy no plugin serves (every measurement is an error): no metrics backend is needed to
//! drive every branch of the analysis.

use anyhow::{Result, ensure};
use waxwing_e2e::cli::waxwing;
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::rollout::{Scenario, deployment, message, phase, rollout};
use waxwing_e2e::waxwing_api::analysis::AnalysisPhase;
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};

const WEB: &str = "app=web";

/// Step 1 (one pod) analysed by template `gate`, step 2 all pods.
fn analysed_rollout() -> String {
    let steps = "        - replicas: 1
          analysis:
            templates:
              - templateName: gate
          pause: {duration: 0}
        - replicas: 100%
";
    rollout("web", true, steps)
}

/// AnalysisTemplate `gate`: one metric measured by `policy` with `settings` (YAML flow).
fn template(policy: &str, settings: &str, extra: &str) -> String {
    format!(
        "apiVersion: waxwing.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: gate
spec:
  metrics:
    - name: check
      provider:
        {policy}: {settings}
{extra}"
    )
}

async fn released(s: &Scenario) -> Result<()> {
    s.apply(&deployment("web", 3, "v1")).await?;
    s.apply(&analysed_rollout()).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    s.release("web", "v2", Some("r2")).await
}

#[tokio::test]
async fn a_missing_template_holds_the_step_and_an_inconclusive_result_waits_for_approval()
-> Result<()> {
    let s = Scenario::new("analysis-inconclusive").await?;
    released(&s).await?;

    // The template does not exist yet: the step holds and says why.
    s.wait_rollout("web", "the missing template named", |r| {
        message(r).contains("AnalysisTemplate gate does not exist")
    })
    .await?;
    s.wait_event("web", "AnalysisInvalid").await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 1)]).await?;

    // `pause: {}` waits for a person: read as an inconclusive measurement.
    s.apply(&template("pause", "{}", "")).await?;
    let r = s
        .wait_rollout("web", "an inconclusive analysis", |r| {
            message(r).contains("its analysis is inconclusive")
        })
        .await?;
    let status = r.status.as_ref().unwrap();
    let run = &status.analysis_runs[0];
    ensure!(
        run.name == "step-1" && run.phase == AnalysisPhase::Inconclusive,
        "run {run:?}"
    );
    ensure!(
        run.metrics[0].name == "gate/check" && run.metrics[0].inconclusive == 1,
        "metric {:?}",
        run.metrics[0]
    );
    s.wait_event("web", "AnalysisInconclusive").await?;
    ensure!(
        status.current_step_state == Some(StepState::StepMetricsAnalysis),
        "state {:?}",
        status.current_step_state
    );

    let out = waxwing(&["approve", "web", "-n", s.ns.name()]).await?;
    ensure!(out.contains("approved: step(1/2)"), "approve said: {out}");
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 3)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn measurement_errors_abort_the_release_and_retry_runs_the_step_again() -> Result<()> {
    let s = Scenario::new("analysis-abort").await?;
    // No plugin serves `nosuch`: every measurement is an error; one in a row is tolerated.
    s.apply(&template(
        "nosuch",
        "{}",
        "      interval: 1s\n      consecutiveErrorLimit: 1\n",
    ))
    .await?;
    released(&s).await?;

    let r = s.wait_aborted("web").await?;
    let text = message(&r);
    ensure!(
        text.contains("the analysis of step(1/2) failed")
            && text.contains("no policy plugin serves the policy \"nosuch\""),
        "message: {text}"
    );
    let metric = &r.status.as_ref().unwrap().analysis_runs[0].metrics[0];
    ensure!(
        metric.consecutive_error == 2 && metric.measurements.len() == 2,
        "metric {metric:?}"
    );
    s.wait_event("web", "RolloutAborted").await?;
    // The canary Deployment is taken out of service; the stable one serves alone.
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    let canary = s.ns.api::<Deployment>().get("web-canary").await?;
    ensure!(
        canary.spec.and_then(|spec| spec.replicas) == Some(0),
        "the canary Deployment is not scaled to zero"
    );

    // The metric is fixed, then retried: the step's batch comes back and passes.
    s.apply(&template("pause", "{duration: 0}", "")).await?;
    let out = waxwing(&["retry", "web", "-n", s.ns.name()]).await?;
    ensure!(out.contains("retried: step(1/2)"), "retry said: {out}");
    s.wait_event("web", "AnalysisSucceeded").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 3)]).await?;

    // Retrying something that is not aborted is refused with the reason.
    let refused = waxwing(&["retry", "web", "-n", s.ns.name()])
        .await
        .expect_err("a completed release cannot be retried");
    ensure!(
        refused.to_string().contains("is not aborted"),
        "{refused:#}"
    );
    s.ns.cleanup().await
}
