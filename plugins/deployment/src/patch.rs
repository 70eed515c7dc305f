//! A JSON merge patch on a Deployment, built field by field.

use serde_json::{Map, Value};

/// Collects label, annotation and spec changes; `null` removes a key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergePatch {
    labels: Map<String, Value>,
    annotations: Map<String, Value>,
    spec: Map<String, Value>,
}

impl MergePatch {
    pub fn set_label(&mut self, key: &str, value: &str) {
        self.labels.insert(key.to_owned(), Value::from(value));
    }

    pub fn remove_label(&mut self, key: &str) {
        self.labels.insert(key.to_owned(), Value::Null);
    }

    pub fn set_annotation(&mut self, key: &str, value: &str) {
        self.annotations.insert(key.to_owned(), Value::from(value));
    }

    pub fn remove_annotation(&mut self, key: &str) {
        self.annotations.insert(key.to_owned(), Value::Null);
    }

    /// Sets one field of `spec` to `value`, merged as RFC 7386 merges.
    pub fn set_spec(&mut self, field: &str, value: Value) {
        self.spec.insert(field.to_owned(), value);
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.annotations.is_empty() && self.spec.is_empty()
    }

    /// The patch document, or `None` when it would change nothing.
    pub fn into_body(self) -> Option<Value> {
        let mut metadata = Map::new();
        if !self.labels.is_empty() {
            metadata.insert("labels".into(), Value::Object(self.labels));
        }
        if !self.annotations.is_empty() {
            metadata.insert("annotations".into(), Value::Object(self.annotations));
        }
        let mut body = Map::new();
        if !metadata.is_empty() {
            body.insert("metadata".into(), Value::Object(metadata));
        }
        if !self.spec.is_empty() {
            body.insert("spec".into(), Value::Object(self.spec));
        }
        (!body.is_empty()).then_some(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_patch_has_no_body() {
        assert_eq!(MergePatch::default().into_body(), None);
    }

    #[test]
    fn builds_only_the_touched_sections() {
        let mut patch = MergePatch::default();
        patch.remove_annotation("a");
        patch.set_spec("paused", json!(true));
        assert_eq!(
            patch.into_body(),
            Some(json!({"metadata": {"annotations": {"a": null}}, "spec": {"paused": true}}))
        );
        let mut labels = MergePatch::default();
        labels.set_label("l", "v");
        assert_eq!(
            labels.into_body(),
            Some(json!({"metadata": {"labels": {"l": "v"}}}))
        );
    }
}
