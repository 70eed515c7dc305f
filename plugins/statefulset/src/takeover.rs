//! Stopping the native rollout: the admission webhook's patch, and the same hold kept up by
//! `release-batch`.
//!
//! Kruise's webhook (`workload_update_handler.go`) lets a pod-template change of a
//! StatefulSet-like workload in but sets `rollingUpdate.partition` to `math.MaxInt16`, so no pod
//! is updated, and marks it `rollouts.kruise.io/in-progressing`. Workloads on the `OnDelete`
//! strategy are left alone, as Kruise leaves them: no partition applies to them. Kruise's batch
//! release also unpauses an Advanced StatefulSet; this plugin does that in the webhook too.

use serde_json::json;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::{
    IN_PROGRESSING_ANNOTATION, in_progressing_value, starts_release,
};
use waxwing_plugin_sdk::{PluginError, RolloutInfo};

use crate::partition::HOLD_ALL;
use crate::statefulset::{PARTITION, PAUSED, StatefulSet};

/// See [`crate::takeover`].
pub fn takeover(
    rollout: &RolloutInfo,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    let old = StatefulSet::parse(old, "the workload before the update")?;
    let new = StatefulSet::parse(new, "the updated workload")?;
    let starts = starts_release(
        (&old.meta, &old.spec.template),
        (&new.meta, &new.spec.template),
    );
    // A workload without pods has nothing to release; one a release holds stays held (a
    // template change mid-release starts the next release, or a rollback, from nothing).
    if !new.rolls_updates() || !starts || (new.replicas() == 0 && !new.releasing()) {
        return Ok(None);
    }
    let mut patch = hold(&rollout.name, &new);
    if new.partition() != Some(HOLD_ALL) {
        patch.set(&PARTITION, json!(HOLD_ALL));
    }
    Ok(patch.into_body().map(|body| body.to_string()))
}

/// The patch that marks `current` as held by the release of `rollout_name` and lets the
/// partition act: a paused Advanced StatefulSet updates no pod at all.
pub fn hold(rollout_name: &str, current: &StatefulSet) -> MergePatch {
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

/// True when a release has stopped the native rollout: marked and partitioned.
pub fn is_taken_over(workload: &StatefulSet) -> bool {
    workload.releasing() && workload.rolls_updates() && workload.partition().is_some()
}
