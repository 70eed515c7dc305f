//! Ingress classes: which annotation keys turn an Ingress into a canary and carry a step's
//! weight, matches and header changes. The built-in classes are data
//! (`builtin_definition`); the plugin config may add classes or change built-in ones.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use waxwing_plugin_sdk::PluginError;

/// The annotations of one Ingress class. Every field but `canary` is optional: a class without
/// a key cannot express what it stands for, and a step that needs it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressClass {
    /// The classType, for messages.
    #[serde(skip)]
    pub name: String,
    /// Set to `"true"` on the canary Ingress.
    pub canary: String,
    /// The percent of requests for the canary.
    pub weight: Option<String>,
    /// The header a header match routes by, with its exact value or its regular expression.
    pub by_header: Option<String>,
    pub by_header_value: Option<String>,
    pub by_header_pattern: Option<String>,
    /// The cookie a `canary-by-cookie` match routes by.
    pub by_cookie: Option<String>,
    /// The query parameter a query match routes by, with its exact value or regular expression.
    pub by_query: Option<String>,
    pub by_query_value: Option<String>,
    pub by_query_pattern: Option<String>,
    /// Request header changes for the canary: `name value` lines for set and add, a
    /// comma-separated list of names for remove.
    pub request_header_set: Option<String>,
    pub request_header_add: Option<String>,
    pub request_header_remove: Option<String>,
    /// Annotations set on every canary Ingress of the class.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// Annotations that, when the canary Ingress carries them (copied from the stable Ingress),
    /// get this value instead.
    #[serde(default)]
    pub replace_if_present: BTreeMap<String, String>,
}

impl IngressClass {
    /// Every annotation key whose value the class decides in every step; the ones a step does
    /// not set are removed from the canary Ingress.
    pub fn owned_keys(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.canary),
            self.weight.as_ref(),
            self.by_header.as_ref(),
            self.by_header_value.as_ref(),
            self.by_header_pattern.as_ref(),
            self.by_cookie.as_ref(),
            self.by_query.as_ref(),
            self.by_query_value.as_ref(),
            self.by_query_pattern.as_ref(),
            self.request_header_set.as_ref(),
            self.request_header_add.as_ref(),
            self.request_header_remove.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(self.extra.keys())
        .map(String::as_str)
    }
}

/// The names of the built-in classes.
pub const BUILTIN: [&str; 4] = ["aliyun-alb", "higress", "mse", "nginx"];

/// A built-in class, as Kruise's `lua_configuration/trafficrouting_ingress/<class>.lua` writes
/// its annotations.
fn builtin_definition(class_type: &str) -> Option<Value> {
    let nginx = |more: Value| {
        let mut class = json!({
            "canary": "nginx.ingress.kubernetes.io/canary",
            "weight": "nginx.ingress.kubernetes.io/canary-weight",
            "byHeader": "nginx.ingress.kubernetes.io/canary-by-header",
            "byHeaderValue": "nginx.ingress.kubernetes.io/canary-by-header-value",
            "byHeaderPattern": "nginx.ingress.kubernetes.io/canary-by-header-pattern",
            "byCookie": "nginx.ingress.kubernetes.io/canary-by-cookie",
        });
        merge(&mut class, &more);
        class
    };
    match class_type {
        "nginx" => Some(nginx(json!({}))),
        // Higress reads the nginx annotations; Kruise's higress.lua is nginx.lua's twin.
        "higress" => Some(nginx(json!({}))),
        // MSE reads the nginx canary annotations and adds its own for query parameters, request
        // header changes and service subsets. Kruise's mse.lua clears these `mse.` query keys
        // but writes `nginx.`-prefixed ones; the `mse.` keys are the ones MSE documents.
        "mse" => Some(nginx(json!({
            "byQuery": "mse.ingress.kubernetes.io/canary-by-query",
            "byQueryValue": "mse.ingress.kubernetes.io/canary-by-query-value",
            "byQueryPattern": "mse.ingress.kubernetes.io/canary-by-query-pattern",
            "requestHeaderSet": "mse.ingress.kubernetes.io/request-header-control-update",
            "requestHeaderAdd": "mse.ingress.kubernetes.io/request-header-control-add",
            "requestHeaderRemove": "mse.ingress.kubernetes.io/request-header-control-remove",
            // A subset-routed Service: the canary Ingress sends to the canary pods' subset.
            "replaceIfPresent": {"mse.ingress.kubernetes.io/service-subset": "gray"},
        }))),
        "aliyun-alb" => Some(json!({
            "canary": "alb.ingress.kubernetes.io/canary",
            "weight": "alb.ingress.kubernetes.io/canary-weight",
            "byHeader": "alb.ingress.kubernetes.io/canary-by-header",
            "byHeaderValue": "alb.ingress.kubernetes.io/canary-by-header-value",
            "byHeaderPattern": "alb.ingress.kubernetes.io/canary-by-header-pattern",
            "byCookie": "alb.ingress.kubernetes.io/canary-by-cookie",
            // ALB evaluates forwarding rules by order; the canary's must come first.
            "extra": {"alb.ingress.kubernetes.io/order": "1"},
        })),
        _ => None,
    }
}

