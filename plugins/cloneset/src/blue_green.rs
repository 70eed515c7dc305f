//! The blue-green style: the CloneSet controller adds the new revision's pods as surge pods
//! beside every old one, bounded so that it removes none (see [`crate::bounds`]); the old pods
//! stay until the release has succeeded and all traffic goes to the new ones.
//!
//! # Release
//!
//! The takeover webhook leaves the CloneSet marked, bounded and held by `partition: "100%"`
//! (no update, no surge). Each call of `release-batch` then does the first of these that is not
//! done yet:
//! 1. **Hold**: the mark, the bounds and the record are in place (a CloneSet that escaped the
//!    webhook is bounded here).
//! 2. **Removal**: abandoned pods and stable pods beyond `replicas` are marked for deletion
//!    while the CloneSet is paused (see [`crate::fleet`]).
//! 3. **Refill**: while the stable and new pods number fewer than `replicas` (the CloneSet was
//!    scaled up), the partition stays at `"100%"`, so the controller adds stable pods.
//! 4. **Surge**: the partition goes, as in Kruise, and `maxSurge` is the count of new pods the
//!    batch needs above `replicas`: `stable + new wanted - replicas`, which is the batch itself
//!    while the stable pods number `replicas`. New pods already running are never taken back.
//!
//! Alongside: HPAs of the CloneSet are disabled ([`waxwing_plugin_sdk::hpa`]) and the batch labels go on the
//! new pods.
//!
//! # Why the surge reaches only so far
//!
//! The CloneSet controller sizes its surge by the pods it still has to update:
//! `min(maxSurge, old pods - partition, replicas - partition - new pods)`. With the partition
//! gone and every stable pod kept, a batch that starts from `n` new pods can therefore reach at
//! most `replicas - n` of them: every first batch, but for example not 100% after 50%. Kruise
//! stalls there silently; `check-batch` says so (see [`reach`]). For the same reason pods the
//! controller adds are always new ones while it surges, so a scale-up is met by refilling the
//! stable pods first (step 3), up to `replicas` pods in all: the stable pods end up short by the
//! new pods that were running when the CloneSet was scaled.
//!
//! # Continuous release
//!
//! Kruise refuses a newer template during a blue-green release. Here the webhook pauses the
//! CloneSet on the change (no update, no surge), the host puts traffic back on stable and
//! restarts from the first step for the newest revision: the pods of the middle revision are
//! then abandoned and step 2 removes them before the first batch; the stable pods stay.
//!
//! # Finalize
//!
//! 1. The recorded settings come back, the partition goes, the CloneSet is unpaused and the
//!    mark removed. The controller then finishes from where the CloneSet is: after a success
//!    it scales the old pods in (they are not the update revision), after a rollback the new
//!    ones (the update revision is the stable one again), after a disable or a deletion
//!    mid-release it updates the rest natively.
//! 2. It waits for the controller to finish, as Kruise does: after a success the host routes
//!    the stable Service again next, which must find no old pod.
//! 3. HPAs are pointed back at the CloneSet and the record is removed last, since it is what
//!    makes the plugin list HPAs.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};
use waxwing_plugin_sdk::intstr;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::IN_PROGRESSING_ANNOTATION;
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus};
use waxwing_plugin_sdk::{
    Change, PluginError, batch_labels, change, hpa, no_need_update, readiness,
};

use crate::bounds::{self, MAX_READY_SECONDS, Original, REMOVAL_MAX_UNAVAILABLE};
use crate::cloneset::{CloneSet, MAX_SURGE, MAX_UNAVAILABLE, PARTITION, PAUSED};
use crate::fleet::{self, Fleet};
use crate::objects::Objects;
use crate::{batch, partition, takeover};

