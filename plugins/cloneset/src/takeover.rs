//! Stopping the native rollout: the admission webhook's patch, and the same hold kept up by
//! `release-batch`.
//!
//! Kruise's webhook (`workload_update_handler.go`) lets a pod-template change in but sets the
//! partition to `"100%"`, so no pod is updated, and marks the CloneSet
//! `rollouts.kruise.io/in-progressing`; its batch release then unpauses the CloneSet. This
//! plugin does both in the webhook. The release owns the partition from then on: a partition
//! the user had set is replaced, and finalize removes it, as Kruise does (see the crate docs).

use serde_json::json;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::{
    IN_PROGRESSING_ANNOTATION, in_progressing_value, starts_release,
};
use waxwing_plugin_sdk::{PluginError, RolloutInfo};

use crate::cloneset::{CloneSet, PARTITION, PAUSED};
use crate::partition;

/// See [`crate::takeover`].
pub fn takeover(
    rollout: &RolloutInfo,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    let old = CloneSet::parse(old, "the CloneSet before the update")?;
    let new = CloneSet::parse(new, "the updated CloneSet")?;
    let starts = starts_release(
        (&old.meta, &old.spec.template),
        (&new.meta, &new.spec.template),
    );
    // A CloneSet without pods has nothing to release; one a release holds stays held (a
    // template change mid-release starts the next release, or a rollback, from nothing).
    if !starts || (new.replicas() == 0 && !new.releasing()) {
        return Ok(None);
    }
    let mut patch = hold(&rollout.name, &new);
    let hold_all = partition::hold_all();
    if new.partition() != Some(&hold_all) {
        patch.set(&PARTITION, json!(hold_all));
    }
    Ok(patch.into_body().map(|body| body.to_string()))
}

/// The patch that marks `current` as held by the release of `rollout_name` and lets the
/// partition act: a paused CloneSet updates no pod at all.
pub fn hold(rollout_name: &str, current: &CloneSet) -> MergePatch {
    let mut patch = MergePatch::default();
    if !current.releasing() {
        patch.set_annotation(
            IN_PROGRESSING_ANNOTATION,
            &in_progressing_value(rollout_name),
        );
    }
    if current.paused() {
        patch.set(&PAUSED, json!(false));
    }
    patch
}

/// True when a release has stopped the CloneSet's native rollout: marked and partitioned.
pub fn is_taken_over(workload: &CloneSet) -> bool {
    workload.releasing() && workload.partition().is_some()
}
