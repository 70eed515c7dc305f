//! The canary style: a canary Deployment runs the new template beside the paused stable one.
//!
//! Release creates (or updates) `<name>-canary` with the stable Deployment's spec, the new
//! template plus the step's `patchPodTemplateMetadata`, and the batch's replicas; like Kruise it
//! only ever scales the canary up. Finalize first unpauses the stable Deployment and removes the
//! release's marks; the Deployment controller then rolls it to its template (after a success the
//! new one; after a rollback the old one, which it already runs). The canary is deleted once
//! the stable Deployment has rolled out, so canary pods keep serving until the stable ones can;
//! after a rollback that is at once. An abort scales the canary to zero. A Rollout deleted or disabled mid-release ends the same
//! way: the native controller finishes from where the Deployment is.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Deserialize;
use serde_json::json;
use waxwing_plugin_sdk::workload::{BatchContext, BatchStatus, ReleaseStyle};
use waxwing_plugin_sdk::{Change, PluginError, batch_labels, change, readiness};

use crate::deployment::Workload;
use crate::keys::{CANARY_DEPLOYMENT, IN_PROGRESSING, STABLE_REVISION};
use crate::objects::{Objects, canary_name};
use crate::patch::MergePatch;
use crate::revisions::{Revisions, current_replica_set};
use crate::{replica_set, takeover, template};

/// See [`crate::release_batch`].
pub fn release(ctx: &BatchContext, objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let stable = &objects.workload;
    let revisions = Revisions::of(objects, stable);
    let mut changes = Vec::new();
    let hold = takeover::hold(
        ReleaseStyle::Canary,
        &ctx.rollout.name,
        stable,
        None,
        revisions.stable_hash.as_deref(),
    );
    if let Some(body) = hold.into_body() {
        changes.push(change::merge_patch(stable.object_ref(), &body));
    }
    let replicas = stable.replicas();
    if replicas == 0 {
        return Ok(changes);
    }
    let planned = ctx.planned_replicas.min(replicas);
    let template = canary_template(stable, &ctx.pod_template_metadata)?;
    let Some(canary) = objects
        .canary
        .as_ref()
        .filter(|canary| template::same(&canary.spec.template, &template))
    else {
        changes.push(change::apply(&canary_deployment(
            stable, template, planned,
        ))?);
        return Ok(changes);
    };
    if canary.replicas() < planned {
        let body = json!({"spec": {"replicas": planned}});
        changes.push(change::merge_patch(canary.object_ref(), &body));
    }
    if let (Some(id), Some(hash)) = (
        ctx.rollout.batch_label_id(),
        current_replica_set(objects, canary).and_then(replica_set::pod_template_hash),
    ) {
        let pods = objects.pods_of_revision(hash);
        changes.extend(batch_labels::label_changes(
            &pods,
            id,
            ctx.batch_index,
            planned,
        )?);
    }
    Ok(changes)
}

/// See [`crate::check_batch`].
pub fn check(ctx: &BatchContext, objects: &Objects) -> Result<BatchStatus, PluginError> {
    let stable = &objects.workload;
    let replicas = stable.replicas();
    if replicas == 0 {
        return Ok(readiness::batch_status(ctx, 0, 0, 0, None));
    }
    let planned = ctx.planned_replicas.min(replicas);
    let name = canary_name(stable);
    let canary = objects.canary.as_ref().ok_or_else(|| {
        PluginError::not_ready(format!(
            "canary Deployment {name} does not exist yet; release-batch creates it"
        ))
    })?;
    if !template::same(
        &canary.spec.template,
        &canary_template(stable, &ctx.pod_template_metadata)?,
    ) {
        return Ok(BatchStatus {
            updated_replicas: 0,
            updated_ready_replicas: 0,
            ready: false,
            message: format!(
                "canary Deployment {name} runs an older pod template; release-batch updates it"
            ),
        });
    }
    let rs = current_replica_set(objects, canary).ok_or_else(|| {
        PluginError::not_ready(format!(
            "canary Deployment {name} has no ReplicaSet for its pod template yet"
        ))
    })?;
    let labelled = ctx.rollout.batch_label_id().map(|id| {
        let hash = replica_set::pod_template_hash(rs).unwrap_or_default();
        batch_labels::labelled_count(&objects.pods_of_revision(hash), id)
    });
    let (created, available) = (replica_set::created(rs), replica_set::available(rs));
    Ok(readiness::batch_status(
        ctx, planned, created, available, labelled,
    ))
}

