//! The bounded rolling update that holds a Deployment during a blue-green release, and Kruise's
//! record of the settings it replaces.
//!
//! Kruise's blue-green control (`bluegreenstyle/deployment/control.go`) leaves the Deployment's
//! native rolling update running but bounds it so that it can only add pods:
//! - `maxUnavailable: 0` and `maxSurge` = the batch's new pods: the controller keeps at most
//!   `replicas + maxSurge` pods, so with every old pod still there the new ReplicaSet grows to
//!   the batch and stops;
//! - `minReadySeconds` just below `progressDeadlineSeconds`, both near `i32::MAX`: a new pod
//!   never counts as available, and without available new pods the controller scales no old
//!   ReplicaSet down (nor reports the rollout as stuck).
//!
//! The settings this replaces are kept in the `rollouts.kruise.io/original-deployment-strategy`
//! annotation in Kruise's format (`maxUnavailable`, `maxSurge`, `minReadySeconds`,
//! `progressDeadlineSeconds`, Kubernetes' defaults filled in) and written back at finalize.
//! Unlike Kruise, a `Recreate` strategy is recorded too (`"type":"Recreate"`, a field Kruise's
//! reader ignores), so the Deployment comes back exactly as it was instead of as `RollingUpdate`.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use waxwing_plugin_sdk::intstr;

use crate::deployment::Workload;
use crate::keys::ORIGINAL_STRATEGY;
use crate::patch::MergePatch;

/// Kruise's `MaxProgressSeconds`: the `progressDeadlineSeconds` of a bounded Deployment.
pub const MAX_PROGRESS_SECONDS: i32 = i32::MAX;
/// Kruise's `MaxReadySeconds`: the `minReadySeconds` of a bounded Deployment, and of its stable
/// ReplicaSet (see [`crate::blue_green`]). The API requires it below the progress deadline.
pub const MAX_READY_SECONDS: i32 = MAX_PROGRESS_SECONDS - 1;

/// The API server's defaults, which Kruise records for unset fields.
const DEFAULT_PROGRESS_SECONDS: i32 = 600;
const DEFAULT_SURGE: &str = "25%";

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress_deadline_seconds: Option<i32>,
    /// `Recreate`, or none for `RollingUpdate` (all Kruise knows).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    strategy_type: Option<String>,
}

fn is_zero(seconds: &i32) -> bool {
    *seconds == 0
}

impl Original {
    /// The record on `workload`; none when it has none or a malformed one.
    fn read(workload: &Workload) -> Option<Self> {
        serde_json::from_str(workload.annotation(ORIGINAL_STRATEGY)?).ok()
    }

    /// What finalize restores: the record, or, when the annotation is there but unreadable,
    /// the Deployment's own settings with the bounded values replaced by the defaults, so the
    /// Deployment is never left unable to make pods available.
    pub fn restorable(workload: &Workload) -> Option<Self> {
        workload.annotation(ORIGINAL_STRATEGY)?;
        Some(Self::read(workload).unwrap_or_else(|| Self::of(workload)))
    }

    /// The Deployment's own settings, unset ones as the API server defaults them (Kruise's
    /// `InitOriginalSetting`). A bounded `minReadySeconds` or `progressDeadlineSeconds` is never
    /// anyone's setting and counts as unset.
    fn of(workload: &Workload) -> Self {
        let spec = &workload.spec;
        let (strategy_type, max_surge, max_unavailable) = if workload.strategy_type() == "Recreate"
        {
            (Some("Recreate".to_owned()), None, None)
        } else {
            let rolling = spec
                .strategy
                .as_ref()
                .and_then(|strategy| strategy.rolling_update.as_ref());
            let or_default = |value: Option<&IntOrString>| {
                Some(
                    value
                        .cloned()
                        .unwrap_or_else(|| IntOrString::String(DEFAULT_SURGE.into())),
                )
            };
            (
                None,
                or_default(rolling.and_then(|rolling| rolling.max_surge.as_ref())),
                or_default(rolling.and_then(|rolling| rolling.max_unavailable.as_ref())),
            )
        };
        Self {
            max_unavailable,
            max_surge,
            min_ready_seconds: spec
                .min_ready_seconds
                .filter(|seconds| *seconds != MAX_READY_SECONDS)
                .unwrap_or(0),
            progress_deadline_seconds: Some(
                spec.progress_deadline_seconds
                    .filter(|seconds| *seconds != MAX_PROGRESS_SECONDS)
                    .unwrap_or(DEFAULT_PROGRESS_SECONDS),
            ),
            strategy_type,
        }
    }

