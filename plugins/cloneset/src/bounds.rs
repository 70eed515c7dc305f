//! The bounds that hold a CloneSet during a blue-green release, and Kruise's record of the
//! settings they replace.
//!
//! Kruise's blue-green control (`bluegreenstyle/cloneset/control.go`) lets the CloneSet
//! controller add the new revision's pods itself, as surge pods, and bounds it so that it takes
//! none of the old pods away:
//! - `spec.minReadySeconds` near `i32::MAX`: no pod counts as available any more, so every
//!   update and every deletion of a ready pod the controller could make is over its budget;
//! - `updateStrategy.maxUnavailable: 0`: that budget is nothing but the surge pods, which are
//!   unavailable themselves.
//!
//! The replaced settings are kept in `rollouts.kruise.io/original-deployment-strategy` in
//! Kruise's format (`maxUnavailable`, `maxSurge`, `minReadySeconds`, the CloneSet's defaults
//! filled in as Kruise fills them) and written back by finalize. `maxSurge` is recorded too,
//! since the batches set it.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use waxwing_plugin_sdk::intstr;
use waxwing_plugin_sdk::merge_patch::MergePatch;

use crate::cloneset::{CloneSet, MAX_SURGE, MAX_UNAVAILABLE, MIN_READY_SECONDS};

/// Kruise's record of the settings a blue-green release replaced.
pub const ORIGINAL_STRATEGY: &str = "rollouts.kruise.io/original-deployment-strategy";
/// Kruise's `MaxReadySeconds`: the `minReadySeconds` of a bounded CloneSet.
pub const MAX_READY_SECONDS: i32 = i32::MAX - 1;
/// The `maxUnavailable` that lets the controller delete the pods a release marks, while the
/// CloneSet is paused (see [`crate::fleet`]): with every other pod unavailable, the budget for
/// deleting ready pods is exactly the marked ones.
pub const REMOVAL_MAX_UNAVAILABLE: &str = "100%";

/// The CloneSet API's defaults, which Kruise records for unset fields.
const DEFAULT_MAX_SURGE: &str = "0%";
const DEFAULT_MAX_UNAVAILABLE: &str = "20%";

/// The settings a blue-green release replaced: the annotation's JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Original {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_unavailable: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_surge: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "is_zero")]
    min_ready_seconds: i32,
}

fn is_zero(seconds: &i32) -> bool {
    *seconds == 0
}

impl Original {
    /// The record on `workload`; none when it has none or a malformed one.
    fn read(workload: &CloneSet) -> Option<Self> {
        serde_json::from_str(workload.annotation(ORIGINAL_STRATEGY)?).ok()
    }

    /// What finalize restores: the record, or, when the annotation is there but unreadable,
    /// the CloneSet's own settings with a bounded `minReadySeconds` taken as unset, so the
    /// CloneSet is never left unable to make pods available.
    pub fn restorable(workload: &CloneSet) -> Option<Self> {
        workload.annotation(ORIGINAL_STRATEGY)?;
        Some(Self::read(workload).unwrap_or_else(|| Self::of(workload)))
    }

    /// The CloneSet's own settings, unset ones as Kruise's `InitOriginalSetting` fills them.
    fn of(workload: &CloneSet) -> Self {
        let strategy = &workload.spec.update_strategy;
        let or_default = |value: &Option<IntOrString>, default: &str| {
            Some(
                value
                    .clone()
                    .unwrap_or_else(|| IntOrString::String(default.to_owned())),
            )
        };
        Self {
            max_unavailable: or_default(&strategy.max_unavailable, DEFAULT_MAX_UNAVAILABLE),
            max_surge: or_default(&strategy.max_surge, DEFAULT_MAX_SURGE),
            min_ready_seconds: Some(workload.min_ready_seconds())
                .filter(|seconds| *seconds != MAX_READY_SECONDS)
                .unwrap_or(0),
        }
    }

