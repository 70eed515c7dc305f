//! The partition style: the paused Deployment's own ReplicaSets carry the batches.
//!
//! The plugin creates the new ReplicaSet the paused Deployment controller will not create, as
//! that controller would (name `<deployment>-<hash>`, controlled by the Deployment, template
//! and selector with the `pod-template-hash` label, the next revision number), and scales the
//! new and old ReplicaSets as [`crate::rolling`] plans. Finalize gives the Deployment back its
//! `RollingUpdate` strategy with the recorded settings and unpauses it; the Deployment
//! controller then adopts the new ReplicaSet by its template and, after a success, rolls the
//! remaining pods. Like Kruise, a Deployment that used `Recreate` before the release comes
//! back as `RollingUpdate`.

use serde_json::json;
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus, ReleaseStyle};
use waxwing_plugin_sdk::{Change, PluginError, Replicas, batch_labels, change, readiness};

use crate::keys::{DEPLOYMENT_STRATEGY, IN_PROGRESSING, STABLE_REVISION};
use crate::objects::Objects;
use crate::patch::MergePatch;
use crate::revisions::{self, Revisions};
use crate::rolling::{self, Fleet, OldSize, Size};
use crate::scale::{self, Scale};
use crate::{replica_set, strategy, takeover};

/// See [`crate::release_batch`].
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let revisions = Revisions::of(objects, workload);
    let mut changes = Vec::new();
    let hold = takeover::hold(
        ReleaseStyle::Partition,
        &ctx.rollout.name,
        workload,
        None,
        revisions.stable_hash.as_deref(),
    );
    if let Some(body) = hold.into_body() {
        changes.push(change::merge_patch(workload.object_ref(), &body));
    }
    let replicas = workload.replicas();
    if replicas == 0 {
        return Ok(changes);
    }
    let fenceposts = strategy::fenceposts(&strategy::rolling_update_of(workload, None), replicas)?;
    let limit = batch_limit(ctx, replicas);
    let plan = rolling::plan(&Fleet {
        replicas,
        limit,
        max_surge: fenceposts.max_surge,
        max_unavailable: fenceposts.max_unavailable,
        new: revisions.new.map(|rs| Size {
            replicas: replica_set::replicas(rs),
            available: replica_set::available(rs),
        }),
        old: revisions
            .old
            .iter()
            .map(|rs| OldSize {
                replicas: replica_set::replicas(rs),
                available: replica_set::available(rs),
                revision: replica_set::revision(rs),
            })
            .collect(),
    });
    let scale = Scale {
        replicas,
        max_surge: fenceposts.max_surge,
    };
    match revisions.new {
        None => changes.push(change::apply(&scale::new_replica_set(
            objects, &revisions, plan.new, scale,
        )?)?),
        Some(rs) => changes.extend(scale.change(rs, plan.new)?),
    }
    for (rs, size) in revisions.old.iter().zip(plan.old) {
        changes.extend(scale.change(rs, size)?);
    }
    if let (Some(id), Some(hash)) = (
        ctx.rollout.batch_label_id(),
        revisions.new.and_then(replica_set::pod_template_hash),
    ) {
        let pods = objects.pods_of_revision(hash);
        changes.extend(batch_labels::label_changes(
            &pods,
            id,
            ctx.batch_index,
            limit,
        )?);
    }
    Ok(changes)
}

/// See [`crate::check_batch`].
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    let workload = &objects.workload;
    let replicas = workload.replicas();
    if replicas == 0 {
        return Ok(readiness::batch_status(ctx, 0, 0, 0, None));
    }
    let limit = batch_limit(ctx, replicas);
    let (new, labelled) = revisions::released(ctx, objects)?;
    let (created, available) = (replica_set::created(new), replica_set::available(new));
    Ok(readiness::batch_status(
        ctx, limit, created, available, labelled,
    ))
}

/// See [`crate::finalize`]: one patch that restores the strategy, unpauses and removes the
/// release's marks; nothing once they are gone.
pub fn finalize(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let mut patch = MergePatch::default();
    for mark in [IN_PROGRESSING, DEPLOYMENT_STRATEGY] {
        if workload.annotation(mark).is_some() {
            patch.remove_annotation(mark);
        }
    }
    if workload.label(STABLE_REVISION).is_some() {
        patch.remove_label(STABLE_REVISION);
    }
    if patch.is_empty() {
        return Ok(Vec::new());
    }
    if workload.paused() {
        patch.set_spec("paused", json!(false));
    }
    if workload.strategy_type() == "Recreate" {
        let rolling_update = strategy::rolling_update_of(workload, None);
        patch.set_spec(
            "strategy",
            json!({"type": "RollingUpdate", "rollingUpdate": rolling_update}),
        );
    }
    Ok(patch
        .into_body()
        .map(|body| change::merge_patch(workload.object_ref(), &body))
        .into_iter()
        .collect())
}

/// How many pods the new ReplicaSet may run in this batch. Like Kruise's advanced deployment,
/// a percentage below 100% never releases every pod of a Deployment with more than one.
fn batch_limit(ctx: &BatchContext, replicas: u32) -> u32 {
    let planned = ctx.planned_replicas.min(replicas);
    match ctx.step_replicas {
        Replicas::Percent(percent) if percent < 100 && replicas > 1 => planned.min(replicas - 1),
        _ => planned,
    }
}
