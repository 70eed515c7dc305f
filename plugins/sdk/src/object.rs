//! Reading Kubernetes objects from the JSON text the host passes in, and naming them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::types::{ObjectRef, PluginError};

/// Parses JSON text as the Kubernetes type `T`. `what` names the input for the error message,
/// for example `"the workload"`. A wrong `apiVersion` or `kind` is refused; missing ones are
/// accepted, as list items from the API server omit them.
pub fn parse<T: Resource + DeserializeOwned>(json: &str, what: &str) -> Result<T, PluginError> {
    serde_json::from_str(json).map_err(|err| {
        PluginError::invalid_input(format!(
            "{what} is not a valid {} {}: {err}",
            T::API_VERSION,
            T::KIND
        ))
    })
}

/// A non-empty value of a label or annotation map; `None` for a missing or empty one.
pub fn lookup<'a>(map: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    map?.get(key)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}

/// The `apiVersion` and `kind` of an object, to sort a list of mixed objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TypeMeta {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
}

impl TypeMeta {
    /// Reads only `apiVersion` and `kind`; both are required.
    pub fn of(json: &str, what: &str) -> Result<Self, PluginError> {
        serde_json::from_str(json).map_err(|err| {
            PluginError::invalid_input(format!(
                "{what} must be a Kubernetes object with apiVersion and kind: {err}"
            ))
        })
    }

    /// True when the object is a `T`.
    pub fn is<T: Resource>(&self) -> bool {
        self.api_version == T::API_VERSION && self.kind == T::KIND
    }
}

impl ObjectRef {
    /// Names a typed object; it must have a name and a namespace.
    pub fn of<T>(object: &T) -> Result<Self, PluginError>
    where
        T: Resource + Metadata<Ty = ObjectMeta>,
    {
        let meta = object.metadata();
        let missing = |field: &str| {
            PluginError::invalid_input(format!("the {} has no metadata.{field}", T::KIND))
        };
        Ok(Self {
            api_version: T::API_VERSION.to_owned(),
            kind: T::KIND.to_owned(),
            namespace: meta.namespace.clone().ok_or_else(|| missing("namespace"))?,
            name: meta.name.clone().ok_or_else(|| missing("name"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;

    use super::*;

    #[test]
    fn parse_refuses_a_wrong_kind_with_a_readable_message() {
        let err =
            parse::<Deployment>(r#"{"apiVersion":"v1","kind":"Pod"}"#, "the workload").unwrap_err();
        assert!(matches!(err, PluginError::InvalidInput(_)));
        assert!(
            err.message()
                .starts_with("the workload is not a valid apps/v1 Deployment"),
            "{err}"
        );
    }

    #[test]
    fn parse_accepts_list_items_without_type_meta() {
        let pod: Pod = parse(r#"{"metadata":{"name":"a","namespace":"n"}}"#, "a pod").unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("a"));
    }

    #[test]
    fn type_meta_requires_kind() {
        let err = TypeMeta::of(r#"{"apiVersion":"v1"}"#, "related object 2").unwrap_err();
        assert!(err.message().contains("related object 2"), "{err}");
        let meta = TypeMeta::of(r#"{"apiVersion":"v1","kind":"Pod"}"#, "x").unwrap();
        assert!(meta.is::<Pod>());
        assert!(!meta.is::<Deployment>());
    }

    #[test]
    fn object_ref_requires_name_and_namespace() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web-1".into());
        let err = ObjectRef::of(&pod).unwrap_err();
        assert_eq!(err.message(), "the Pod has no metadata.namespace");
        pod.metadata.namespace = Some("shop".into());
        let named = ObjectRef::of(&pod).unwrap();
        assert_eq!(
            (named.api_version.as_str(), named.kind.as_str()),
            ("v1", "Pod")
        );
        assert_eq!(
            (named.namespace.as_str(), named.name.as_str()),
            ("shop", "web-1")
        );
    }

    #[test]
    fn lookup_ignores_empty_values() {
        let map: BTreeMap<String, String> = [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), String::new()),
        ]
        .into();
        assert_eq!(lookup(Some(&map), "a"), Some("1"));
        assert_eq!(lookup(Some(&map), "b"), None);
        assert_eq!(lookup(None, "a"), None);
    }
}
