//! A batch: the partition that puts the planned highest ordinals on the update revision, the
//! batch labels on the pods it released, and Kruise's readiness rule counted on those pods.

use serde_json::json;
use waxwing_plugin_sdk::no_need_update::{self, UpdatedPods};
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus};
use waxwing_plugin_sdk::{Change, PluginError, change, pod, readiness};

use crate::objects::Objects;
use crate::statefulset::PARTITION;
use crate::{partition, takeover};

/// See [`crate::release_batch`]. The changes come in the order they must land: rollback marks
/// on pods, the workload's partition, then batch labels.
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    if !workload.rolls_updates() {
        return Err(PluginError::invalid_input(format!(
            "{} {} uses the OnDelete update strategy, which no partition controls; a release \
             needs updateStrategy.type RollingUpdate",
            workload.kind, workload.name
        )));
    }
    let replicas = workload.replicas();
    let mut patch = takeover::hold(&ctx.rollout.name, workload);
    let mut marks = Vec::new();
    let mut labels = Vec::new();
    if replicas > 0 {
        let desired = partition::desired(replicas, ctx.planned_replicas);
        if let Some(id) = ctx.rollout.batch_label_id() {
            // Only while the takeover still holds every pod back can the pods on the target
            // revision be told from pods this rollback moves.
            let holds_all = workload.partition().is_some_and(|held| held >= replicas);
            if no_need_update::rollback_in_batches(ctx) && holds_all {
                let updated = objects.pods_of_revision(&ctx.update_revision);
                marks = no_need_update::mark_changes(&updated, id)?;
            }
            // Marked pods get no batch label; the next call labels once the marks are visible.
            if marks.is_empty() {
                let released = objects.released_pods(desired, &ctx.update_revision)?;
                labels = UpdatedPods::split(&released, id).label_changes(
                    id,
                    ctx.batch_index,
                    ctx.planned_replicas.min(replicas),
                )?;
            }
        }
        if workload.partition() != Some(desired) {
            patch.set(&PARTITION, json!(desired));
        }
    }
    let held = patch
        .into_body()
        .map(|body| change::merge_patch(workload.object_ref(), &body));
    Ok(marks.into_iter().chain(held).chain(labels).collect())
}

/// See [`crate::check_batch`]: Kruise's rule, counted on the pods the batch released (a native
/// StatefulSet's status has no `updatedReadyReplicas`, and only pods tell which ordinals run
/// the update revision), once the controller has caught up with the spec and the release.
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    let workload = &objects.workload;
    let replicas = workload.replicas();
    if replicas == 0 {
        return Ok(readiness::batch_status(ctx, 0, 0, 0, None));
    }
    let planned = ctx.planned_replicas.min(replicas);
    let released =
        objects.released_pods(partition::desired(replicas, planned), &ctx.update_revision)?;
    let updated = count(released.len());
    let ready = count(released.iter().filter(|pod| pod::is_ready(pod)).count());
    let waiting = |message: String| BatchStatus {
        updated_replicas: updated,
        updated_ready_replicas: ready,
        ready: false,
        message,
    };
    if let Some(reason) = workload.unsettled_reason() {
        return Ok(waiting(reason));
    }
    if workload.update_revision() != Some(ctx.update_revision.as_str()) {
        return Ok(waiting(format!(
            "{} {} runs update revision {}, not {} of this release",
            workload.kind,
            workload.name,
            workload.update_revision().unwrap_or("(none yet)"),
            ctx.update_revision
        )));
    }
    let labelled = ctx
        .rollout
        .batch_label_id()
        .map(|id| UpdatedPods::split(&released, id).labelled_count(id));
    Ok(readiness::batch_status(
        ctx, planned, updated, ready, labelled,
    ))
}

fn count(pods: usize) -> u32 {
    u32::try_from(pods).unwrap_or(u32::MAX)
}
