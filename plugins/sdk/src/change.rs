//! Building the `change` values a plugin returns.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::Serialize;
use serde_json::Value;

use crate::types::{Change, ObjectRef, Patch, PluginError};

/// Server-side apply of the complete desired object. The object must be named and namespaced;
/// k8s-openapi writes its `apiVersion` and `kind`.
pub fn apply<T>(object: &T) -> Result<Change, PluginError>
where
    T: Resource + Metadata<Ty = ObjectMeta> + Serialize,
{
    ObjectRef::of(object)?;
    serde_json::to_string(object)
        .map(Change::Apply)
        .map_err(|err| PluginError::internal(format!("cannot serialise the {}: {err}", T::KIND)))
}

/// A JSON merge patch on the object itself.
pub fn merge_patch(target: ObjectRef, body: &Value) -> Change {
    Change::MergePatch(Patch {
        target,
        subresource: None,
        body: body.to_string(),
    })
}

/// Delete the object.
pub fn delete(target: ObjectRef) -> Change {
    Change::Delete(target)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use serde_json::json;

    use super::*;

    #[test]
    fn apply_writes_type_meta_and_requires_a_name() {
        let mut cm = ConfigMap::default();
        assert!(apply(&cm).is_err());
        cm.metadata.name = Some("settings".into());
        cm.metadata.namespace = Some("shop".into());
        let Change::Apply(text) = apply(&cm).unwrap() else {
            panic!("apply must build an apply change")
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["apiVersion"], "v1");
        assert_eq!(value["kind"], "ConfigMap");
        assert_eq!(value["metadata"]["name"], "settings");
    }

    #[test]
    fn merge_patch_targets_the_object_itself() {
        let target = ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: "web-1".into(),
        };
        let Change::MergePatch(patch) = merge_patch(target.clone(), &json!({"a": 1})) else {
            panic!("merge_patch must build a merge-patch change")
        };
        assert_eq!(patch.target, target);
        assert_eq!(patch.subresource, None);
        assert_eq!(patch.body, r#"{"a":1}"#);
    }
}
