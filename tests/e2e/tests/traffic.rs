//! Traffic routing end to end against the local cluster and the controller `make up` runs:
//! the canary and stable Services, an nginx Ingress and a Gateway API HTTPRoute moved step by
//! step, A/B matches, traffic restored before the workload on rollback and on a person's abort,
//! continuous release, deletion and disable, and bad routes refused before anything changes.
//!
//! No proxy runs in the test cluster: the scenarios check what every Service selects and what
//! every route says, which is what a proxy would act on.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use waxwing_e2e::cli::{waxwing, waxwing_output};
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::rollout::{CLONESET, Scenario, common, message};
use waxwing_e2e::traffic::{
    WEIGHTS, annotations_with, backends, ingress, ingress_named, refused_before_anything_changes,
    restored_first, routing, selector_of, service, settled, settled_with, traffic_restored,
    traffic_steps, wait_canary_annotations, wait_split, watch_restore,
};
use waxwing_e2e::waxwing_api::v1beta1::StepState;
use waxwing_e2e::{Check, poll_until};

const WEB: &str = "app=web";
const NGINX: &str = "nginx.ingress.kubernetes.io/";

/// The canary Ingress of step `weight`: nginx canary annotations, only the stable path,
/// retargeted to the canary Service.
async fn wait_canary_ingress(s: &Scenario, weight: &str) -> Result<()> {
    let weight = weight.trim_end_matches('%').to_owned();
    poll_until(
        &format!("Ingress web-canary with canary-weight {weight}"),
        Duration::from_secs(30),
        || async {
            let Some(canary) = ingress_named(s, "web-canary").await? else {
                return Ok(Check::Pending("no Ingress web-canary".to_owned()));
            };
            let annotations = annotations_with(&canary, NGINX);
            let ok = annotations
                .get(&format!("{NGINX}canary"))
                .map(String::as_str)
                == Some("true")
                && annotations.get(&format!("{NGINX}canary-weight")) == Some(&weight)
                && backends(&canary) == ["web-canary"];
            Ok(if ok {
                Check::Done(())
            } else {
                Check::Pending(format!(
                    "annotations {annotations:?}, backends {:?}",
                    backends(&canary)
                ))
            })
        },
    )
    .await
}

/// The user's Ingress `web` is as written: no canary annotation, both paths to their Services.
async fn stable_ingress_untouched(s: &Scenario) -> Result<()> {
    let web = ingress_named(s, "web")
        .await?
        .context("Ingress web is gone")?;
    ensure!(
        annotations_with(&web, NGINX).is_empty(),
        "Ingress web was annotated"
    );
    ensure!(
        backends(&web) == ["web", "admin"],
        "Ingress web now routes to {:?}",
        backends(&web)
    );
    Ok(())
}

/// Scenario 1: an nginx Ingress, 20% to 90% with 3 replicas in canary style. At every step the
/// canary Ingress carries the step's weight, the canary Service selects exactly the new pods and
/// the stable Service exactly the old ones; at the end everything is as before.
#[tokio::test]
async fn nginx_ingress_weights_step_by_step() -> Result<()> {
    let s = Scenario::new("traffic-nginx").await?;
    let steps = traffic_steps(&WEIGHTS);
    settled(
        &s,
        3,
        &ingress("nginx"),
        true,
        &steps,
        "ingress: {name: web}",
    )
    .await?;
    s.release("web", "v2", Some("v2")).await?;
    for (index, (_, weight)) in WEIGHTS.iter().enumerate() {
        let step = i32::try_from(index + 1)?;
        s.wait_step("web", step, StepState::StepPaused).await?;
        wait_canary_ingress(&s, weight).await?;
        let canary_pods = [1, 2, 2, 3, 3][index];
        wait_split(&s, 3, canary_pods).await?;
        stable_ingress_untouched(&s).await?;
        s.approve("web").await?;
    }
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 3)]).await?;
    traffic_restored(&s).await?;
    stable_ingress_untouched(&s).await?;
    for reason in ["TrafficRouted", "TrafficRestored", "RolloutCompleted"] {
        s.wait_event("web", reason).await?;
    }
    s.ns.cleanup().await
}

