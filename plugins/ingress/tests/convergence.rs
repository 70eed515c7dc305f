//! The host applies `route`'s and `restore`'s changes and calls again until a call returns none.
//! For every golden case that succeeds, this plays the host against a pretend API server and
//! checks that the calls settle: route within two rounds (create at weight 0, then the step),
//! restore within one.

use std::path::Path;

use serde_json::{Map, Value};
use waxwing_plugin_sdk::fixtures::{Fixture, load_dir};
use waxwing_plugin_sdk::json_text::JsonText;
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{Change, PluginError};

type Call = fn(&TrafficContext, &[String]) -> Result<Vec<Change>, PluginError>;

#[test]
fn route_and_restore_settle_once_their_changes_are_applied() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for fixture in load_dir(&dir).unwrap() {
        let (call, rounds): (Call, usize) = match fixture.call.as_str() {
            "route" => (waxwing_plugin_ingress::route, 2),
            "restore" => (waxwing_plugin_ingress::restore, 1),
            _ => continue,
        };
        if fixture.expect.get("ok").is_none() {
            continue;
        }
        settle(&fixture, call, rounds);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} cases were played");
}

fn settle(fixture: &Fixture, call: Call, rounds: usize) {
    let ctx: TrafficContext = fixture.arg("ctx").unwrap();
    let mut objects: Vec<Value> = fixture
        .arg::<Vec<JsonText>>("objects")
        .unwrap()
        .into_iter()
        .map(|text| serde_json::from_str(&text.0).unwrap())
        .collect();
    for _ in 0..=rounds {
        let texts: Vec<String> = objects.iter().map(Value::to_string).collect();
        let changes = call(&ctx, &texts).unwrap();
        if changes.is_empty() {
            return;
        }
        for change in &changes {
            apply(&mut objects, change);
        }
    }
    panic!(
        "{}: still changing after {rounds} rounds",
        fixture.path.display()
    );
}

/// What the API server would make of a change, as far as the plugin can see.
fn apply(objects: &mut Vec<Value>, change: &Change) {
    let position = |objects: &[Value], name: &str| {
        objects
            .iter()
            .position(|object| object["metadata"]["name"] == name)
    };
    match change {
        Change::Apply(text) => {
            let object: Value = serde_json::from_str(text).unwrap();
            let name = object["metadata"]["name"].as_str().unwrap().to_owned();
            match position(objects, &name) {
                Some(at) => objects[at] = object,
                None => objects.push(object),
            }
        }
        Change::MergePatch(patch) => {
            let at = position(objects, &patch.target.name).expect("patched object exists");
            merge(
                &mut objects[at],
                &serde_json::from_str(&patch.body).unwrap(),
            );
        }
        Change::Delete(target) => {
            objects.retain(|object| object["metadata"]["name"] != target.name)
        }
    }
}

/// RFC 7386.
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
