//! Blue-green releases of a Deployment behind an nginx Ingress, end to end against the local
//! cluster and the controller `make up` runs: the new version scaled up beside the old one
//! (every old pod stays until the end), traffic switched by step, then the old pods go; a
//! rollback restores traffic before the new pods go; a newer revision mid-release (continuous
//! release, which Kruise refuses) restarts on it; scaling mid-release; deletion and disable; the
//! workload's HPA kept off it during the release; and a CloneSet released the same way.

use anyhow::{Result, ensure};
use serde_json::json;
use waxwing_e2e::cli::waxwing;
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler,
};
use waxwing_e2e::rollout::{CLONESET, DEPLOYMENT, Scenario, WorkloadKind, common};
use waxwing_e2e::traffic::{
    ingress, ingress_named, restored_first, settled_with, traffic_restored,
    wait_canary_annotations, wait_split, watch_restore,
};
use waxwing_e2e::waxwing_api::v1beta1::{Rollout, StepState};

const WEB: &str = "app=web";
const NGINX: &str = "nginx.ingress.kubernetes.io/";

/// A CloneSet cannot surge to 100% after an earlier partial batch: its plan starts at 100%, as
/// Kruise's examples do.
const CLONESET_STEPS: &str = "      steps:
        - {replicas: 100%, traffic: \"0%\", pause: {}}
        - {replicas: 100%, traffic: \"50%\", pause: {}}
        - {replicas: 100%, traffic: \"100%\", pause: {}}
      trafficRoutings:
        - service: web
          gracePeriodSeconds: 1
          ingress: {name: web}
";

/// The blue-green plan of every scenario: half the new pods without traffic, all of them
/// without traffic, then half and all of the requests.
const STEPS: &str = "      steps:
        - {replicas: 50%, traffic: \"0%\", pause: {}}
        - {replicas: 100%, traffic: \"0%\", pause: {}}
        - {replicas: 100%, traffic: \"50%\", pause: {}}
        - {replicas: 100%, traffic: \"100%\", pause: {}}
      trafficRoutings:
        - service: web
          gracePeriodSeconds: 1
          ingress: {name: web}
";

/// Deployment `web` with 4 v1 pods, Service, nginx Ingress and the blue-green Rollout, settled.
async fn settled(s: &Scenario, kind: &WorkloadKind, steps: &str) -> Result<()> {
    let rollout_yaml = format!(
        "apiVersion: rollouts.kruise.io/v1beta1
kind: Rollout
metadata:
  name: web
spec:
  workloadRef: {{apiVersion: {}, kind: {}, name: web}}
  strategy:
    blueGreen:
{steps}",
        kind.api_version, kind.kind
    );
    settled_with(s, kind, 4, &ingress("nginx"), &rollout_yaml).await
}

/// The canary Ingress routes `weight`% to the new pods.
async fn weighted(s: &Scenario, weight: &str) -> Result<()> {
    wait_canary_annotations(s, NGINX, &[("canary", "true"), ("canary-weight", weight)]).await
}

/// The Deployment runs natively again: no longer bounded by the release.
fn released(deployments: &[Deployment]) -> bool {
    deployments.iter().all(|d| {
        d.spec
            .as_ref()
            .and_then(|spec| spec.min_ready_seconds)
            .unwrap_or_default()
            < 1_000_000
            && d.spec.as_ref().and_then(|spec| spec.paused) != Some(true)
    })
}

/// Scenario 5: the new version grows beside the old one, traffic moves 0%, 0%, 50%, 100%, and
/// only then do the old pods go.
#[tokio::test]
async fn blue_green_rolls_with_traffic_and_keeps_the_old_pods_until_the_end() -> Result<()> {
    let s = Scenario::new("bluegreen").await?;
    settled(&s, &DEPLOYMENT, STEPS).await?;
    s.apply(HPA).await?;
    let written = hpa_target(&s).await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 2)]).await?;
    // The HPA may not scale the workload mid-release: it points at a name that does not exist.
    let disabled = hpa_target(&s).await?;
    ensure!(
        disabled.name == "web-DisableByRollout",
        "the HPA still targets {disabled:?}"
    );
    ensure!(
        ingress_named(&s, "web-canary").await?.is_none(),
        "0% created a canary Ingress"
    );
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 4)]).await?;
    s.approve("web").await?;
    s.wait_step("web", 3, StepState::StepPaused).await?;
    weighted(&s, "50").await?;
    wait_split(&s, 4, 4).await?;
    s.approve("web").await?;
    s.wait_step("web", 4, StepState::StepPaused).await?;
    weighted(&s, "100").await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 4)]).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 4)]).await?;
    traffic_restored(&s).await?;
    let web = s.ns.api::<Deployment>().get("web").await?;
    ensure!(
        released(std::slice::from_ref(&web)),
        "web is still bounded: {:?}",
        web.spec
    );
    let restored = hpa_target(&s).await?;
    ensure!(
        restored == written,
        "the HPA targets {restored:?}, not {written:?}"
    );
    s.ns.cleanup().await
}

