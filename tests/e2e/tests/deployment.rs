//! Deployment rollouts end to end against the local cluster and the controller `make up`
//! runs: batches in both styles, approval, timed pauses, rollback, continuous release,
//! scaling, failing images, deletion, changed steps and jumps, batch labels, the v1alpha1
//! form, bad input, and a controller killed mid-release.
//!
//! Every scenario works in its own namespace on Deployment `web` (label `app=web`).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::json;
use waxwing_e2e::cli::{kubectl_waxwing, waxwing, waxwing_bin, waxwing_output};
use waxwing_e2e::k8s_openapi::api::apps::v1::Deployment;
use waxwing_e2e::k8s_openapi::api::coordination::v1::Lease;
use waxwing_e2e::kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use waxwing_e2e::kube::core::GroupVersionKind;
use waxwing_e2e::rollout::{
    Pause, Scenario, common, deployment, one_per_batch, phase, rollout, steps,
};
use waxwing_e2e::waxwing_api::labels::IN_PROGRESSING;
use waxwing_e2e::waxwing_api::v1beta1::{Rollout, RolloutPhase, StepState};
use waxwing_e2e::{Check, api_error, poll_until, wait_deleted};

const WEB: &str = "app=web";

/// Batch label -> pods, from `(batch, pods)` pairs.
fn batches(pairs: &[(u32, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|(b, n)| (b.to_string(), *n)).collect()
}

/// A Deployment of `replicas` v1 pods and its Rollout, settled.
async fn settled(s: &Scenario, replicas: u32, rollout_yaml: &str) -> Result<()> {
    s.apply(&deployment("web", replicas, "v1")).await?;
    s.apply(rollout_yaml).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods(WEB, &[("v1", replicas)]).await?;
    Ok(())
}

/// The Deployment is Kubernetes' again: not paused, no Waxwing annotation, and (canary style)
/// no canary Deployment left.
async fn handed_back(s: &Scenario) -> Result<()> {
    let deployments =
        s.ns.api::<Deployment>()
            .list(&ListParams::default())
            .await?;
    let names: Vec<String> = deployments
        .items
        .iter()
        .filter_map(|d| d.metadata.name.clone())
        .collect();
    ensure!(names == ["web"], "deployments left: {names:?}");
    let web = &deployments.items[0];
    ensure!(
        web.spec.as_ref().and_then(|s| s.paused) != Some(true),
        "web is still paused"
    );
    let annotations = web.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        !annotations.contains_key(IN_PROGRESSING),
        "web still has {IN_PROGRESSING}: {annotations:?}"
    );
    Ok(())
}

async fn batches_to_completion(canary_style: bool) -> Result<()> {
    let s = Scenario::new(if canary_style {
        "canary-batches"
    } else {
        "partition-batches"
    })
    .await?;
    let plan = steps(&[
        ("20%", Pause::Seconds(3)),
        ("40%", Pause::Manual),
        ("60%", Pause::Seconds(3)),
        ("80%", Pause::Seconds(3)),
        ("90%", Pause::Seconds(1)),
    ]);
    settled(&s, 5, &rollout("web", canary_style, &plan)).await?;

    s.release("web", "v2", Some("r2")).await?;
    for step in 1..=4u32 {
        // Canary style keeps all five stable pods beside the canary Deployment's.
        let old = if canary_style { 5 } else { 5 - step };
        let r = s
            .wait_step("web", step as i32, StepState::StepPaused)
            .await?;
        // A paused step has its pods released, ready and labelled.
        let census = s
            .wait_labelled(
                WEB,
                &[("v1", old), ("v2", step)],
                "v2",
                &one_per_batch(step),
            )
            .await?;
        ensure!(
            census.0["v2"].rollout_ids == BTreeMap::from([("r2".to_string(), step)]),
            "step {step}: rollout ids {census}"
        );
        let canary = r
            .status
            .as_ref()
            .and_then(|s| s.canary_status.as_ref())
            .unwrap();
        ensure!(
            (canary.canary_replicas, canary.canary_ready_replicas) == (step as i32, step as i32),
            "step {step}: status says {} canary pods, {} ready",
            canary.canary_replicas,
            canary.canary_ready_replicas
        );
        if step == 2 {
            // Stays paused until a person approves, unlike the timed steps.
            tokio::time::sleep(Duration::from_secs(4)).await;
            s.wait_step("web", 2, StepState::StepPaused).await?;
            s.approve("web").await?;
        }
    }
    s.wait_completed("web").await?;
    let census = s.wait_pods(WEB, &[("v2", 5)]).await?;
    // Partition style keeps the released pods and their labels. Canary style's labelled pods
    // belonged to the canary Deployment, removed at the end; as in Kruise, the stable
    // Deployment then rolls natively and its new pods carry no batch label.
    if !canary_style {
        let labels: Vec<String> = census.batches("v2").into_keys().collect();
        ensure!(
            labels == ["1", "2", "3", "4"],
            "batch labels lost: {census}"
        );
    }
    handed_back(&s).await?;
    for reason in [
        "RolloutStarted",
        "StepUpgraded",
        "StepPaused",
        "StepReady",
        "RolloutCompleted",
    ] {
        s.wait_event("web", reason).await?;
    }
    s.ns.cleanup().await
}

