//! Routing by request matches (A/B), as Kruise's Gateway API provider does it: every rule with
//! a backendRef to the stable Service gets a canary copy, sent to the canary Service alone,
//! that matches the requests the rule takes which also match one of the step's matches.
//!
//! - A step match without a path is added to each of the rule's own matches (a rule without
//!   matches matches `PathPrefix /`, Gateway API's default): the rule's path, method, headers
//!   and query parameters, plus the step's headers and query parameters.
//! - A step match with a path stands alone, as Kruise's API documents ("the whole match is used
//!   as a standalone matcher"): its path, headers and query parameters, on the canary copy of
//!   the first rule to the stable Service only, so it is not repeated in every copy.
//!
//! Gateway API ranks matches by how specific they are (path, then method, then the number of
//! headers, then of query parameters) before rule order, so a canary match, which holds the
//! rule's conditions and more, wins over the rule's. On a tie (a step match the rule's own
//! match already implies) the first rule in the list wins; each canary copy goes right before
//! its rule so that the canary gets those requests too (Kruise appends the copies, so it loses
//! them).
//!
//! The copy keeps the rule's filters and other fields, takes the step's request header changes
//! (see [`crate::header_modifier`]) and, when the rule is named, the name `<name>-canary`
//! (names must be unique within a route).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use waxwing_plugin_sdk::traffic::{HeaderMatch, HeaderModifier, RouteMatch};
use waxwing_plugin_sdk::{ObjectRef, PluginError};

use crate::backend_refs::{Services, refs};
use crate::config::describe;
use crate::fields;
use crate::header_modifier;

/// Gateway API's default, and only, path type a prefix rewrite works with.
const PATH_PREFIX: &str = "PathPrefix";

/// The step's matches and header changes.
#[derive(Debug, Clone, Copy)]
pub struct AbStep<'a> {
    pub matches: &'a [RouteMatch],
    pub header_modifier: Option<&'a HeaderModifier>,
}

/// `rules` with the canary copies of the rules at `stable_rules` (each has a backendRef to the
/// stable Service).
pub fn with_canary_rules(
    rules: &[Value],
    stable_rules: &[usize],
    step: AbStep<'_>,
    services: &Services<'_>,
    target: &ObjectRef,
) -> Result<Vec<Value>, PluginError> {
    let numbered = step.matches.iter().enumerate().map(|(i, m)| (i + 1, m));
    let (standalone, added): (Vec<_>, Vec<_>) = numbered.partition(|(_, m)| m.path.is_some());
    let mut copies = BTreeMap::new();
    for (position, &index) in stable_rules.iter().enumerate() {
        let rule = &rules[index];
        let label = label(rule, index);
        let mut matches: Vec<Value> = Vec::new();
        if position == 0 {
            matches.extend(standalone.iter().map(|(_, m)| standalone_match(m)));
        }
        for own in own_matches(rule) {
            for &(number, added) in &added {
                let conflict = Conflict {
                    number,
                    label: &label,
                    target,
                };
                if let Some(both) = combine(&own, added, &conflict)?
                    && !matches.contains(&both)
                {
                    matches.push(both);
                }
            }
        }
        if matches.is_empty() {
            continue;
        }
        let copy = canary_copy(rule, services, step.header_modifier);
        copies.insert(index, with_matches(copy, matches, &label, target)?);
    }
    if copies.is_empty() {
        return Err(PluginError::invalid_input(format!(
            "no request that {} sends to the stable Service {} can match the step's matches: \
             each tests a header or query parameter that every rule to that Service tests for \
             another value, so the canary would get no traffic; change the step's matches",
            describe(target),
            services.stable
        )));
    }
    let mut routed = Vec::with_capacity(rules.len() + copies.len());
    for (index, rule) in rules.iter().enumerate() {
        if let Some(copies) = copies.remove(&index) {
            routed.extend(copies);
        }
        routed.push(rule.clone());
    }
    Ok(routed)
}