/// An HPA of Deployment `web` within its replica count (no metrics are served here, so it
/// never scales by itself).
const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 4
  maxReplicas: 8
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
";

async fn hpa_target(s: &Scenario) -> Result<CrossVersionObjectReference> {
    let hpa = s.ns.api::<HorizontalPodAutoscaler>().get("web").await?;
    Ok(hpa.spec.scale_target_ref)
}

/// Scenario 5: `waxwing undo` at 50% of the traffic: the routes and Services are back before
/// the Deployment is released, and the new pods go while all old ones stayed.
#[tokio::test]
async fn blue_green_rollback_restores_traffic_first() -> Result<()> {
    let s = Scenario::new("bluegreen-rollback").await?;
    settled(&s, &DEPLOYMENT, STEPS).await?;
    s.release("web", "v2", Some("v2")).await?;
    for step in 1..=2 {
        s.wait_step("web", step, StepState::StepPaused).await?;
        s.approve("web").await?;
    }
    s.wait_step("web", 3, StepState::StepPaused).await?;
    weighted(&s, "50").await?;
    waxwing(&["undo", "web", "-n", s.ns.name()]).await?;
    let timeline = watch_restore(&s, released).await?;
    restored_first(&timeline)?;
    s.wait_pods(WEB, &[("v1", 4)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

/// Scenario 5: v3 at step 2 (Kruise refuses a continuous blue-green release): traffic back to
/// stable, the v2 pods go, the release restarts on v3 beside the untouched v1 pods, and
/// completes on v3. Scaling 4 -> 6 -> 4 on the way keeps every old pod and the batch's share.
#[tokio::test]
async fn blue_green_continuous_release_and_scaling() -> Result<()> {
    let s = Scenario::new("bluegreen-continuous").await?;
    settled(&s, &DEPLOYMENT, STEPS).await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 4)]).await?;
    s.release("web", "v3", Some("v3")).await?;
    s.wait_rollout("web", "step 1 paused on v3", |r: &Rollout| {
        common(r).is_some_and(|c| {
            c.current_step_index == 1
                && c.current_step_state == StepState::StepPaused
                && c.observed_rollout_id == "v3"
        })
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 4), ("v3", 2)]).await?;

    s.patch_deployment("web", json!({"spec": {"replicas": 6}}))
        .await?;
    s.wait_pods(WEB, &[("v1", 6), ("v3", 3)]).await?;
    s.patch_deployment("web", json!({"spec": {"replicas": 4}}))
        .await?;
    s.wait_census(WEB, "4 v1 pods, at least 2 v3 pods", |c| {
        c.count("v1") == 4 && c.count("v3") >= 2 && c.count("v2") == 0
    })
    .await?;

    for step in 1..=4 {
        s.wait_step("web", step, StepState::StepPaused).await?;
        s.approve("web").await?;
    }
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v3", 4)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

