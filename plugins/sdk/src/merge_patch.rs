//! A JSON merge patch (RFC 7386) on a workload, built field by field.

use serde_json::{Map, Value};

/// Collects field changes; setting a field to `null` removes it when the patch is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergePatch(Map<String, Value>);

impl MergePatch {
    /// Sets the field at `path` (object keys from the root, for example
    /// `["spec", "updateStrategy", "partition"]`) to `value`, replacing a non-object parent set
    /// earlier.
    pub fn set(&mut self, path: &[&str], value: Value) {
        set_in(&mut self.0, path, value);
    }

    pub fn set_annotation(&mut self, key: &str, value: &str) {
        self.set(&["metadata", "annotations", key], Value::from(value));
    }

    pub fn remove_annotation(&mut self, key: &str) {
        self.set(&["metadata", "annotations", key], Value::Null);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The patch document, or `None` when it would change nothing.
    pub fn into_body(self) -> Option<Value> {
        (!self.0.is_empty()).then_some(Value::Object(self.0))
    }
}

fn set_in(object: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            object.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let parent = object.entry((*first).to_owned()).or_insert(Value::Null);
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            if let Value::Object(inner) = parent {
                set_in(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_patch_has_no_body() {
        assert!(MergePatch::default().is_empty());
        assert_eq!(MergePatch::default().into_body(), None);
    }

    #[test]
    fn nested_fields_share_their_parents() {
        let mut patch = MergePatch::default();
        patch.set(&["spec", "updateStrategy", "partition"], json!("100%"));
        patch.set(&["spec", "updateStrategy", "paused"], json!(false));
        patch.remove_annotation("a");
        patch.set_annotation("b", "1");
        assert_eq!(
            patch.into_body(),
            Some(json!({
                "metadata": {"annotations": {"a": null, "b": "1"}},
                "spec": {"updateStrategy": {"partition": "100%", "paused": false}},
            }))
        );
    }

    #[test]
    fn a_later_parent_replaces_an_earlier_value() {
        let mut patch = MergePatch::default();
        patch.set(&["spec", "updateStrategy"], Value::Null);
        patch.set(&["spec", "updateStrategy", "partition"], json!(3));
        assert_eq!(
            patch.into_body(),
            Some(json!({"spec": {"updateStrategy": {"partition": 3}}}))
        );
        let mut nothing = MergePatch::default();
        nothing.set(&[], json!(1));
        assert!(nothing.is_empty());
    }
}
