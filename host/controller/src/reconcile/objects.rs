//! Objects as plugins see them: JSON text of the object as the API server returns it, always
//! with `apiVersion` and `kind` (list items come without them, and plugins tell objects apart by
//! them).

use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::TypeMeta;

use super::kinds::Kind;

/// The API for `kind` in `namespace` (cluster-scoped kinds ignore the namespace).
pub fn api(client: &Client, kind: &Kind, namespace: &str) -> Api<DynamicObject> {
    if kind.namespaced {
        Api::namespaced_with(client.clone(), namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    }
}

pub async fn get(
    client: &Client,
    kind: &Kind,
    namespace: &str,
    name: &str,
) -> Result<Option<DynamicObject>, kube::Error> {
    let object = api(client, kind, namespace).get_opt(name).await?;
    Ok(object.map(|object| typed(object, kind)))
}

/// Objects of `kind` in `namespace` matching a label selector in `kubectl -l` syntax (empty
/// for all).
pub async fn list(
    client: &Client,
    kind: &Kind,
    namespace: &str,
    label_selector: &str,
) -> Result<Vec<DynamicObject>, kube::Error> {
    let mut params = ListParams::default();
    if !label_selector.is_empty() {
        params = params.labels(label_selector);
    }
    let list = api(client, kind, namespace).list(&params).await?;
    Ok(list
        .items
        .into_iter()
        .map(|item| typed(item, kind))
        .collect())
}

pub fn to_json(object: &DynamicObject) -> String {
    // A DynamicObject is plain JSON data with string keys: serialising it cannot fail.
    serde_json::to_string(object).expect("a DynamicObject serialises to JSON")
}

fn typed(mut object: DynamicObject, kind: &Kind) -> DynamicObject {
    object.types = Some(TypeMeta {
        api_version: kind.resource.api_version.clone(),
        kind: kind.resource.kind.clone(),
    });
    object
}
