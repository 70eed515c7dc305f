//! Kruise's takeover rules, shared by workload plugins: when a user's update starts a release,
//! and the annotation that marks a workload a release holds.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use crate::batch_labels::ROLLOUT_ID_LABEL;
use crate::{object, template};

/// Workload annotation: a release holds the workload; the value names the Rollout.
pub const IN_PROGRESSING_ANNOTATION: &str = "rollouts.kruise.io/in-progressing";

/// The value of [`IN_PROGRESSING_ANNOTATION`]: `{"rolloutName":"<name>"}`, as Kruise writes it.
pub fn in_progressing_value(rollout_name: &str) -> String {
    json!({ "rolloutName": rollout_name }).to_string()
}

/// True when the workload with these annotations is held by a release.
pub fn is_releasing(meta: &ObjectMeta) -> bool {
    object::lookup(meta.annotations.as_ref(), IN_PROGRESSING_ANNOTATION).is_some()
}

/// Kruise's rule for an update that starts a release: a new `rollouts.kruise.io/rollout-id`
/// label when the updated workload has one (even for the same template), else a new pod
/// template. The id is read from the workload's label, the one place every part of Waxwing
/// reads it from.
pub fn starts_release(
    old: (&ObjectMeta, &PodTemplateSpec),
    new: (&ObjectMeta, &PodTemplateSpec),
) -> bool {
    match rollout_id(new.0) {
        Some(id) => rollout_id(old.0) != Some(id),
        None => !template::same(old.1, new.1),
    }
}

fn rollout_id(meta: &ObjectMeta) -> Option<&str> {
    object::lookup(meta.labels.as_ref(), ROLLOUT_ID_LABEL)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn meta(labels: Value, annotations: Value) -> ObjectMeta {
        serde_json::from_value(json!({"labels": labels, "annotations": annotations})).unwrap()
    }

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({"spec": {"containers": [{"name": "web", "image": image}]}}))
            .unwrap()
    }

    #[test]
    fn a_new_template_or_a_new_rollout_id_starts_a_release() {
        let plain = meta(json!({}), json!({}));
        let (v1, v2) = (template("web:1"), template("web:2"));
        assert!(starts_release((&plain, &v1), (&plain, &v2)));
        assert!(!starts_release((&plain, &v1), (&plain, &v1)));
        let (r1, r2) = (
            meta(json!({ROLLOUT_ID_LABEL: "r1"}), json!({})),
            meta(json!({ROLLOUT_ID_LABEL: "r2"}), json!({})),
        );
        assert!(starts_release((&r1, &v1), (&r2, &v1)));
        assert!(!starts_release((&r1, &v1), (&r1, &v2)));
    }

    #[test]
    fn the_mark_names_the_rollout() {
        assert_eq!(in_progressing_value("web"), r#"{"rolloutName":"web"}"#);
        let held = meta(json!({}), json!({IN_PROGRESSING_ANNOTATION: "{}"}));
        assert!(is_releasing(&held));
        assert!(!is_releasing(&meta(json!({}), json!({}))));
    }
}
