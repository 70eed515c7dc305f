//! Keeping HorizontalPodAutoscalers off a Deployment during a blue-green release, as Kruise does
//! (`bluegreenstyle/hpa`).
//!
//! An HPA scaling the Deployment mid-release would spread pods proportionally over the stable
//! and the new ReplicaSet and move the batch. Kruise disables it by pointing its
//! `scaleTargetRef` at a name that does not exist, the Deployment's name plus
//! `-DisableByRollout` (the HPA controller then only reports that it cannot find its target),
//! and removes the suffix at finalize. The same suffix is used so that Kruise and Waxwing each
//! recognise an HPA the other disabled.
//!
//! HPAs carry no label tying them to their target, so they cannot be selected by label: the
//! plugin asks for every `autoscaling/v2` HPA in the namespace (empty selector) and keeps the
//! ones whose `scaleTargetRef` names the Deployment (kind `Deployment`, group `apps`), with or
//! without the suffix. It asks only while the Deployment carries the blue-green record, so the
//! other styles do not list HPAs at all.

use k8s_openapi::Resource;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use serde_json::json;
use waxwing_plugin_sdk::{Change, ObjectQuery, ObjectRef, PluginError, change};

use crate::deployment::Workload;
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

/// The patches that point every enabled HPA of the Deployment at the disabled name.
pub fn disable(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let disabled = format!("{}{DISABLED_SUFFIX}", objects.workload.name);
    retarget(objects, |target| target != disabled)
        .into_iter()
        .map(|hpa| Ok(patch(ObjectRef::of(hpa)?, &disabled)))
        .collect()
}

/// The patches that point every disabled HPA of the Deployment back at it.
pub fn restore(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let name = &objects.workload.name;
    retarget(objects, |target| target != name)
        .into_iter()
        .map(|hpa| Ok(patch(ObjectRef::of(hpa)?, name)))
        .collect()
}

/// The HPAs of the Deployment whose target name `wrong` says must change.
fn retarget(objects: &Objects, wrong: impl Fn(&str) -> bool) -> Vec<&HorizontalPodAutoscaler> {
    objects
        .hpas
        .iter()
        .filter(|hpa| target_name(hpa, &objects.workload).is_some_and(&wrong))
        .collect()
}

/// The target name of an HPA that scales `workload`, disabled or not.
fn target_name<'a>(hpa: &'a HorizontalPodAutoscaler, workload: &Workload) -> Option<&'a str> {
    let target = &hpa.spec.scale_target_ref;
    let group = target
        .api_version
        .as_deref()
        .and_then(|api_version| api_version.split_once('/'))
        .map(|(group, _)| group);
    let mut name = target.name.as_str();
    while let Some(stripped) = name.strip_suffix(DISABLED_SUFFIX) {
        name = stripped;
    }
    (target.kind == "Deployment" && group == Some("apps") && name == workload.name)
        .then_some(target.name.as_str())
}

fn patch(hpa: ObjectRef, target_name: &str) -> Change {
    change::merge_patch(
        hpa,
        &json!({"spec": {"scaleTargetRef": {"name": target_name}}}),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
    fn only_hpas_of_the_deployment_count_disabled_or_not() {
        let workload = Workload::parse(
            &json!({
                "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {}},
            })
            .to_string(),
            "the workload",
        )
        .unwrap();
        let twice = format!("web{DISABLED_SUFFIX}{DISABLED_SUFFIX}");
        assert_eq!(
            target_name(&hpa("apps/v1", "Deployment", "web"), &workload),
            Some("web")
        );
        assert_eq!(
            target_name(&hpa("apps/v1", "Deployment", &twice), &workload),
            Some(twice.as_str())
        );
        assert_eq!(
            target_name(&hpa("apps/v1", "StatefulSet", "web"), &workload),
            None
        );
        assert_eq!(
            target_name(
                &hpa("apps.kruise.io/v1alpha1", "Deployment", "web"),
                &workload
            ),
            None
        );
        assert_eq!(
            target_name(&hpa("apps/v1", "Deployment", "web-api"), &workload),
            None
        );
    }
}
