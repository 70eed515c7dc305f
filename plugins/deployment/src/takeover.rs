//! Stopping the native rollout: the admission webhook's patch, and the same hold kept up by
//! `release-batch`.
//!
//! Kruise's webhook (`workload_update_handler.go`) lets a pod-template change in, but pauses the
//! Deployment and marks it `rollouts.kruise.io/in-progressing`; for a partition release its
//! batch controller then records the rolling settings in `rollouts.kruise.io/deployment-strategy`
//! and switches the strategy to `Recreate`, and for a blue-green release it records the
//! settings it bounds and bounds them (see [`crate::bounded`]). This plugin does both in the
//! webhook, so the Deployment is never unpaused in between. Kruise's control label and
//! control-info annotation are left out: they hand the Deployment to Kruise's own controllers,
//! which must not act on it beside Waxwing.
//!
//! A blue-green Deployment is paused only until its first batch, which unpauses it; a template
//! change during the release (a rollback or a newer revision) pauses it again, as Kruise's
//! webhook does, so the native controller moves no pod until traffic is back on stable and the
//! release has been finalised or restarted.

use serde_json::json;
use waxwing_plugin_sdk::takeover as sdk_takeover;
use waxwing_plugin_sdk::workload::ReleaseStyle;
use waxwing_plugin_sdk::{PluginError, RolloutInfo, object};

use crate::bounded;
use crate::deployment::Workload;
use crate::keys::{DEPLOYMENT_STRATEGY, IN_PROGRESSING, STABLE_REVISION};
use crate::patch::MergePatch;
use crate::strategy::{self, StrategyAnnotation};

/// See [`crate::takeover`].
pub fn takeover(
    rollout: &RolloutInfo,
    style: ReleaseStyle,
    old: &str,
    new: &str,
) -> Result<Option<String>, PluginError> {
    let old = Workload::parse(old, "the Deployment before the update")?;
    let mut updated: k8s_openapi::api::apps::v1::Deployment =
        object::parse(new, "the updated Deployment")?;
    // Tools that replace objects wholesale (Karmada, OCM) may send no uid; it cannot change.
    updated.metadata.uid.get_or_insert_with(|| old.uid.clone());
    let new = Workload::new(updated, "the updated Deployment")?;

    // Only the updated object says whether a release holds the Deployment: finalize removes
    // the mark with an update that passes through this webhook too.
    let patch = if releasing(&new) {
        // A release is under way: whatever the update, the Deployment stays held.
        hold(style, &rollout.name, &new, Some(&old), None)
    } else if new.replicas() > 0 && starts_release(&old, &new) {
        let mut patch = hold(style, &rollout.name, &new, None, None);
        // A label left by an earlier release would name the wrong stable pods; the first
        // batch writes the current one.
        if new.label(STABLE_REVISION).is_some() {
            patch.remove_label(STABLE_REVISION);
        }
        patch
    } else {
        MergePatch::default()
    };
    Ok(patch.into_body().map(|body| body.to_string()))
}

/// True when a release holds the Deployment.
pub fn releasing(workload: &Workload) -> bool {
    workload.annotation(IN_PROGRESSING).is_some()
}

/// True when the Deployment's native rollout is stopped by a release: paused (partition: also
/// on `Recreate`), or for blue-green bounded so that it only adds the batch's pods.
pub fn is_taken_over(workload: &Workload) -> bool {
    if !releasing(workload) {
        return false;
    }
    if bounded::recorded(workload) {
        return bounded::is_bounded(workload);
    }
    let partition = StrategyAnnotation::read(workload).is_some();
    workload.paused() && (!partition || workload.strategy_type() == "Recreate")
}

/// Kruise's rule for an update that starts a release (a new rollout-id label, else a new pod
/// template), shared with the other workload plugins. Kruise reads an annotation here and the
/// label elsewhere; Waxwing reads the label everywhere.
fn starts_release(old: &Workload, new: &Workload) -> bool {
    sdk_takeover::starts_release(
        (&old.meta, &old.spec.template),
        (&new.meta, &new.spec.template),
    )
}

/// The patch that keeps `current` held by the release of `rollout_name` in `style`: marked;
/// for the canary and partition styles paused, for the partition style also on `Recreate` with
/// its rolling settings recorded; for the blue-green style bounded with its settings recorded,
/// and paused when a user's update changed the template (see the module docs) or when the
/// bounds were missing (the native controller may have moved pods; the batch unpauses it once
/// the ReplicaSets are as it wants them). `previous` is the object before a user's update (in
/// the webhook): its strategy and recorded settings are kept when the update changed or dropped
/// them; `None` at the start of a release. `stable_hash` fills a missing stable-revision label.
pub fn hold(
    style: ReleaseStyle,
    rollout_name: &str,
    current: &Workload,
    previous: Option<&Workload>,
    stable_hash: Option<&str>,
) -> MergePatch {
    let mut patch = MergePatch::default();
    let pause = match style {
        ReleaseStyle::Canary | ReleaseStyle::Partition => true,
        ReleaseStyle::BlueGreen => match previous {
            Some(previous) => starts_release(previous, current),
            None => !bounded::is_bounded(current),
        },
    };
    if pause && !current.paused() {
        patch.set_spec("paused", json!(true));
    }
    if current.annotation(IN_PROGRESSING).is_none() {
        patch.set_annotation(
            IN_PROGRESSING,
            &sdk_takeover::in_progressing_value(rollout_name),
        );
    }
    if let Some(hash) = stable_hash.filter(|_| current.label(STABLE_REVISION).is_none()) {
        patch.set_label(STABLE_REVISION, hash);
    }
    match style {
        ReleaseStyle::Canary => {
            // Kruise refuses a switch to Recreate during a canary release: unpausing at the
            // end would then stop every stable pod at once.
            if let Some(previous) = previous.filter(|previous| {
                current.strategy_type() == "Recreate" && previous.strategy_type() != "Recreate"
            }) {
                patch.set_spec("strategy", json!(previous.spec.strategy));
            }
        }
        ReleaseStyle::Partition => {
            let rolling_update = strategy::rolling_update_of(current, previous);
            let recorded = StrategyAnnotation::read(current);
            let existing = recorded
                .clone()
                .or_else(|| previous.and_then(StrategyAnnotation::read));
            let wanted = StrategyAnnotation::partition(existing, &rolling_update);
            if recorded.as_ref() != Some(&wanted) {
                patch.set_annotation(DEPLOYMENT_STRATEGY, &wanted.text());
            }
            let has_rolling_update = current
                .spec
                .strategy
                .as_ref()
                .is_some_and(|strategy| strategy.rolling_update.is_some());
            if current.strategy_type() != "Recreate" || has_rolling_update {
                patch.set_spec(
                    "strategy",
                    json!({"type": "Recreate", "rollingUpdate": null}),
                );
            }
        }
        ReleaseStyle::BlueGreen => bounded::bound(&mut patch, current, previous),
    }
    patch
}