#[tokio::test]
async fn partition_style_releases_in_batches_to_completion() -> Result<()> {
    batches_to_completion(false).await
}

#[tokio::test]
async fn canary_style_releases_in_batches_to_completion() -> Result<()> {
    batches_to_completion(true).await
}

#[tokio::test]
async fn reverting_to_v1_at_20_percent_rolls_back_at_once() -> Result<()> {
    let s = Scenario::new("rollback").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("60%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    let original: Vec<String> =
        s.ns.pods(WEB)
            .await?
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();

    s.release("web", "v2", Some("r2")).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 1)]).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    s.release("web", "v1", Some("r3")).await?;
    // As in Kruise: the release is cancelled, its status stays where it stopped.
    s.wait_rollout("web", "phase Healthy, release cancelled", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
            && waxwing_e2e::rollout::message(r) == "Rollout progressing has been canceled"
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 5)]).await?;
    handed_back(&s).await?;
    // Fast: the four pods that never left v1 are still there; no batch brought v1 back.
    let now: Vec<String> =
        s.ns.pods(WEB)
            .await?
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
    let kept = original.iter().filter(|p| now.contains(p)).count();
    ensure!(
        kept >= 4,
        "only {kept} of the original v1 pods survived: {now:?}"
    );
    let r = s.rollout("web").await?;
    ensure!(
        common(&r).is_some_and(|c| c.current_step_index <= 1),
        "the rollback went through steps: {:?}",
        common(&r)
    );
    s.ns.cleanup().await
}

