//! Checks on a plugin's answer before the host uses it: how much text it carries (bounded per
//! plugin) and whether the strings the contract says are JSON are JSON of the right shape.
//!
//! Only the contract is checked here, never Kubernetes semantics: a `change.apply` must be a
//! JSON object with apiVersion, kind, metadata.name and metadata.namespace because the WIT says
//! so, not because the runtime knows what a Deployment is.

use serde_json::Value;

use crate::{
    BatchStatus, Change, Decision, ObjectQuery, ObjectRef, Patch, PluginError, WorkloadState,
};

/// A value a plugin function returns.
pub(crate) trait Answer {
    /// Total bytes of all strings in the value.
    fn text_bytes(&self) -> usize;

    /// Why the value breaks the contract, if it does.
    fn contract_violation(&self) -> Option<String> {
        None
    }
}

impl Answer for String {
    fn text_bytes(&self) -> usize {
        self.len()
    }
}

impl<T: Answer> Answer for Vec<T> {
    fn text_bytes(&self) -> usize {
        self.iter().map(Answer::text_bytes).sum()
    }

    fn contract_violation(&self) -> Option<String> {
        self.iter().enumerate().find_map(|(i, item)| {
            item.contract_violation()
                .map(|problem| format!("item {i}: {problem}"))
        })
    }
}

/// The optional merge patch `takeover` returns.
impl Answer for Option<String> {
    fn text_bytes(&self) -> usize {
        self.as_ref().map_or(0, String::len)
    }

    fn contract_violation(&self) -> Option<String> {
        let patch = self.as_ref()?;
        json_object(patch)
            .err()
            .map(|problem| format!("the merge patch {problem}"))
    }
}

impl Answer for PluginError {
    fn text_bytes(&self) -> usize {
        match self {
            PluginError::InvalidInput(m)
            | PluginError::NotReady(m)
            | PluginError::HostFailure(m)
            | PluginError::Internal(m) => m.len(),
        }
    }
}

impl Answer for ObjectRef {
    fn text_bytes(&self) -> usize {
        self.api_version.len() + self.kind.len() + self.namespace.len() + self.name.len()
    }

    fn contract_violation(&self) -> Option<String> {
        let missing: Vec<&str> = [
            ("api-version", &self.api_version),
            ("kind", &self.kind),
            ("name", &self.name),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(field, _)| field)
        .collect();
        (!missing.is_empty()).then(|| format!("object-ref has an empty {}", missing.join(", ")))
    }
}

impl Answer for ObjectQuery {
    fn text_bytes(&self) -> usize {
        self.api_version.len() + self.kind.len() + self.label_selector.len()
    }

    fn contract_violation(&self) -> Option<String> {
        (self.api_version.is_empty() || self.kind.is_empty())
            .then(|| "object-query needs an api-version and a kind".to_string())
    }
}

impl Answer for Patch {
    fn text_bytes(&self) -> usize {
        self.target.text_bytes() + self.subresource.text_bytes() + self.body.len()
    }

    fn contract_violation(&self) -> Option<String> {
        if let Some(problem) = self.target.contract_violation() {
            return Some(format!("merge-patch target: {problem}"));
        }
        if let Some(sub) = self.subresource.as_deref()
            && sub != "status"
            && sub != "scale"
        {
            return Some(format!(
                "merge-patch subresource {sub:?} is neither \"status\" nor \"scale\""
            ));
        }
        json_object(&self.body)
            .err()
            .map(|problem| format!("merge-patch body {problem}"))
    }
}

impl Answer for Change {
    fn text_bytes(&self) -> usize {
        match self {
            Change::Apply(object) => object.len(),
            Change::MergePatch(patch) => patch.text_bytes(),
            Change::Delete(target) => target.text_bytes(),
        }
    }

    fn contract_violation(&self) -> Option<String> {
        match self {
            Change::Apply(object) => applied_object_violation(object),
            Change::MergePatch(patch) => patch.contract_violation(),
            Change::Delete(target) => target
                .contract_violation()
                .map(|problem| format!("delete: {problem}")),
        }
    }
}

