//! A CloneSet with the fields every call relies on checked once.
//!
//! k8s-openapi has no CloneSet type, so the fields the plugin reads are declared here; every
//! other field of the object is ignored, and patches only name the fields they change.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use waxwing_plugin_sdk::{ObjectRef, PluginError, intstr, revision, takeover};

pub const API_VERSION: &str = "apps.kruise.io/v1alpha1";
pub const KIND: &str = "CloneSet";
/// Where the partition lives, for merge patches.
pub const PARTITION: [&str; 3] = ["spec", "updateStrategy", "partition"];
pub const PAUSED: [&str; 3] = ["spec", "updateStrategy", "paused"];
pub const MAX_SURGE: [&str; 3] = ["spec", "updateStrategy", "maxSurge"];
pub const MAX_UNAVAILABLE: [&str; 3] = ["spec", "updateStrategy", "maxUnavailable"];
pub const MIN_READY_SECONDS: [&str; 2] = ["spec", "minReadySeconds"];

/// A CloneSet that has a name, a namespace and a spec.
#[derive(Debug, Clone)]
pub struct CloneSet {
    pub name: String,
    pub namespace: String,
    pub meta: ObjectMeta,
    pub spec: Spec,
    pub status: Status,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub replicas: Option<i32>,
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(default)]
    pub template: PodTemplateSpec,
    #[serde(default)]
    pub update_strategy: UpdateStrategy,
    pub min_ready_seconds: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategy {
    /// How many (or what share of the) pods stay on the current revision.
    pub partition: Option<IntOrString>,
    pub paused: Option<bool>,
    /// How many pods may be created above `replicas` while updating.
    pub max_surge: Option<IntOrString>,
    /// How many pods may be unavailable while updating.
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub observed_generation: Option<i64>,
    pub replicas: Option<i32>,
    pub updated_replicas: Option<i32>,
    pub updated_ready_replicas: Option<i32>,
    /// The ControllerRevision every pod ran before the update (`<name>-<hash>`).
    pub current_revision: Option<String>,
    /// The ControllerRevision of the current pod template.
    pub update_revision: Option<String>,
}

/// The object as it arrives; `apiVersion` and `kind` may be missing from list items.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: Option<Spec>,
    status: Option<Status>,
}