    /// The record to keep for `current`: its own settings when nothing is recorded yet;
    /// otherwise, field by field, the recorded value where `current` still has the bounded one
    /// and `current`'s where the user changed it during the release (the annotation of
    /// `previous`, the object before a user's update, counts when the update dropped it).
    fn for_update(current: &Workload, previous: Option<&Workload>) -> Self {
        let own = Self::of(current);
        let Some(recorded) = Self::read(current).or_else(|| previous.and_then(Self::read)) else {
            return own;
        };
        let (strategy_type, max_surge, max_unavailable) = if rolling_bounded(current) {
            (
                recorded.strategy_type,
                recorded.max_surge,
                recorded.max_unavailable,
            )
        } else {
            (own.strategy_type, own.max_surge, own.max_unavailable)
        };
        Self {
            max_unavailable,
            max_surge,
            min_ready_seconds: if current.spec.min_ready_seconds == Some(MAX_READY_SECONDS) {
                recorded.min_ready_seconds
            } else {
                own.min_ready_seconds
            },
            progress_deadline_seconds: if current.spec.progress_deadline_seconds
                == Some(MAX_PROGRESS_SECONDS)
            {
                recorded.progress_deadline_seconds
            } else {
                own.progress_deadline_seconds
            },
            strategy_type,
        }
    }

    pub fn min_ready_seconds(&self) -> i32 {
        self.min_ready_seconds
    }

    /// Writes the recorded settings back into `patch` (Kruise's finalize, plus the strategy
    /// type); unset rolling values come back as the API server's defaults.
    pub fn restore(&self, patch: &mut MergePatch) {
        let strategy = if self.strategy_type.as_deref() == Some("Recreate") {
            json!({"type": "Recreate", "rollingUpdate": null})
        } else {
            let or_default = |value: &Option<IntOrString>| {
                value
                    .clone()
                    .unwrap_or_else(|| IntOrString::String(DEFAULT_SURGE.into()))
            };
            json!({"type": "RollingUpdate", "rollingUpdate": {
                "maxSurge": or_default(&self.max_surge),
                "maxUnavailable": or_default(&self.max_unavailable),
            }})
        };
        patch.set_spec("strategy", strategy);
        patch.set_spec("minReadySeconds", json!(self.min_ready_seconds));
        patch.set_spec(
            "progressDeadlineSeconds",
            json!(
                self.progress_deadline_seconds
                    .unwrap_or(DEFAULT_PROGRESS_SECONDS)
            ),
        );
    }

