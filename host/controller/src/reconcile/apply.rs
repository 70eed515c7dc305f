//! Making the changes plugins return: server-side apply for `apply` (field manager
//! `waxwing`), a JSON merge patch for `merge-patch`, a delete for `delete`.
//!
//! Every change is checked before it is sent: a plugin may only change objects in its
//! Rollout's namespace, and only the `status` and `scale` subresources.

use std::fmt;

use kube::Client;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;
use waxwing_runtime::Change;

use super::error::Error;
use super::kinds::Kinds;
use super::objects;

/// The field manager of every change Waxwing makes.
pub const FIELD_MANAGER: &str = "waxwing";

/// The object a change is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// A change, checked and ready to send.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Apply {
        target: Target,
        object: Value,
    },
    MergePatch {
        target: Target,
        subresource: Option<Subresource>,
        body: Value,
    },
    Delete {
        target: Target,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subresource {
    Status,
    Scale,
}

impl Subresource {
    fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Scale => "scale",
        }
    }
}

impl Request {
    fn target(&self) -> &Target {
        match self {
            Self::Apply { target, .. }
            | Self::MergePatch { target, .. }
            | Self::Delete { target } => target,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.target();
        match self {
            Self::Apply { .. } => write!(f, "applying {} {}", target.kind, target.name),
            Self::MergePatch {
                subresource: Some(subresource),
                ..
            } => write!(
                f,
                "patching the {} of {} {}",
                subresource.as_str(),
                target.kind,
                target.name
            ),
            Self::MergePatch { .. } => write!(f, "patching {} {}", target.kind, target.name),
            Self::Delete { .. } => write!(f, "deleting {} {}", target.kind, target.name),
        }
    }
}

/// Checks a plugin's change for a Rollout in `namespace`; the error says what is wrong with it.
pub fn request(change: &Change, namespace: &str) -> Result<Request, String> {
    match change {
        Change::Apply(json) => {
            let object: Value = serde_json::from_str(json)
                .map_err(|e| format!("an apply change is not JSON: {e}"))?;
            let field = |pointer: &str| {
                object
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        format!("an apply change has no {}", &pointer[1..].replace('/', "."))
                    })
            };
            let target = Target {
                api_version: field("/apiVersion")?,
                kind: field("/kind")?,
                name: field("/metadata/name")?,
            };
            in_namespace(&target, &field("/metadata/namespace")?, namespace)?;
            Ok(Request::Apply { target, object })
        }
        Change::MergePatch(patch) => {
            let target = target(&patch.target, namespace)?;
            let subresource = match patch.subresource.as_deref() {
                None => None,
                Some("status") => Some(Subresource::Status),
                Some("scale") => Some(Subresource::Scale),
                Some(other) => {
                    return Err(format!(
                        "a merge patch of {} {} names the subresource {other:?}; only status and \
                         scale can be patched",
                        target.kind, target.name
                    ));
                }
            };
            let body: Value = serde_json::from_str(&patch.body).map_err(|e| {
                format!(
                    "the merge patch of {} {} is not JSON: {e}",
                    target.kind, target.name
                )
            })?;
            if !body.is_object() {
                return Err(format!(
                    "the merge patch of {} {} is not a JSON object",
                    target.kind, target.name
                ));
            }
            Ok(Request::MergePatch {
                target,
                subresource,
                body,
            })
        }
        Change::Delete(object) => Ok(Request::Delete {
            target: target(object, namespace)?,
        }),
    }
}

fn target(object: &waxwing_runtime::ObjectRef, namespace: &str) -> Result<Target, String> {
    let target = Target {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        name: object.name.clone(),
    };
    if target.name.is_empty() {
        return Err(format!("a change of a {} names no object", target.kind));
    }
    in_namespace(&target, &object.namespace, namespace)?;
    Ok(target)
}

fn in_namespace(target: &Target, asked: &str, namespace: &str) -> Result<(), String> {
    if asked == namespace {
        return Ok(());
    }
    Err(format!(
        "it changes {} {} in namespace {asked:?}; plugins may change objects in the Rollout's \
         namespace {namespace:?} only",
        target.kind, target.name
    ))
}

/// Checks and sends every change, in order; stops at the first failure.
pub async fn all(
    client: &Client,
    kinds: &Kinds,
    namespace: &str,
    plugin: &str,
    changes: &[Change],
) -> Result<(), Error> {
    let requests = changes
        .iter()
        .map(|change| request(change, namespace))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| Error::Refused {
            plugin: plugin.to_owned(),
            problem: format!("returned a change Waxwing does not make: {problem}"),
        })?;
    for request in &requests {
        send(client, kinds, namespace, plugin, request).await?;
    }
    Ok(())
}

