//! Reading a ReplicaSet as the Deployment controller does.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::deployment::lookup;
use crate::keys::{POD_TEMPLATE_HASH, REVISION};
use crate::template;

/// `spec.replicas`, which the API server defaults to 1.
pub fn replicas(rs: &ReplicaSet) -> u32 {
    rs.spec.as_ref().map_or(1, |spec| {
        spec.replicas.map_or(1, |n| u32::try_from(n).unwrap_or(0))
    })
}

/// `status.replicas`: pods that exist.
pub fn created(rs: &ReplicaSet) -> u32 {
    rs.status
        .as_ref()
        .map_or(0, |status| u32::try_from(status.replicas).unwrap_or(0))
}

/// `status.availableReplicas`: pods ready for at least `minReadySeconds`.
pub fn available(rs: &ReplicaSet) -> u32 {
    rs.status
        .as_ref()
        .and_then(|status| status.available_replicas)
        .map_or(0, |n| u32::try_from(n).unwrap_or(0))
}

/// `status.readyReplicas`: pods whose `Ready` condition holds, however long it has held.
pub fn ready(rs: &ReplicaSet) -> u32 {
    rs.status
        .as_ref()
        .and_then(|status| status.ready_replicas)
        .map_or(0, |n| u32::try_from(n).unwrap_or(0))
}

/// `spec.minReadySeconds`, 0 when unset.
pub fn min_ready_seconds(rs: &ReplicaSet) -> i32 {
    rs.spec
        .as_ref()
        .and_then(|spec| spec.min_ready_seconds)
        .unwrap_or(0)
}

pub fn pod_template_hash(rs: &ReplicaSet) -> Option<&str> {
    lookup(rs.metadata.labels.as_ref(), POD_TEMPLATE_HASH)
}

/// The `deployment.kubernetes.io/revision` annotation; 0 when absent or malformed, as the
/// Deployment controller reads it.
pub fn revision(rs: &ReplicaSet) -> u64 {
    lookup(rs.metadata.annotations.as_ref(), REVISION)
        .and_then(|revision| revision.parse().ok())
        .unwrap_or(0)
}

pub fn template(rs: &ReplicaSet) -> Option<&PodTemplateSpec> {
    rs.spec.as_ref().and_then(|spec| spec.template.as_ref())
}

/// True when the ReplicaSet runs `template` (ignoring the hash label).
pub fn runs(rs: &ReplicaSet, pod_template: &PodTemplateSpec) -> bool {
    template(rs).is_some_and(|own| template::same(own, pod_template))
}

/// The revision id of a ReplicaSet: its `pod-template-hash`, or the content hash of its
/// template for a ReplicaSet without one (adopted from outside a Deployment).
pub fn revision_id(rs: &ReplicaSet) -> String {
    match pod_template_hash(rs) {
        Some(hash) => hash.to_owned(),
        None => template(rs).map(template::content_hash).unwrap_or_default(),
    }
}

/// True when the Deployment with `uid` controls the ReplicaSet and it is not being deleted.
pub fn live_and_controlled_by(rs: &ReplicaSet, uid: &str) -> bool {
    rs.metadata.deletion_timestamp.is_none()
        && rs
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|owner| owner.controller == Some(true) && owner.uid == uid)
}

/// Creation order, oldest first, ties broken by name, as Kubernetes sorts ReplicaSets.
pub fn age_key(rs: &ReplicaSet) -> (Option<Time>, Option<String>) {
    (
        rs.metadata.creation_timestamp.clone(),
        rs.metadata.name.clone(),
    )
}
