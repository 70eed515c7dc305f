//! Status conversion between v1alpha1 and v1beta1.
//!
//! v1alpha1 has one flat canary status; v1beta1 splits it into `CommonStatus` and
//! `CanaryStatus`, adds a blue-green status, and mirrors the current step at the top level for
//! `kubectl get`. Kruise leaves that mirror empty when converting from v1alpha1; it is filled
//! here so that the printer columns show the step whichever version was written.

use crate::{v1alpha1, v1beta1};

pub(super) fn to_v1beta1(status: &v1alpha1::RolloutStatus) -> v1beta1::RolloutStatus {
    let canary_status = status.canary_status.as_ref().map(canary_to_v1beta1);
    let (current_step_index, current_step_state) =
        canary_status.as_ref().map_or((0, None), |canary| {
            (
                canary.common.current_step_index,
                Some(canary.common.current_step_state),
            )
        });
    v1beta1::RolloutStatus {
        observed_generation: status.observed_generation,
        canary_status,
        blue_green_status: None,
        conditions: status.conditions.clone(),
        phase: status.phase,
        message: status.message.clone(),
        current_step_index,
        current_step_state,
        analysis_runs: status.analysis_runs.clone(),
        abort_request: status.abort_request.clone(),
    }
}

fn canary_to_v1beta1(canary: &v1alpha1::CanaryStatus) -> v1beta1::CanaryStatus {
    v1beta1::CanaryStatus {
        common: v1beta1::CommonStatus {
            observed_workload_generation: canary.observed_workload_generation,
            observed_rollout_id: canary.observed_rollout_id.clone(),
            rollout_hash: canary.rollout_hash.clone(),
            stable_revision: canary.stable_revision.clone(),
            pod_template_hash: canary.pod_template_hash.clone(),
            current_step_index: canary.current_step_index,
            next_step_index: canary.next_step_index,
            finalising_step: canary.finalising_step,
            current_step_state: canary.current_step_state,
            message: canary.message.clone(),
            last_update_time: canary.last_update_time.clone(),
        },
        canary_revision: canary.canary_revision.clone(),
        canary_replicas: canary.canary_replicas,
        canary_ready_replicas: canary.canary_ready_replicas,
    }
}

/// Drops what v1alpha1 cannot hold: the blue-green status and the top-level step mirror.
pub(super) fn to_v1alpha1(status: &v1beta1::RolloutStatus) -> v1alpha1::RolloutStatus {
    v1alpha1::RolloutStatus {
        observed_generation: status.observed_generation,
        canary_status: status.canary_status.as_ref().map(canary_to_v1alpha1),
        conditions: status.conditions.clone(),
        phase: status.phase,
        message: status.message.clone(),
        analysis_runs: status.analysis_runs.clone(),
        abort_request: status.abort_request.clone(),
    }
}

fn canary_to_v1alpha1(canary: &v1beta1::CanaryStatus) -> v1alpha1::CanaryStatus {
    let common = &canary.common;
    v1alpha1::CanaryStatus {
        observed_workload_generation: common.observed_workload_generation,
        observed_rollout_id: common.observed_rollout_id.clone(),
        rollout_hash: common.rollout_hash.clone(),
        stable_revision: common.stable_revision.clone(),
        canary_revision: canary.canary_revision.clone(),
        pod_template_hash: common.pod_template_hash.clone(),
        canary_replicas: canary.canary_replicas,
        canary_ready_replicas: canary.canary_ready_replicas,
        next_step_index: common.next_step_index,
        current_step_index: common.current_step_index,
        current_step_state: common.current_step_state,
        message: common.message.clone(),
        last_update_time: common.last_update_time.clone(),
        finalising_step: common.finalising_step,
    }
}