    /// The record to keep for `current`: field by field, the recorded value where `current`
    /// still has the release's value, and `current`'s own where the user set another during
    /// the release. A record is trusted only while a release holds the CloneSet, so one left by
    /// an interrupted release is not restored over the user's later settings. `previous` (the
    /// object before a user's update, in the webhook) counts when the update dropped the record.
    fn for_update(current: &CloneSet, previous: Option<&CloneSet>) -> Self {
        let own = Self::of(current);
        let held = current.min_ready_seconds() == MAX_READY_SECONDS;
        let Some(recorded) = Self::read(current)
            .or_else(|| previous.and_then(Self::read))
            .filter(|_| held || current.releasing())
        else {
            return own;
        };
        Self {
            max_unavailable: if unavailable_bounded(current) {
                recorded.max_unavailable
            } else {
                own.max_unavailable
            },
            // Only the batches change maxSurge while a release holds the CloneSet.
            max_surge: recorded.max_surge,
            min_ready_seconds: if held {
                recorded.min_ready_seconds
            } else {
                own.min_ready_seconds
            },
        }
    }

    /// Writes the recorded settings back into `patch`; unset ones as the CloneSet's defaults.
    pub fn restore(&self, patch: &mut MergePatch) {
        let or_default = |value: &Option<IntOrString>, default: &str| {
            value
                .clone()
                .unwrap_or_else(|| IntOrString::String(default.to_owned()))
        };
        patch.set(
            &MAX_UNAVAILABLE,
            json!(or_default(&self.max_unavailable, DEFAULT_MAX_UNAVAILABLE)),
        );
        patch.set(
            &MAX_SURGE,
            json!(or_default(&self.max_surge, DEFAULT_MAX_SURGE)),
        );
        patch.set(&MIN_READY_SECONDS, json!(self.min_ready_seconds));
    }

