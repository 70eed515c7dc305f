//! Waxwing's workload plugin for OpenKruise CloneSets (`apps.kruise.io/v1alpha1`, world
//! `workload-plugin`), in Kruise Rollout's two release styles for CloneSets: `partition`, the
//! CloneSet updated in place a batch at a time through `spec.updateStrategy.partition`, and
//! `blue-green`, the new revision's pods added by the CloneSet controller as surge pods beside
//! every old one (see the `blue_green` module). A CloneSet has no extra canary workload, so the
//! `canary` style is refused.
//!
//! # Native API
//!
//! The component's exports, as plain Rust on the SDK's types (`waxwing_plugin_sdk::{types,
//! workload}`); Kubernetes objects are JSON text, as the host passes them. The `wit` module
//! only maps these to the generated bindings, so the same logic runs natively for tests.
//!
//! ```text
//! related_objects(workload: &str)                         -> Result<Vec<ObjectQuery>, PluginError>
//! observe(objects: &WorkloadObjects)                      -> Result<WorkloadState, PluginError>
//! takeover(rollout: &RolloutInfo, style: ReleaseStyle,
//!          old: &str, new: &str)                          -> Result<Option<String>, PluginError>
//! release_batch(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError>
//! check_batch(ctx: &BatchContext, objects: &WorkloadObjects)   -> Result<BatchStatus, PluginError>
//! abort(ctx: &BatchContext, objects: &WorkloadObjects)         -> Result<Vec<Change>, PluginError>
//! finalize(ctx: &BatchContext, objects: &WorkloadObjects)      -> Result<Vec<Change>, PluginError>
//! ```
//!
//! # Design choices
//!
//! - **Related objects**: the pods the CloneSet's selector matches; only those it controls
//!   (by owner reference) count. While a blue-green release holds the CloneSet, also every
//!   `autoscaling/v2` HorizontalPodAutoscaler of the namespace (HPAs have no labels to select
//!   by; see the `hpa` module). Every related object must carry `apiVersion` and `kind`.
//! - **Revisions** are the hashes of `status.currentRevision` (stable) and
//!   `status.updateRevision`: the part after the last `-` of the ControllerRevision names, which
//!   is what Kruise Rollout records for a CloneSet and what its pods carry as
//!   `pod-template-hash` (their `controller-revision-hash` is the full name, or the hash under
//!   Kruise's `CloneSetShortHash` gate). The same hash is the pod-template hash for the canary
//!   Service selector. A pod runs a revision when either label names it.
//! - **Takeover** (the admission webhook) sets the partition to `"100%"` rather than the replica
//!   count, so a CloneSet scaled while held still updates no pod; it unpauses a paused CloneSet
//!   (nothing moves while paused) and writes the `rollouts.kruise.io/in-progressing` mark.
//! - **A partition the user set** is replaced when a release starts and removed by finalize, as
//!   Kruise does. It is not recorded to be restored: after a successful release every pod must
//!   run the update revision, which a restored partition would prevent, and during the release
//!   the batches own the partition.
//! - **Batches** set the partition to `replicas - planned`: a percentage when the step is one,
//!   so the share survives scaling (see the `partition` module), else a count. The partition
//!   follows the plan both ways: a scale-up mid-step raises a count partition, so the new pods
//!   start on the stable revision. A rising partition does not move updated pods back (unless
//!   the CloneSet controller runs with its `CloneSetPartitionRollback` feature gate).
//! - **Readiness** is Kruise's rule on `status.updatedReplicas` and `updatedReadyReplicas`,
//!   once `status.observedGeneration` caught up with the spec and the status names the
//!   release's update revision; with a rollout id, the planned pods must carry the batch labels.
//! - **Rollback in batches** (`rollouts.kruise.io/rollback-in-batch: "true"`): the batch context
//!   carries no annotations, so the plugin recognises such a rollback by the context's stable
//!   and update revisions being equal (see `waxwing_plugin_sdk::no_need_update`). Pods already on
//!   the target revision count towards each batch, once: the partition is still
//!   `replicas - planned`, and the CloneSet controller leaves pods that are already there. With a
//!   rollout id, the first batch marks them `rollouts.kruise.io/no-need-update=<id>` before it
//!   lowers the partition, and they get no batch labels. Without a rollout id nothing is
//!   labelled, so nothing needs marking.
//! - **Finalize** removes the partition (the controller then moves every pod to the update
//!   revision, which after a rollback is the stable one) and the mark; pods updated from there
//!   get no batch labels.
//! - **Blue-green style** (modules `blue_green`, `bounds`, `fleet`, `hpa`): the takeover holds
//!   the CloneSet with partition `"100%"` and bounds it as Kruise does (`minReadySeconds` near
//!   `i32::MAX`, `maxUnavailable: 0`, the replaced settings in Kruise's
//!   `rollouts.kruise.io/original-deployment-strategy` annotation); a batch removes the
//!   partition and sets `maxSurge` to the new pods wanted above `replicas`. Pods that must go
//!   (a continuous release's middle revision, stable pods beyond a reduced replica count) are
//!   marked `apps.kruise.io/specified-delete` under a paused CloneSet. HPAs are pointed away
//!   from the CloneSet meanwhile. Readiness counts `updatedReadyReplicas`, no pod being
//!   available under the bounds. Finalize restores the record, waits for the controller to
//!   finish, then restores the HPAs. Rollbacks in batches are refused, as in Kruise.

