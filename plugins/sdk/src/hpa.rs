//! Keeping HorizontalPodAutoscalers off a workload during a blue-green release, as Kruise does
//! (`bluegreenstyle/hpa`).
//!
//! An HPA scaling the workload mid-release would move the batch (and spread pods over the old
//! and the new revision as it likes). Kruise disables it by pointing its `scaleTargetRef` at a
//! name that does not exist, the workload's name plus `-DisableByRollout` (the HPA controller
//! then only reports that it cannot find its target), and removes the suffix at finalize. The
//! same suffix is used so that Kruise and Waxwing each recognise an HPA the other disabled.
//!
//! HPAs carry no label tying them to their target, so they cannot be selected by label: a
//! plugin asks for every `autoscaling/v2` HPA in the namespace ([`query`], empty selector) and
//! these functions keep the ones whose `scaleTargetRef` names the workload, with or without the
//! suffix. Plugins ask only while a blue-green release holds the workload.

use k8s_openapi::Resource;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde_json::json;

use crate::{Change, ObjectQuery, ObjectRef, PluginError, change};

/// Kruise's `HPADisableSuffix`.
pub const DISABLED_SUFFIX: &str = "-DisableByRollout";

/// The workload an HPA may scale: API group (empty for the core group), kind and name.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}

/// Every HPA of the namespace; see the module docs for why.
pub fn query() -> ObjectQuery {
    ObjectQuery {
        api_version: HorizontalPodAutoscaler::API_VERSION.to_owned(),
        kind: HorizontalPodAutoscaler::KIND.to_owned(),
        label_selector: String::new(),
    }
}

/// The patches that point every enabled HPA of `target` at the disabled name.
pub fn disable(
    hpas: &[HorizontalPodAutoscaler],
    target: Target<'_>,
) -> Result<Vec<Change>, PluginError> {
    retarget(hpas, target, &format!("{}{DISABLED_SUFFIX}", target.name))
}

/// The patches that point every disabled HPA of `target` back at it.
pub fn restore(
    hpas: &[HorizontalPodAutoscaler],
    target: Target<'_>,
) -> Result<Vec<Change>, PluginError> {
    retarget(hpas, target, target.name)
}

/// The patches that point the HPAs of `target` whose target name is not `wanted` at it.
fn retarget(
    hpas: &[HorizontalPodAutoscaler],
    target: Target<'_>,
    wanted: &str,
) -> Result<Vec<Change>, PluginError> {
    let body = json!({"spec": {"scaleTargetRef": {"name": wanted}}});
    hpas.iter()
        .filter(|hpa| target_name(hpa, target).is_some_and(|name| name != wanted))
        .map(|hpa| Ok(change::merge_patch(ObjectRef::of(hpa)?, &body)))
        .collect()
}

/// The target name of an HPA that scales `target`, disabled or not.
fn target_name<'a>(hpa: &'a HorizontalPodAutoscaler, target: Target<'_>) -> Option<&'a str> {
    let scaled = &hpa.spec.scale_target_ref;
    let group = scaled.api_version.as_deref().map_or("", |api_version| {
        api_version.split_once('/').map_or("", |(group, _)| group)
    });
    let mut base = scaled.name.as_str();
    while let Some(stripped) = base.strip_suffix(DISABLED_SUFFIX) {
        base = stripped;
    }
    (scaled.kind == target.kind && group == target.group && base == target.name)
        .then_some(scaled.name.as_str())
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
    fn only_hpas_of_the_workload_count_disabled_or_not() {
        let cloneset = Target {
            group: "apps.kruise.io",
            kind: "CloneSet",
            name: "web",
        };
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
            assert_eq!(target_name(hpa, cloneset), *expected, "{hpa:?}");
        }
    }

    #[test]
    fn disabling_and_restoring_patch_only_what_is_not_yet_so() {
        let deployment = Target {
            group: "apps",
            kind: "Deployment",
            name: "web",
        };
        let enabled = hpa("apps/v1", "Deployment", "web");
        let disabled = hpa("apps/v1", "Deployment", &format!("web{DISABLED_SUFFIX}"));
        assert_eq!(
            disable(std::slice::from_ref(&enabled), deployment)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            disable(std::slice::from_ref(&disabled), deployment)
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            restore(std::slice::from_ref(&disabled), deployment)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            restore(std::slice::from_ref(&enabled), deployment)
                .unwrap()
                .len(),
            0
        );
    }
}
