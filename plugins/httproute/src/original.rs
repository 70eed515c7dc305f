//! The HTTPRoute's spec from before the release, recorded on the route itself: every step is
//! computed from it, so weights never build on an earlier step's, and `restore` puts its rules
//! back exactly, also after a controller restart.
//!
//! The annotation and its format are those of Kruise's custom network providers (and of the
//! example Istio plugin): `{"spec": …, "labels": …, "annotations": …}`. Labels and annotations
//! are recorded though the plugin never changes them, because Kruise's restore writes them
//! back from the record: a route recorded here and restored by Kruise keeps them.

use serde_json::{Map, Value};
use waxwing_plugin_sdk::{ObjectRef, PluginError};

use crate::backend_refs::Services;
use crate::config::describe;
use crate::http_route::annotation;

pub const ORIGINAL_SPEC: &str = "rollouts.kruise.io/original-spec-configuration";

/// The spec before the release.
#[derive(Debug, Clone, PartialEq)]
pub struct Original {
    pub spec: Value,
    /// True when it comes from the annotation; false when it is inferred from the route as it
    /// is and still has to be recorded.
    pub recorded: bool,
}

impl Original {
    /// From the annotation when the route has one, else the route's spec as it is, without
    /// any routing to the canary Service (see [`without_canary_routing`]).
    pub fn of(
        route: &Value,
        services: &Services<'_>,
        target: &ObjectRef,
    ) -> Result<Self, PluginError> {
        let Some(text) = annotation(route, ORIGINAL_SPEC) else {
            let spec = route
                .get("spec")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            return Ok(Self {
                spec: without_canary_routing(spec, services),
                recorded: false,
            });
        };
        let spec = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|mut data| data.get_mut("spec").map(Value::take))
            .filter(Value::is_object)
            .ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "{} has an annotation {ORIGINAL_SPEC} that is not {{\"spec\": {{...}}}} \
                     JSON, so its spec before the rollout is unknown: put the spec back by hand \
                     and remove the annotation",
                    describe(target)
                ))
            })?;
        Ok(Self {
            spec,
            recorded: true,
        })
    }

    /// The rules before the release; `null` when there were none.
    pub fn rules(&self) -> &Value {
        self.spec.get("rules").unwrap_or(&Value::Null)
    }

    /// The annotation's value: this spec with the route's labels and other annotations.
    pub fn record(&self, route: &Value) -> String {
        let mut data = Map::new();
        data.insert("spec".to_owned(), self.spec.clone());
        let metadata = |key: &str| {
            route
                .pointer(&format!("/metadata/{key}"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let labels = metadata("labels");
        if !labels.is_empty() {
            data.insert("labels".to_owned(), Value::Object(labels));
        }
        let mut annotations = metadata("annotations");
        annotations.remove(ORIGINAL_SPEC);
        if !annotations.is_empty() {
            data.insert("annotations".to_owned(), Value::Object(annotations));
        }
        Value::Object(data).to_string()
    }
}

/// The spec with the canary Service taken out, as Kruise's Gateway API provider finalises a
/// route: backendRefs to the canary Service removed, rules left without backendRefs by that
/// dropped, the stable backendRef of a rule that had a canary one back at weight 1. A route
/// the plugin changed always has the annotation, so this only matters for a route another
/// controller (Kruise) left mid-release or whose annotation a person removed: its canary
/// routing must not be recorded as the original, nor outlive the canary Service. When the
/// Rollout has no canary Service of its own there is nothing to tell apart.
fn without_canary_routing(mut spec: Value, services: &Services<'_>) -> Value {
    if services.share_one_service() {
        return spec;
    }
    if let Some(rules) = spec.get_mut("rules").and_then(Value::as_array_mut) {
        rules.retain_mut(|rule| {
            let Some(refs) = rule.get_mut("backendRefs").and_then(Value::as_array_mut) else {
                return true;
            };
            let before = refs.len();
            refs.retain(|backend_ref| !services.is_canary(backend_ref));
            if refs.len() == before {
                return true;
            }
            if let Some(stable) = services.stable_among(refs) {
                refs[stable]["weight"] = Value::from(1);
            }
            !refs.is_empty()
        });
    }
    spec
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SERVICES: Services<'static> = Services {
        stable: "web",
        canary: "web-canary",
        namespace: "shop",
    };

    fn target() -> ObjectRef {
        ObjectRef {
            api_version: "gateway.networking.k8s.io/v1".into(),
            kind: "HTTPRoute".into(),
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn canary_routing_left_by_another_controller_is_not_the_original() {
        let route = json!({"spec": {"hostnames": ["a"], "rules": [
            {"matches": [{"headers": [{"name": "x", "value": "1"}]}],
             "backendRefs": [{"name": "web-canary", "port": 80}]},
            {"backendRefs": [{"name": "web", "port": 80, "weight": 80},
                             {"name": "web-canary", "port": 80, "weight": 20}]},
            {"backendRefs": [{"name": "admin", "port": 80, "weight": 3}]},
            {"filters": [{"type": "RequestRedirect"}]},
        ]}});
        let original = Original::of(&route, &SERVICES, &target()).unwrap();
        assert!(!original.recorded);
        assert_eq!(
            original.spec,
            json!({"hostnames": ["a"], "rules": [
                {"backendRefs": [{"name": "web", "port": 80, "weight": 1}]},
                {"backendRefs": [{"name": "admin", "port": 80, "weight": 3}]},
                {"filters": [{"type": "RequestRedirect"}]},
            ]})
        );
        let one_service = Services {
            canary: "web",
            ..SERVICES
        };
        let kept = Original::of(&route, &one_service, &target()).unwrap();
        assert_eq!(kept.spec, route["spec"]);
    }

    #[test]
    fn the_record_is_kruises_format_without_itself() {
        let route = json!({
            "metadata": {"labels": {"app": "web"},
                         "annotations": {"team": "shop", ORIGINAL_SPEC: "{}"}},
            "spec": {"rules": []},
        });
        let original = Original {
            spec: json!({"rules": [1]}),
            recorded: false,
        };
        let record: Value = serde_json::from_str(&original.record(&route)).unwrap();
        assert_eq!(
            record,
            json!({
                "spec": {"rules": [1]},
                "labels": {"app": "web"},
                "annotations": {"team": "shop"},
            })
        );
        let bare = Original {
            spec: json!({}),
            recorded: false,
        };
        assert_eq!(bare.record(&json!({})), r#"{"spec":{}}"#);
    }

    #[test]
    fn a_record_without_a_spec_object_is_refused() {
        for text in ["not json", "[]", r#"{"labels":{}}"#, r#"{"spec":[]}"#] {
            let route = json!({"metadata": {"annotations": {ORIGINAL_SPEC: text}}});
            let err = Original::of(&route, &SERVICES, &target()).unwrap_err();
            assert!(matches!(err, PluginError::InvalidInput(_)), "{text}");
            assert!(
                err.message()
                    .starts_with("HTTPRoute shop/web has an annotation"),
                "{err}"
            );
        }
        let route =
            json!({"metadata": {"annotations": {ORIGINAL_SPEC: r#"{"spec":{"rules":[]}}"#}}});
        let original = Original::of(&route, &SERVICES, &target()).unwrap();
        assert_eq!(
            original,
            Original {
                spec: json!({"rules": []}),
                recorded: true
            }
        );
    }
}
