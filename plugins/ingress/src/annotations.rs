//! The canary annotations of one step: the class's keys with this step's weight, matches and
//! request header changes, the way Kruise's lua scripts write them.

use std::collections::BTreeMap;

use waxwing_plugin_sdk::PluginError;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::traffic::{HeaderModifier, TrafficContext};

use crate::classes::IngressClass;
use crate::conditions::{Conditions, ValueMatch};

/// What a step asks of the canary Ingress.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub weight: Option<u32>,
    pub conditions: Conditions<'a>,
    pub header_modifier: Option<&'a HeaderModifier>,
}

impl<'a> Plan<'a> {
    pub fn of(ctx: &'a TrafficContext) -> Result<Self, PluginError> {
        Ok(Self {
            weight: ctx.weight,
            conditions: Conditions::of(&ctx.matches)?,
            header_modifier: ctx.request_header_modifier.as_ref(),
        })
    }

    /// The canary Ingress as Kruise first creates it: on, at weight 0, matching nothing, so
    /// the ingress controller has loaded it before it receives a request.
    pub fn created() -> Self {
        Self {
            weight: Some(0),
            conditions: Conditions::default(),
            header_modifier: None,
        }
    }
}

/// The class's annotations for one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryAnnotations<'c> {
    /// Every key the class owns: the value to set, or none to remove the annotation.
    owned: BTreeMap<&'c str, Option<String>>,
    replace_if_present: &'c BTreeMap<String, String>,
}

impl<'c> CanaryAnnotations<'c> {
    pub fn new(class: &'c IngressClass, plan: &Plan<'_>) -> Result<Self, PluginError> {
        let mut owned: BTreeMap<&str, Option<String>> =
            class.owned_keys().map(|key| (key, None)).collect();
        let mut set = |key: &'c str, value: String| {
            owned.insert(key, Some(value));
        };
        set(&class.canary, "true".to_owned());
        if let Some(weight) = plan.weight {
            set(
                needed(class, &class.weight, "weight", "route by weight")?,
                weight.to_string(),
            );
        }
        let conditions = &plan.conditions;
        if let Some(header) = conditions.header {
            for (key, value) in ValueKeys::header(class).annotations(class, header)? {
                set(key, value);
            }
        }
        if let Some(cookie) = conditions.cookie {
            set(
                needed(class, &class.by_cookie, "byCookie", "route by cookie")?,
                cookie.to_owned(),
            );
        }
        if let Some(query) = conditions.query {
            for (key, value) in ValueKeys::query(class).annotations(class, query)? {
                set(key, value);
            }
        }
        if let Some(modifier) = plan.header_modifier {
            for (key, value) in header_changes(class, modifier)? {
                set(key, value);
            }
        }
        for (key, value) in &class.extra {
            set(key, value.clone());
        }
        Ok(Self {
            owned,
            replace_if_present: &class.replace_if_present,
        })
    }

    /// Writes the annotations into those of a new canary Ingress (copied from the stable one).
    pub fn apply_to(&self, annotations: &mut BTreeMap<String, String>) {
        for (key, value) in &self.owned {
            match value {
                Some(value) => annotations.insert((*key).to_owned(), value.clone()),
                None => annotations.remove(*key),
            };
        }
        for (key, value) in self.replace_if_present {
            if let Some(present) = annotations.get_mut(key) {
                present.clone_from(value);
            }
        }
    }

    /// Adds to `patch` what the canary Ingress's `current` annotations need; others' stay.
    pub fn patch(&self, current: &BTreeMap<String, String>, patch: &mut MergePatch) {
        for (key, value) in &self.owned {
            match value {
                Some(value) if current.get(*key) != Some(value) => {
                    patch.set_annotation(key, value);
                }
                None if current.contains_key(*key) => patch.remove_annotation(key),
                _ => {}
            }
        }
        for (key, value) in self.replace_if_present {
            if current.get(key).is_some_and(|present| present != value) {
                patch.set_annotation(key, value);
            }
        }
    }
}