mod batch;
mod blue_green;
mod bounds;
mod cloneset;
mod finalize;
mod fleet;
mod objects;
mod partition;
mod revisions;
mod takeover;
// The component's bindings: the `workload` export onto the native API below.
waxwing_plugin_sdk::workload_component!();

use waxwing_plugin_sdk::workload::{
    BatchContext, BatchStatus, ReleaseStyle, WorkloadObjects, WorkloadState,
};
use waxwing_plugin_sdk::{Change, ObjectQuery, PluginError, RolloutInfo};

use crate::cloneset::CloneSet;
use crate::objects::Objects;

/// The objects every other call needs: the pods by the CloneSet's selector, and during a
/// blue-green release the namespace's HPAs.
pub fn related_objects(workload: &str) -> Result<Vec<ObjectQuery>, PluginError> {
    objects::queries(&CloneSet::parse(workload, "the workload")?)
}

/// Reads the CloneSet's replicas, revisions and whether it is settled and taken over.
pub fn observe(objects: &WorkloadObjects) -> Result<WorkloadState, PluginError> {
    revisions::observe(&Objects::parse(objects)?)
}

/// The merge patch the admission webhook adds to a user's update so no pod is updated, or none
/// when the update does not start or touch a release.
pub fn takeover(
    rollout: &RolloutInfo,
    style: ReleaseStyle,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    supported(style)?;
    takeover::takeover(rollout, style, old, new)
}

/// The changes that put `planned-replicas` pods on the update revision and label them.
pub fn release_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<Vec<Change>, PluginError> {
    let objects = Objects::parse(objects)?;
    match supported(ctx.style)? {
        ReleaseStyle::BlueGreen => blue_green::release(ctx, &objects),
        _ => batch::release(ctx, &objects),
    }
}

/// Whether the batch is done: enough updated pods, ready enough, labelled.
pub fn check_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<BatchStatus, PluginError> {
    let objects = Objects::parse(objects)?;
    match supported(ctx.style)? {
        ReleaseStyle::BlueGreen => blue_green::check(ctx, &objects),
        _ => batch::check(ctx, &objects),
    }
}

/// The changes that take the new revision out of service after a policy aborted the release
/// (traffic is already back on stable); none when done.
pub fn abort(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    // The CloneSet stays held by its partition: the new pods get no traffic once the routes are
    // restored, and updating them back would be a second release. A retry releases the batch
    // again.
    let _ = (ctx, objects);
    Ok(Vec::new())
}

/// The changes that hand the CloneSet back to its controller; none when done.
pub fn finalize(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    let objects = Objects::parse(objects)?;
    match supported(ctx.style)? {
        ReleaseStyle::BlueGreen => blue_green::finalize(&objects),
        _ => finalize::finalize(&objects),
    }
}

/// The style itself for partition and blue-green; a CloneSet has no extra canary workload.
fn supported(style: ReleaseStyle) -> Result<ReleaseStyle, PluginError> {
    if style == ReleaseStyle::Canary {
        return Err(PluginError::invalid_input(
            "for a canary strategy the CloneSet plugin implements the partition release style \
             only (a CloneSet is updated in place, a batch at a time, through its partition; it \
             has no extra canary workload); it cannot run a canary release",
        ));
    }
    Ok(style)
}
