//! StatefulSet and Advanced StatefulSet rollouts end to end: the StatefulSet plugin lowers
//! `rollingUpdate.partition`, so the highest ordinals run the new revision first. Every step
//! checks which ordinal runs which version.
//!
//! Every scenario works in its own namespace on a StatefulSet `web` (label `app=web`).

use std::collections::BTreeMap;

use anyhow::Result;
use waxwing_e2e::rollout::{
    ADVANCED_STATEFULSET, Pause, STATEFULSET, Scenario, WorkloadKind, phase, steps,
};
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};
use waxwing_e2e::{Check, poll_until};

const WEB: &str = "app=web";

/// Ordinals `0..5` -> versions, from `(first ordinal, version)` runs: `[(0, "v1"), (4, "v2")]`
/// is ordinals 0-3 on v1 and 4 on v2.
fn layout(runs: &[(u32, &str)]) -> BTreeMap<u32, String> {
    (0..5)
        .map(|ordinal| {
            let version = runs
                .iter()
                .rev()
                .find(|(first, _)| ordinal >= *first)
                .map_or("", |(_, v)| v);
            (ordinal, version.to_string())
        })
        .collect()
}

/// Wait until the ordinals run exactly `expected`, all pods ready.
async fn wait_ordinals(s: &Scenario, expected: &BTreeMap<u32, String>) -> Result<()> {
    poll_until(
        &format!("ordinals {expected:?}"),
        waxwing_e2e::rollout::STEP_TIMEOUT,
        || async {
            let now = s.ordinals(WEB).await?;
            let census = s.census(WEB).await?;
            let all_ready = census.0.values().all(|p| p.ready == p.total);
            Ok(if now == *expected && all_ready {
                Check::Done(())
            } else {
                Check::Pending(format!("{now:?} ({census})"))
            })
        },
    )
    .await
}

async fn settled(s: &Scenario, kind: &WorkloadKind, rollout_yaml: &str) -> Result<()> {
    s.apply(&kind.manifest("web", 5, "v1")).await?;
    s.apply(rollout_yaml).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    wait_ordinals(s, &layout(&[(0, "v1")])).await
}

/// v1 -> v2 at 20% and 60%, v3 arriving there, then a rollback to v1 at v3's 20%, then v2 in
/// five steps to completion.
async fn ordinals_follow_the_partition(kind: WorkloadKind, prefix: &str) -> Result<()> {
    let s = Scenario::new(prefix).await?;
    let plan = steps(&[
        ("20%", Pause::Manual),
        ("60%", Pause::Manual),
        ("100%", Pause::Omitted),
    ]);
    settled(&s, &kind, &kind.rollout("web", &plan)).await?;

    s.release_workload(&kind, "web", "v2", Some("r2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_ordinals(&s, &layout(&[(0, "v1"), (4, "v2")])).await?;
    s.approve("web").await?;
    s.wait_step("web", 2, StepState::StepPaused).await?;
    wait_ordinals(&s, &layout(&[(0, "v1"), (2, "v2")])).await?;

    // Continuous release: v3 restarts at step 1 on the highest ordinal; the partition leaves
    // the ordinals below it where they are.
    s.release_workload(&kind, "web", "v3", Some("r3")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_ordinals(&s, &layout(&[(0, "v1"), (2, "v2"), (4, "v3")])).await?;

    // Rollback to v1: every ordinal back on v1 at once.
    s.release_workload(&kind, "web", "v1", Some("r4")).await?;
    s.wait_rollout("web", "phase Healthy, release cancelled", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
            && waxwing_e2e::rollout::message(r) == "Rollout progressing has been canceled"
    })
    .await?;
    wait_ordinals(&s, &layout(&[(0, "v1")])).await?;

    // 20..100% to Completed.
    let five = steps(&[
        ("20%", Pause::Seconds(2)),
        ("40%", Pause::Seconds(2)),
        ("60%", Pause::Seconds(2)),
        ("80%", Pause::Seconds(2)),
        ("100%", Pause::Omitted),
    ]);
    s.apply(&kind.rollout("web", &five)).await?;
    s.release_workload(&kind, "web", "v2", Some("r5")).await?;
    for step in 1..=4u32 {
        s.wait_step("web", step as i32, StepState::StepPaused)
            .await?;
        wait_ordinals(&s, &layout(&[(0, "v1"), (5 - step, "v2")])).await?;
    }
    s.wait_completed("web").await?;
    wait_ordinals(&s, &layout(&[(0, "v2")])).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn native_statefulset_ordinals_follow_the_partition() -> Result<()> {
    ordinals_follow_the_partition(STATEFULSET, "sts").await
}

#[tokio::test]
async fn advanced_statefulset_ordinals_follow_the_partition() -> Result<()> {
    ordinals_follow_the_partition(ADVANCED_STATEFULSET, "asts").await
}

/// The seed example: replicas 1 (manual), 2 (timed), 2 (a step that adds no pod).
#[tokio::test]
async fn the_statefulset_seed_example_labels_batches_by_ordinal() -> Result<()> {
    let s = Scenario::new("sts-seed").await?;
    let plan = steps(&[
        ("1", Pause::Manual),
        ("2", Pause::Seconds(2)),
        ("2", Pause::Omitted),
    ]);
    settled(&s, &STATEFULSET, &STATEFULSET.rollout("web", &plan)).await?;
    s.release_workload(&STATEFULSET, "web", "v2", Some("seed"))
        .await?;

    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_ordinals(&s, &layout(&[(0, "v1"), (4, "v2")])).await?;
    s.approve("web").await?;
    s.wait_step("web", 3, StepState::StepPaused).await?;
    wait_ordinals(&s, &layout(&[(0, "v1"), (3, "v2")])).await?;
    let labels = batch_labels_by_ordinal(&s).await?;
    anyhow::ensure!(
        labels == BTreeMap::from([(3, "2".to_string()), (4, "1".to_string())]),
        "batch labels by ordinal: {labels:?}"
    );
    // The last step is not 100%: once approved, finalising releases every ordinal.
    s.approve("web").await?;
    s.wait_completed("web").await?;
    wait_ordinals(&s, &layout(&[(0, "v2")])).await?;
    let labels = batch_labels_by_ordinal(&s).await?;
    // Ordinals 0-2 are updated by the StatefulSet controller after the partition is cleared:
    // no batch released them, so they carry no batch label.
    anyhow::ensure!(
        labels == BTreeMap::from([(3, "2".to_string()), (4, "1".to_string())]),
        "batch labels after finalising: {labels:?}"
    );
    s.ns.cleanup().await
}

async fn batch_labels_by_ordinal(s: &Scenario) -> Result<BTreeMap<u32, String>> {
    let mut out = BTreeMap::new();
    for pod in s.ns.pods(WEB).await? {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let labels = pod.metadata.labels.unwrap_or_default();
        if let (Some(batch), Some((_, ordinal))) = (
            labels.get("rollouts.kruise.io/rollout-batch-id"),
            name.rsplit_once('-'),
        ) {
            out.insert(ordinal.parse()?, batch.clone());
        }
    }
    Ok(out)
}
