//! Scaling and creating a Deployment's ReplicaSets the way the Deployment controller does, for
//! the styles that size the Deployment's own ReplicaSets (partition, blue-green).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::{Resource, api::apps::v1::Deployment};
use serde_json::json;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, change};

use crate::keys::{
    DESIRED_REPLICAS, MAX_REPLICAS, NOT_COPIED_TO_REPLICA_SETS, POD_TEMPLATE_HASH, REVISION,
};
use crate::objects::Objects;
use crate::revisions::Revisions;
use crate::{replica_set, template};

/// Scaling a ReplicaSet as the Deployment controller does, with its replica annotations: the
/// Deployment's replicas, and those plus `max_surge`, which the controller reads back when it
/// next scales proportionally.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub replicas: u32,
    pub max_surge: u32,
}

impl Scale {
    fn annotations(self) -> [(&'static str, String); 2] {
        [
            (DESIRED_REPLICAS, self.replicas.to_string()),
            (MAX_REPLICAS, (self.replicas + self.max_surge).to_string()),
        ]
    }

    /// The patch that scales `rs` to `size`; none when it has that size.
    pub fn change(self, rs: &ReplicaSet, size: u32) -> Result<Option<Change>, PluginError> {
        if replica_set::replicas(rs) == size {
            return Ok(None);
        }
        let annotations: BTreeMap<_, _> = self.annotations().into_iter().collect();
        let body = json!({"metadata": {"annotations": annotations}, "spec": {"replicas": size}});
        Ok(Some(change::merge_patch(ObjectRef::of(rs)?, &body)))
    }
}

/// The ReplicaSet the Deployment controller would create for the Deployment's template, named
/// and labelled with the template's content hash (see the crate docs), with `size` pods.
pub fn new_replica_set(
    objects: &Objects,
    revisions: &Revisions<'_>,
    size: u32,
    scale: Scale,
) -> Result<ReplicaSet, PluginError> {
    let workload = &objects.workload;
    let hash = template::content_hash(&workload.spec.template);
    let name = format!("{}-{hash}", workload.name);
    if objects
        .replica_sets
        .iter()
        .any(|rs| rs.metadata.name.as_deref() == Some(name.as_str()))
    {
        return Err(PluginError::invalid_input(format!(
            "ReplicaSet {name} exists but does not belong to Deployment {} or runs another pod \
             template; delete it so the release can create the Deployment's new ReplicaSet",
            workload.name
        )));
    }
    let mut template = workload.spec.template.clone();
    let template_meta = template.metadata.get_or_insert_default();
    template_meta
        .labels
        .get_or_insert_default()
        .insert(POD_TEMPLATE_HASH.into(), hash.clone());
    let mut selector = workload.spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_default()
        .insert(POD_TEMPLATE_HASH.into(), hash);

    let mut annotations: BTreeMap<String, String> = workload
        .meta
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| !NOT_COPIED_TO_REPLICA_SETS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let revision = revisions
        .old
        .iter()
        .map(|rs| replica_set::revision(rs))
        .max()
        .unwrap_or(0)
        + 1;
    annotations.insert(REVISION.into(), revision.to_string());
    annotations.extend(
        scale
            .annotations()
            .map(|(key, value)| (key.to_owned(), value)),
    );

    Ok(ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(workload.namespace.clone()),
            labels: template_meta.labels.clone(),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: Deployment::API_VERSION.into(),
                kind: Deployment::KIND.into(),
                name: workload.name.clone(),
                uid: workload.uid.clone(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(i32::try_from(size).unwrap_or(i32::MAX)),
            min_ready_seconds: workload.spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    })
}
