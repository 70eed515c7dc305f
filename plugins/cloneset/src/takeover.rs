//! Stopping the native rollout: the admission webhook's patch, and the same hold kept up by
//! `release-batch`.
//!
//! Kruise's webhook (`workload_update_handler.go`) lets a pod-template change in but sets the
//! partition to `"100%"`, so no pod is updated, and marks the CloneSet
//! `rollouts.kruise.io/in-progressing`; its batch release then unpauses the CloneSet, and for a
//! blue-green release records and bounds its settings (see [`crate::bounds`]). This plugin does
//! all of it in the webhook, so the CloneSet is never seen held but unbounded. The release owns
//! the partition from then on: a partition the user had set is replaced, and finalize removes
//! it, as Kruise does (see the crate docs).
//!
//! During a blue-green release every update keeps the bounds (a user's new value for a bounded
//! setting is recorded instead), and a template change (a rollback or a newer revision) pauses
//! the CloneSet, so its controller neither updates pods nor surges until traffic is back on
//! stable and the release has been finalised or restarted (see [`crate::blue_green`]).

use serde_json::json;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::{
    IN_PROGRESSING_ANNOTATION, in_progressing_value, starts_release,
};
use waxwing_plugin_sdk::workload::ReleaseStyle;
use waxwing_plugin_sdk::{PluginError, RolloutInfo};

use crate::cloneset::{CloneSet, PARTITION, PAUSED};
use crate::{bounds, partition};

/// See [`crate::takeover()`]; `style` is partition or blue-green.
pub fn takeover(
    rollout: &RolloutInfo,
    style: ReleaseStyle,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    let old = CloneSet::parse(old, "the CloneSet before the update")?;
    let new = CloneSet::parse(new, "the updated CloneSet")?;
    let starts = starts_release(
        (&old.meta, &old.spec.template),
        (&new.meta, &new.spec.template),
    );
    let patch = if style == ReleaseStyle::BlueGreen && new.releasing() {
        let mut patch = MergePatch::default();
        bounds::bound(&mut patch, &new, Some(&old));
        if starts && !new.paused() {
            patch.set(&PAUSED, json!(true));
        }
        patch
    } else if starts && (new.replicas() > 0 || new.releasing()) {
        // A CloneSet without pods has nothing to release; one a partition release holds stays
        // held (a template change mid-release starts the next release, or a rollback, from
        // nothing).
        let mut patch = hold(&rollout.name, &new);
        if style == ReleaseStyle::BlueGreen {
            bounds::bound(&mut patch, &new, None);
        }
        let hold_all = partition::hold_all();
        if new.partition() != Some(&hold_all) {
            patch.set(&PARTITION, json!(hold_all));
        }
        patch
    } else {
        MergePatch::default()
    };
    Ok(patch.into_body().map(|body| body.to_string()))
}

/// The patch that marks `current` as held by the release of `rollout_name` and lets the
/// partition act: a paused CloneSet updates no pod at all.
pub fn hold(rollout_name: &str, current: &CloneSet) -> MergePatch {
    let mut patch = MergePatch::default();
    mark(&mut patch, rollout_name, current);
    if current.paused() {
        patch.set(&PAUSED, json!(false));
    }
    patch
}

/// Adds the mark of the release of `rollout_name` to `patch` when `current` lacks it.
pub fn mark(patch: &mut MergePatch, rollout_name: &str, current: &CloneSet) {
    if !current.releasing() {
        patch.set_annotation(
            IN_PROGRESSING_ANNOTATION,
            &in_progressing_value(rollout_name),
        );
    }
}

/// True when a release has stopped the CloneSet's native rollout: marked, and partitioned or
/// (blue-green) bounded.
pub fn is_taken_over(workload: &CloneSet) -> bool {
    workload.releasing() && (workload.partition().is_some() || bounds::is_bounded(workload))
}
