//! What wakes a Rollout up besides its own changes: its workload, the workload's ReplicaSets and
//! Pods, the objects the workload plugin creates (a canary Deployment and its pods), and the
//! AnalysisTemplates its analysis names.
//!
//! Every watch maps an object to the Rollouts of its namespace through the controller's cache
//! of Rollouts: an object belongs to a Rollout when it is the Rollout's workload, or when an
//! owner of it is the workload or carries the workload's name followed by `-` (a
//! Deployment's ReplicaSets `web-7d9f8`, their pods, the canary Deployment `web-canary` and
//! its own ReplicaSets). The rule is cheap and may wake a Rollout needlessly, which is
//! harmless: reconciling is idempotent. Watches carry metadata only.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use waxwing_api::analysis::AnalysisTemplate;
use waxwing_api::v1beta1::Rollout;

use super::kinds::Kind;

/// A workload kind as Rollouts name it in `workloadRef`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkloadKind {
    pub api_version: String,
    pub kind: String,
}

/// The Rollouts an object belongs to. `kind` is the object's kind when it is of a workload
/// kind, so it can be matched against `workloadRef` itself.
pub fn rollouts_of(
    object: &ObjectMeta,
    kind: Option<&WorkloadKind>,
    rollouts: &[Arc<Rollout>],
) -> Vec<ObjectRef<Rollout>> {
    let Some(namespace) = object.namespace.as_deref() else {
        return Vec::new();
    };
    rollouts
        .iter()
        .filter(|rollout| rollout.metadata.namespace.as_deref() == Some(namespace))
        .filter(|rollout| belongs(object, kind, rollout))
        .map(|rollout| ObjectRef::from(rollout.as_ref()))
        .collect()
}

