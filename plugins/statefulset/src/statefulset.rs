//! A StatefulSet-like workload with the fields every call relies on checked once.
//!
//! Native StatefulSets (`apps/v1`), Advanced StatefulSets (`apps.kruise.io/v1beta1`, and the
//! older `v1alpha1`) and custom resources labelled `rollouts.kruise.io/workload-type=statefulset`
//! share the fields the plugin reads: `spec.replicas`, `spec.selector`, `spec.template`,
//! `spec.updateStrategy.rollingUpdate.partition`, `status.observedGeneration`,
//! `status.currentRevision` and `status.updateRevision`. They are declared here once; every
//! other field is ignored, and patches name only the fields they change, on the object's own
//! apiVersion and kind.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Deserialize;
use serde_json::Value;
use waxwing_plugin_sdk::{ObjectRef, PluginError, object, takeover};

/// Where the partition lives, for merge patches (the same path for every kind).
pub const PARTITION: [&str; 4] = ["spec", "updateStrategy", "rollingUpdate", "partition"];
/// Advanced StatefulSets only: a paused rolling update updates no pod.
pub const PAUSED: [&str; 4] = ["spec", "updateStrategy", "rollingUpdate", "paused"];
/// The label Kruise reads to treat a custom resource as StatefulSet-like.
pub const WORKLOAD_TYPE: &str = "rollouts.kruise.io/workload-type";

/// The apiVersions of the StatefulSet kinds the plugin knows without the workload-type label.
const STATEFULSET_API_VERSIONS: [&str; 3] = [
    "apps/v1",
    "apps.kruise.io/v1beta1",
    "apps.kruise.io/v1alpha1",
];

/// A StatefulSet-like workload that has an apiVersion, a kind, a name, a namespace and a spec.
#[derive(Debug, Clone)]
pub struct StatefulSet {
    pub api_version: String,
    pub kind: String,
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
    pub ordinals: Option<Ordinals>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategy {
    /// `RollingUpdate` (the default) or `OnDelete`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub rolling_update: Option<RollingUpdate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    /// Pods whose ordinal (counted from the first) is at least the partition are updated.
    pub partition: Option<i32>,
    pub paused: Option<bool>,
    /// Advanced StatefulSets: update in priority order instead of by ordinal; the partition
    /// then counts pods, as a CloneSet's does.
    pub unordered_update: Option<Value>,
}

/// `spec.ordinals`: the first ordinal, when not 0.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ordinals {
    pub start: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub observed_generation: Option<i64>,
    /// The ControllerRevision every pod ran before the update (`<name>-<hash>`).
    pub current_revision: Option<String>,
    /// The ControllerRevision of the current pod template.
    pub update_revision: Option<String>,
}

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

