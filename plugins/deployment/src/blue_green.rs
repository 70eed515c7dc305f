//! The blue-green style: the Deployment's own rolling update adds the new revision's pods beside
//! every old one, bounded to the batch (see [`crate::bounded`]); the old pods stay until the
//! release has succeeded and all traffic goes to the new ones.
//!
//! # Release
//!
//! The takeover webhook leaves the Deployment marked, bounded and paused. Each call of
//! `release-batch` then does the first of these that is not done yet, so that the native
//! controller, which keeps running, never sees a state in which it would remove a pod:
//! 1. **Hold**: the bounds and the record are in place (a Deployment that escaped the webhook
//!    is bounded and paused first).
//! 2. **Abandoned revisions go**: ReplicaSets of neither the stable nor the update revision
//!    (the middle revision of a continuous release) are scaled to zero while the Deployment is
//!    paused. Unpaused with such pods, the controller would count the stable pods, which are
//!    never available here, as unhealthy and remove them first.
//! 3. **Stable ReplicaSet at full size**: `replicas` pods. When the Deployment is scaled
//!    mid-release the controller spreads the change proportionally over the stable and the new
//!    ReplicaSet; the stable one is put back to the full count before the bound moves, or the
//!    new one would grow past the batch.
//! 4. **Bound at the batch**: `maxSurge` = the batch's new pods (never fewer than the new
//!    ReplicaSet already runs, so nothing is taken back), and the new ReplicaSet exists. The
//!    plugin creates it, with no pods, while the Deployment is paused, named and labelled with
//!    the template's content hash as the partition style does: the update revision then keeps
//!    the id it had before the ReplicaSet appeared, and the controller adopts it by its
//!    template.
//! 5. **Unpaused**: the controller scales the new ReplicaSet to the bound.
//!
//! Alongside: HPAs of the Deployment are disabled ([`waxwing_plugin_sdk::hpa`]); the stable ReplicaSet gets
//! the bounded `minReadySeconds` as Kruise does, so its pods stop counting as available: if the
//! user rolls the template back, the stable ReplicaSet becomes the controller's new one, and
//! with available pods it would count as saturated and have the new pods removed before the
//! traffic is back on stable; and the batch labels go on the new pods.
//!
//! # Continuous release
//!
//! Kruise refuses a newer template during a blue-green release. Here the webhook pauses the
//! Deployment on the change, the host puts traffic back on stable and restarts from step 1 for
//! the newest revision, and the Deployment then has three ReplicaSets: the stable one (the
//! stable-revision label, kept across the restart, still names it), the abandoned middle one,
//! and none yet for the newest template. Step 2 empties the middle one (no route points at it
//! any more: the stable Service selects the stable hash), then the batch goes on as a first
//! batch; the stable pods stay until the end.
//!
//! # Check
//!
//! The new ReplicaSet's `readyReplicas`: its pods never become available (the bound
//! `minReadySeconds`), so readiness counts, as in Kruise.
//!
//! # Finalize
//!
//! 1. The recorded settings come back, the Deployment is unpaused and the release's marks are
//!    removed; the ReplicaSets given the bounded `minReadySeconds` get the recorded one. The
//!    native controller then finishes from where the Deployment is: after a success it removes
//!    the old pods, after a rollback the new ones, after a disable or a deletion mid-release it
//!    rolls the rest of the Deployment to its template.
//! 2. It waits for that rollout to complete, as Kruise does: after a success the host routes
//!    the stable Service again next, which must find no old pod.
//! 3. HPAs are pointed back at the Deployment and the record is removed last, since it is what
//!    makes the plugin list HPAs.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus, ReleaseStyle};
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, batch_labels, change, hpa, readiness};

use crate::bounded::{self, MAX_READY_SECONDS, Original};
use crate::keys::{IN_PROGRESSING, ORIGINAL_STRATEGY, STABLE_REVISION};
use crate::objects::Objects;
use crate::patch::MergePatch;
use crate::revisions::{self, Revisions};
use crate::scale::{self, Scale};
use crate::{replica_set, takeover};

/// See [`crate::release_batch`] and the module docs.
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let revisions = Revisions::of(objects, workload);
    let mut deployment = takeover::hold(
        ReleaseStyle::BlueGreen,
        &ctx.rollout.name,
        workload,
        None,
        revisions.stable_hash.as_deref(),
    );
    let replicas = workload.replicas();
    let mut owned = Vec::new();
    if bounded::is_bounded(workload) && replicas > 0 {
        let fleet = Fleet::of(&revisions);
        let planned = ctx.planned_replicas.min(replicas);
        let new_pods = revisions.new.map_or(0, replica_set::replicas);
        let scale = Scale {
            replicas,
            max_surge: planned.max(new_pods).min(replicas),
        };
        if let Some(stable) = fleet.stable {
            owned.extend(set_min_ready_seconds(stable, MAX_READY_SECONDS)?);
        }
        owned.extend(next_step(
            objects,
            &revisions,
            &fleet,
            scale,
            &mut deployment,
        )?);
        if let (Some(id), Some(hash)) = (
            ctx.rollout.batch_label_id(),
            revisions.new.and_then(replica_set::pod_template_hash),
        ) {
            let pods = objects.pods_of_revision(hash);
            owned.extend(batch_labels::label_changes(
                &pods,
                id,
                ctx.batch_index,
                planned,
            )?);
        }
    }
    let mut changes = hpa::disable(&objects.hpas, hpa_target(objects))?;
    if let Some(body) = deployment.into_body() {
        changes.push(change::merge_patch(workload.object_ref(), &body));
    }
    changes.extend(owned);
    Ok(changes)
}