/// See [`crate::release_batch`] and the module docs. The changes come in the order they must
/// land: HPAs, the CloneSet, then pod labels.
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    refuse_rollback_in_batches(ctx)?;
    let workload = &objects.workload;
    let replicas = workload.replicas();
    let mut patch = MergePatch::default();
    takeover::mark(&mut patch, &ctx.rollout.name, workload);
    bounds::bound(&mut patch, workload, None);
    let mut pods = Vec::new();
    if replicas > 0 {
        let fleet = Fleet::of(objects, ctx);
        let doomed = fleet.doomed(replicas);
        if doomed.is_empty() {
            let planned = ctx.planned_replicas.min(replicas);
            surge(&mut patch, workload, &fleet, planned);
            if let Some(id) = ctx.rollout.batch_label_id() {
                pods = batch_labels::label_changes(&fleet.new, id, ctx.batch_index, planned)?;
            }
        } else {
            pause_for_removal(&mut patch, workload);
            pods = fleet::mark_changes(&doomed)?;
        }
    }
    let mut changes = hpa::disable(&objects.hpas, hpa_target(objects))?;
    changes.extend(
        patch
            .into_body()
            .map(|body| change::merge_patch(workload.object_ref(), &body)),
    );
    changes.extend(pods);
    Ok(changes)
}

/// Steps 3 and 4 of the module docs, on a CloneSet with no pod to remove.
fn surge(patch: &mut MergePatch, workload: &CloneSet, fleet: &Fleet<'_>, planned: u32) {
    if workload.paused() {
        patch.set(&PAUSED, json!(false));
    }
    if !bounds::no_unavailable(workload) {
        patch.set(&MAX_UNAVAILABLE, json!(0));
    }
    let (stable, new, replicas) = (fleet.stable_count(), fleet.new_count(), workload.replicas());
    if stable.saturating_add(new) < replicas {
        let hold_all = partition::hold_all();
        if workload.partition() != Some(&hold_all) {
            patch.set(&PARTITION, json!(hold_all));
        }
        return;
    }
    if partition_left(workload) {
        patch.set(&PARTITION, Value::Null);
    }
    let above = stable.saturating_add(planned.max(new)) - replicas;
    let max_surge = IntOrString::Int(i32::try_from(above).unwrap_or(i32::MAX));
    if workload.spec.update_strategy.max_surge.as_ref() != Some(&max_surge) {
        patch.set(&MAX_SURGE, json!(max_surge));
    }
}

/// Step 2 of the module docs: no update and no surge, and a budget for exactly the marked pods.
fn pause_for_removal(patch: &mut MergePatch, workload: &CloneSet) {
    if !workload.paused() {
        patch.set(&PAUSED, json!(true));
    }
    let removal = IntOrString::String(REMOVAL_MAX_UNAVAILABLE.to_owned());
    if workload.spec.update_strategy.max_unavailable.as_ref() != Some(&removal) {
        patch.set(&MAX_UNAVAILABLE, json!(removal));
    }
}

/// Whether a partition still holds pods back. OpenKruise's defaulting turns a removed partition
/// into `0`, which holds nothing: asking for its removal again would never settle.
fn partition_left(workload: &CloneSet) -> bool {
    workload
        .partition()
        .is_some_and(|partition| intstr::scaled_value(partition, 100, true, "").ok() != Some(0))
}