async fn send(
    client: &Client,
    kinds: &Kinds,
    namespace: &str,
    plugin: &str,
    request: &Request,
) -> Result<(), Error> {
    let target = request.target();
    let kind = kinds.resolve(&target.api_version, &target.kind).await?;
    let api = objects::api(client, &kind, namespace);
    let what = || format!("{request} for {plugin}");
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    tracing::debug!(%request, plugin, "making a plugin's change");
    match request {
        Request::Apply { object, .. } => {
            // Forced: Waxwing owns what its plugins declare, like any controller.
            let params = PatchParams::apply(FIELD_MANAGER).force();
            api.patch(&target.name, &params, &Patch::Apply(object))
                .await
                .map_err(Error::api(what()))?;
        }
        Request::MergePatch {
            subresource: None,
            body,
            ..
        } => {
            api.patch(&target.name, &params, &Patch::Merge(body))
                .await
                .map_err(Error::api(what()))?;
        }
        Request::MergePatch {
            subresource: Some(subresource),
            body,
            ..
        } => {
            api.patch_subresource(
                subresource.as_str(),
                &target.name,
                &params,
                &Patch::Merge(body),
            )
            .await
            .map_err(Error::api(what()))?;
        }
        Request::Delete { .. } => match api.delete(&target.name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(e) => return Err(Error::api(what())(e)),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waxwing_runtime::{ObjectRef, Patch as PluginPatch};

    use super::*;

    fn deployment_ref(namespace: &str) -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: namespace.into(),
            name: "web".into(),
        }
    }

    fn merge_patch(namespace: &str, subresource: Option<&str>, body: &str) -> Change {
        Change::MergePatch(PluginPatch {
            target: deployment_ref(namespace),
            subresource: subresource.map(str::to_owned),
            body: body.into(),
        })
    }

    fn web() -> Target {
        Target {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn apply_takes_its_target_from_the_object() {
        let object = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo"},
            "spec": {"replicas": 1}
        });
        let request = request(&Change::Apply(object.to_string()), "demo").unwrap();
        assert_eq!(
            request,
            Request::Apply {
                target: web(),
                object
            }
        );
        assert_eq!(request.to_string(), "applying Deployment web");
    }

    #[test]
    fn apply_needs_type_name_and_namespace() {
        let missing_kind =
            json!({"apiVersion": "v1", "metadata": {"name": "a", "namespace": "demo"}});
        assert_eq!(
            request(&Change::Apply(missing_kind.to_string()), "demo").unwrap_err(),
            "an apply change has no kind"
        );
        let missing_namespace =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}});
        assert_eq!(
            request(&Change::Apply(missing_namespace.to_string()), "demo").unwrap_err(),
            "an apply change has no metadata.namespace"
        );
        assert!(
            request(&Change::Apply("{not json".into()), "demo")
                .unwrap_err()
                .starts_with("an apply change is not JSON")
        );
    }

    #[test]
    fn changes_outside_the_rollouts_namespace_are_refused() {
        let object = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "keys", "namespace": "kube-system"}
        });
        let problem = request(&Change::Apply(object.to_string()), "demo").unwrap_err();
        assert!(problem.contains("\"kube-system\""), "{problem}");
        assert!(
            request(&Change::Delete(deployment_ref("other")), "demo").is_err(),
            "deletes are checked too"
        );
        assert!(request(&merge_patch("other", None, "{}"), "demo").is_err());
    }

    #[test]
    fn merge_patches_target_the_object_or_a_known_subresource() {
        assert_eq!(
            request(
                &merge_patch("demo", Some("scale"), r#"{"spec":{"replicas":3}}"#),
                "demo"
            )
            .unwrap(),
            Request::MergePatch {
                target: web(),
                subresource: Some(Subresource::Scale),
                body: json!({"spec": {"replicas": 3}}),
            }
        );
        assert_eq!(
            request(
                &merge_patch("demo", None, r#"{"spec":{"paused":true}}"#),
                "demo"
            )
            .unwrap()
            .to_string(),
            "patching Deployment web"
        );
        let problem = request(&merge_patch("demo", Some("exec"), "{}"), "demo").unwrap_err();
        assert!(problem.contains("\"exec\""), "{problem}");
        assert!(request(&merge_patch("demo", None, "[1]"), "demo").is_err());
    }

    #[test]
    fn deletes_name_their_object() {
        let request = request(&Change::Delete(deployment_ref("demo")), "demo").unwrap();
        assert_eq!(request, Request::Delete { target: web() });
        assert_eq!(request.to_string(), "deleting Deployment web");
        let mut nameless = deployment_ref("demo");
        nameless.name.clear();
        assert!(super::request(&Change::Delete(nameless), "demo").is_err());
    }
}