impl StatefulSet {
    /// Parses a StatefulSet-like workload from JSON text; `what` names it in errors.
    pub fn parse(json: &str, what: &str) -> Result<Self, PluginError> {
        let object: Object = serde_json::from_str(json).map_err(|err| {
            PluginError::invalid_input(format!("{what} is not a valid StatefulSet: {err}"))
        })?;
        let missing = |field: &str| {
            PluginError::invalid_input(format!(
                "{what} has no {field}; pass the StatefulSet as the API server returns it"
            ))
        };
        let api_version = object.api_version.ok_or_else(|| missing("apiVersion"))?;
        let kind = object.kind.ok_or_else(|| missing("kind"))?;
        let meta = object.metadata;
        let known =
            kind == "StatefulSet" && STATEFULSET_API_VERSIONS.contains(&api_version.as_str());
        let labelled = object::lookup(meta.labels.as_ref(), WORKLOAD_TYPE) == Some("statefulset");
        if !known && !labelled {
            return Err(PluginError::invalid_input(format!(
                "{what} is a {api_version} {kind}; the StatefulSet plugin handles apps/v1 and \
                 apps.kruise.io StatefulSets, and custom resources labelled \
                 {WORKLOAD_TYPE}=statefulset"
            )));
        }
        let spec = object.spec.ok_or_else(|| missing("spec"))?;
        let rolling_update = spec.update_strategy.rolling_update.as_ref();
        for (field, value) in [
            ("spec.replicas", spec.replicas),
            (
                "spec.updateStrategy.rollingUpdate.partition",
                rolling_update.and_then(|rolling_update| rolling_update.partition),
            ),
            (
                "spec.ordinals.start",
                spec.ordinals.as_ref().and_then(|ordinals| ordinals.start),
            ),
        ] {
            if let Some(value) = value.filter(|value| *value < 0) {
                return Err(PluginError::invalid_input(format!(
                    "{what} has negative {field} ({value})"
                )));
            }
        }
        Ok(Self {
            name: meta.name.clone().ok_or_else(|| missing("metadata.name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or_else(|| missing("metadata.namespace"))?,
            api_version,
            kind,
            meta,
            spec,
            status: object.status.unwrap_or_default(),
        })
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The uid, which the StatefulSet's pods name in their controller reference.
    pub fn uid(&self) -> Result<&str, PluginError> {
        self.meta.uid.as_deref().ok_or_else(|| {
            PluginError::invalid_input(format!(
                "{} {} has no metadata.uid; pass it as the API server returns it",
                self.kind, self.name
            ))
        })
    }

    /// `spec.replicas`, which the API server defaults to 1.
    pub fn replicas(&self) -> u32 {
        self.spec.replicas.map_or(1, non_negative)
    }

    /// `rollingUpdate.partition`; `None` when unset (which updates every pod).
    pub fn partition(&self) -> Option<u32> {
        self.rolling_update()
            .and_then(|rolling_update| rolling_update.partition)
            .map(non_negative)
    }

    /// True for an Advanced StatefulSet paused by `rollingUpdate.paused`.
    pub fn paused(&self) -> bool {
        self.rolling_update()
            .is_some_and(|rolling_update| rolling_update.paused == Some(true))
    }

    /// True when pods are updated by ordinal, highest first; false for an Advanced
    /// StatefulSet's `unorderedUpdate`, whose partition counts pods in priority order.
    pub fn ordered(&self) -> bool {
        self.rolling_update()
            .is_none_or(|rolling_update| rolling_update.unordered_update.is_none())
    }

    /// The ordinal of the first pod (`spec.ordinals.start`), 0 by default.
    pub fn first_ordinal(&self) -> u32 {
        self.spec
            .ordinals
            .as_ref()
            .and_then(|ordinals| ordinals.start)
            .map_or(0, non_negative)
    }

    /// True unless the update strategy is `OnDelete`, where no partition applies: pods are
    /// updated only when someone deletes them.
    pub fn rolls_updates(&self) -> bool {
        self.spec.update_strategy.type_.as_deref() != Some("OnDelete")
    }

    /// True when a release holds the workload.
    pub fn releasing(&self) -> bool {
        takeover::is_releasing(&self.meta)
    }

    /// True when the controller has observed the latest spec.
    pub fn settled(&self) -> bool {
        self.status.observed_generation.unwrap_or(0) >= self.meta.generation.unwrap_or(0)
    }

    /// Why the controller's status cannot be trusted yet, for a person; `None` when it can.
    pub fn unsettled_reason(&self) -> Option<String> {
        (!self.settled()).then(|| {
            format!(
                "{} {} has not observed its latest spec yet (generation {}, observed {})",
                self.kind,
                self.name,
                self.meta.generation.unwrap_or(0),
                self.status.observed_generation.unwrap_or(0)
            )
        })
    }

    /// The ControllerRevision of the current template; `None` until the controller computed it.
    pub fn update_revision(&self) -> Option<&str> {
        non_empty(self.status.update_revision.as_deref())
    }

    /// The ControllerRevision the pods ran before the update; the update revision's until the
    /// controller has recorded one.
    pub fn current_revision(&self) -> Option<&str> {
        non_empty(self.status.current_revision.as_deref()).or_else(|| self.update_revision())
    }

    fn rolling_update(&self) -> Option<&RollingUpdate> {
        self.spec.update_strategy.rolling_update.as_ref()
    }
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}

/// Checked non-negative at parse time.
fn non_negative(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<StatefulSet, PluginError> {
        StatefulSet::parse(&value.to_string(), "the workload")
    }

    fn object(api_version: &str, kind: &str, labels: Value, spec: Value) -> Value {
        json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": "db", "namespace": "shop", "labels": labels},
            "spec": spec,
        })
    }

    #[test]
    fn accepts_statefulsets_and_labelled_custom_resources() {
        for api_version in STATEFULSET_API_VERSIONS {
            assert!(parse(object(api_version, "StatefulSet", json!({}), json!({}))).is_ok());
        }
        let custom = object(
            "games.example.com/v1",
            "GameServerSet",
            json!({WORKLOAD_TYPE: "statefulset"}),
            json!({}),
        );
        let parsed = parse(custom).unwrap();
        assert_eq!(parsed.object_ref().kind, "GameServerSet");
        let unlabelled = object(
            "games.example.com/v1",
            "GameServerSet",
            json!({}),
            json!({}),
        );
        let err = parse(unlabelled).unwrap_err();
        assert!(
            err.message()
                .contains("is a games.example.com/v1 GameServerSet"),
            "{err}"
        );
        let deployment = object("apps/v1", "Deployment", json!({}), json!({}));
        assert!(parse(deployment).is_err());
    }

    #[test]
    fn refuses_negative_counts_and_missing_type_meta() {
        let negative = object(
            "apps/v1",
            "StatefulSet",
            json!({}),
            json!({"updateStrategy": {"rollingUpdate": {"partition": -1}}}),
        );
        let err = parse(negative).unwrap_err();
        assert!(
            err.message()
                .contains("negative spec.updateStrategy.rollingUpdate.partition (-1)"),
            "{err}"
        );
        let err = parse(json!({"metadata": {}, "spec": {}})).unwrap_err();
        assert!(err.message().contains("has no apiVersion"), "{err}");
    }

    #[test]
    fn reads_the_update_strategy() {
        let plain = parse(object("apps/v1", "StatefulSet", json!({}), json!({}))).unwrap();
        assert_eq!(
            (plain.partition(), plain.ordered(), plain.rolls_updates()),
            (None, true, true)
        );
        assert_eq!((plain.replicas(), plain.first_ordinal()), (1, 0));
        let advanced = parse(object(
            "apps.kruise.io/v1beta1",
            "StatefulSet",
            json!({}),
            json!({"replicas": 5, "ordinals": {"start": 3}, "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"partition": 2, "paused": true, "unorderedUpdate": {}}}}),
        ))
        .unwrap();
        assert_eq!(advanced.partition(), Some(2));
        assert!(advanced.paused() && !advanced.ordered());
        assert_eq!(advanced.first_ordinal(), 3);
        let on_delete = parse(object(
            "apps/v1",
            "StatefulSet",
            json!({}),
            json!({"updateStrategy": {"type": "OnDelete"}}),
        ))
        .unwrap();
        assert!(!on_delete.rolls_updates());
    }
}
