//! Handing the workload back: the partition goes, so its controller updates the remaining
//! ordinals to the update revision (after a success) or back to it (after a rollback, where the
//! update revision is the stable one again), and the release's mark goes.

use serde_json::Value;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::IN_PROGRESSING_ANNOTATION;
use waxwing_plugin_sdk::{Change, PluginError, change};

use crate::objects::Objects;
use crate::statefulset::PARTITION;

/// See [`crate::finalize`]: one patch while the workload carries the release's mark, nothing
/// after. Pods the controller updates from here on get no batch labels: no batch released them.
pub fn finalize(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let workload = &objects.workload;
    if !workload.releasing() {
        return Ok(Vec::new());
    }
    let mut patch = MergePatch::default();
    patch.remove_annotation(IN_PROGRESSING_ANNOTATION);
    if workload.partition().is_some() {
        patch.set(&PARTITION, Value::Null);
    }
    Ok(patch
        .into_body()
        .map(|body| change::merge_patch(workload.object_ref(), &body))
        .into_iter()
        .collect())
}
