//! CloneSet rollouts end to end: the same controller path as Deployments, the CloneSet
//! plugin lowering `updateStrategy.partition` batch by batch (kruise-manager runs the pods).
//!
//! Every scenario works in its own namespace on CloneSet `web` (label `app=web`).

use anyhow::{Result, ensure};
use waxwing_e2e::rollout::{CLONESET, Pause, Scenario, common, one_per_batch, phase, steps};
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};

const WEB: &str = "app=web";

async fn settled(s: &Scenario, rollout_yaml: &str) -> Result<()> {
    s.apply(&CLONESET.manifest("web", 5, "v1")).await?;
    s.apply(rollout_yaml).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 5)]).await?;
    Ok(())
}

/// Steps `percents` in order; every step but the last is paused for `pause`.
async fn release_in_batches(prefix: &str, percents: &[u32], pause: Pause) -> Result<()> {
    let s = Scenario::new(prefix).await?;
    let list: Vec<(String, Pause)> = percents.iter().map(|p| (format!("{p}%"), pause)).collect();
    let list: Vec<(&str, Pause)> = list.iter().map(|(r, p)| (r.as_str(), *p)).collect();
    settled(&s, &CLONESET.rollout("web", &steps(&list))).await?;

    s.release_workload(&CLONESET, "web", "v2", Some("r2"))
        .await?;
    for (index, percent) in percents.iter().enumerate().take(percents.len() - 1) {
        let step = index as u32 + 1;
        let updated = (5 * percent).div_ceil(100);
        s.wait_step("web", step as i32, StepState::StepPaused)
            .await?;
        s.wait_labelled(WEB, &[("v1", 5 - updated), ("v2", updated)], "v2", &{
            // One batch label per step, for the pods that step added.
            let mut expected = std::collections::BTreeMap::new();
            let mut before = 0;
            for (i, p) in percents.iter().enumerate().take(index + 1) {
                let now = (5 * p).div_ceil(100);
                if now > before {
                    expected.insert((i + 1).to_string(), now - before);
                }
                before = now;
            }
            expected
        })
        .await?;
        if matches!(pause, Pause::Manual) {
            s.approve("web").await?;
        }
    }
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 5)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn cloneset_releases_20_then_60_percent_to_completion() -> Result<()> {
    release_in_batches("cs-20-60", &[20, 60, 100], Pause::Manual).await
}

#[tokio::test]
async fn cloneset_releases_in_five_timed_batches() -> Result<()> {
    release_in_batches("cs-five", &[20, 40, 60, 80, 100], Pause::Seconds(2)).await
}

#[tokio::test]
async fn cloneset_rolls_back_continues_and_jumps() -> Result<()> {
    let s = Scenario::new("cs-rollback").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("40%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, &CLONESET.rollout("web", &plan)).await?;

    // Rollback at 20%: straight back to v1, no batches.
    s.release_workload(&CLONESET, "web", "v2", Some("r2"))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 4), ("v2", 1)]).await?;
    s.release_workload(&CLONESET, "web", "v1", Some("r3"))
        .await?;
    s.wait_rollout("web", "phase Healthy, release cancelled", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
            && waxwing_e2e::rollout::message(r) == "Rollout progressing has been canceled"
    })
    .await?;
    s.wait_pods(WEB, &[("v1", 5)]).await?;

    // v3 arrives at 40% of v2: the release starts again from step 1 on v3.
    s.release_workload(&CLONESET, "web", "v2", Some("r4"))
        .await?;
    // The cancelled release's status still says step 1 StepPaused: wait for the new one.
    s.wait_rollout("web", "release r4 paused at step 1", |r| {
        common(r).is_some_and(|c| {
            c.observed_rollout_id == "r4"
                && c.current_step_index == 1
                && c.current_step_state == StepState::StepPaused
        })
    })
    .await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 2)]).await?;
    s.release_workload(&CLONESET, "web", "v3", Some("r5"))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.wait_census(WEB, "1 v3 pod of batch 1 beside 4 older ones", |c| {
        c.count("v3") == 1
            && c.ready("v3") == 1
            && c.total() == 5
            && c.batches("v3") == one_per_batch(1)
    })
    .await?;

    // A jump past step 2, straight to the last step, through nextStepIndex (asking for the
    // step that comes next anyway is no jump: that is what approval is for).
    s.jump("web", 3).await?;
    s.wait_event("web", "StepJumped").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v3", 5)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn cloneset_rolls_back_in_batches_when_annotated() -> Result<()> {
    let s = Scenario::new("cs-rollback-batches").await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("60%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    let yaml = CLONESET.rollout("web", &plan).replace(
        "metadata:\n  name: web\n",
        "metadata:\n  name: web\n  annotations:\n    rollouts.kruise.io/rollback-in-batch: \"true\"\n",
    );
    settled(&s, &yaml).await?;
    s.release_workload(&CLONESET, "web", "v2", Some("r2"))
        .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 2), ("v2", 3)]).await?;

    // Back to v1, in batches: the two pods still on v1 already cover step 1 (20% = 1) and
    // count towards step 2 (60% = 3), so step 1 moves nothing and step 2 moves one pod.
    s.release_workload(&CLONESET, "web", "v1", Some("r3"))
        .await?;
    let r = s.wait_step("web", 1, StepState::StepPaused).await?;
    ensure!(common(&r).is_some(), "no release status: {r:?}");
    s.wait_pods(WEB, &[("v1", 2), ("v2", 3)]).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    s.wait_pods(WEB, &[("v1", 3), ("v2", 2)]).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v1", 5)]).await?;
    s.ns.cleanup().await
}

/// Kinds no plugin handles (a CRD that is not installed, a typo) are reported in the status
/// and an event; the Rollout waits for the configuration to change.
#[tokio::test]
async fn a_rollout_for_a_kind_no_plugin_handles_says_so() -> Result<()> {
    let s = Scenario::new("unknown-kind").await?;
    let widget = waxwing_e2e::rollout::WorkloadKind {
        api_version: "example.com/v1",
        kind: "Widget",
        plural: "widgets",
    };
    s.apply(&widget.rollout("web", &steps(&[("100%", Pause::Omitted)])))
        .await?;
    let r = s
        .wait_rollout("web", "a status message naming the kind", |r| {
            waxwing_e2e::rollout::message(r).contains("no workload plugin handles Widget")
        })
        .await?;
    ensure!(phase(&r) != Some(RolloutPhase::Progressing), "{r:?}");
    s.wait_event("web", "PluginMissing").await?;
    s.ns.cleanup().await
}