/// The class's key `field`, or why the step cannot be expressed without it.
fn needed<'c>(
    class: &IngressClass,
    key: &'c Option<String>,
    field: &str,
    purpose: &str,
) -> Result<&'c str, PluginError> {
    key.as_deref().ok_or_else(|| {
        PluginError::invalid_input(format!(
            "the Ingress class {:?} cannot {purpose}: it has no {field} annotation. Change the \
             step, or set classes.{}.{field} in the ingress plugin's ConfigMap config",
            class.name, class.name
        ))
    })
}

/// The keys of a header or a query-parameter condition: the name goes under `by`, the value
/// under `value` (exact) or `pattern` (regular expression).
struct ValueKeys<'c> {
    /// `header` or `query`, for messages.
    kind: &'static str,
    /// The class field of `by`: `byHeader` or `byQuery`.
    field: &'static str,
    by: &'c Option<String>,
    value: &'c Option<String>,
    pattern: &'c Option<String>,
}

impl<'c> ValueKeys<'c> {
    fn header(class: &'c IngressClass) -> Self {
        Self {
            kind: "header",
            field: "byHeader",
            by: &class.by_header,
            value: &class.by_header_value,
            pattern: &class.by_header_pattern,
        }
    }

    fn query(class: &'c IngressClass) -> Self {
        Self {
            kind: "query",
            field: "byQuery",
            by: &class.by_query,
            value: &class.by_query_value,
            pattern: &class.by_query_pattern,
        }
    }