/// `rule "storefront"` or `rule 2`, for messages.
fn label(rule: &Value, index: usize) -> String {
    match fields::text(rule, "name") {
        Some(name) => format!("rule {name:?}"),
        None => format!("rule {}", index + 1),
    }
}

/// The rule's matches; Gateway API's default when it has none.
fn own_matches(rule: &Value) -> Vec<Value> {
    let own = fields::list(rule, "matches");
    if own.is_empty() {
        vec![json!({"path": {"type": PATH_PREFIX, "value": "/"}})]
    } else {
        own.to_vec()
    }
}

/// A header or query-parameter condition as Gateway API writes it, type included (the API
/// server would add the default type, and the next call must find what it wrote).
fn condition(condition: &HeaderMatch) -> Value {
    json!({"name": condition.name, "type": condition.match_type, "value": condition.value})
}

fn conditions(list: &[HeaderMatch]) -> Value {
    Value::Array(list.iter().map(condition).collect())
}

fn standalone_match(step: &RouteMatch) -> Value {
    let mut out = Map::new();
    if let Some(path) = &step.path {
        out.insert(
            "path".to_owned(),
            json!({"type": path.match_type, "value": path.value}),
        );
    }
    if !step.headers.is_empty() {
        out.insert("headers".to_owned(), conditions(&step.headers));
    }
    if !step.query_params.is_empty() {
        out.insert("queryParams".to_owned(), conditions(&step.query_params));
    }
    Value::Object(out)
}

/// Where a step match meets a rule's match, for messages.
struct Conflict<'a> {
    /// The step match's number, from 1.
    number: usize,
    label: &'a str,
    target: &'a ObjectRef,
}

/// The rule's match `own` with the step's headers and query parameters added; none when no
/// request can meet both (the same header or query parameter with two exact values).
fn combine(
    own: &Value,
    step: &RouteMatch,
    at: &Conflict<'_>,
) -> Result<Option<Value>, PluginError> {
    let mut both = own.clone();
    // Header names are case-insensitive, query parameter names are not.
    let lists = [
        ("headers", "header", &step.headers, true),
        ("queryParams", "query parameter", &step.query_params, false),
    ];
    for (key, kind, added, any_case) in lists {
        if added.is_empty() {
            continue;
        }
        let list = fields::list_mut(&mut both, key).ok_or_else(|| {
            PluginError::invalid_input(format!(
                "{} of {} has a match whose {key} is not a list",
                at.label,
                describe(at.target)
            ))
        })?;
        for condition in added {
            let same_name = |present: &&Value| {
                fields::text(present, "name").is_some_and(|name| {
                    name == condition.name
                        || (any_case && name.eq_ignore_ascii_case(&condition.name))
                })
            };
            let Some(present) = list.iter().find(same_name) else {
                list.push(self::condition(condition));
                continue;
            };
            // Gateway API considers only the first condition on a name, so a second one
            // would be ignored rather than both required.
            let present_type = fields::text(present, "type").unwrap_or("Exact");
            let present_value = fields::text(present, "value").unwrap_or_default();
            if present_type == condition.match_type && present_value == condition.value {
                continue;
            }
            if present_type == "Exact" && condition.match_type == "Exact" {
                return Ok(None);
            }
            return Err(PluginError::invalid_input(format!(
                "step match {} tests the {kind} {} ({} {:?}), which {} of {} already tests ({} \
                 {:?}); Gateway API takes one condition per {kind} name, and a regular \
                 expression cannot be merged with another condition: test another {kind} in \
                 the step, or the same condition as the rule",
                at.number,
                condition.name,
                condition.match_type,
                condition.value,
                at.label,
                describe(at.target),
                present_type,
                present_value
            )));
        }
    }
    Ok(Some(both))
}