/// See [`crate::check_batch`]: the CloneSet's `updatedReplicas` and `updatedReadyReplicas`
/// (readiness, not availability: no pod is available under the bounds, as in Kruise), once the
/// pods that must go are gone.
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    refuse_rollback_in_batches(ctx)?;
    let workload = &objects.workload;
    if let Some(status) = batch::not_yet_judged(ctx, workload) {
        return Ok(status);
    }
    let replicas = workload.replicas();
    let (updated, ready) = (
        workload.updated_replicas(),
        workload.updated_ready_replicas(),
    );
    let waiting = |message: String| batch::waiting(workload, message);
    let fleet = Fleet::of(objects, ctx);
    let doomed = fleet.doomed(replicas);
    if !doomed.is_empty() {
        let names: Vec<&str> = doomed
            .iter()
            .filter_map(|pod| pod.metadata.name.as_deref())
            .collect();
        return Ok(waiting(format!(
            "waiting for CloneSet {} to delete pods of an abandoned revision or beyond its {} \
             replicas: {}",
            workload.name,
            replicas,
            names.join(", ")
        )));
    }
    let planned = ctx.planned_replicas.min(replicas);
    if let Some(stalled) = reach(&fleet, replicas, planned).stalled(&workload.name) {
        return Ok(waiting(stalled));
    }
    let labelled = ctx
        .rollout
        .batch_label_id()
        .map(|id| batch_labels::labelled_count(&fleet.new, id));
    Ok(readiness::batch_status(
        ctx, planned, updated, ready, labelled,
    ))
}

/// How far the controller's surge takes the new pods from where they are (see the module
/// docs): one round of pod creation adds `min(maxSurge, replicas - new)` minus the surge already
/// running, and the next adds nothing more.
#[derive(Debug, PartialEq)]
struct Reach {
    new: u32,
    planned: u32,
    most: u32,
    replicas: u32,
}

fn reach(fleet: &Fleet<'_>, replicas: u32, planned: u32) -> Reach {
    let (stable, new) = (
        u64::from(fleet.stable_count()),
        u64::from(fleet.new_count()),
    );
    let total = u64::from(replicas);
    // Pods in all the controller keeps: replicas + surge; surge = min(maxSurge, stable,
    // replicas - new) with the partition gone. Refilling (fewer pods than replicas) comes
    // first and is not judged here.
    let most = if stable + new < total {
        u64::from(planned)
    } else {
        let surge = stable.min(total.saturating_sub(new));
        (total + surge).saturating_sub(stable).max(new)
    };
    Reach {
        new: fleet.new_count(),
        planned,
        most: u32::try_from(most).unwrap_or(u32::MAX),
        replicas,
    }
}

impl Reach {
    /// Why the batch cannot be reached, for a person; `None` when it can.
    fn stalled(&self, name: &str) -> Option<String> {
        (self.most < self.planned).then(|| {
            format!(
                "CloneSet {name} runs {} new pods and will not add more than {} of the {} \
                 planned: its controller surges only for the pods it still has to update \
                 ({} replicas - {} updated), so a blue-green batch can grow the new pods to at \
                 most the replicas minus those it starts from (plan the first step with every \
                 pod, or smaller steps)",
                self.new,
                self.most - self.new,
                self.planned - self.new,
                self.replicas,
                self.new
            )
        })
    }
}

/// See [`crate::finalize()`] and the module docs: one step per call, nothing once done.
pub fn finalize(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    let original = Original::restorable(workload);
    let bounded = original.is_some() && workload.min_ready_seconds() == MAX_READY_SECONDS;
    if workload.releasing() || bounded {
        let mut patch = MergePatch::default();
        if workload.releasing() {
            patch.remove_annotation(IN_PROGRESSING_ANNOTATION);
        }
        if partition_left(workload) {
            patch.set(&PARTITION, Value::Null);
        }
        if workload.paused() {
            patch.set(&PAUSED, json!(false));
        }
        if let Some(original) = &original {
            original.restore(&mut patch);
        }
        return Ok(patch
            .into_body()
            .map(|body| change::merge_patch(workload.object_ref(), &body))
            .into_iter()
            .collect());
    }
    if original.is_none() {
        return Ok(Vec::new());
    }
    if let Some(progress) = rollout_progress(workload) {
        return Err(PluginError::not_ready(format!(
            "waiting for CloneSet {} to finish before restoring its HPAs: {progress}",
            workload.name
        )));
    }
    let mut changes = hpa::restore(&objects.hpas, hpa_target(objects))?;
    let mut patch = MergePatch::default();
    patch.remove_annotation(bounds::ORIGINAL_STRATEGY);
    changes.extend(
        patch
            .into_body()
            .map(|body| change::merge_patch(workload.object_ref(), &body)),
    );
    Ok(changes)
}