/// Scenario 5: deleting the Rollout, or disabling it, at 50% of the traffic restores the
/// routes first, then hands the Deployment back, which finishes on its own template.
#[tokio::test]
async fn blue_green_deletion_and_disable() -> Result<()> {
    for disable in [false, true] {
        let s = Scenario::new(if disable {
            "bluegreen-disable"
        } else {
            "bluegreen-delete"
        })
        .await?;
        settled(&s, &DEPLOYMENT, STEPS).await?;
        s.release("web", "v2", Some("v2")).await?;
        for step in 1..=2 {
            s.wait_step("web", step, StepState::StepPaused).await?;
            s.approve("web").await?;
        }
        s.wait_step("web", 3, StepState::StepPaused).await?;
        weighted(&s, "50").await?;
        s.abandon("web", disable).await?;
        let timeline = watch_restore(&s, released).await?;
        restored_first(&timeline)?;
        s.wait_pods(WEB, &[("v2", 4)]).await?;
        traffic_restored(&s).await?;
        s.ns.cleanup().await?;
    }
    Ok(())
}

/// How a CloneSet's blue-green release ends, in the scenarios below.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    Completed,
    /// `waxwing undo` at 50% of the traffic.
    RolledBack,
    /// v3 released at 50% of the traffic.
    Newer,
    Deleted,
    Disabled,
}

/// Scenario 5, CloneSet: all new pods beside the old ones without traffic, then 50% of the
/// requests, then the release ends as `ending` says; the traffic is back on the stable Service
/// at the end and the pods run what the ending leaves.
async fn cloneset_release(prefix: &str, ending: Ending) -> Result<()> {
    let s = Scenario::new(prefix).await?;
    settled(&s, &CLONESET, CLONESET_STEPS).await?;
    s.release_workload(&CLONESET, "web", "v2", Some("v2"))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 4)]).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    weighted(&s, "50").await?;
    wait_split(&s, 4, 4).await?;
    let left = match ending {
        Ending::Completed => {
            s.approve("web").await?;
            s.wait_step("web", 3, StepState::StepPaused).await?;
            weighted(&s, "100").await?;
            s.approve("web").await?;
            s.wait_completed("web").await?;
            "v2"
        }
        Ending::RolledBack => {
            waxwing(&["undo", "web", "-n", s.ns.name()]).await?;
            "v1"
        }
        Ending::Newer => {
            s.release_workload(&CLONESET, "web", "v3", Some("v3"))
                .await?;
            s.wait_rollout("web", "step 1 paused on v3", |r: &Rollout| {
                common(r).is_some_and(|c| {
                    c.current_step_index == 1
                        && c.current_step_state == StepState::StepPaused
                        && c.observed_rollout_id == "v3"
                })
            })
            .await?;
            s.wait_pods(WEB, &[("v1", 4), ("v3", 4)]).await?;
            for step in 1..=3 {
                s.wait_step("web", step, StepState::StepPaused).await?;
                s.approve("web").await?;
            }
            s.wait_completed("web").await?;
            "v3"
        }
        Ending::Deleted | Ending::Disabled => {
            s.abandon("web", ending == Ending::Disabled).await?;
            "v2"
        }
    };
    s.wait_pods(WEB, &[(left, 4)]).await?;
    traffic_restored(&s).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn blue_green_cloneset_completes() -> Result<()> {
    cloneset_release("bluegreen-cloneset", Ending::Completed).await
}

#[tokio::test]
async fn blue_green_cloneset_rollback() -> Result<()> {
    cloneset_release("bluegreen-cloneset-back", Ending::RolledBack).await
}

/// Continuous release under blue-green, which Kruise refuses.
#[tokio::test]
async fn blue_green_cloneset_continuous_release() -> Result<()> {
    cloneset_release("bluegreen-cloneset-v3", Ending::Newer).await
}

#[tokio::test]
async fn blue_green_cloneset_deletion_and_disable() -> Result<()> {
    cloneset_release("bluegreen-cloneset-delete", Ending::Deleted).await?;
    cloneset_release("bluegreen-cloneset-disable", Ending::Disabled).await
}