/// The rule sent to the canary Service alone, with the step's header changes; its matches
/// are set by [`with_matches`].
fn canary_copy(rule: &Value, services: &Services<'_>, modifier: Option<&HeaderModifier>) -> Value {
    let mut copy = rule.clone();
    if let Some(stable) = services.stable_in(rule) {
        copy["backendRefs"] = json!([services.canary_copy(&refs(rule)[stable])]);
    }
    if let Some(name) = fields::text(rule, "name") {
        copy["name"] = Value::from(format!("{name}-canary"));
    }
    if let Some(modifier) = modifier {
        header_modifier::apply(&mut copy, modifier);
    }
    copy
}

/// The canary copy with `matches`. Gateway API allows a rule that rewrites or redirects the
/// path prefix (`ReplacePrefixMatch`) exactly one match, a `PathPrefix` one, so such a copy is
/// made once per match (named `<name>-canary-<n>`).
fn with_matches(
    mut copy: Value,
    matches: Vec<Value>,
    label: &str,
    target: &ObjectRef,
) -> Result<Vec<Value>, PluginError> {
    if !rewrites_prefix(&copy) {
        copy["matches"] = Value::Array(matches);
        return Ok(vec![copy]);
    }
    if let Some(path) = matches
        .iter()
        .filter_map(|m| m.get("path"))
        .find(|path| fields::text(path, "type").is_some_and(|kind| kind != PATH_PREFIX))
    {
        return Err(PluginError::invalid_input(format!(
            "{label} of {} replaces the path prefix it matches (ReplacePrefixMatch), which \
             Gateway API allows only with a PathPrefix match, but the step matches the path {} \
             {}: use a PathPrefix path in the step's match",
            describe(target),
            fields::text(path, "type").unwrap_or_default(),
            fields::text(path, "value").unwrap_or_default()
        )));
    }
    if matches.len() == 1 {
        copy["matches"] = Value::Array(matches);
        return Ok(vec![copy]);
    }
    let name = fields::text(&copy, "name").map(str::to_owned);
    Ok(matches
        .into_iter()
        .enumerate()
        .map(|(i, one)| {
            let mut single = copy.clone();
            single["matches"] = json!([one]);
            if let Some(name) = &name {
                single["name"] = Value::from(format!("{name}-{}", i + 1));
            }
            single
        })
        .collect())
}

/// The rule, or a backendRef of it, has a URLRewrite or RequestRedirect filter with a
/// `ReplacePrefixMatch` path.
fn rewrites_prefix(rule: &Value) -> bool {
    let replaces_prefix = |filter: &Value| {
        ["urlRewrite", "requestRedirect"].iter().any(|key| {
            filter
                .get(*key)
                .and_then(|change| change.pointer("/path/type"))
                .and_then(Value::as_str)
                == Some("ReplacePrefixMatch")
        })
    };
    fields::list(rule, "filters").iter().any(replaces_prefix)
        || refs(rule).iter().any(|backend_ref| {
            fields::list(backend_ref, "filters")
                .iter()
                .any(replaces_prefix)
        })
}

#[cfg(test)]
mod tests {
    use waxwing_plugin_sdk::traffic::PathMatch;

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

    fn header(name: &str, value: &str, match_type: &str) -> HeaderMatch {
        HeaderMatch {
            name: name.into(),
            value: value.into(),
            match_type: match_type.into(),
        }
    }

    fn step_match(path: Option<(&str, &str)>, headers: Vec<HeaderMatch>) -> RouteMatch {
        RouteMatch {
            path: path.map(|(match_type, value)| PathMatch {
                value: value.into(),
                match_type: match_type.into(),
            }),
            headers,
            query_params: vec![],
        }
    }

    fn route(rules: &[Value], matches: &[RouteMatch]) -> Result<Vec<Value>, PluginError> {
        let stable: Vec<usize> = (0..rules.len())
            .filter(|&i| SERVICES.stable_in(&rules[i]).is_some())
            .collect();
        let step = AbStep {
            matches,
            header_modifier: None,
        };
        with_canary_rules(rules, &stable, step, &SERVICES, &target())
    }

