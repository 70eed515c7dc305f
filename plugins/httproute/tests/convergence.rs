//! The host applies `route`'s and `restore`'s changes and calls again until a call returns none.
//! This plays the host against a pretend API server: every golden case that succeeds settles
//! after its changes are applied once, and a whole release leaves the HTTPRoute exactly as it
//! was.

use std::path::Path;

use serde_json::{Map, Value, json};
use waxwing_plugin_sdk::fixtures::{Fixture, load_dir};
use waxwing_plugin_sdk::json_text::JsonText;
use waxwing_plugin_sdk::traffic::{HeaderMatch, RouteMatch, TrafficContext};
use waxwing_plugin_sdk::{Change, PluginError};

type Call = fn(&TrafficContext, &[String]) -> Result<Vec<Change>, PluginError>;

fn fixtures() -> Vec<Fixture> {
    load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")).unwrap()
}

fn objects(fixture: &Fixture) -> Vec<Value> {
    fixture
        .arg::<Vec<JsonText>>("objects")
        .unwrap()
        .into_iter()
        .map(|text| serde_json::from_str(&text.0).unwrap())
        .collect()
}

#[test]
fn route_and_restore_settle_once_their_changes_are_applied() {
    let mut checked = 0;
    for fixture in fixtures() {
        let call: Call = match fixture.call.as_str() {
            "route" => waxwing_plugin_httproute::route,
            "restore" => waxwing_plugin_httproute::restore,
            _ => continue,
        };
        if fixture.expect.get("ok").is_none() {
            continue;
        }
        let ctx: TrafficContext = fixture.arg("ctx").unwrap();
        let mut objects = objects(&fixture);
        settle(
            &fixture.path.display().to_string(),
            call,
            &ctx,
            &mut objects,
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} cases were played");
}

#[test]
fn a_release_leaves_the_route_exactly_as_it_was() {
    let first = fixtures()
        .into_iter()
        .find(|fixture| fixture.path.ends_with("route-first-weight.json"))
        .unwrap();
    let mut ctx: TrafficContext = first.arg("ctx").unwrap();
    let before = objects(&first);
    let mut objects = before.clone();
    let steps: [(Option<u32>, Vec<RouteMatch>); 5] = [
        (Some(0), vec![]),
        (Some(20), vec![]),
        (
            None,
            vec![RouteMatch {
                path: None,
                headers: vec![HeaderMatch {
                    name: "x-canary".into(),
                    value: "always".into(),
                    match_type: "Exact".into(),
                }],
                query_params: vec![],
            }],
        ),
        (Some(50), vec![]),
        (Some(100), vec![]),
    ];
    for (weight, matches) in steps {
        ctx.weight = weight;
        ctx.matches = matches;
        settle(
            "a release",
            waxwing_plugin_httproute::route,
            &ctx,
            &mut objects,
        );
    }
    assert_ne!(without_versions(&objects), without_versions(&before));
    settle(
        "a release",
        waxwing_plugin_httproute::restore,
        &ctx,
        &mut objects,
    );
    assert_eq!(without_versions(&objects), without_versions(&before));
}

/// Calls, applies the changes, and calls again, which must change nothing.
fn settle(case: &str, call: Call, ctx: &TrafficContext, objects: &mut [Value]) {
    for round in 0..2 {
        let texts: Vec<String> = objects.iter().map(Value::to_string).collect();
        let changes = call(ctx, &texts).unwrap();
        if changes.is_empty() {
            return;
        }
        assert_eq!(
            round, 0,
            "{case}: still changing after its changes were applied: {changes:?}"
        );
        for change in &changes {
            apply(objects, change);
        }
    }
}

/// What the API server would make of a merge patch: refused when it carries a resourceVersion
/// that is not the object's, else merged (RFC 7386), with a new resourceVersion.
fn apply(objects: &mut [Value], change: &Change) {
    let Change::MergePatch(patch) = change else {
        panic!("the plugin only patches the user's route: {change:?}");
    };
    let object = objects
        .iter_mut()
        .find(|object| object["metadata"]["name"] == patch.target.name.as_str())
        .expect("patched object exists");
    let body: Value = serde_json::from_str(&patch.body).unwrap();
    let version = &object["metadata"]["resourceVersion"];
    if let Some(expected) = body.pointer("/metadata/resourceVersion") {
        assert_eq!(expected, version, "the patch would conflict");
    }
    let next = version.as_str().unwrap().parse::<u64>().unwrap() + 1;
    merge(object, &body);
    object["metadata"]["resourceVersion"] = json!(next.to_string());
}

fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let fields = target.as_object_mut().unwrap();
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(key);
        } else {
            merge(fields.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn without_versions(objects: &[Value]) -> Vec<Value> {
    let mut objects = objects.to_vec();
    for object in &mut objects {
        object["metadata"]["resourceVersion"] = Value::Null;
    }
    objects
}
