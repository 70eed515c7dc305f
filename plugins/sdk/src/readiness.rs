//! Kruise's `IsBatchReady`: whether a batch is done, from counts a workload plugin reads off its
//! workload's status or pods.

use crate::workload::{BatchContext, BatchStatus};

/// Judges a batch that must have `planned` pods on the update revision, of which `updated` exist
/// and `updated_ready` are ready. `labelled` is how many of them carry the release's batch labels,
/// when the release has a rollout id. The message says what the batch waits for, first things
/// first.
pub fn batch_status(
    ctx: &BatchContext,
    planned: u32,
    updated: u32,
    updated_ready: u32,
    labelled: Option<u32>,
) -> BatchStatus {
    let tolerated = ctx.tolerated_failures;
    let message = if updated < planned {
        format!("{updated} of {planned} pods run the update revision")
    } else if updated_ready.saturating_add(tolerated) < planned {
        format!(
            "{updated_ready} of {planned} updated pods are ready ({tolerated} may fail); \
             waiting for {} more",
            planned - updated_ready - tolerated
        )
    } else if planned > 0 && updated_ready == 0 {
        "no updated pod is ready yet".to_owned()
    } else if let Some(labelled) = labelled.filter(|labelled| *labelled < planned) {
        format!(
            "{labelled} of {planned} updated pods carry the batch labels of rollout id {}",
            ctx.rollout.rollout_id.as_deref().unwrap_or_default()
        )
    } else {
        String::new()
    };
    BatchStatus {
        updated_replicas: updated,
        updated_ready_replicas: updated_ready,
        ready: message.is_empty(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Replicas, RolloutInfo};
    use crate::workload::ReleaseStyle;

    fn ctx(tolerated: u32, rollout_id: Option<&str>) -> BatchContext {
        BatchContext {
            rollout: RolloutInfo {
                namespace: "shop".into(),
                name: "web".into(),
                rollout_id: rollout_id.map(str::to_owned),
            },
            style: ReleaseStyle::Partition,
            batch_index: 1,
            step_replicas: Replicas::Percent(40),
            planned_replicas: 2,
            tolerated_failures: tolerated,
            stable_revision: "a".into(),
            update_revision: "b".into(),
            pod_template_metadata: String::new(),
        }
    }

    #[test]
    fn waits_for_pods_then_readiness_then_labels() {
        let plain = ctx(0, None);
        assert_eq!(
            batch_status(&plain, 2, 1, 1, None).message,
            "1 of 2 pods run the update revision"
        );
        assert_eq!(
            batch_status(&plain, 2, 2, 1, None).message,
            "1 of 2 updated pods are ready (0 may fail); waiting for 1 more"
        );
        let labelled = ctx(0, Some("r1"));
        assert_eq!(
            batch_status(&labelled, 2, 2, 2, Some(1)).message,
            "1 of 2 updated pods carry the batch labels of rollout id r1"
        );
        let done = batch_status(&labelled, 2, 2, 2, Some(2));
        assert!(done.ready && done.message.is_empty());
    }

    #[test]
    fn tolerated_failures_still_need_one_ready_pod() {
        let tolerant = ctx(2, None);
        assert!(batch_status(&tolerant, 2, 2, 1, None).ready);
        assert_eq!(
            batch_status(&tolerant, 2, 2, 0, None).message,
            "no updated pod is ready yet"
        );
    }
}