    #[test]
    fn a_rule_without_matches_is_combined_as_gateway_apis_default() {
        let rules = [json!({"backendRefs": [{"name": "web", "port": 80}]})];
        let routed = route(
            &rules,
            &[step_match(None, vec![header("x-beta", "1", "Exact")])],
        );
        assert_eq!(
            routed.unwrap(),
            [
                json!({
                    "matches": [{
                        "path": {"type": "PathPrefix", "value": "/"},
                        "headers": [{"name": "x-beta", "type": "Exact", "value": "1"}],
                    }],
                    "backendRefs": [{"name": "web-canary", "port": 80}],
                }),
                rules[0].clone(),
            ]
        );
    }

    #[test]
    fn the_same_header_is_kept_once_and_two_exact_values_meet_nowhere() {
        let own = json!({"path": {"type": "PathPrefix", "value": "/"},
                         "headers": [{"name": "X-Env", "type": "Exact", "value": "prod"}]});
        let rules = [
            json!({"matches": [own], "backendRefs": [{"name": "web"}]}),
            json!({"backendRefs": [{"name": "web"}]}),
        ];
        let same = step_match(None, vec![header("x-env", "prod", "Exact")]);
        let other = step_match(None, vec![header("x-env", "beta", "Exact")]);
        let routed = route(&rules, &[same, other]).unwrap();
        assert_eq!(routed.len(), 4);
        assert_eq!(routed[0]["matches"], json!([own]));
        assert_eq!(
            routed[2]["matches"],
            json!([
                {"path": {"type": "PathPrefix", "value": "/"},
                 "headers": [{"name": "x-env", "type": "Exact", "value": "prod"}]},
                {"path": {"type": "PathPrefix", "value": "/"},
                 "headers": [{"name": "x-env", "type": "Exact", "value": "beta"}]},
            ])
        );
        let contradiction = route(
            &rules[..1],
            &[step_match(None, vec![header("x-env", "beta", "Exact")])],
        );
        assert!(
            contradiction
                .unwrap_err()
                .message()
                .starts_with("no request that HTTPRoute shop/web sends")
        );
        let regex = route(
            &rules,
            &[step_match(
                None,
                vec![header("x-env", "b.*", "RegularExpression")],
            )],
        );
        assert_eq!(
            regex.unwrap_err().message(),
            "step match 1 tests the header x-env (RegularExpression \"b.*\"), which rule 1 of \
             HTTPRoute shop/web already tests (Exact \"prod\"); Gateway API takes one condition \
             per header name, and a regular expression cannot be merged with another condition: \
             test another header in the step, or the same condition as the rule"
        );
    }

    #[test]
    fn a_prefix_rewrite_gets_one_canary_rule_per_match() {
        let rules = [json!({
            "name": "api",
            "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
            "filters": [{
                "type": "URLRewrite",
                "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
            }],
            "backendRefs": [{"name": "web", "port": 80}],
        })];
        let matches = [
            step_match(Some(("PathPrefix", "/api/v2")), vec![]),
            step_match(None, vec![header("x-beta", "1", "Exact")]),
        ];
        let routed = route(&rules, &matches).unwrap();
        let names: Vec<&Value> = routed.iter().map(|rule| &rule["name"]).collect();
        assert_eq!(
            names,
            [
                &json!("api-canary-1"),
                &json!("api-canary-2"),
                &json!("api")
            ]
        );
        assert_eq!(
            routed[0]["matches"],
            json!([{"path": {"type": "PathPrefix", "value": "/api/v2"}}])
        );
        assert_eq!(routed[0]["filters"], rules[0]["filters"]);
        let exact = route(&rules, &[step_match(Some(("Exact", "/api/v2")), vec![])]);
        assert!(
            exact.unwrap_err().message().starts_with(
                "rule \"api\" of HTTPRoute shop/web replaces the path prefix it matches"
            )
        );
    }
}