impl CloneSet {
    /// Parses a CloneSet from JSON text; `what` names it in errors.
    pub fn parse(json: &str, what: &str) -> Result<Self, PluginError> {
        let invalid = |why: String| {
            PluginError::invalid_input(format!("{what} is not a valid {API_VERSION} {KIND}: {why}"))
        };
        let object: Object = serde_json::from_str(json).map_err(|err| invalid(err.to_string()))?;
        let type_meta = (object.api_version.as_deref(), object.kind.as_deref());
        if !matches!(type_meta, (None | Some(API_VERSION), None | Some(KIND))) {
            return Err(invalid(format!(
                "got apiVersion {}, kind {}",
                type_meta.0.unwrap_or("(none)"),
                type_meta.1.unwrap_or("(none)")
            )));
        }
        let missing = |field: &str| {
            PluginError::invalid_input(format!(
                "{what} has no {field}; pass the CloneSet as the API server returns it"
            ))
        };
        let spec = object.spec.ok_or_else(|| missing("spec"))?;
        if let Some(replicas) = spec.replicas.filter(|replicas| *replicas < 0) {
            return Err(PluginError::invalid_input(format!(
                "{what} has negative spec.replicas ({replicas})"
            )));
        }
        let meta = object.metadata;
        Ok(Self {
            name: meta.name.clone().ok_or_else(|| missing("metadata.name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or_else(|| missing("metadata.namespace"))?,
            meta,
            spec,
            status: object.status.unwrap_or_default(),
        })
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The uid, which the CloneSet's pods name in their controller reference.
    pub fn uid(&self) -> Result<&str, PluginError> {
        self.meta.uid.as_deref().ok_or_else(|| {
            PluginError::invalid_input(format!(
                "CloneSet {} has no metadata.uid; pass the CloneSet as the API server returns it",
                self.name
            ))
        })
    }

    /// `spec.replicas`, which the API server defaults to 1.
    pub fn replicas(&self) -> u32 {
        self.spec
            .replicas
            .map_or(1, |replicas| u32::try_from(replicas).unwrap_or(0))
    }

    pub fn partition(&self) -> Option<&IntOrString> {
        self.spec.update_strategy.partition.as_ref()
    }

    /// How many pods the partition keeps on the current revision: resolved as the CloneSet
    /// controller does, a percentage rounded up, at most every pod.
    pub fn kept_pods(&self) -> Result<u32, PluginError> {
        let replicas = self.replicas();
        self.partition().map_or(Ok(0), |partition| {
            intstr::scaled_value(partition, replicas, true, "spec.updateStrategy.partition")
                .map(|kept| kept.min(replicas))
        })
    }

    pub fn paused(&self) -> bool {
        self.spec.update_strategy.paused == Some(true)
    }

    /// True when a release holds the CloneSet.
    pub fn releasing(&self) -> bool {
        takeover::is_releasing(&self.meta)
    }

    /// True when the controller has observed the latest spec.
    pub fn settled(&self) -> bool {
        self.status.observed_generation.unwrap_or(0) >= self.meta.generation.unwrap_or(0)
    }

    /// The update revision's hash, as Kruise Rollout records a CloneSet's revisions: the
    /// `pod-template-hash` of its pods. `None` until the controller has computed it.
    pub fn update_hash(&self) -> Option<&str> {
        non_empty(self.status.update_revision.as_deref()).map(revision::short_hash)
    }

    /// The current (stable) revision's hash; the update revision's until the controller has
    /// recorded one.
    pub fn current_hash(&self) -> Option<&str> {
        non_empty(self.status.current_revision.as_deref())
            .map(revision::short_hash)
            .or_else(|| self.update_hash())
    }

    /// A metadata annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        waxwing_plugin_sdk::object::lookup(self.meta.annotations.as_ref(), key)
    }

    /// `spec.minReadySeconds`, which defaults to 0.
    pub fn min_ready_seconds(&self) -> i32 {
        self.spec.min_ready_seconds.unwrap_or(0)
    }

    /// `status.replicas`: every pod the CloneSet runs, of any revision.
    pub fn status_replicas(&self) -> u32 {
        count(self.status.replicas)
    }

    pub fn updated_replicas(&self) -> u32 {
        count(self.status.updated_replicas)
    }

    pub fn updated_ready_replicas(&self) -> u32 {
        count(self.status.updated_ready_replicas)
    }

    /// Why the controller's status cannot be trusted yet, for a person; `None` when it can.
    pub fn unsettled_reason(&self) -> Option<String> {
        (!self.settled()).then(|| {
            format!(
                "CloneSet {} has not observed its latest spec yet (generation {}, observed {})",
                self.name,
                self.meta.generation.unwrap_or(0),
                self.status.observed_generation.unwrap_or(0)
            )
        })
    }
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}

fn count(value: Option<i32>) -> u32 {
    value.map_or(0, |value| u32::try_from(value).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> Result<CloneSet, PluginError> {
        CloneSet::parse(&value.to_string(), "the workload")
    }

    fn cloneset(spec: serde_json::Value) -> CloneSet {
        parse(json!({
            "apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn refuses_other_kinds_and_missing_fields() {
        let pod = parse(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}));
        let message = pod.unwrap_err().message().to_owned();
        assert!(
            message.starts_with("the workload is not a valid apps.kruise.io/v1alpha1 CloneSet")
        );
        assert!(
            message.ends_with(": got apiVersion v1, kind Pod"),
            "{message}"
        );
        let no_spec = parse(json!({"metadata": {"name": "web", "namespace": "shop"}}));
        assert!(no_spec.unwrap_err().message().contains("has no spec"));
        let negative = parse(json!({
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": -1}}));
        assert!(negative.unwrap_err().message().contains("negative"));
    }

    #[test]
    fn partitions_resolve_as_the_controller_resolves_them() {
        let cases = [
            (json!({"replicas": 5}), 0),
            (
                json!({"replicas": 5, "updateStrategy": {"partition": 3}}),
                3,
            ),
            (
                json!({"replicas": 5, "updateStrategy": {"partition": "50%"}}),
                3,
            ),
            (
                json!({"replicas": 5, "updateStrategy": {"partition": 9}}),
                5,
            ),
            (json!({"updateStrategy": {"partition": "100%"}}), 1),
        ];
        for (spec, kept) in cases {
            assert_eq!(cloneset(spec.clone()).kept_pods(), Ok(kept), "{spec}");
        }
        let bad = cloneset(json!({"updateStrategy": {"partition": "half"}}));
        assert!(bad.kept_pods().is_err());
    }

    #[test]
    fn revisions_are_the_hashes_of_the_status_names() {
        let mut cs = cloneset(json!({}));
        assert_eq!((cs.update_hash(), cs.current_hash()), (None, None));
        cs.status.update_revision = Some("web-84c5d7f9b".into());
        assert_eq!(cs.current_hash(), Some("84c5d7f9b"));
        cs.status.current_revision = Some("web-6b7f9c8d4".into());
        assert_eq!(
            (cs.update_hash(), cs.current_hash()),
            (Some("84c5d7f9b"), Some("6b7f9c8d4"))
        );
    }
}