/// Scenario 2: A/B on nginx: a header match and a cookie match (Kruise writes a cookie as the
/// header `canary-by-cookie`) send those requests to the new pods, and no weight is set.
#[tokio::test]
async fn nginx_header_and_cookie_matches() -> Result<()> {
    let s = Scenario::new("traffic-ab-nginx").await?;
    let steps = "        - replicas: 1
          matches:
            - headers: [{name: x-canary, value: \"on\"}]
            - headers: [{name: canary-by-cookie, value: beta_user}]
          pause: {}
        - replicas: 100%
";
    settled(
        &s,
        5,
        &ingress("nginx"),
        false,
        steps,
        "ingress: {name: web}",
    )
    .await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_canary_annotations(
        &s,
        NGINX,
        &[
            ("canary", "true"),
            ("canary-by-header", "x-canary"),
            ("canary-by-header-value", "on"),
            ("canary-by-cookie", "beta_user"),
        ],
    )
    .await?;
    wait_split(&s, 4, 1).await?;
    stable_ingress_untouched(&s).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    traffic_restored(&s).await?;
    stable_ingress_untouched(&s).await?;
    s.ns.cleanup().await
}

/// Scenario 2: a CloneSet behind an Ingress of class aliyun-alb: the canary Ingress carries
/// ALB's annotations, first a weight, then a header match.
#[tokio::test]
async fn alb_ingress_with_a_cloneset() -> Result<()> {
    let s = Scenario::new("traffic-alb").await?;
    let steps = "        - replicas: 1
          traffic: \"30%\"
          pause: {}
        - replicas: 2
          matches:
            - headers: [{name: x-canary, value: \"on\"}]
          pause: {}
        - replicas: 100%
";
    let route = "ingress: {name: web, classType: aliyun-alb}";
    let rollout_yaml = format!("{}{}", CLONESET.rollout("web", steps), routing(route));
    settled_with(&s, &CLONESET, 4, &ingress("alb"), &rollout_yaml).await?;
    s.release_workload(&CLONESET, "web", "v2", Some("v2"))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    const ALB: &str = "alb.ingress.kubernetes.io/";
    wait_canary_annotations(
        &s,
        ALB,
        &[("canary", "true"), ("canary-weight", "30"), ("order", "1")],
    )
    .await?;
    wait_split(&s, 3, 1).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    wait_canary_annotations(
        &s,
        ALB,
        &[
            ("canary", "true"),
            ("canary-by-header", "x-canary"),
            ("canary-by-header-value", "on"),
            ("order", "1"),
        ],
    )
    .await?;
    wait_split(&s, 2, 2).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 4)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

fn canary_deployment_gone(deployments: &[Deployment]) -> bool {
    deployments
        .iter()
        .all(|d| d.metadata.name.as_deref() == Some("web"))
}

/// A release of v2 through an nginx Ingress (3 pods, canary style, steps 20% and 40%) paused at
/// its first step, with 20% routed to the canary.
async fn at_the_first_step(prefix: &str) -> Result<Scenario> {
    let s = Scenario::new(prefix).await?;
    let steps = traffic_steps(&WEIGHTS[..2]);
    settled(
        &s,
        3,
        &ingress("nginx"),
        true,
        &steps,
        "ingress: {name: web}",
    )
    .await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_canary_ingress(&s, "20%").await?;
    Ok(s)
}

/// Scenario 4: a rollback at 20% (`waxwing undo`) restores the Ingress and Services before the
/// canary Deployment goes, and the events say so in that order.
#[tokio::test]
async fn rollback_restores_traffic_before_the_workload() -> Result<()> {
    let s = at_the_first_step("traffic-rollback").await?;
    // Rolled back as a person does from the command line.
    let said = waxwing(&["undo", "web", "-n", s.ns.name()]).await?;
    ensure!(
        said.contains("stable revision"),
        "waxwing undo said: {said}"
    );
    let timeline = watch_restore(&s, canary_deployment_gone).await?;
    restored_first(&timeline)?;
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    traffic_restored(&s).await?;
    s.wait_event("web", "RolloutCancelled").await?;
    let reasons = s.event_reasons("web").await?;
    let position = |reason: &str| reasons.iter().rposition(|r| r == reason);
    ensure!(
        position("TrafficRestored") < position("RolloutCancelled")
            && position("TrafficRestored").is_some(),
        "events out of order: {reasons:?}"
    );
    s.ns.cleanup().await
}

/// A person aborts at 20% (`waxwing abort`): traffic goes back to stable and the canary
/// Deployment to zero pods, the reason in the status; `waxwing status` reports the failure, a
/// second abort is refused, and `waxwing retry` routes 20% to the new pods again.
#[tokio::test]
async fn a_persons_abort_restores_traffic_and_retry_goes_on() -> Result<()> {
    let s = at_the_first_step("traffic-abort").await?;
    let ns = s.ns.name();
    let said = waxwing(&["abort", "web", "-n", ns, "--reason", "p99 latency doubled"]).await?;
    ensure!(said.contains("web aborted"), "waxwing abort said: {said}");
    let r = s.wait_aborted("web").await?;
    ensure!(
        message(&r).contains("step(1/2): a person asked to abort it: p99 latency doubled"),
        "message: {}",
        message(&r)
    );
    ensure!(
        r.status.as_ref().is_some_and(|s| s.abort_request.is_none()),
        "the request is left in the status"
    );
    // The canary pods go only after the routes are restored.
    s.wait_pods(WEB, &[("v1", 3)]).await?;
    traffic_restored(&s).await?;
    let canary = s.ns.api::<Deployment>().get("web-canary").await?;
    ensure!(
        canary.spec.and_then(|spec| spec.replicas) == Some(0),
        "the canary Deployment is not scaled to zero"
    );
    s.wait_event("web", "RolloutAborted").await?;

    let out = waxwing_output(&["status", "web", "-n", ns]).await?;
    ensure!(
        out.status.code() == Some(1),
        "waxwing status of an aborted release: {}",
        out.status
    );
    let refused = waxwing(&["abort", "web", "-n", ns])
        .await
        .expect_err("an aborted release cannot be aborted again");
    ensure!(
        refused.to_string().contains("is already aborted"),
        "{refused:#}"
    );

    waxwing(&["retry", "web", "-n", ns]).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_canary_ingress(&s, "20%").await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 1)]).await?;
    s.ns.cleanup().await
}

/// Scenario 4: v3 arrives at step 2: traffic goes back to stable, the release restarts at
/// step 1 and routes 20% to the v3 pods.
#[tokio::test]
async fn continuous_release_reroutes_to_the_newest_revision() -> Result<()> {
    let s = at_the_first_step("traffic-continuous").await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    wait_canary_ingress(&s, "40%").await?;
    s.release("web", "v3", Some("v3")).await?;
    s.wait_event("web", "RolloutRestarted").await?;
    let restarted = s
        .wait_rollout("web", "step 1 paused on v3", |r| {
            common(r).is_some_and(|c| {
                c.current_step_index == 1
                    && c.current_step_state == StepState::StepPaused
                    && c.observed_rollout_id == "v3"
            })
        })
        .await?;
    wait_canary_ingress(&s, "20%").await?;
    let canary = service(&s, "web-canary")
        .await?
        .context("no canary Service")?;
    let census = s.census(&selector_of(&canary)).await?;
    ensure!(
        census.is(&[("v3", 1)]),
        "web-canary selects {census} ({})",
        message(&restarted)
    );
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v3", 3)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

/// Scenario 4: deleting the Rollout, or disabling it, mid-release restores the traffic before
/// the workload is handed back.
#[tokio::test]
async fn deletion_and_disable_restore_traffic_first() -> Result<()> {
    for disable in [false, true] {
        let s = at_the_first_step(if disable {
            "traffic-disable"
        } else {
            "traffic-delete"
        })
        .await?;
        s.abandon("web", disable).await?;
        let timeline = watch_restore(&s, canary_deployment_gone).await?;
        restored_first(&timeline)?;
        s.wait_pods(WEB, &[("v2", 3)]).await?;
        traffic_restored(&s).await?;
        s.ns.cleanup().await?;
    }
    Ok(())
}

/// Scenario 7: a route naming a missing Service, and an Ingress of an unknown class, are each
/// refused with a message that says so, before any pod, Service or route changed.
#[tokio::test]
async fn bad_routes_are_refused_before_anything_changes() -> Result<()> {
    refused_before_anything_changes(
        "traffic-bad-service",
        &ingress("nginx"),
        "ingress: {name: web}",
        "nope",
        "does not exist",
    )
    .await?;
    refused_before_anything_changes(
        "traffic-bad-class",
        &ingress("nginx"),
        "ingress: {name: web, classType: no-such-class}",
        "web",
        "no-such-class",
    )
    .await
}
