//! Kruise's `IsBatchReady`, on counts read from the update revision's ReplicaSet and pods.

use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus};

/// Judges a batch that must have `planned` pods on the update revision. `labelled` is how many
/// of them carry the release's batch labels, when the release has a rollout id.
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
