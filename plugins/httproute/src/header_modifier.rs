//! The step's request header changes as a `RequestHeaderModifier` filter of a canary rule
//! (Kruise's Gateway API provider ignores them). Gateway API allows one such filter per rule,
//! so when the copied rule has its own, the step's changes go into it: a header the step sets
//! or adds replaces the rule's entry of the same name (header names are case-insensitive), and
//! the step's removals join the rule's.

use serde_json::{Value, json};
use waxwing_plugin_sdk::traffic::HeaderModifier;

use crate::fields;

const FILTER: &str = "RequestHeaderModifier";

/// Adds the step's changes to `rule`'s filters; a modifier without changes adds nothing.
pub fn apply(rule: &mut Value, modifier: &HeaderModifier) {
    if modifier.set.is_empty() && modifier.add.is_empty() && modifier.remove.is_empty() {
        return;
    }
    let Some(filters) = fields::list_mut(rule, "filters") else {
        return;
    };
    let at = match filters
        .iter()
        .position(|filter| fields::text(filter, "type") == Some(FILTER))
    {
        Some(at) => at,
        None => {
            filters.push(json!({"type": FILTER, "requestHeaderModifier": {}}));
            filters.len() - 1
        }
    };
    let Some(changes) = filters[at].as_object_mut().map(|filter| {
        filter
            .entry("requestHeaderModifier")
            .or_insert_with(|| json!({}))
    }) else {
        return;
    };
    merge_headers(changes, "set", &modifier.set);
    merge_headers(changes, "add", &modifier.add);
    merge_names(changes, "remove", &modifier.remove);
}

fn same_header(entry: &Value, name: &str) -> bool {
    fields::text(entry, "name").is_some_and(|entry| entry.eq_ignore_ascii_case(name))
}

fn merge_headers(changes: &mut Value, key: &str, headers: &[(String, String)]) {
    if headers.is_empty() {
        return;
    }
    let Some(list) = fields::list_mut(changes, key) else {
        return;
    };
    for (name, value) in headers {
        let entry = json!({"name": name, "value": value});
        match list.iter_mut().find(|present| same_header(present, name)) {
            Some(present) => *present = entry,
            None => list.push(entry),
        }
    }
}

fn merge_names(changes: &mut Value, key: &str, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let Some(list) = fields::list_mut(changes, key) else {
        return;
    };
    for name in names {
        let known = list.iter().any(|present| {
            present
                .as_str()
                .is_some_and(|present| present.eq_ignore_ascii_case(name))
        });
        if !known {
            list.push(Value::from(name.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modifier() -> HeaderModifier {
        HeaderModifier {
            set: vec![("X-Canary".into(), "true".into())],
            add: vec![("x-trace".into(), "canary".into())],
            remove: vec!["x-debug".into(), "X-Internal".into()],
        }
    }

    #[test]
    fn a_rule_without_the_filter_gets_one_after_its_own() {
        let mut rule =
            json!({"filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": "a"}}]});
        apply(&mut rule, &modifier());
        assert_eq!(
            rule,
            json!({"filters": [
                {"type": "URLRewrite", "urlRewrite": {"hostname": "a"}},
                {"type": "RequestHeaderModifier", "requestHeaderModifier": {
                    "set": [{"name": "X-Canary", "value": "true"}],
                    "add": [{"name": "x-trace", "value": "canary"}],
                    "remove": ["x-debug", "X-Internal"],
                }},
            ]})
        );
    }

    #[test]
    fn the_rules_own_filter_takes_the_steps_changes() {
        let mut rule = json!({"filters": [{
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {
                "set": [
                    {"name": "x-canary", "value": "false"},
                    {"name": "x-team", "value": "shop"},
                ],
                "remove": ["x-internal"],
            },
        }]});
        apply(&mut rule, &modifier());
        assert_eq!(
            rule,
            json!({"filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {
                "set": [{"name": "X-Canary", "value": "true"}, {"name": "x-team", "value": "shop"}],
                "add": [{"name": "x-trace", "value": "canary"}],
                "remove": ["x-internal", "x-debug"],
            }}]})
        );
    }

    #[test]
    fn no_changes_no_filter() {
        let mut rule = json!({"matches": []});
        apply(&mut rule, &HeaderModifier::default());
        assert_eq!(rule, json!({"matches": []}));
    }
}
