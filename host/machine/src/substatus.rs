//! One way to read and write the release progress, whether it lives in `canaryStatus` or
//! `blueGreenStatus` (Kruise's `GetUnifiedStatus`).

use waxwing_api::v1beta1::{BlueGreenStatus, CanaryStatus, CommonStatus, RolloutStatus};

use crate::strategy::Style;

/// The progress shared by both styles. The canary status wins when both are set, as in Kruise.
pub(crate) fn common(status: &RolloutStatus) -> Option<&CommonStatus> {
    match (&status.canary_status, &status.blue_green_status) {
        (Some(canary), _) => Some(&canary.common),
        (None, Some(blue_green)) => Some(&blue_green.common),
        (None, None) => None,
    }
}

pub(crate) fn common_mut(status: &mut RolloutStatus) -> Option<&mut CommonStatus> {
    match (&mut status.canary_status, &mut status.blue_green_status) {
        (Some(canary), _) => Some(&mut canary.common),
        (None, Some(blue_green)) => Some(&mut blue_green.common),
        (None, None) => None,
    }
}

/// The revision being released (`canaryRevision` / `updatedRevision`); empty when none.
pub(crate) fn revision(status: &RolloutStatus) -> &str {
    match (&status.canary_status, &status.blue_green_status) {
        (Some(canary), _) => &canary.canary_revision,
        (None, Some(blue_green)) => &blue_green.update_revision,
        (None, None) => "",
    }
}

pub(crate) fn set_revision(status: &mut RolloutStatus, revision: &str) {
    if let Some(canary) = &mut status.canary_status {
        canary.canary_revision = revision.to_owned();
    }
    if let Some(blue_green) = &mut status.blue_green_status {
        blue_green.update_revision = revision.to_owned();
    }
}

/// Pods on the update revision, as last reported by the workload plugin.
pub(crate) fn updated_replicas(status: &RolloutStatus) -> u32 {
    let replicas = match (&status.canary_status, &status.blue_green_status) {
        (Some(canary), _) => canary.canary_replicas,
        (None, Some(blue_green)) => blue_green.updated_replicas,
        (None, None) => 0,
    };
    u32::try_from(replicas).unwrap_or(0)
}

pub(crate) fn set_updated_replicas(status: &mut RolloutStatus, updated: u32, ready: u32) {
    let updated = i32::try_from(updated).unwrap_or(i32::MAX);
    let ready = i32::try_from(ready).unwrap_or(i32::MAX);
    if let Some(canary) = &mut status.canary_status {
        canary.canary_replicas = updated;
        canary.canary_ready_replicas = ready;
    }
    if let Some(blue_green) = &mut status.blue_green_status {
        blue_green.updated_replicas = updated;
        blue_green.updated_ready_replicas = ready;
    }
}

/// Drops the release progress, as Kruise's `RolloutStatus.Clear` does, and the analysis of
/// the release.
pub(crate) fn clear(status: &mut RolloutStatus) {
    status.canary_status = None;
    status.blue_green_status = None;
    status.analysis_runs.clear();
}

/// Replaces the release progress with a fresh one for `style`.
pub(crate) fn install(
    status: &mut RolloutStatus,
    style: Style,
    common: CommonStatus,
    revision: &str,
) {
    clear(status);
    match style {
        Style::Canary => {
            status.canary_status = Some(CanaryStatus {
                common,
                canary_revision: revision.to_owned(),
                ..Default::default()
            });
        }
        Style::BlueGreen => {
            status.blue_green_status = Some(BlueGreenStatus {
                common,
                update_revision: revision.to_owned(),
                ..Default::default()
            });
        }
    }
}

/// Copies the current step index and state to the top-level status fields that `kubectl get`
/// shows (Kruise does this on every status update).
pub(crate) fn mirror_to_top_level(status: &mut RolloutStatus) {
    if let Some(common) = common(status) {
        let (index, state) = (common.current_step_index, common.current_step_state);
        status.current_step_index = index;
        status.current_step_state = Some(state);
    }
}