#[tokio::test]
async fn v3_arriving_at_40_percent_restarts_from_step_one() -> Result<()> {
    let s = Scenario::new("continuous").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("40%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;

    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    // `waxwing approve`, the subcommand, for this approval.
    waxwing(&["approve", "web", "-n", s.ns.name()]).await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 2)]).await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;

    s.release("web", "v3", Some("r3")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    // Like Kruise's partition style (Kubernetes' rolling update), the abandoned v2 pods count
    // as old ones: the highest revision shrinks first, the rest goes at the end.
    let census = s
        .wait_census(WEB, "1 v3 pod of batch 1 beside 4 older ones", |c| {
            c.count("v3") == 1
                && c.ready("v3") == 1
                && c.total() == 5
                && c.batches("v3") == one_per_batch(1)
        })
        .await?;
    ensure!(census.count("v2") <= 1, "v2 did not shrink first: {census}");
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_census(WEB, "2 v3 pods beside 3 older ones", |c| {
        c.count("v3") == 2 && c.ready("v3") == 2 && c.total() == 5
    })
    .await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v3", 5)]).await?;
    handed_back(&s).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn scaling_mid_step_resizes_the_batch() -> Result<()> {
    let s = Scenario::new("scaling").await?;
    let plan = steps(&[("40%", Pause::Manual), ("100%", Pause::Omitted)]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;

    s.release("web", "v2", Some("r2")).await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 2)]).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    s.patch_deployment("web", json!({"spec": {"replicas": 10}}))
        .await?;
    s.wait_labelled(WEB, &[("v1", 6), ("v2", 4)], "v2", &batches(&[(1, 4)]))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    // Scaling down takes no released pod back (Kruise's advanced deployment): the old
    // ReplicaSet gives up the difference.
    s.patch_deployment("web", json!({"spec": {"replicas": 5}}))
        .await?;
    s.wait_labelled(WEB, &[("v1", 1), ("v2", 4)], "v2", &batches(&[(1, 4)]))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn a_failing_image_holds_its_step_until_a_good_one_arrives() -> Result<()> {
    let s = Scenario::new("failing").await?;
    let yaml = rollout(
        "web",
        false,
        &steps(&[("40%", Pause::Manual), ("100%", Pause::Omitted)]),
    )
    .replace(
        "      steps:\n",
        "      failureThreshold: 50%\n      steps:\n",
    );
    settled(&s, 5, &yaml).await?;

    // Pods of an image tagged `fail-...` run but never become ready (tests/cluster stages).
    s.release("web", "fail-v2", Some("r2")).await?;
    s.wait_census(WEB, "2 fail-v2 pods, none ready", |c| {
        c.count("fail-v2") == 2 && c.ready("fail-v2") == 0
    })
    .await?;
    // 50% of 2 tolerates one unready pod, never all of them: the step must not finish.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let r = s.rollout("web").await?;
    let state = common(&r).map(|c| (c.current_step_index, c.current_step_state));
    ensure!(
        state == Some((1, StepState::StepUpgrade)),
        "with no ready new pod the step moved on: {state:?}"
    );
    ensure!(
        s.census(WEB).await?.count("fail-v2") == 2,
        "more failing pods were released"
    );

    s.release("web", "v3", Some("r3")).await?;
    s.wait_pods(WEB, &[("v1", 3), ("v3", 2)]).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v3", 5)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn deleting_the_rollout_mid_release_hands_the_deployment_back() -> Result<()> {
    for canary_style in [false, true] {
        let s = Scenario::new("delete").await?;
        let plan = steps(&[("20%", Pause::Manual), ("100%", Pause::Omitted)]);
        settled(&s, 5, &rollout("web", canary_style, &plan)).await?;
        s.release("web", "v2", Some("r2")).await?;
        s.wait_step("web", 1, StepState::StepPaused).await?;

        let rollouts = s.ns.api::<Rollout>();
        rollouts.delete("web", &DeleteParams::default()).await?;
        wait_deleted(&rollouts, "web", Duration::from_secs(60)).await?;
        handed_back(&s).await?;
        s.wait_pods(WEB, &[("v2", 5)]).await?;
        s.ns.cleanup().await?;
    }
    Ok(())
}

