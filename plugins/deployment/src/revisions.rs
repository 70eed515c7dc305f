//! Which ReplicaSet runs which revision, and what `observe` reports.

use k8s_openapi::api::apps::v1::ReplicaSet;
use waxwing_plugin_sdk::revision;
use waxwing_plugin_sdk::workload::BatchContext;
use waxwing_plugin_sdk::workload::WorkloadState;
use waxwing_plugin_sdk::{PluginError, batch_labels};

use crate::deployment::Workload;
use crate::keys::STABLE_REVISION;
use crate::objects::Objects;
use crate::{replica_set, takeover, template};

/// The ReplicaSets of one Deployment sorted by revision.
#[derive(Debug, Clone)]
pub struct Revisions<'a> {
    /// The ReplicaSet running the Deployment's template, if the controller (or the partition
    /// style) created it.
    pub new: Option<&'a ReplicaSet>,
    /// Every other live ReplicaSet the Deployment controls, oldest first.
    pub old: Vec<&'a ReplicaSet>,
    /// The id of the Deployment's template: the new ReplicaSet's hash, or the content hash.
    pub update_revision: String,
    /// The id of the serving template before the release.
    pub stable_revision: String,
    /// The `pod-template-hash` of the stable pods, when known.
    pub stable_hash: Option<String>,
}

impl<'a> Revisions<'a> {
    pub fn of(objects: &'a Objects, workload: &Workload) -> Self {
        let owned = objects.replica_sets_of(workload);
        let new = current_among(&owned, workload);
        let old: Vec<&ReplicaSet> = owned
            .into_iter()
            .filter(|rs| !new.is_some_and(|new| std::ptr::eq(*rs, new)))
            .collect();
        let update_revision = match new {
            Some(rs) => replica_set::revision_id(rs),
            None => template::content_hash(&workload.spec.template),
        };
        // Kruise's stable ReplicaSet: the active old one with the lowest revision. Once every
        // pod runs the new template, the new ReplicaSet is the stable one.
        let stable_rs = old
            .iter()
            .copied()
            .filter(|rs| replica_set::replicas(rs) > 0)
            .min_by_key(|rs| (replica_set::revision(rs), replica_set::age_key(rs)))
            .or(new);
        let (stable_revision, stable_hash) = match (workload.label(STABLE_REVISION), stable_rs) {
            (Some(label), _) => (label.to_owned(), Some(label.to_owned())),
            (None, Some(rs)) => (
                replica_set::revision_id(rs),
                replica_set::pod_template_hash(rs).map(str::to_owned),
            ),
            (None, None) => (update_revision.clone(), None),
        };
        Self {
            new,
            old,
            update_revision,
            stable_revision,
            stable_hash,
        }
    }
}

/// The ReplicaSet the batches release (the one running the Deployment's template) and, when the
/// release writes batch labels, how many of its pods carry this release's; not ready until that
/// ReplicaSet exists.
pub fn released<'a>(
    ctx: &BatchContext,
    objects: &'a Objects,
) -> Result<(&'a ReplicaSet, Option<u32>), PluginError> {
    let workload = &objects.workload;
    let new = current_replica_set(objects, workload).ok_or_else(|| {
        PluginError::not_ready(format!(
            "Deployment {} has no ReplicaSet for its pod template yet; release-batch creates it",
            workload.name
        ))
    })?;
    let labelled = ctx.rollout.batch_label_id().map(|id| {
        let hash = replica_set::pod_template_hash(new).unwrap_or_default();
        batch_labels::labelled_count(&objects.pods_of_revision(hash), id)
    });
    Ok((new, labelled))
}

/// The ReplicaSet of `owner` running its current template, if any.
pub fn current_replica_set<'a>(objects: &'a Objects, owner: &Workload) -> Option<&'a ReplicaSet> {
    current_among(&objects.replica_sets_of(owner), owner)
}

/// The oldest of `owned` running the owner's template, as the Deployment controller picks it.
fn current_among<'a>(owned: &[&'a ReplicaSet], owner: &Workload) -> Option<&'a ReplicaSet> {
    owned
        .iter()
        .copied()
        .find(|rs| replica_set::runs(rs, &owner.spec.template))
}

/// What [`crate::observe`] reports.
pub fn observe(objects: &Objects) -> Result<WorkloadState, PluginError> {
    let workload = &objects.workload;
    let revisions = Revisions::of(objects, workload);
    // With a canary Deployment, the update revision's pods are the canary's.
    let update_rs = match &objects.canary {
        Some(canary) => current_replica_set(objects, canary),
        None => revisions.new,
    };
    Ok(WorkloadState {
        replicas: workload.replicas(),
        update_pod_template_hash: update_rs
            .and_then(replica_set::pod_template_hash)
            .unwrap_or_default()
            .to_owned(),
        stable_pod_template_hash: revisions.stable_hash.unwrap_or_default(),
        stable_revision: revisions.stable_revision,
        update_revision: revisions.update_revision,
        settled: workload.settled(),
        taken_over: takeover::is_taken_over(workload),
        revision_label: revision::POD_TEMPLATE_HASH_LABEL.to_owned(),
    })
}