/// See [`crate::abort`]: the canary Deployment is scaled to zero, kept so a retry scales it up
/// again with the same template.
pub fn abort(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    Ok(objects
        .canary
        .iter()
        .filter(|canary| canary.replicas() > 0)
        .map(|canary| change::merge_patch(canary.object_ref(), &json!({"spec": {"replicas": 0}})))
        .collect())
}

/// See [`crate::finalize`] and the module docs.
pub fn finalize(objects: &Objects) -> Result<Vec<Change>, PluginError> {
    let stable = &objects.workload;
    let mut patch = MergePatch::default();
    if stable.annotation(IN_PROGRESSING).is_some() {
        patch.remove_annotation(IN_PROGRESSING);
        if stable.paused() {
            patch.set_spec("paused", json!(false));
        }
    }
    if stable.label(STABLE_REVISION).is_some() {
        patch.remove_label(STABLE_REVISION);
    }
    if let Some(body) = patch.into_body() {
        return Ok(vec![change::merge_patch(stable.object_ref(), &body)]);
    }
    let Some(canary) = &objects.canary else {
        return Ok(Vec::new());
    };
    match stable.rollout_progress()? {
        None => Ok(vec![change::delete(canary.object_ref())]),
        Some(progress) => Err(PluginError::not_ready(format!(
            "waiting for Deployment {} to roll out before deleting canary Deployment {}: {progress}",
            stable.name, canary.name
        ))),
    }
}

/// `patchPodTemplateMetadata` of the step: labels and annotations for the canary pods.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PodTemplateMetadata {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// The stable template with the step's extra pod metadata.
fn canary_template(stable: &Workload, metadata: &str) -> Result<PodTemplateSpec, PluginError> {
    let mut template = stable.spec.template.clone();
    if metadata.trim().is_empty() {
        return Ok(template);
    }
    let extra: PodTemplateMetadata = serde_json::from_str(metadata).map_err(|err| {
        PluginError::invalid_input(format!(
            "pod-template-metadata must look like {{\"labels\":{{...}},\"annotations\":{{...}}}}: {err}"
        ))
    })?;
    let selected = stable.spec.selector.match_labels.as_ref();
    if let Some((key, value)) = extra.labels.iter().find(|(key, value)| {
        selected
            .and_then(|labels| labels.get(*key))
            .is_some_and(|v| v != *value)
    }) {
        return Err(PluginError::invalid_input(format!(
            "patchPodTemplateMetadata sets label {key}={value}, which the Deployment's selector \
             requires to be different; canary pods would not match their Deployment"
        )));
    }
    let meta = template.metadata.get_or_insert_default();
    meta.labels.get_or_insert_default().extend(extra.labels);
    if !extra.annotations.is_empty() {
        meta.annotations
            .get_or_insert_default()
            .extend(extra.annotations);
    }
    Ok(template)
}

/// The canary Deployment: the stable spec with `template`, `replicas` and no pause; owned by
/// the stable Deployment so it is garbage-collected with it.
fn canary_deployment(stable: &Workload, template: PodTemplateSpec, replicas: u32) -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some(canary_name(stable)),
            namespace: Some(stable.namespace.clone()),
            labels: Some(BTreeMap::from([(
                CANARY_DEPLOYMENT.to_owned(),
                stable.name.clone(),
            )])),
            owner_references: Some(vec![OwnerReference {
                api_version: Deployment::API_VERSION.into(),
                kind: Deployment::KIND.into(),
                name: stable.name.clone(),
                uid: stable.uid.clone(),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(replicas).unwrap_or(i32::MAX)),
            selector: stable.spec.selector.clone(),
            template,
            strategy: stable.spec.strategy.clone(),
            min_ready_seconds: stable.spec.min_ready_seconds,
            revision_history_limit: stable.spec.revision_history_limit,
            progress_deadline_seconds: stable.spec.progress_deadline_seconds,
            paused: Some(false),
        }),
        status: None,
    }
}