    fn text(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// True when the CloneSet carries a blue-green record, whatever its state.
pub fn recorded(workload: &CloneSet) -> bool {
    workload.annotation(ORIGINAL_STRATEGY).is_some()
}

/// True when the bound that keeps old pods is in place: no pod can become available.
pub fn is_bounded(workload: &CloneSet) -> bool {
    recorded(workload) && workload.min_ready_seconds() == MAX_READY_SECONDS
}

/// True when `maxUnavailable` is zero, or the removal budget of a paused CloneSet.
fn unavailable_bounded(workload: &CloneSet) -> bool {
    match &workload.spec.update_strategy.max_unavailable {
        Some(IntOrString::String(text)) if text == REMOVAL_MAX_UNAVAILABLE => workload.paused(),
        Some(value) => intstr::scaled_value(value, 100, false, "").ok() == Some(0),
        None => false,
    }
}

/// True when `maxUnavailable` is zero in any spelling.
pub fn no_unavailable(workload: &CloneSet) -> bool {
    workload
        .spec
        .update_strategy
        .max_unavailable
        .as_ref()
        .is_some_and(|value| intstr::scaled_value(value, 100, false, "").ok() == Some(0))
}

/// Adds to `patch` what bounds `current` and keeps its record up to date. `previous` is the
/// object before a user's update (in the webhook), `None` elsewhere.
pub fn bound(patch: &mut MergePatch, current: &CloneSet, previous: Option<&CloneSet>) {
    let original = Original::for_update(current, previous);
    if Original::read(current).as_ref() != Some(&original) {
        patch.set_annotation(ORIGINAL_STRATEGY, &original.text());
    }
    if current.min_ready_seconds() != MAX_READY_SECONDS {
        patch.set(&MIN_READY_SECONDS, json!(MAX_READY_SECONDS));
    }
    if !unavailable_bounded(current) {
        patch.set(&MAX_UNAVAILABLE, json!(0));
        // OpenKruise's webhook refuses maxUnavailable and maxSurge both below 1. A surge of
        // one creates no pod while the partition holds every pod, and batches set their own.
        let surge = current.spec.update_strategy.max_surge.as_ref();
        if surge.is_none_or(|value| intstr::scaled_value(value, 100, true, "").ok() == Some(0)) {
            patch.set(&MAX_SURGE, json!(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloneset(spec: serde_json::Value, record: Option<&str>) -> CloneSet {
        let annotations = record.map_or(json!({}), |text| json!({ORIGINAL_STRATEGY: text}));
        CloneSet::parse(
            &json!({
                "metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
                "spec": spec,
            })
            .to_string(),
            "the workload",
        )
        .unwrap()
    }

    fn bounded_spec() -> serde_json::Value {
        json!({"minReadySeconds": MAX_READY_SECONDS, "updateStrategy": {"maxUnavailable": 0, "maxSurge": 3}})
    }

    const RECORD: &str = r#"{"maxUnavailable":"20%","maxSurge":0,"minReadySeconds":5}"#;

    #[test]
    fn unset_settings_are_recorded_as_kruise_fills_them() {
        let plain = cloneset(json!({}), None);
        let mut patch = MergePatch::default();
        bound(&mut patch, &plain, None);
        let body = patch.into_body().unwrap();
        assert_eq!(
            body["metadata"]["annotations"][ORIGINAL_STRATEGY],
            r#"{"maxUnavailable":"20%","maxSurge":"0%"}"#
        );
        assert_eq!(
            body["spec"],
            json!({"minReadySeconds": MAX_READY_SECONDS, "updateStrategy": {"maxUnavailable": 0, "maxSurge": 1}})
        );
    }

    #[test]
    fn a_bounded_cloneset_keeps_its_record() {
        let held = cloneset(bounded_spec(), Some(RECORD));
        assert!(is_bounded(&held));
        let mut patch = MergePatch::default();
        bound(&mut patch, &held, None);
        assert!(patch.is_empty(), "{patch:?}");
    }

    #[test]
    fn a_setting_changed_mid_release_is_recorded_and_bounded_again() {
        let mut spec = bounded_spec();
        spec["updateStrategy"]["maxUnavailable"] = json!(2);
        let changed = cloneset(spec, Some(RECORD));
        let mut patch = MergePatch::default();
        bound(&mut patch, &changed, None);
        let body = patch.into_body().unwrap();
        assert_eq!(
            body["metadata"]["annotations"][ORIGINAL_STRATEGY],
            r#"{"maxUnavailable":2,"maxSurge":0,"minReadySeconds":5}"#
        );
        assert_eq!(
            body["spec"],
            json!({"updateStrategy": {"maxUnavailable": 0}})
        );
    }

    #[test]
    fn a_record_dropped_by_an_update_comes_back_from_the_old_object() {
        let old = cloneset(bounded_spec(), Some(RECORD));
        let replaced = cloneset(bounded_spec(), None);
        let mut patch = MergePatch::default();
        bound(&mut patch, &replaced, Some(&old));
        let body = patch.into_body().unwrap();
        assert_eq!(body["metadata"]["annotations"][ORIGINAL_STRATEGY], RECORD);
    }

    #[test]
    fn the_removal_budget_is_a_bound_only_while_paused() {
        let mut spec = bounded_spec();
        spec["updateStrategy"]["maxUnavailable"] = json!(REMOVAL_MAX_UNAVAILABLE);
        assert!(!unavailable_bounded(&cloneset(spec.clone(), Some(RECORD))));
        spec["updateStrategy"]["paused"] = json!(true);
        assert!(unavailable_bounded(&cloneset(spec, Some(RECORD))));
    }

    #[test]
    fn a_lost_record_never_restores_the_bound() {
        let lost = cloneset(bounded_spec(), Some("{not json"));
        let restored = Original::restorable(&lost).unwrap();
        assert_eq!(restored.min_ready_seconds, 0);
        assert_eq!(Original::restorable(&cloneset(bounded_spec(), None)), None);
    }
}
