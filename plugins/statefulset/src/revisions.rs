//! What `observe` reports.

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::revision;
use waxwing_plugin_sdk::workload::WorkloadState;

use crate::objects::Objects;
use crate::takeover;

/// See [`crate::observe`]. Revisions are the workload's ControllerRevision names, the value of
/// its pods' `controller-revision-hash` label, as Kruise Rollout records them.
pub fn observe(objects: &Objects) -> Result<WorkloadState, PluginError> {
    let workload = &objects.workload;
    let update = workload.update_revision().ok_or_else(|| {
        PluginError::not_ready(format!(
            "{} {} has no status.updateRevision yet; is its controller running?",
            workload.kind, workload.name
        ))
    })?;
    let stable = workload.current_revision().unwrap_or(update);
    Ok(WorkloadState {
        replicas: workload.replicas(),
        stable_revision: stable.to_owned(),
        update_revision: update.to_owned(),
        update_pod_template_hash: update.to_owned(),
        stable_pod_template_hash: stable.to_owned(),
        settled: workload.settled(),
        taken_over: takeover::is_taken_over(workload),
        revision_label: revision::CONTROLLER_REVISION_HASH_LABEL.to_owned(),
    })
}
