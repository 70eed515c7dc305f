//! Keeping HorizontalPodAutoscalers off a CloneSet during a blue-green release, as Kruise does
//! (`bluegreenstyle/hpa`).
//!
//! An HPA scaling the CloneSet mid-release would change the replicas the batches are planned
//! against, and with every pod unavailable (see [`crate::bounds`]) its scale-downs could not
//! remove ready pods anyway. Kruise disables it by pointing its `scaleTargetRef` at a name that
//! does not exist, the CloneSet's name plus `-DisableByRollout` (the HPA controller then only
//! reports that it cannot find its target), and removes the suffix at finalize. The same suffix
//! is used so that Kruise and Waxwing each recognise an HPA the other disabled.
//!
//! HPAs carry no label tying them to their target, so the plugin asks for every
//! `autoscaling/v2` HPA in the namespace (empty selector) and keeps the ones whose
//! `scaleTargetRef` names the CloneSet (kind `CloneSet`, group `apps.kruise.io`), with or
//! without the suffix. It asks only while the CloneSet carries the blue-green record, so the
//! partition style never lists HPAs.

use k8s_openapi::Resource;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde_json::json;
use waxwing_plugin_sdk::{Change, ObjectQuery, ObjectRef, PluginError, change};

use crate::cloneset::{API_VERSION, KIND};
use crate::objects::Objects;

/// Kruise's `HPADisableSuffix`.
pub const DISABLED_SUFFIX: &str = "-DisableByRollout";

/// Every HPA of the namespace; see the module docs for why.
pub fn query() -> ObjectQuery {
    ObjectQuery {
        api_version: HorizontalPodAutoscaler::API_VERSION.to_owned(),
        kind: HorizontalPodAutoscaler::KIND.to_owned(),
        label_selector: String::new(),
    }
}

/// The patches that point every enabled HPA of the CloneSet at the disabled name.
pub fn disable(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let disabled = format!("{}{DISABLED_SUFFIX}", objects.workload.name);
    retarget(objects, &disabled)
}

/// The patches that point every disabled HPA of the CloneSet back at it.
pub fn restore(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    retarget(objects, &objects.workload.name)
}

/// The patches that point the CloneSet's HPAs whose target is not `wanted` at it.
fn retarget(objects: &Objects, wanted: &str) -> Result<Vec<Change>, PluginError> {
    let body = json!({"spec": {"scaleTargetRef": {"name": wanted}}});
    objects
        .hpas
        .iter()
        .filter(|hpa| target_name(hpa, &objects.workload.name).is_some_and(|name| name != wanted))
        .map(|hpa| Ok(change::merge_patch(ObjectRef::of(hpa)?, &body)))
        .collect()
}

/// The target name of an HPA that scales the CloneSet `name`, disabled or not.
fn target_name<'a>(hpa: &'a HorizontalPodAutoscaler, name: &str) -> Option<&'a str> {
    let target = &hpa.spec.scale_target_ref;
    let own_group = group(API_VERSION);
    let mut base = target.name.as_str();
    while let Some(stripped) = base.strip_suffix(DISABLED_SUFFIX) {
        base = stripped;
    }
    (target.kind == KIND
        && target.api_version.as_deref().and_then(group) == own_group
        && base == name)
        .then_some(target.name.as_str())
}

/// The group of an `apiVersion`; none for the core group.
fn group(api_version: &str) -> Option<&str> {
    api_version.split_once('/').map(|(group, _)| group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(api_version: &str, kind: &str, name: &str) -> HorizontalPodAutoscaler {
        serde_json::from_value(json!({
            "metadata": {"name": "h", "namespace": "shop"},
            "spec": {
                "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": name},
                "maxReplicas": 10,
            },
        }))
        .unwrap()
    }

    #[test]
    fn only_hpas_of_the_cloneset_count_disabled_or_not() {
        let twice = format!("web{DISABLED_SUFFIX}{DISABLED_SUFFIX}");
        let cases = [
            (
                hpa("apps.kruise.io/v1alpha1", "CloneSet", "web"),
                Some("web"),
            ),
            (
                hpa("apps.kruise.io/v1beta1", "CloneSet", &twice),
                Some(twice.as_str()),
            ),
            (hpa("apps/v1", "CloneSet", "web"), None),
            (hpa("apps.kruise.io/v1alpha1", "StatefulSet", "web"), None),
            (hpa("apps.kruise.io/v1alpha1", "CloneSet", "web-api"), None),
        ];
        for (hpa, expected) in &cases {
            assert_eq!(target_name(hpa, "web"), *expected, "{hpa:?}");
        }
    }
}
