//! The workload a Rollout references: its plugin and kind, its objects as the plugin asks for
//! them, what the plugin observes, and the label that lets the admission webhook see it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::DynamicObject;
use serde_json::{Value, json};
use waxwing_api::labels;
use waxwing_machine::WorkloadObservation;
use waxwing_runtime::{WorkloadObjects, WorkloadState};

use super::error::Error;
use super::kinds::{Kind, Kinds};
use super::objects;
use super::plugin_call::WorkloadCalls;

/// A Rollout's workload, resolved to its plugin and kind.
pub struct Workload {
    pub calls: WorkloadCalls,
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

/// The workload and its related objects, read together.
pub struct Snapshot {
    pub object: DynamicObject,
    pub objects: WorkloadObjects,
}

impl Workload {
    /// The workload and the objects its plugin asks for; `None` when the workload does not
    /// exist.
    pub async fn read(&self, client: &Client, kinds: &Kinds) -> Result<Option<Snapshot>, Error> {
        let what = format!("reading {} {}", self.kind.resource.kind, self.name);
        let Some(object) = objects::get(client, &self.kind, &self.namespace, &self.name)
            .await
            .map_err(Error::api(what))?
        else {
            return Ok(None);
        };
        let workload = objects::to_json(&object);
        let queries = self.calls.related_objects(workload.clone()).await?;
        // The lists are independent: asked at once, a reconcile waits for the slowest, not
        // for their sum (each is a quorum read from etcd).
        let lists = queries.into_iter().map(|query| async move {
            let kind = kinds.resolve(&query.api_version, &query.kind).await?;
            if !kind.namespaced {
                return Err(Error::Refused {
                    plugin: self.calls.describe(),
                    problem: format!(
                        "asked for related {}, which are not namespaced; related objects come \
                         from the Rollout's namespace",
                        kind.resource.plural
                    ),
                });
            }
            let what = format!(
                "listing {} ({}) for {}",
                kind.resource.plural,
                query.label_selector,
                self.calls.describe()
            );
            let found = objects::list(client, &kind, &self.namespace, &query.label_selector)
                .await
                .map_err(Error::api(what))?;
            Ok(found.iter().map(objects::to_json).collect::<Vec<_>>())
        });
        let related = futures::future::try_join_all(lists)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(Some(Snapshot {
            object,
            objects: WorkloadObjects { workload, related },
        }))
    }

    pub async fn observe(&self, snapshot: &Snapshot) -> Result<WorkloadObservation, Error> {
        let state = self.calls.observe(&snapshot.objects).await?;
        Ok(observation(state, &snapshot.object.metadata))
    }
}

/// The machine's view of the workload: the plugin's observation plus the rollout id and
/// generation from the object's metadata.
pub fn observation(state: WorkloadState, metadata: &ObjectMeta) -> WorkloadObservation {
    WorkloadObservation {
        replicas: state.replicas,
        stable_revision: state.stable_revision,
        update_revision: state.update_revision,
        update_pod_template_hash: state.update_pod_template_hash,
        stable_pod_template_hash: state.stable_pod_template_hash,
        revision_label: state.revision_label,
        settled: state.settled,
        taken_over: state.taken_over,
        rollout_id: labels::rollout_id(metadata).map(str::to_owned),
        generation: metadata.generation.unwrap_or_default(),
    }
}

/// The merge patch that puts `rollouts.kruise.io/workload-type` on a workload, as Kruise does
/// for every workload a Rollout references: the takeover webhook only sees objects carrying
/// it. The value is the kind in lower case (`deployment`, `cloneset`, `statefulset`...).
/// `None` when the label is already there.
pub fn workload_type_patch(metadata: &ObjectMeta, kind: &str) -> Option<Value> {
    let present = metadata
        .labels
        .as_ref()
        .is_some_and(|labels| labels.contains_key(labels::WORKLOAD_TYPE));
    (!present).then(
        || json!({"metadata": {"labels": {labels::WORKLOAD_TYPE: kind.to_ascii_lowercase()}}}),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn metadata(labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            generation: Some(7),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn the_workload_type_label_is_kruises() {
        assert_eq!(
            workload_type_patch(&metadata(&[("app", "web")]), "Deployment"),
            Some(
                json!({"metadata": {"labels": {"rollouts.kruise.io/workload-type": "deployment"}}})
            )
        );
        assert_eq!(
            workload_type_patch(&ObjectMeta::default(), "CloneSet"),
            Some(json!({"metadata": {"labels": {"rollouts.kruise.io/workload-type": "cloneset"}}}))
        );
        assert_eq!(
            workload_type_patch(
                &metadata(&[(labels::WORKLOAD_TYPE, "deployment")]),
                "Deployment"
            ),
            None,
            "a labelled workload is left alone"
        );
    }

    #[test]
    fn the_observation_adds_rollout_id_and_generation() {
        let state = WorkloadState {
            replicas: 5,
            stable_revision: "a".into(),
            update_revision: "b".into(),
            update_pod_template_hash: "hb".into(),
            stable_pod_template_hash: "ha".into(),
            settled: true,
            taken_over: true,
            revision_label: "pod-template-hash".into(),
        };
        let observed = observation(state.clone(), &metadata(&[(labels::ROLLOUT_ID, "r1")]));
        assert_eq!(observed.replicas, 5);
        assert_eq!(observed.update_revision, "b");
        assert_eq!(observed.stable_pod_template_hash, "ha");
        assert!(observed.settled && observed.taken_over);
        assert_eq!(observed.rollout_id.as_deref(), Some("r1"));
        assert_eq!(observed.generation, 7);

        let unlabelled = observation(state, &metadata(&[]));
        assert_eq!(unlabelled.rollout_id, None);
    }
}