impl Answer for WorkloadState {
    fn text_bytes(&self) -> usize {
        self.stable_revision.len()
            + self.update_revision.len()
            + self.update_pod_template_hash.len()
            + self.stable_pod_template_hash.len()
            + self.revision_label.len()
    }
}

impl Answer for BatchStatus {
    fn text_bytes(&self) -> usize {
        self.message.len()
    }
}

impl Answer for Decision {
    fn text_bytes(&self) -> usize {
        match self {
            Decision::Proceed => 0,
            Decision::Wait(wait) => wait.reason.len(),
            Decision::Pause(reason) | Decision::Abort(reason) => reason.len(),
        }
    }
}

/// Parses `text` as a JSON object, or says why it is not one.
fn json_object(text: &str) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("is JSON but not an object".to_string()),
        Err(e) => Err(format!("is not JSON: {e}")),
    }
}

/// The contract asks an applied object to name itself completely.
fn applied_object_violation(text: &str) -> Option<String> {
    let object = match json_object(text) {
        Ok(object) => object,
        Err(problem) => return Some(format!("apply: the object {problem}")),
    };
    let field = |path: &[&str]| {
        let mut value = object.get(path[0]);
        for key in &path[1..] {
            value = value.and_then(|v| v.get(key));
        }
        value.and_then(Value::as_str).is_some_and(|s| !s.is_empty())
    };
    let missing: Vec<&str> = [
        ("apiVersion", &["apiVersion"][..]),
        ("kind", &["kind"][..]),
        ("metadata.name", &["metadata", "name"][..]),
        ("metadata.namespace", &["metadata", "namespace"][..]),
    ]
    .into_iter()
    .filter(|(_, path)| !field(path))
    .map(|(name, _)| name)
    .collect();
    (!missing.is_empty()).then(|| format!("apply: the object has no {}", missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "default".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn applied_objects_must_name_themselves() {
        let complete =
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"ns"}}"#;
        assert_eq!(Change::Apply(complete.into()).contract_violation(), None);
        let nameless = r#"{"apiVersion":"v1","kind":"Service","metadata":{}}"#;
        assert_eq!(
            Change::Apply(nameless.into())
                .contract_violation()
                .as_deref(),
            Some("apply: the object has no metadata.name, metadata.namespace")
        );
        let problem = Change::Apply("[1]".into()).contract_violation().unwrap();
        assert!(problem.contains("not an object"), "{problem}");
    }

    #[test]
    fn merge_patches_must_be_json_objects_on_known_subresources() {
        let patch = |body: &str, sub: Option<&str>| {
            Change::MergePatch(Patch {
                target: target(),
                subresource: sub.map(str::to_string),
                body: body.to_string(),
            })
        };
        assert_eq!(
            patch(r#"{"spec":{"paused":true}}"#, None).contract_violation(),
            None
        );
        assert_eq!(patch("{}", Some("scale")).contract_violation(), None);
        let problem = patch("{", None).contract_violation().unwrap();
        assert!(
            problem.starts_with("merge-patch body is not JSON"),
            "{problem}"
        );
        let problem = patch("{}", Some("spec")).contract_violation().unwrap();
        assert!(problem.contains("\"spec\""), "{problem}");
    }

    #[test]
    fn lists_name_the_offending_item() {
        let changes = vec![
            Change::Delete(target()),
            Change::Delete(ObjectRef {
                name: String::new(),
                ..target()
            }),
        ];
        assert_eq!(
            changes.contract_violation().as_deref(),
            Some("item 1: delete: object-ref has an empty name")
        );
    }

    #[test]
    fn counts_every_string() {
        let changes = vec![
            Change::Apply("12345".into()),
            Change::MergePatch(Patch {
                target: target(),
                subresource: Some("scale".into()),
                body: "{}".into(),
            }),
        ];
        // 5 + (7 + 10 + 7 + 3) + 5 + 2
        assert_eq!(changes.text_bytes(), 39);
        assert_eq!(Some("{}".to_string()).text_bytes(), 2);
        assert_eq!(
            Decision::Pause("why".into()).text_bytes() + Decision::Proceed.text_bytes(),
            3
        );
    }
}
