//! Waxwing's workload plugin for `apps/v1` Deployments (world `workload-plugin`), in Kruise
//! Rollout's three release styles for Deployments: `canary` (an extra canary Deployment beside
//! the paused stable one), `partition` (the paused Deployment's own ReplicaSets are scaled, as
//! Kruise's advanced deployment controller does) and `blue-green` (the Deployment's own rolling
//! update, bounded so that it adds the new revision's pods beside every old one).
//!
//! # Native API
//!
//! The component's exports, as plain Rust on the SDK's types (`waxwing_plugin_sdk::{types,
//! workload}`); Kubernetes objects are JSON text, as the host passes them. The `wit` module
//! only maps these to the generated bindings, so the same logic runs natively for tests and
//! benchmarks.
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
//! - **Related objects**: the ReplicaSets and Pods matching the Deployment's selector, the
//!   Deployments labelled `rollouts.kruise.io/canary-deployment=<name>`, and while a blue-green
//!   release holds the Deployment every `autoscaling/v2` HorizontalPodAutoscaler of the
//!   namespace (HPAs have no labels to select by; see the `hpa` module). Every related object
//!   must carry `apiVersion` and `kind`.
//! - **Canary Deployment**: named `<name>-canary` and labelled as Kruise labels its canaries.
//!   Kruise generates a random name per release and finds it again by listing; a fixed name
//!   makes every call idempotent without state (a continuous release updates the canary's
//!   template in place) and lets finalize delete it by name. The canary is owned (not
//!   controlled) by the stable Deployment, so deleting the stable one garbage-collects it.
//! - **Revisions**: Kubernetes names a pod template by a hash of Go's `spew` dump of it, which
//!   cannot be reproduced outside Go. A revision is therefore the `pod-template-hash` of the
//!   ReplicaSet whose template equals the Deployment's (ignoring that label), and, while no such
//!   ReplicaSet exists (a paused Deployment creates none), a content hash of the template
//!   ([`template::content_hash`]). The partition and blue-green styles create the new
//!   ReplicaSet themselves and name it with that same content hash, so the revision does not
//!   change when the ReplicaSet appears.
//! - **Stable revision**: the `rollouts.kruise.io/stable-revision` label, written by the first
//!   `release-batch` (the admission webhook sees no ReplicaSets); before that, the active old
//!   ReplicaSet with the lowest revision, as Kruise picks it.
//! - **Partition style**: the Deployment stays paused with strategy `Recreate` while the plugin
//!   scales ReplicaSets (see [`rolling`]): the native controller still runs `scale()` on a paused
//!   Deployment and, for `RollingUpdate` Deployments only, spreads replicas proportionally over
//!   every active ReplicaSet, which would undo the partition. The original `rollingUpdate`
//!   settings live in the `rollouts.kruise.io/deployment-strategy` annotation until finalize.
//! - **Blue-green style** (modules `blue_green` and `bounded`): the Deployment is not paused while
//!   batches run (only from the webhook to the first batch, and after a template change
//!   mid-release); `maxSurge` = the batch, `maxUnavailable: 0` and near-infinite
//!   `minReadySeconds`/`progressDeadlineSeconds` let its controller add new pods and remove none.
//!   The replaced settings live in Kruise's `rollouts.kruise.io/original-deployment-strategy`
//!   annotation until finalize; HPAs are pointed away from the Deployment meanwhile.
//! - **Readiness** counts from the update revision's ReplicaSet status (`replicas`,
//!   `availableReplicas`), so `minReadySeconds` is honoured by the canary and partition styles;
//!   the blue-green style counts `readyReplicas`, its new pods never being available.

mod blue_green;
mod bounded;
mod canary;
mod deployment;
mod keys;
mod objects;
mod partition;
mod patch;
mod replica_set;
mod revisions;
pub mod rolling;
mod scale;
mod strategy;
mod takeover;
pub use waxwing_plugin_sdk::template;
// The component's bindings: the `workload` export onto the native API below.
waxwing_plugin_sdk::workload_component!();

use waxwing_plugin_sdk::workload::{
    BatchContext, BatchStatus, ReleaseStyle, WorkloadObjects, WorkloadState,
};
use waxwing_plugin_sdk::{Change, ObjectQuery, PluginError, RolloutInfo};

use crate::objects::Objects;

/// The objects every other call needs: ReplicaSets and Pods by the Deployment's selector, the
/// canary Deployment by its label, and during a blue-green release the namespace's HPAs.
pub fn related_objects(workload: &str) -> Result<Vec<ObjectQuery>, PluginError> {
    objects::queries(&deployment::Workload::parse(workload, "the workload")?)
}

/// Reads the Deployment's replicas, revisions, pod-template hashes and whether it is settled
/// and taken over.
pub fn observe(objects: &WorkloadObjects) -> Result<WorkloadState, PluginError> {
    revisions::observe(&Objects::parse(objects)?)
}

/// The merge patch the admission webhook adds to a user's update so the native rollout stops,
/// or none when the update does not start or touch a release.
pub fn takeover(
    rollout: &RolloutInfo,
    style: ReleaseStyle,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    takeover::takeover(rollout, style, old, new)
}

/// The changes that put `planned-replicas` pods on the update revision and label them.
pub fn release_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<Vec<Change>, PluginError> {
    let objects = Objects::parse(objects)?;
    match ctx.style {
        ReleaseStyle::Canary => canary::release(ctx, &objects),
        ReleaseStyle::Partition => partition::release(ctx, &objects),
        ReleaseStyle::BlueGreen => blue_green::release(ctx, &objects),
    }
}

/// Whether the batch is done: enough updated pods, ready enough, labelled.
pub fn check_batch(
    ctx: &BatchContext,
    objects: &WorkloadObjects,
) -> Result<BatchStatus, PluginError> {
    let objects = Objects::parse(objects)?;
    match ctx.style {
        ReleaseStyle::Canary => canary::check(ctx, &objects),
        ReleaseStyle::Partition => partition::check(ctx, &objects),
        ReleaseStyle::BlueGreen => blue_green::check(ctx, &objects),
    }
}

/// The changes that take the new revision out of service after a policy aborted the release
/// (traffic is already back on stable); none when done.
pub fn abort(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    let objects = Objects::parse(objects)?;
    match ctx.style {
        ReleaseStyle::Canary => canary::abort(&objects),
        // The Deployment's own new pods get no traffic once the stable Service is unpinned
        // and the routes restored; moving them back would be a second release.
        ReleaseStyle::Partition | ReleaseStyle::BlueGreen => Ok(Vec::new()),
    }
}

/// The changes that hand the Deployment back to its native controller; none when done.
pub fn finalize(ctx: &BatchContext, objects: &WorkloadObjects) -> Result<Vec<Change>, PluginError> {
    let objects = Objects::parse(objects)?;
    match ctx.style {
        ReleaseStyle::Canary => canary::finalize(&objects),
        ReleaseStyle::Partition => partition::finalize(&objects),
        ReleaseStyle::BlueGreen => blue_green::finalize(&objects),
    }
}