/// Steps 2 to 5 of the module docs for a bounded Deployment: the changes of the first step not
/// done yet, those of the Deployment added to `deployment`.
fn next_step(
    objects: &Objects,
    revisions: &Revisions<'_>,
    fleet: &Fleet<'_>,
    scale: Scale,
    deployment: &mut MergePatch,
) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let paused = workload.paused();
    if !fleet.abandoned.is_empty() {
        if !paused {
            deployment.set_spec("paused", json!(true));
            return Ok(Vec::new());
        }
        return fleet
            .abandoned
            .iter()
            .filter_map(|rs| scale.change(rs, 0).transpose())
            .collect();
    }
    if let Some(change) = fleet
        .stable
        .map(|rs| scale.change(rs, scale.replicas))
        .transpose()?
        .flatten()
    {
        return Ok(vec![change]);
    }
    let surge = i32::try_from(scale.max_surge).unwrap_or(i32::MAX);
    if bounded::max_surge(workload) != Some(&IntOrString::Int(surge)) {
        deployment.set_spec("strategy", json!({"rollingUpdate": {"maxSurge": surge}}));
    }
    Ok(match (revisions.new, paused) {
        (None, true) => vec![change::apply(&scale::new_replica_set(
            objects, revisions, 0, scale,
        )?)?],
        // The controller would create a ReplicaSet of its own naming; stop it first.
        (None, false) => {
            deployment.set_spec("paused", json!(true));
            Vec::new()
        }
        (Some(_), true) => {
            deployment.set_spec("paused", json!(false));
            Vec::new()
        }
        (Some(_), false) => Vec::new(),
    })
}

/// See [`crate::check_batch`].
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    let workload = &objects.workload;
    let replicas = workload.replicas();
    if replicas == 0 {
        return Ok(readiness::batch_status(ctx, 0, 0, 0, None));
    }
    let planned = ctx.planned_replicas.min(replicas);
    let (new, labelled) = revisions::released(ctx, objects)?;
    let (created, ready) = (replica_set::created(new), replica_set::ready(new));
    Ok(readiness::batch_status(
        ctx, planned, created, ready, labelled,
    ))
}

/// See [`crate::finalize`] and the module docs: one step per call, nothing once done.
pub fn finalize(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let original = Original::restorable(workload);
    let marked = takeover::releasing(workload);
    let labelled = workload.label(STABLE_REVISION).is_some();
    let bound = original.is_some() && bounded::any_bound(workload);
    if marked || labelled || bound {
        let mut patch = MergePatch::default();
        if marked {
            patch.remove_annotation(IN_PROGRESSING);
        }
        if labelled {
            patch.remove_label(STABLE_REVISION);
        }
        if workload.paused() {
            patch.set_spec("paused", json!(false));
        }
        // The ReplicaSets first: if that fails, the Deployment is still held and the whole
        // step runs again.
        let mut changes = Vec::new();
        if let Some(original) = &original {
            original.restore(&mut patch);
            for rs in objects.replica_sets_of(workload) {
                if replica_set::min_ready_seconds(rs) == MAX_READY_SECONDS {
                    changes.extend(set_min_ready_seconds(rs, original.min_ready_seconds())?);
                }
            }
        }
        changes.extend(
            patch
                .into_body()
                .map(|body| change::merge_patch(workload.object_ref(), &body)),
        );
        return Ok(changes);
    }
    if original.is_none() {
        return Ok(Vec::new());
    }
    if let Some(progress) = workload.rollout_progress()? {
        return Err(PluginError::not_ready(format!(
            "waiting for Deployment {} to roll out before restoring its HPAs: {progress}",
            workload.name
        )));
    }
    let mut changes = hpa::restore(&objects.hpas, hpa_target(objects))?;
    let mut patch = MergePatch::default();
    patch.remove_annotation(ORIGINAL_STRATEGY);
    changes.extend(
        patch
            .into_body()
            .map(|body| change::merge_patch(workload.object_ref(), &body)),
    );
    Ok(changes)
}

/// The Deployment's old ReplicaSets by what the release does with them.
#[derive(Debug)]
struct Fleet<'a> {
    /// The one running the stable revision: it keeps every pod until the end.
    stable: Option<&'a ReplicaSet>,
    /// Those of neither revision that still have pods: they lose them.
    abandoned: Vec<&'a ReplicaSet>,
}

impl<'a> Fleet<'a> {
    fn of(revisions: &Revisions<'a>) -> Self {
        let is_stable = |rs: &ReplicaSet| {
            replica_set::pod_template_hash(rs).is_some()
                && replica_set::pod_template_hash(rs) == revisions.stable_hash.as_deref()
        };
        Self {
            stable: revisions.old.iter().copied().find(|rs| is_stable(rs)),
            abandoned: revisions
                .old
                .iter()
                .copied()
                .filter(|rs| !is_stable(rs) && replica_set::replicas(rs) > 0)
                .collect(),
        }
    }
}

/// The patch that gives `rs` this `minReadySeconds`; none when it has it.
fn set_min_ready_seconds(rs: &ReplicaSet, seconds: i32) -> Result<Option<Change>, PluginError> {
    if replica_set::min_ready_seconds(rs) == seconds {
        return Ok(None);
    }
    let body = json!({"spec": {"minReadySeconds": seconds}});
    Ok(Some(change::merge_patch(ObjectRef::of(rs)?, &body)))
}

/// The workload as its HPAs name it.
fn hpa_target(objects: &Objects) -> hpa::Target<'_> {
    hpa::Target {
        group: "apps",
        kind: "Deployment",
        name: &objects.workload.name,
    }
}
