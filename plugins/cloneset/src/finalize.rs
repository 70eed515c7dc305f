//! Handing the CloneSet back: the partition goes, so the CloneSet controller moves every pod
//! to the update revision (after a success) or back to it (after a rollback, where the update
//! revision is the stable one again), and the release's mark goes.

use serde_json::{Value, json};
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::takeover::IN_PROGRESSING_ANNOTATION;
use waxwing_plugin_sdk::{Change, PluginError, change};

use crate::cloneset::{PARTITION, PAUSED};
use crate::objects::Objects;

/// See [`crate::finalize()`]: one patch while the CloneSet carries the release's mark, nothing
/// after. Pods the CloneSet controller updates from here on get no batch labels: no batch
/// released them.
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
    if workload.paused() {
        patch.set(&PAUSED, json!(false));
    }
    Ok(patch
        .into_body()
        .map(|body| change::merge_patch(workload.object_ref(), &body))
        .into_iter()
        .collect())
}
