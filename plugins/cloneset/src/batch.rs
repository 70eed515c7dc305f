//! A batch: the partition that puts the planned pods on the update revision, the batch labels
//! on the pods it released, and Kruise's readiness rule on the CloneSet's status.

use serde_json::json;
use waxwing_plugin_sdk::no_need_update::{self, UpdatedPods};
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus};
use waxwing_plugin_sdk::{Change, PluginError, change, readiness};

use crate::cloneset::{CloneSet, PARTITION};
use crate::objects::Objects;
use crate::{partition, takeover};

/// See [`crate::release_batch`]. The changes come in the order they must land: rollback marks
/// on pods, the CloneSet's partition, then batch labels.
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let replicas = workload.replicas();
    let mut patch = takeover::hold(&ctx.rollout.name, workload);
    let mut marks = Vec::new();
    let mut labels = Vec::new();
    if replicas > 0 {
        let updated = objects.pods_of_revision(&ctx.update_revision);
        if let Some(id) = ctx.rollout.batch_label_id() {
            // Only while the takeover still holds every pod back can the pods on the target
            // revision be told from pods this rollback moves.
            if no_need_update::rollback_in_batches(ctx) && workload.kept_pods()? >= replicas {
                marks = no_need_update::mark_changes(&updated, id)?;
            }
            // Marked pods get no batch label; the next call labels once the marks are visible.
            if marks.is_empty() {
                let planned = ctx.planned_replicas.min(replicas);
                labels =
                    UpdatedPods::split(&updated, id).label_changes(id, ctx.batch_index, planned)?;
            }
        }
        let desired = partition::desired(replicas, ctx.planned_replicas, ctx.step_replicas);
        if workload.partition() != Some(&desired) {
            patch.set(&PARTITION, json!(desired));
        }
    }
    let held = patch
        .into_body()
        .map(|body| change::merge_patch(workload.object_ref(), &body));
    Ok(marks.into_iter().chain(held).chain(labels).collect())
}

/// See [`crate::check_batch`]: Kruise's rule on the CloneSet's `updatedReplicas` and
/// `updatedReadyReplicas`, once the controller has caught up with the spec and the release.
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    let workload = &objects.workload;
    if let Some(status) = not_yet_judged(ctx, workload) {
        return Ok(status);
    }
    let replicas = workload.replicas();
    let (updated, ready) = (
        workload.updated_replicas(),
        workload.updated_ready_replicas(),
    );
    let labelled = ctx.rollout.batch_label_id().map(|id| {
        UpdatedPods::split(&objects.pods_of_revision(&ctx.update_revision), id).labelled_count(id)
    });
    Ok(readiness::batch_status(
        ctx,
        ctx.planned_replicas.min(replicas),
        updated,
        ready,
        labelled,
    ))
}

/// The batch's status while it cannot be judged yet: a CloneSet of no replicas (nothing to
/// wait for), a controller that has not caught up with the spec, or an update revision other
/// than the release's. `None` once the counts of the status can be trusted.
pub fn not_yet_judged(ctx: &BatchContext, workload: &CloneSet) -> Option<BatchStatus> {
    if workload.replicas() == 0 {
        return Some(readiness::batch_status(ctx, 0, 0, 0, None));
    }
    if let Some(reason) = workload.unsettled_reason() {
        return Some(waiting(workload, reason));
    }
    if workload.update_hash() != Some(ctx.update_revision.as_str()) {
        return Some(waiting(
            workload,
            format!(
                "CloneSet {} runs update revision {}, not {} of this release",
                workload.name,
                workload.update_hash().unwrap_or("(none yet)"),
                ctx.update_revision
            ),
        ));
    }
    None
}

/// A batch not ready for `message`, with the CloneSet's counts.
pub fn waiting(workload: &CloneSet, message: String) -> BatchStatus {
    BatchStatus {
        updated_replicas: workload.updated_replicas(),
        updated_ready_replicas: workload.updated_ready_replicas(),
        ready: false,
        message,
    }
}