/// What the CloneSet controller has still to do after finalize handed the CloneSet back: every
/// pod on the update revision, and as many as the replicas; `None` when done.
fn rollout_progress(workload: &CloneSet) -> Option<String> {
    if let Some(reason) = workload.unsettled_reason() {
        return Some(reason);
    }
    let (total, updated, replicas) = (
        workload.status_replicas(),
        workload.updated_replicas(),
        workload.replicas(),
    );
    (updated < total || total != replicas).then(|| {
        format!(
            "{updated} of its {total} pods run update revision {} ({replicas} replicas wanted)",
            workload.update_hash().unwrap_or("(none yet)")
        )
    })
}

/// Kruise's blue-green does not roll back in batches: the stable pods never left, and traffic
/// goes back to them at once. The step machine asks for it by passing the stable revision as
/// both revisions (see `waxwing_plugin_sdk::no_need_update`).
fn refuse_rollback_in_batches(ctx: &BatchContext) -> Result<(), PluginError> {
    if no_need_update::rollback_in_batches(ctx) {
        return Err(PluginError::invalid_input(
            "a blue-green release does not roll back in batches, as in Kruise: the stable pods \
             never left and take the traffic back at once; remove the \
             rollouts.kruise.io/rollback-in-batch annotation from the Rollout",
        ));
    }
    Ok(())
}

/// The workload as its HPAs name it.
fn hpa_target(objects: &Objects) -> hpa::Target<'_> {
    hpa::Target {
        group: "apps.kruise.io",
        kind: "CloneSet",
        name: &objects.workload.name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet_reach(stable: usize, new: usize, replicas: u32, planned: u32) -> Reach {
        let pod = k8s_openapi::api::core::v1::Pod::default();
        let fleet = Fleet {
            stable: vec![&pod; stable],
            new: vec![&pod; new],
            abandoned: Vec::new(),
        };
        reach(&fleet, replicas, planned)
    }

    #[test]
    fn a_defaulted_partition_of_zero_holds_nothing() {
        let with = |partition: Option<IntOrString>| {
            let spec = json!({"updateStrategy": {"partition": partition}});
            let text = json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec});
            let workload = CloneSet::parse(&text.to_string(), "the workload").unwrap();
            partition_left(&workload)
        };
        assert!(!with(None));
        assert!(!with(Some(IntOrString::Int(0))));
        assert!(!with(Some(IntOrString::String("0%".into()))));
        assert!(with(Some(IntOrString::String("100%".into()))));
        assert!(with(Some(IntOrString::Int(2))));
    }

    #[test]
    fn a_first_batch_reaches_any_size() {
        for planned in 1..=10 {
            assert_eq!(fleet_reach(10, 0, 10, planned).stalled("web"), None);
        }
    }

    #[test]
    fn a_later_batch_reaches_the_replicas_minus_the_new_pods() {
        assert_eq!(fleet_reach(10, 2, 10, 5).stalled("web"), None);
        assert_eq!(fleet_reach(10, 2, 10, 8).stalled("web"), None);
        let stalled = fleet_reach(10, 5, 10, 10);
        assert_eq!(stalled.most, 5);
        assert!(
            stalled
                .stalled("web")
                .unwrap()
                .contains("will not add more than 0 of the 5")
        );
        assert_eq!(fleet_reach(10, 2, 10, 9).most, 8);
    }

    #[test]
    fn refilling_comes_first() {
        // Scaled from 5 to 10 with 1 new pod: the stable pods are refilled first.
        assert_eq!(fleet_reach(5, 1, 10, 2).stalled("web"), None);
        // Refilled to 9 stable pods: one more new pod fits.
        assert_eq!(fleet_reach(9, 1, 10, 2).stalled("web"), None);
    }
}
