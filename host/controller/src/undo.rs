//! `waxwing undo`: puts the workload's pod template back to the stable revision of the release
//! in progress, as `kubectl rollout undo` does for the revision before. The Rollout then sees a
//! rollback and cancels the release in Kruise's order: traffic back to stable first, then the
//! workload handed back.
//!
//! The stable template comes from the object that recorded it: the ReplicaSet of a Deployment
//! (without its `pod-template-hash` label), the ControllerRevision of a StatefulSet, CloneSet or
//! Advanced StatefulSet (the template it stores as a patch).

use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use waxwing_api::v1beta1::{Rollout, StepState};

use crate::ops::{self, Target};

/// `waxwing undo NAME`.
pub fn undo(target: Target) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(run(target))
}

async fn run(target: Target) -> anyhow::Result<ExitCode> {
    let client = ops::client().await?;
    let namespace = ops::namespace_of(&client, target.namespace);
    let api: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
    let rollout = ops::read(&api, &namespace, &target.rollout).await?;
    let stable = stable_revision(&rollout).map_err(|refusal| anyhow!(refusal))?;
    let reference = &rollout.spec.workload_ref;
    let workload = ops::workload(&client, &rollout).await?.with_context(|| {
        format!(
            "{} {}/{} not found",
            reference.kind, namespace, reference.name
        )
    })?;
    let records = recorded_templates(&client, &namespace, &workload).await?;
    let template = records
        .iter()
        .find_map(|record| stable_template(record, &workload, &stable))
        .ok_or_else(|| {
            anyhow!(
                "no ReplicaSet or ControllerRevision of {} {} records the stable revision {stable}; \
                 put the previous pod template back by hand",
                reference.kind,
                reference.name
            )
        })?;
    let patch: json_patch::Patch = serde_json::from_value(
        json!([{"op": "replace", "path": "/spec/template", "value": template}]),
    )?;
    let resource = resource_of(&client, &reference.api_version, &reference.kind).await?;
    Api::<DynamicObject>::namespaced_with(client, &namespace, &resource)
        .patch(
            &reference.name,
            &PatchParams::default(),
            &Patch::<()>::Json(patch),
        )
        .await
        .with_context(|| {
            format!(
                "cannot patch {} {namespace}/{}",
                reference.kind, reference.name
            )
        })?;
    println!(
        "{} {namespace}/{}: pod template back on the stable revision {stable}; rollout {} cancels \
         the release (traffic back to stable first, then the workload)",
        reference.kind,
        reference.name,
        rollout.name_any()
    );
    Ok(ExitCode::SUCCESS)
}

/// The stable revision of the release in progress, or why there is nothing to undo.
fn stable_revision(rollout: &Rollout) -> Result<String, String> {
    let name = format!(
        "rollout {}/{}",
        rollout.namespace().unwrap_or_default(),
        rollout.name_any()
    );
    let common = crate::view::common(rollout)
        .ok_or_else(|| format!("{name} has no release in progress: nothing to undo"))?;
    if common.current_step_state == StepState::Completed || common.stable_revision.is_empty() {
        return Err(format!(
            "{name} has no release in progress: nothing to undo"
        ));
    }
    Ok(common.stable_revision.clone())
}

async fn resource_of(
    client: &Client,
    api_version: &str,
    kind: &str,
) -> anyhow::Result<ApiResource> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, _) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("the API server does not serve {kind} ({api_version})"))?;
    Ok(resource)
}

/// The ReplicaSets (Deployments) or ControllerRevisions (everything else) selected by the
/// workload's selector.
async fn recorded_templates(
    client: &Client,
    namespace: &str,
    workload: &DynamicObject,
) -> anyhow::Result<Vec<DynamicObject>> {
    let kind = workload
        .types
        .as_ref()
        .map_or("", |types| types.kind.as_str());
    let (api_version, kind) = if kind == "Deployment" {
        ("apps/v1", "ReplicaSet")
    } else {
        ("apps/v1", "ControllerRevision")
    };
    let selector = workload.data["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if selector.is_empty() {
        bail!(
            "{} has no spec.selector.matchLabels to find its revisions by",
            workload.name_any()
        );
    }
    let resource = resource_of(client, api_version, kind).await?;
    let list = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &resource)
        .list(&ListParams::default().labels(&selector))
        .await
        .with_context(|| format!("cannot list the {kind}s of {}", workload.name_any()))?;
    Ok(list
        .items
        .into_iter()
        .map(|mut item| {
            item.types = Some(kube::core::TypeMeta {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            });
            item
        })
        .collect())
}

/// The pod template `record` (a ReplicaSet or ControllerRevision) holds, when it belongs to
/// `workload` and records revision `stable`.
fn stable_template(
    record: &DynamicObject,
    workload: &DynamicObject,
    stable: &str,
) -> Option<Value> {
    let owned = record
        .owner_references()
        .iter()
        .any(|owner| Some(&owner.uid) == workload.metadata.uid.as_ref());
    let name = record.name_any();
    let named = name == stable || name.ends_with(&format!("-{stable}"));
    let kind = record
        .types
        .as_ref()
        .map_or("", |types| types.kind.as_str());
    if kind == "ReplicaSet" {
        let hash = record.labels().get("pod-template-hash").map(String::as_str);
        if !owned || !(named || hash == Some(stable)) {
            return None;
        }
        let mut template = record.data["spec"]["template"].clone();
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.remove("pod-template-hash");
        }
        Some(template)
    } else {
        if !owned || !named {
            return None;
        }
        let mut template = record.data["data"]["spec"]["template"].clone();
        template.as_object_mut()?.remove("$patch");
        Some(template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    fn deployment() -> DynamicObject {
        object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "d1"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}
        }))
    }

    #[test]
    fn a_replica_set_gives_its_template_without_the_hash_label() {
        let rs = object(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-6b7f9c8d4", "labels": {"pod-template-hash": "6b7f9c8d4"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": "web", "uid": "d1"}]},
            "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "6b7f9c8d4"}},
                                  "spec": {"containers": [{"name": "main", "image": "web:v1"}]}}}
        }));
        let template = stable_template(&rs, &deployment(), "6b7f9c8d4").unwrap();
        assert_eq!(template["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(template["spec"]["containers"][0]["image"], "web:v1");
        assert_eq!(stable_template(&rs, &deployment(), "other"), None);
        let mut foreign = rs.clone();
        foreign.metadata.owner_references.as_mut().unwrap()[0].uid = "x".into();
        assert_eq!(stable_template(&foreign, &deployment(), "6b7f9c8d4"), None);
    }

    #[test]
    fn a_controller_revision_gives_the_template_it_stores_as_a_patch() {
        let revision = object(json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "db-7c9f8", "ownerReferences": [{"apiVersion": "apps/v1",
                         "kind": "StatefulSet", "name": "db", "uid": "d1"}]},
            "data": {"spec": {"template": {"$patch": "replace",
                                           "spec": {"containers": [{"name": "db", "image": "db:v1"}]}}}},
            "revision": 1
        }));
        let template = stable_template(&revision, &deployment(), "db-7c9f8").unwrap();
        assert_eq!(
            template,
            json!({"spec": {"containers": [{"name": "db", "image": "db:v1"}]}})
        );
        // CloneSets record the short hash: the revision is named <cloneset>-<hash>.
        assert!(stable_template(&revision, &deployment(), "7c9f8").is_some());
    }
}
