//! Waxwing's workload plugin for StatefulSets (world `workload-plugin`): native `apps/v1`
//! StatefulSets, OpenKruise Advanced StatefulSets (`apps.kruise.io/v1beta1` and `v1alpha1`) and
//! any custom resource labelled `rollouts.kruise.io/workload-type=statefulset` that has their
//! fields, all by the same code; patches go to the object's own apiVersion and kind. The release
//! style is Kruise Rollout's only one for StatefulSets, `partition`: the workload is updated in
//! place through `spec.updateStrategy.rollingUpdate.partition`, the highest ordinals first. The
//! `canary` and `blue-green` styles are refused.
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
//! - **Related objects**: the pods the workload's selector matches; only those it controls (by
//!   owner reference) count.
//! - **Revisions** are `status.currentRevision` (stable) and `status.updateRevision`, the
//!   ControllerRevision names, as Kruise Rollout records them for StatefulSets. They are also
//!   the pod-template hashes for the canary Service selector: the pods' `controller-revision-hash`
//!   label carries the same names.
//! - **Takeover** (the admission webhook) sets the partition to 32767 (Kruise's
//!   `math.MaxInt16`) rather than the replica count, so a workload scaled while held creates its
//!   new pods on the current revision too; it unpauses a paused Advanced StatefulSet and writes
//!   the `rollouts.kruise.io/in-progressing` mark. An `OnDelete` workload is not taken over: no
//!   partition applies to it, and Kruise leaves it alone too.
//! - **Batches** set the partition to `replicas - planned`, which releases the `planned`
//!   highest ordinals (see the `partition` module; `spec.ordinals.start` is honoured). The
//!   partition follows the plan both ways, so a workload scaled mid-step keeps exactly the
//!   planned pods updated. An Advanced StatefulSet with `unorderedUpdate` picks the pods
//!   itself; the partition then counts pods.
//! - **Readiness** is Kruise's rule counted on the pods the batch released, by their
//!   `controller-revision-hash` and `Ready` condition: native StatefulSets report no
//!   `updatedReadyReplicas`, and only pods tell which ordinals are updated. It waits until
//!   `status.observedGeneration` caught up with the spec and the status names the release's
//!   update revision.
//! - **Batch labels** go on the released pods: with steps of 1 then 2 pods, batch 1 labels the
//!   highest ordinal and batch 2 the next. Pods the controller updates after finalize (the
//!   ordinals below the last batch) get none: no batch released them.
//! - **Rollback in batches** (`rollouts.kruise.io/rollback-in-batch: "true"`): the batch context
//!   carries no annotations, so the plugin recognises such a rollback by the context's stable
//!   and update revisions being equal (see `waxwing_plugin_sdk::no_need_update`). With a rollout
//!   id, the first batch marks the pods already on the target revision
//!   `rollouts.kruise.io/no-need-update=<id>` before it lowers the partition; they get no batch
//!   label. By ordinal, the partition still releases the `planned` highest ordinals: pods
//!   already back below it do not stand in for them. With `unorderedUpdate`, as for a CloneSet,
//!   marked pods count towards each batch, once.
//! - **Finalize** removes the partition and the mark.

mod batch;
mod finalize;
mod objects;
mod partition;
mod revisions;
mod statefulset;
mod takeover;
// The component's bindings: the `workload` export onto the native API below.
waxwing_plugin_sdk::workload_component!();

use waxwing_plugin_sdk::workload::{
    BatchContext, BatchStatus, ReleaseStyle, WorkloadObjects, WorkloadState,
};
use waxwing_plugin_sdk::{Change, ObjectQuery, PluginError, RolloutInfo};

use crate::objects::Objects;
use crate::statefulset::StatefulSet;

/// The objects every other call needs: the pods by the workload's selector.
pub fn related_objects(workload: &str) -> Result<Vec<ObjectQuery>, PluginError> {
    objects::queries(&StatefulSet::parse(workload, "the workload")?)
}

/// Reads the workload's replicas, revisions and whether it is settled and taken over.
pub fn observe(objects: &WorkloadObjects) -> Result<WorkloadState, PluginError> {
    revisions::observe(&Objects::parse(objects)?)
}

/// The merge patch the admission webhook adds to a user's update so no pod is updated, or none
/// when the update does not start a release.
pub fn takeover(
    rollout: &RolloutInfo,
    style: ReleaseStyle,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    partition_only(style)?;
    takeover::takeover(rollout, old, new)
}

/// The changes that put `planned-replicas` pods on the update revision and label them.
pub fn release_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<Vec<Change>, PluginError> {
    partition_only(ctx.style)?;
    batch::release(ctx, &Objects::parse(objects)?)
}

/// Whether the batch is done: the planned ordinals updated, ready enough, labelled.
pub fn check_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<BatchStatus, PluginError> {
    partition_only(ctx.style)?;
    batch::check(ctx, &Objects::parse(objects)?)
}

/// The changes that take the new revision out of service after a policy aborted the release
/// (traffic is already back on stable); none when done.
pub fn abort(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    // The StatefulSet stays held by its partition: the new pods get no traffic once the routes
    // are restored, and updating them back would be a second release. A retry releases the
    // batch again.
    let _ = (ctx, objects);
    Ok(Vec::new())
}

/// The changes that hand the workload back to its controller; none when done.
pub fn finalize(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    partition_only(ctx.style)?;
    finalize::finalize(&Objects::parse(objects)?)
}

fn partition_only(style: ReleaseStyle) -> Result<(), PluginError> {
    let name = match style {
        ReleaseStyle::Partition => return Ok(()),
        ReleaseStyle::Canary => "canary",
        ReleaseStyle::BlueGreen => "blue-green",
    };
    Err(PluginError::invalid_input(format!(
        "the StatefulSet plugin implements the partition release style only (a StatefulSet is \
         updated in place, the highest ordinals first, through its partition); it cannot run a \
         {name} release"
    )))
}