/// The class `class_type`: the built-in one with the config's `classes.<class_type>` merged
/// over it as a JSON merge patch (RFC 7386), or a class only the config defines.
pub fn resolve(
    class_type: &str,
    configured: &Map<String, Value>,
) -> Result<IngressClass, PluginError> {
    let builtin = builtin_definition(class_type);
    let definition = match configured.get(class_type) {
        None => builtin.ok_or_else(|| unknown(class_type, configured))?,
        Some(patch @ Value::Object(_)) => {
            let mut definition = builtin.unwrap_or_else(|| json!({}));
            merge(&mut definition, patch);
            definition
        }
        Some(other) => {
            return Err(PluginError::invalid_input(format!(
                "classes.{class_type} in the ingress plugin's config must be an object of \
                 annotation keys, not {other}"
            )));
        }
    };
    let mut class: IngressClass = serde_json::from_value(definition).map_err(|err| {
        PluginError::invalid_input(format!(
            "Ingress class {class_type:?} in the ingress plugin's config is not valid: {err}"
        ))
    })?;
    class.name = class_type.to_owned();
    Ok(class)
}

fn unknown(class_type: &str, configured: &Map<String, Value>) -> PluginError {
    let mut known: Vec<&str> = BUILTIN.to_vec();
    known.extend(configured.keys().map(String::as_str));
    known.sort_unstable();
    known.dedup();
    PluginError::invalid_input(format!(
        "unknown Ingress classType {class_type:?}; known classes: {}. Set the Rollout's \
         trafficRoutings[].ingress.classType to one of them, or define the class in the ingress \
         plugin's ConfigMap config under \"classes\", for example \
         {{\"classes\":{{\"{class_type}\":{{\"canary\":\"<prefix>/canary\",\"weight\":\"<prefix>/canary-weight\"}}}}}}",
        known.join(", ")
    ))
}

/// Applies a JSON merge patch (RFC 7386) to `target`.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(fields) = target {
        for (key, value) in patch {
            if value.is_null() {
                fields.remove(key);
            } else {
                merge(fields.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(fields) => fields,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn every_builtin_class_parses_and_owns_its_canary_key() {
        for name in BUILTIN {
            let class = resolve(name, &Map::new()).unwrap();
            assert_eq!(class.name, name);
            assert!(class.owned_keys().any(|key| key == class.canary));
        }
    }

    #[test]
    fn config_merges_over_a_builtin_field_by_field() {
        let classes = configured(json!({"higress": {
            "requestHeaderSet": "higress.io/request-header-control-update",
            "byCookie": null,
        }}));
        let class = resolve("higress", &classes).unwrap();
        assert_eq!(
            class.request_header_set.as_deref(),
            Some("higress.io/request-header-control-update")
        );
        assert_eq!(class.by_cookie, None);
        assert_eq!(class.canary, "nginx.ingress.kubernetes.io/canary");
    }

    #[test]
    fn a_new_class_needs_a_canary_key_and_known_fields() {
        let missing = resolve("x", &configured(json!({"x": {"weight": "w"}}))).unwrap_err();
        assert!(
            missing.message().contains("missing field `canary`"),
            "{missing}"
        );
        let typo = resolve(
            "x",
            &configured(json!({"x": {"canary": "c", "weigth": "w"}})),
        );
        assert!(
            typo.unwrap_err()
                .message()
                .contains("unknown field `weigth`")
        );
        let not_object = resolve("x", &configured(json!({"x": "c"}))).unwrap_err();
        assert!(
            not_object.message().contains("must be an object"),
            "{not_object}"
        );
    }

    #[test]
    fn unknown_class_lists_builtin_and_configured_classes() {
        let err = resolve("traefik", &configured(json!({"mine": {"canary": "c"}}))).unwrap_err();
        assert!(
            err.message()
                .contains("known classes: aliyun-alb, higress, mine, mse, nginx"),
            "{err}"
        );
    }

    #[test]
    fn merge_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        merge(&mut target, &json!({"a": {"b": "c"}}));
        assert_eq!(target["a"], json!({"b": "c"}));
    }
}