#[tokio::test]
async fn jumps_and_changed_steps_move_the_release() -> Result<()> {
    let s = Scenario::new("jumps").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("40%", Pause::Manual),
        ("60%", Pause::Manual),
        ("80%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    s.jump("web", 3).await?;
    s.wait_step("web", 3, StepState::StepPaused).await?;
    s.wait_labelled(
        WEB,
        &[("v1", 2), ("v2", 3)],
        "v2",
        &batches(&[(1, 1), (3, 2)]),
    )
    .await?;

    // The style is fixed while the release runs: refused with the reason.
    let err = s
        .apply(&rollout("web", true, &plan))
        .await
        .expect_err("switching to canary style mid-release was accepted");
    ensure!(
        format!("{err:#}").contains("cannot change while the Rollout is Progressing"),
        "{err:#}"
    );

    // Back: the step is run again, and (as in Kruise's partition style) no released pod is
    // taken back.
    s.jump("web", 2).await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 2), ("v2", 3)]).await?;

    // New steps: the three updated pods fit the new step 2 (50% = 3 pods).
    let replanned = steps(&[
        ("20%", Pause::Manual),
        ("50%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    s.apply(&rollout("web", false, &replanned)).await?;
    s.wait_event("web", "RolloutPlanChanged").await?;
    s.wait_pods(WEB, &[("v1", 2), ("v2", 3)]).await?;
    let r = s.wait_step("web", 2, StepState::StepPaused).await?;
    ensure!(
        common(&r).is_some_and(|c| c.next_step_index == 3),
        "{:?}",
        common(&r)
    );
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn a_new_rollout_id_alone_relabels_without_restarting_pods() -> Result<()> {
    let s = Scenario::new("rollout-id").await?;
    let plan = steps(&[("40%", Pause::Manual), ("100%", Pause::Omitted)]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    let before = s.wait_pods(WEB, &[("v2", 5)]).await?;
    let names: Vec<String> =
        s.ns.pods(WEB)
            .await?
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
    ensure!(before.0["v2"].rollout_ids.get("r2") == Some(&5), "{before}");

    s.patch_deployment(
        "web",
        json!({"metadata": {"labels": {"rollouts.kruise.io/rollout-id": "r3"}}}),
    )
    .await?;
    s.wait_rollout("web", "a release for rollout id r3 completed", |r| {
        common(r).is_some_and(|c| {
            c.observed_rollout_id == "r3" && c.current_step_state == StepState::Completed
        })
    })
    .await?;
    let after = s.census(WEB).await?;
    let now: Vec<String> =
        s.ns.pods(WEB)
            .await?
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
    ensure!(now == names, "pods were replaced: {names:?} -> {now:?}");
    ensure!(after.count("v2") == 5, "{after}");
    s.ns.cleanup().await
}

#[tokio::test]
async fn the_v1alpha1_seed_example_runs() -> Result<()> {
    let s = Scenario::new("v1alpha1").await?;
    s.apply(&deployment("web", 5, "v1")).await?;
    // v1alpha1, as Kruise's documentation writes it: objectRef, weight/replicas, pauses.
    // Its default style is the canary Deployment beside the stable one.
    s.apply(
        "apiVersion: rollouts.kruise.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  objectRef:
    workloadRef:
      apiVersion: apps/v1
      kind: Deployment
      name: web
  strategy:
    canary:
      steps:
        - replicas: 1
          pause: {}
        - replicas: 60%
          pause: {duration: 2}
        - replicas: 100%
",
    )
    .await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.release("web", "v2", None).await?;
    s.wait_pods(WEB, &[("v1", 5), ("v2", 1)]).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    // Served as v1alpha1 too, through the conversion webhook.
    let gvk = GroupVersionKind::gvk("rollouts.kruise.io", "v1alpha1", "Rollout");
    let alpha: Api<DynamicObject> =
        Api::namespaced_with(s.ns.client(), s.ns.name(), &ApiResource::from_gvk(&gvk));
    let obj: DynamicObject = alpha.get("web").await?;
    ensure!(
        obj.data["status"]["canaryStatus"]["currentStepIndex"] == 1
            && obj.data["spec"]["objectRef"]["workloadRef"]["name"] == "web",
        "v1alpha1 view: {}",
        obj.data
    );
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    handed_back(&s).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn bad_input_gets_clear_answers() -> Result<()> {
    let s = Scenario::new("bad-input").await?;
    let plan = steps(&[("20%", Pause::Manual), ("100%", Pause::Omitted)]);

    // A Rollout for a Deployment that does not exist (yet): status says so, then it recovers.
    s.apply(&rollout("web", false, &plan)).await?;
    let r = s
        .wait_rollout("web", "the workload reported missing", |r| {
            waxwing_e2e::rollout::message(r) == "Workload Not Found"
        })
        .await?;
    ensure!(phase(&r).is_some(), "no phase: {r:?}");
    s.apply(&deployment("web", 2, "v1")).await?;
    s.wait_rollout("web", "phase Healthy once the Deployment exists", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;

    // Steps that go down: refused at the door, with the reason.
    let decreasing = rollout(
        "other",
        false,
        &steps(&[("60%", Pause::Manual), ("20%", Pause::Omitted)]),
    )
    .replace("name: other\n  strategy", "name: web\n  strategy");
    let err = s
        .apply(&decreasing)
        .await
        .expect_err("decreasing steps were accepted");
    let text = format!("{err:#}");
    ensure!(text.contains("step") && api_error(&err).is_some(), "{text}");

    // A second Rollout for the same Deployment.
    let second = rollout("second", false, &plan)
        .replace("name: second\n  strategy", "name: web\n  strategy");
    let err = s
        .apply(&second)
        .await
        .expect_err("a second Rollout for web was accepted");
    let text = format!("{err:#}");
    ensure!(text.contains("web") && text.contains("Rollout"), "{text}");

    // Out-of-range percentage.
    let err = s
        .apply(&rollout("web", false, &steps(&[("150%", Pause::Omitted)])))
        .await
        .expect_err("150% was accepted");
    ensure!(format!("{err:#}").contains("150%"), "{err:#}");
    s.ns.cleanup().await
}

/// A crash at any moment resumes from status alone: no step skipped, none repeated.
#[tokio::test]
async fn a_killed_controller_resumes_where_it_was() -> Result<()> {
    let s = Scenario::exclusive("restart").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("60%", Pause::Manual),
        ("80%", Pause::Seconds(5)),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    // Killed right after an approval: whatever it had started, the restart finishes step 2.
    s.approve("web").await?;
    s.controller("kill").await?;
    s.controller("start").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_labelled(
        WEB,
        &[("v1", 2), ("v2", 3)],
        "v2",
        &batches(&[(1, 1), (2, 2)]),
    )
    .await?;

    // Killed while paused, approved while down.
    s.controller("kill").await?;
    s.approve("web").await?;
    s.controller("start").await?;
    s.wait_pods(WEB, &[("v1", 1), ("v2", 4)]).await?;
    s.wait_step("web", 3, StepState::StepPaused).await?;

    // Killed during a timed pause: the pause is measured from status, not restarted from zero.
    s.controller("kill").await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    s.controller("start").await?;
    s.wait_completed("web").await?;
    let census = s.wait_pods(WEB, &[("v2", 5)]).await?;
    ensure!(
        census
            .batches("v2")
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            == ["1", "2", "3", "4"],
        "{census}"
    );
    handed_back(&s).await?;
    s.ns.cleanup().await
}

/// The command line a person or a pipeline uses: get (tree, JSON, and `kubectl waxwing ...
/// --watch` redrawing live), pause, resume, status.
#[tokio::test]
async fn the_command_line_shows_pauses_and_follows_a_release() -> Result<()> {
    let s = Scenario::new("cli").await?;
    let plan = steps(&[("40%", Pause::Manual), ("100%", Pause::Omitted)]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    let ns = s.ns.name().to_owned();
    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_labelled(WEB, &[("v1", 3), ("v2", 2)], "v2", &batches(&[(1, 2)]))
        .await?;

    let tree = waxwing(&["get", "rollout", "web", "-n", &ns]).await?;
    ensure!(
        tree.contains("▶ 1  replicas 40%  pause manual  StepPaused"),
        "{tree}"
    );
    ensure!(!tree.contains('\x1b'), "colours in a pipe: {tree}");
    let json: serde_json::Value =
        serde_json::from_str(&waxwing(&["get", "rollout", "web", "-n", &ns, "-o", "json"]).await?)?;
    let canary_pods = json["pods"].as_array().map_or(0, |pods| {
        pods.iter()
            .filter(|p| p["revision"] == "canary" && p["batch"] == "1")
            .count()
    });
    ensure!(json["currentStep"] == 1 && canary_pods == 2, "{json:#}");

    // `kubectl waxwing get rollout --watch` follows the release live from here.
    let watch = kubectl_waxwing(&["get", "rollout", "web", "-n", &ns, "--watch"])?;
    let paused = "▶ 1  replicas 40%  pause manual  StepPaused";
    watch.wait_for(paused).await?;

    // Paused: an approval is kept but nothing moves until resumed.
    waxwing(&["pause", "web", "-n", &ns]).await?;
    s.approve("web").await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    ensure!(
        s.census(WEB).await?.count("v2") == 2,
        "a paused rollout moved"
    );
    waxwing(&["resume", "web", "-n", &ns]).await?;
    let out = waxwing_output(&["status", "web", "-n", &ns, "--watch", "--timeout", "60"]).await?;
    ensure!(
        out.status.success(),
        "status --watch: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    let healthy = format!("Rollout {ns}/web  Healthy");
    watch.wait_for(&healthy).await?;
    let shown = watch.stop().await?;
    let at = |text: &str| shown.find(text);
    let paused = at(paused);
    ensure!(
        paused.is_some() && paused < at("✔ 1  replicas 40%") && paused < at(&healthy),
        "the watch did not redraw from step 1 paused to the release done:\n{shown}"
    );
    ensure!(!shown.contains('\x1b'), "colours in a pipe: {shown}");

    // A rollback ends the next release: status --watch says so with a non-zero exit.
    s.release("web", "v3", Some("r3")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.release("web", "v2", Some("r4")).await?;
    let out = waxwing_output(&["status", "web", "-n", &ns, "--watch", "--timeout", "60"]).await?;
    ensure!(
        out.status.code() == Some(1),
        "status after a rollback: {}",
        out.status
    );
    s.ns.cleanup().await
}

/// Two replicas: only the Lease holder reconciles; killing it hands over within the lease
/// duration, and the release goes on from where it was, no step done twice.
#[tokio::test]
async fn a_standby_replica_takes_over_when_the_leader_dies() -> Result<()> {
    let s = Scenario::exclusive("leader").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("60%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, 5, &rollout("web", false, &plan)).await?;
    let standby = Standby::start("e2e-standby").await?;
    ensure!(
        standby.metric("waxwing_leader").await? == 0.0,
        "the standby leads while the leader lives"
    );

    s.release("web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 1)]).await?;
    ensure!(
        standby.metric("waxwing_reconciles_total").await? == 0.0,
        "the standby reconciled while not leading"
    );

    s.controller("kill").await?;
    poll_until(
        "the standby to hold the Lease",
        Duration::from_secs(60),
        || async {
            let lease = Api::<Lease>::namespaced(s.ns.client(), "waxwing-system")
                .get("waxwing-controller")
                .await?;
            let holder = lease
                .spec
                .and_then(|s| s.holder_identity)
                .unwrap_or_default();
            Ok(if holder == "e2e-standby" {
                Check::Done(())
            } else {
                Check::Pending(format!("holder {holder:?}"))
            })
        },
    )
    .await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_labelled(
        WEB,
        &[("v1", 2), ("v2", 3)],
        "v2",
        &batches(&[(1, 1), (2, 2)]),
    )
    .await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    ensure!(
        standby.metric("waxwing_leader").await? == 1.0,
        "the standby does not lead"
    );

    // The standby gives the Lease back as it stops; the shared controller leads again.
    standby.stop().await?;
    s.controller("start").await?;
    s.ns.cleanup().await
}

/// A second `waxwing controller` process beside the one `make up` runs, on its own ports.
struct Standby {
    child: tokio::process::Child,
    metrics: String,
}

impl Standby {
    async fn start(identity: &str) -> Result<Self> {
        let base: u16 = std::env::var("WAXWING_PORT_BASE")
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(29400);
        let metrics = format!("127.0.0.1:{}", base + 92);
        let log = waxwing_e2e::repo_root().join("target/cluster/logs/waxwing-standby.log");
        let child = tokio::process::Command::new(waxwing_bin())
            .args(["controller", "--namespace", "waxwing-system"])
            .args(["--metrics-addr", &metrics])
            .args(["--webhook-addr", &format!("127.0.0.1:{}", base + 93)])
            .args([
                "--lease-duration-seconds",
                "5",
                "--leader-identity",
                identity,
            ])
            .env("KUBECONFIG", waxwing_e2e::kubeconfig_path())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let standby = Self { child, metrics };
        poll_until(
            "the standby to be ready",
            Duration::from_secs(60),
            || async {
                let ready = standby.get("/readyz").await.is_ok_and(|body| body == "ok");
                Ok(if ready {
                    Check::Done(())
                } else {
                    Check::Pending(format!("not ready (log: {})", log.display()))
                })
            },
        )
        .await?;
        Ok(standby)
    }

    /// A plain HTTP GET on the metrics address (no client library needed for one request).
    async fn get(&self, path: &str) -> Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&self.metrics).await?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.metrics);
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        ensure!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "{head}"
        );
        Ok(body.to_owned())
    }

    async fn metric(&self, name: &str) -> Result<f64> {
        let text = self.get("/metrics").await?;
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.trim().parse().ok())
            .with_context(|| format!("no metric {name} in:\n{text}"))
    }

    /// SIGTERM, as the kubelet stops a pod, and wait for the exit.
    async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            std::process::Command::new("kill")
                .arg(pid.to_string())
                .status()?;
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await??;
        Ok(())
    }
}
