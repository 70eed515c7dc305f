//! What `observe` reports.

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::revision;
use waxwing_plugin_sdk::workload::WorkloadState;

use crate::objects::Objects;
use crate::takeover;

/// See [`crate::observe`]. Revisions are the hashes of the CloneSet's ControllerRevisions, the
/// value of its pods' `pod-template-hash` label, as Kruise Rollout records them.
pub fn observe(objects: &Objects) -> Result<WorkloadState, PluginError> {
    let workload = &objects.workload;
    let update = workload.update_hash().ok_or_else(|| {
        PluginError::not_ready(format!(
            "CloneSet {} has no status.updateRevision yet; is the OpenKruise CloneSet \
             controller running?",
            workload.name
        ))
    })?;
    let stable = workload.current_hash().unwrap_or(update);
    Ok(WorkloadState {
        replicas: workload.replicas(),
        stable_revision: stable.to_owned(),
        update_revision: update.to_owned(),
        update_pod_template_hash: update.to_owned(),
        stable_pod_template_hash: stable.to_owned(),
        settled: workload.settled(),
        taken_over: takeover::is_taken_over(workload),
        revision_label: revision::POD_TEMPLATE_HASH_LABEL.to_owned(),
    })
}