    fn annotations(
        &self,
        class: &IngressClass,
        condition: ValueMatch<'_>,
    ) -> Result<[(&'c str, String); 2], PluginError> {
        let kind = self.kind;
        let by = needed(class, self.by, self.field, &format!("route by {kind}"))?;
        let value_key = if condition.regex {
            let field = format!("{}Pattern", self.field);
            needed(
                class,
                self.pattern,
                &field,
                &format!("route by a {kind} pattern"),
            )?
        } else {
            let field = format!("{}Value", self.field);
            needed(
                class,
                self.value,
                &field,
                &format!("route by an exact {kind} value"),
            )?
        };
        Ok([
            (by, condition.name.to_owned()),
            (value_key, condition.value.to_owned()),
        ])
    }
}

/// Request header changes as MSE and Higress spell them: `name value` lines to set or add, a
/// comma-separated list of names to remove. Empty lists set nothing.
fn header_changes<'c>(
    class: &'c IngressClass,
    modifier: &HeaderModifier,
) -> Result<Vec<(&'c str, String)>, PluginError> {
    let lines = |headers: &[(String, String)]| {
        let lines: Vec<String> = headers
            .iter()
            .map(|(name, value)| format!("{name} {value}"))
            .collect();
        lines.join("\n")
    };
    let mut changes = Vec::new();
    if !modifier.set.is_empty() {
        let key = needed(
            class,
            &class.request_header_set,
            "requestHeaderSet",
            "set request headers",
        )?;
        changes.push((key, lines(&modifier.set)));
    }
    if !modifier.add.is_empty() {
        let key = needed(
            class,
            &class.request_header_add,
            "requestHeaderAdd",
            "add request headers",
        )?;
        changes.push((key, lines(&modifier.add)));
    }
    if !modifier.remove.is_empty() {
        let key = needed(
            class,
            &class.request_header_remove,
            "requestHeaderRemove",
            "remove request headers",
        )?;
        changes.push((key, modifier.remove.join(",")));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::classes;

    fn class(name: &str) -> IngressClass {
        classes::resolve(name, &Map::new()).unwrap()
    }

    fn header(regex: bool) -> Conditions<'static> {
        Conditions {
            header: Some(ValueMatch {
                name: "x-user",
                value: "beta",
                regex,
            }),
            ..Conditions::default()
        }
    }

    fn written(class: &IngressClass, plan: &Plan<'_>) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::from([
            (
                "nginx.ingress.kubernetes.io/canary-weight".to_owned(),
                "20".to_owned(),
            ),
            ("team".to_owned(), "shop".to_owned()),
        ]);
        CanaryAnnotations::new(class, plan)
            .unwrap()
            .apply_to(&mut annotations);
        annotations
    }

    #[test]
    fn a_header_match_without_weight_removes_the_weight() {
        let plan = Plan {
            weight: None,
            conditions: header(true),
            header_modifier: None,
        };
        let annotations = written(&class("nginx"), &plan);
        assert_eq!(
            serde_json::to_value(&annotations).unwrap(),
            json!({
                "nginx.ingress.kubernetes.io/canary": "true",
                "nginx.ingress.kubernetes.io/canary-by-header": "x-user",
                "nginx.ingress.kubernetes.io/canary-by-header-pattern": "beta",
                "team": "shop",
            })
        );
    }

    #[test]
    fn header_changes_need_a_class_that_has_them() {
        let modifier = HeaderModifier {
            set: vec![("x-a".into(), "1".into()), ("x-b".into(), "2 3".into())],
            add: vec![],
            remove: vec!["x-c".into(), "x-d".into()],
        };
        let plan = Plan {
            weight: Some(5),
            conditions: Conditions::default(),
            header_modifier: Some(&modifier),
        };
        let annotations = written(&class("mse"), &plan);
        assert_eq!(
            annotations["mse.ingress.kubernetes.io/request-header-control-update"],
            "x-a 1\nx-b 2 3"
        );
        assert_eq!(
            annotations["mse.ingress.kubernetes.io/request-header-control-remove"],
            "x-c,x-d"
        );
        assert!(!annotations.contains_key("mse.ingress.kubernetes.io/request-header-control-add"));
        let err = CanaryAnnotations::new(&class("nginx"), &plan).unwrap_err();
        assert_eq!(
            err.message(),
            "the Ingress class \"nginx\" cannot set request headers: it has no requestHeaderSet \
             annotation. Change the step, or set classes.nginx.requestHeaderSet in the ingress \
             plugin's ConfigMap config"
        );
    }

    #[test]
    fn a_query_match_needs_the_query_keys() {
        let plan = Plan {
            weight: None,
            conditions: Conditions {
                query: Some(ValueMatch {
                    name: "beta",
                    value: "1",
                    regex: false,
                }),
                ..Conditions::default()
            },
            header_modifier: None,
        };
        let err = CanaryAnnotations::new(&class("higress"), &plan).unwrap_err();
        assert!(
            err.message()
                .contains("cannot route by query: it has no byQuery"),
            "{err}"
        );
        let annotations = written(&class("mse"), &plan);
        assert_eq!(
            annotations["mse.ingress.kubernetes.io/canary-by-query"],
            "beta"
        );
        assert_eq!(
            annotations["mse.ingress.kubernetes.io/canary-by-query-value"],
            "1"
        );
    }

    #[test]
    fn patch_touches_only_owned_keys_that_differ() {
        let class = class("mse");
        let plan = Plan {
            weight: Some(20),
            conditions: header(false),
            header_modifier: None,
        };
        let wanted = CanaryAnnotations::new(&class, &plan).unwrap();
        let current = BTreeMap::from([
            (
                "nginx.ingress.kubernetes.io/canary".to_owned(),
                "true".to_owned(),
            ),
            (
                "nginx.ingress.kubernetes.io/canary-weight".to_owned(),
                "10".to_owned(),
            ),
            (
                "nginx.ingress.kubernetes.io/canary-by-cookie".to_owned(),
                "c".to_owned(),
            ),
            (
                "mse.ingress.kubernetes.io/service-subset".to_owned(),
                String::new(),
            ),
            ("foreign".to_owned(), "kept".to_owned()),
        ]);
        let mut patch = MergePatch::default();
        wanted.patch(&current, &mut patch);
        assert_eq!(
            patch.into_body(),
            Some(json!({"metadata": {"annotations": {
                "nginx.ingress.kubernetes.io/canary-weight": "20",
                "nginx.ingress.kubernetes.io/canary-by-cookie": null,
                "nginx.ingress.kubernetes.io/canary-by-header": "x-user",
                "nginx.ingress.kubernetes.io/canary-by-header-value": "beta",
                "mse.ingress.kubernetes.io/service-subset": "gray",
            }}}))
        );
        let mut applied = current.clone();
        wanted.apply_to(&mut applied);
        let mut again = MergePatch::default();
        wanted.patch(&applied, &mut again);
        assert!(again.is_empty());
    }
}