    fn text(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// True when the Deployment carries a blue-green record, whatever its state.
pub fn recorded(workload: &Workload) -> bool {
    workload.annotation(ORIGINAL_STRATEGY).is_some()
}

/// True when every bound is in place: the native rolling update can add new pods up to
/// `maxSurge` and take none away.
pub fn is_bounded(workload: &Workload) -> bool {
    rolling_bounded(workload)
        && workload.spec.min_ready_seconds == Some(MAX_READY_SECONDS)
        && workload.spec.progress_deadline_seconds == Some(MAX_PROGRESS_SECONDS)
}

/// True when any bound is still in place, so finalize has something to give back.
pub fn any_bound(workload: &Workload) -> bool {
    workload.spec.min_ready_seconds == Some(MAX_READY_SECONDS)
        || workload.spec.progress_deadline_seconds == Some(MAX_PROGRESS_SECONDS)
}

/// `RollingUpdate` with `maxUnavailable` 0 and a `maxSurge`.
fn rolling_bounded(workload: &Workload) -> bool {
    let Some(rolling) = workload
        .spec
        .strategy
        .as_ref()
        .and_then(|strategy| strategy.rolling_update.as_ref())
    else {
        return false;
    };
    workload.strategy_type() == "RollingUpdate"
        && rolling.max_surge.is_some()
        && rolling
            .max_unavailable
            .as_ref()
            .is_some_and(|value| intstr::scaled_value(value, 100, false, "").ok() == Some(0))
}

/// The Deployment's `maxSurge`, when set.
pub fn max_surge(workload: &Workload) -> Option<&IntOrString> {
    workload
        .spec
        .strategy
        .as_ref()?
        .rolling_update
        .as_ref()?
        .max_surge
        .as_ref()
}

/// Adds to `patch` what bounds `current` and keeps its record up to date. `previous` is the
/// object before a user's update (in the webhook): its record counts when the update dropped
/// it, and its `maxSurge` (the batch's) comes back when the update replaced the bounded
/// rolling update with its own. Otherwise a newly bounded Deployment gets `maxSurge: 1`, as
/// Kruise starts, which adds no pod while the Deployment is paused.
pub fn bound(patch: &mut MergePatch, current: &Workload, previous: Option<&Workload>) {
    let original = Original::for_update(current, previous);
    if Original::read(current).as_ref() != Some(&original) {
        patch.set_annotation(ORIGINAL_STRATEGY, &original.text());
    }
    if current.spec.min_ready_seconds != Some(MAX_READY_SECONDS) {
        patch.set_spec("minReadySeconds", json!(MAX_READY_SECONDS));
    }
    if current.spec.progress_deadline_seconds != Some(MAX_PROGRESS_SECONDS) {
        patch.set_spec("progressDeadlineSeconds", json!(MAX_PROGRESS_SECONDS));
    }
    if !rolling_bounded(current) {
        let surge = previous
            .filter(|previous| rolling_bounded(previous))
            .and_then(max_surge)
            .cloned()
            .unwrap_or(IntOrString::Int(1));
        let rolling_update = json!({"maxSurge": surge, "maxUnavailable": 0});
        patch.set_spec(
            "strategy",
            json!({"type": "RollingUpdate", "rollingUpdate": rolling_update}),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn deployment(spec: Value, original: Option<&str>) -> Workload {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        let annotations =
            original.map_or_else(|| json!({}), |text| json!({ORIGINAL_STRATEGY: text}));
        let object = json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1", "annotations": annotations},
            "spec": spec,
        });
        Workload::parse(&object.to_string(), "the workload").unwrap()
    }

    fn bounded_spec() -> Value {
        json!({
            "minReadySeconds": MAX_READY_SECONDS,
            "progressDeadlineSeconds": MAX_PROGRESS_SECONDS,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 0}},
        })
    }

    const RECORD: &str = r#"{"maxUnavailable":"10%","maxSurge":2,"minReadySeconds":7,"progressDeadlineSeconds":300}"#;

    #[test]
    fn a_bounded_deployment_keeps_its_record() {
        let held = deployment(bounded_spec(), Some(RECORD));
        assert!(is_bounded(&held));
        let mut patch = MergePatch::default();
        bound(&mut patch, &held, None);
        assert!(patch.is_empty(), "{patch:?}");
    }

    #[test]
    fn a_setting_changed_mid_release_is_recorded_and_bounded_again() {
        let mut spec = bounded_spec();
        spec["minReadySeconds"] = json!(5);
        let changed = deployment(spec, Some(RECORD));
        let record = Original::for_update(&changed, None);
        assert_eq!(record.min_ready_seconds, 5);
        assert_eq!(record.max_surge, Some(IntOrString::Int(2)));
        assert_eq!(record.progress_deadline_seconds, Some(300));
        let mut patch = MergePatch::default();
        bound(&mut patch, &changed, None);
        let body = patch.into_body().unwrap();
        assert_eq!(body["spec"], json!({"minReadySeconds": MAX_READY_SECONDS}));
    }

    #[test]
    fn bounded_values_are_never_recorded_as_settings() {
        // The record was lost (malformed): the bounds count as unset, so finalize cannot leave
        // a Deployment whose pods never become available.
        let lost = deployment(bounded_spec(), Some("{not json"));
        let restored = Original::restorable(&lost).unwrap();
        assert_eq!(restored.min_ready_seconds, 0);
        assert_eq!(
            restored.progress_deadline_seconds,
            Some(DEFAULT_PROGRESS_SECONDS)
        );
        assert_eq!(
            Original::restorable(&deployment(bounded_spec(), None)),
            None
        );
    }

    #[test]
    fn a_zero_max_unavailable_in_percent_is_bounded_too() {
        let mut spec = bounded_spec();
        spec["strategy"]["rollingUpdate"]["maxUnavailable"] = json!("0%");
        assert!(is_bounded(&deployment(spec, Some(RECORD))));
        let mut recreate = bounded_spec();
        recreate["strategy"] = json!({"type": "Recreate"});
        let recreate = deployment(recreate, Some(RECORD));
        assert!(!is_bounded(&recreate));
        assert!(any_bound(&recreate));
    }
}