fn belongs(object: &ObjectMeta, kind: Option<&WorkloadKind>, rollout: &Rollout) -> bool {
    let workload = &rollout.spec.workload_ref;
    let is_workload = kind
        .is_some_and(|kind| kind.api_version == workload.api_version && kind.kind == workload.kind)
        && object.name.as_deref() == Some(workload.name.as_str());
    is_workload
        || object.owner_references.iter().flatten().any(|owner| {
            owner
                .name
                .strip_prefix(workload.name.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
}

/// Starts watches and feeds the Rollouts they touch to the controller.
pub struct Triggers {
    client: Client,
    rollouts: Store<Rollout>,
    sender: UnboundedSender<ObjectRef<Rollout>>,
    /// Workload kinds already watched.
    watched: Mutex<HashSet<WorkloadKind>>,
}

impl Triggers {
    /// The triggers, and the stream of Rollouts to reconcile for the controller.
    pub fn new(
        client: Client,
        rollouts: Store<Rollout>,
    ) -> (Self, UnboundedReceiver<ObjectRef<Rollout>>) {
        let (sender, receiver) = unbounded();
        let triggers = Self {
            client,
            rollouts,
            sender,
            watched: Mutex::new(HashSet::new()),
        };
        (triggers, receiver)
    }

    /// Watches Pods and ReplicaSets in every namespace. Must be called inside the Tokio runtime.
    pub fn watch_pods_and_replica_sets(&self) {
        self.spawn(
            Api::<PartialObjectMeta<Pod>>::all(self.client.clone()),
            "Pods",
            None,
        );
        self.spawn(
            Api::<PartialObjectMeta<ReplicaSet>>::all(self.client.clone()),
            "ReplicaSets",
            None,
        );
    }

    /// Watches a workload kind in every namespace, once: the first Rollout that references a
    /// kind starts its watch, as Kruise adds workload watches on demand.
    pub fn watch_workloads(&self, workload: WorkloadKind, kind: &Kind) {
        let new = self
            .watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(workload.clone());
        if new {
            tracing::info!(api_version = %workload.api_version, kind = %workload.kind, "watching workloads");
            let api = Api::<PartialObjectMeta<DynamicObject>>::all_with(
                self.client.clone(),
                &kind.resource,
            );
            let what = kind.resource.plural.clone();
            self.spawn(api, &what, Some(workload));
        }
    }

    /// Caches the AnalysisTemplates of every namespace, for resolving analyses without a read
    /// per reconcile, and wakes the Rollouts whose analysis names a template that changed (a
    /// template applied after its Rollout is picked up at once).
    pub fn watch_analysis_templates(&self) -> Store<AnalysisTemplate> {
        let (store, writer) = kube::runtime::reflector::store();
        let api = Api::<AnalysisTemplate>::all(self.client.clone());
        let templates = reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff()
            .touched_objects();
        self.forward(templates, "AnalysisTemplates", |template, rollouts| {
            let namespace = template.metadata.namespace.as_deref();
            let name = template.metadata.name.as_deref().unwrap_or_default();
            rollouts
                .iter()
                .filter(|rollout| rollout.metadata.namespace.as_deref() == namespace)
                .filter(|rollout| rollout.spec.strategy.names_template(name))
                .map(|rollout| ObjectRef::from(rollout.as_ref()))
                .collect()
        });
        store
    }

    /// Watches the metadata of the objects of `api` (an `Api<PartialObjectMeta<_>>` asks the
    /// API server for metadata only).
    fn spawn<K>(&self, api: Api<PartialObjectMeta<K>>, what: &str, kind: Option<WorkloadKind>)
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
        PartialObjectMeta<K>: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let objects = watcher(api, watcher::Config::default())
            .default_backoff()
            .touched_objects();
        self.forward(objects, what, move |object, rollouts| {
            rollouts_of(&object.metadata, kind.as_ref(), rollouts)
        });
    }

    /// Sends the Rollouts `owners` finds for each object of the watch `objects` to the
    /// controller, until it stops.
    fn forward<T, S>(
        &self,
        objects: S,
        what: &str,
        owners: impl Fn(&T, &[Arc<Rollout>]) -> Vec<ObjectRef<Rollout>> + Send + 'static,
    ) where
        S: Stream<Item = Result<T, watcher::Error>> + Send + 'static,
    {
        let rollouts = self.rollouts.clone();
        let sender = self.sender.clone();
        let what = what.to_owned();
        tokio::spawn(async move {
            let mut objects = std::pin::pin!(objects);
            while let Some(object) = objects.next().await {
                let object = match object {
                    Ok(object) => object,
                    Err(e) => {
                        tracing::warn!("watching {what}: {e}; retrying");
                        continue;
                    }
                };
                for rollout in owners(&object, &rollouts.state()) {
                    if sender.unbounded_send(rollout).is_err() {
                        // The controller stopped.
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use waxwing_api::v1beta1::{ObjectRef as WorkloadRef, RolloutSpec, RolloutStrategy};

    use super::*;

    fn rollout(namespace: &str, name: &str, workload: &str) -> Arc<Rollout> {
        let mut rollout = Rollout::new(
            name,
            RolloutSpec {
                workload_ref: WorkloadRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: workload.into(),
                },
                strategy: RolloutStrategy::default(),
                disabled: false,
            },
        );
        rollout.metadata.namespace = Some(namespace.into());
        Arc::new(rollout)
    }

    fn object(namespace: &str, name: &str, owner: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            owner_references: owner.map(|owner| {
                vec![OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "ReplicaSet".into(),
                    name: owner.into(),
                    uid: "uid".into(),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        }
    }

    fn deployments() -> WorkloadKind {
        WorkloadKind {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
        }
    }

    fn names(refs: &[ObjectRef<Rollout>]) -> Vec<&str> {
        refs.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn the_workload_itself_wakes_its_rollout() {
        let rollouts = [
            rollout("demo", "web-rollout", "web"),
            rollout("demo", "api-rollout", "api"),
        ];
        let found = rollouts_of(
            &object("demo", "web", None),
            Some(&deployments()),
            &rollouts,
        );
        assert_eq!(names(&found), ["web-rollout"]);
        assert_eq!(found[0].namespace.as_deref(), Some("demo"));
    }

    #[test]
    fn an_object_of_another_kind_with_the_workloads_name_does_not() {
        let rollouts = [rollout("demo", "web-rollout", "web")];
        let statefulsets = WorkloadKind {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
        };
        assert!(
            rollouts_of(&object("demo", "web", None), Some(&statefulsets), &rollouts).is_empty()
        );
        assert!(
            rollouts_of(&object("demo", "web", None), None, &rollouts).is_empty(),
            "a pod named like the workload is not the workload"
        );
    }

    #[test]
    fn owned_objects_wake_the_rollout_of_their_owner_chain() {
        let rollouts = [rollout("demo", "web-rollout", "web")];
        for owner in ["web", "web-7d9f8", "web-canary", "web-canary-5c6b"] {
            let pod = object("demo", "p", Some(owner));
            assert_eq!(
                names(&rollouts_of(&pod, None, &rollouts)),
                ["web-rollout"],
                "owner {owner}"
            );
        }
    }

    #[test]
    fn similar_names_and_other_namespaces_do_not() {
        let rollouts = [rollout("demo", "web-rollout", "web")];
        assert!(
            rollouts_of(&object("demo", "p", Some("webapp-7d9f8")), None, &rollouts).is_empty()
        );
        assert!(rollouts_of(&object("other", "p", Some("web-7d9f8")), None, &rollouts).is_empty());
        assert!(rollouts_of(&object("demo", "p", None), None, &rollouts).is_empty());
    }

    #[test]
    fn every_matching_rollout_is_woken() {
        // `web` and `web-canary` are both prefixes of this owner; waking both is harmless.
        let rollouts = [
            rollout("demo", "a", "web"),
            rollout("demo", "b", "web-canary"),
        ];
        let pod = object("demo", "p", Some("web-canary-5c6b"));
        assert_eq!(names(&rollouts_of(&pod, None, &rollouts)), ["a", "b"]);
    }
}
