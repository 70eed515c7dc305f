//! The HTTPRoute the host passes to `route` and `restore`, kept as JSON: the plugin rewrites
//! `spec.rules` as a whole and must not lose a field of the user's route, including fields of
//! Gateway API versions or channels it does not know.

use serde_json::Value;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, change};

use crate::config::{KIND, describe};

/// The HTTPRoute among `objects`, or none when the host found none (it leaves out missing
/// objects).
pub fn find(objects: &[String], target: &ObjectRef) -> Result<Option<Value>, PluginError> {
    let mut found = None;
    for (index, text) in objects.iter().enumerate() {
        let object: Value = serde_json::from_str(text).map_err(|err| {
            PluginError::internal(format!(
                "object {} passed for {} is not JSON: {err}",
                index + 1,
                describe(target)
            ))
        })?;
        let kind = object.get("kind").and_then(Value::as_str);
        let name = object.pointer("/metadata/name").and_then(Value::as_str);
        if kind.is_some_and(|kind| kind != KIND) || name != Some(target.name.as_str()) {
            return Err(PluginError::internal(format!(
                "the host passed {} {}, which is not {}",
                kind.unwrap_or("an object without kind"),
                name.unwrap_or("without name"),
                describe(target)
            )));
        }
        found = Some(object);
    }
    Ok(found)
}

/// The route's `spec.rules` as it is; `null` when it has none.
pub fn rules(route: &Value) -> &Value {
    route.pointer("/spec/rules").unwrap_or(&Value::Null)
}

/// A non-empty annotation of the route.
pub fn annotation<'a>(route: &'a Value, key: &str) -> Option<&'a str> {
    route
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(key))
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
}

/// Sets `spec.rules` in `patch` unless the route already has `wanted` (`null` removes them).
/// JSON merge patch replaces a list whole, which is what rules need: they are an ordered list
/// without keys.
pub fn set_rules(route: &Value, wanted: Value, patch: &mut MergePatch) {
    if rules(route) != &wanted {
        patch.set(&["spec", "rules"], wanted);
    }
}

/// The merge patch of the route, or none when it would change nothing. It carries the
/// resourceVersion the host read, so the API server refuses it (and the host calls again with
/// the route as it is now) when someone changed the route in between: the plugin never
/// records or rewrites a spec it has not seen.
pub fn patch(route: &Value, target: &ObjectRef, mut patch: MergePatch) -> Option<Change> {
    if patch.is_empty() {
        return None;
    }
    if let Some(version) = route
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        patch.set(&["metadata", "resourceVersion"], Value::from(version));
    }
    patch
        .into_body()
        .map(|body| change::merge_patch(target.clone(), &body))
}
