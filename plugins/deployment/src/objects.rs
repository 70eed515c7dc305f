//! The workload and its related objects, parsed and sorted by kind.

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use waxwing_plugin_sdk::object::{self, TypeMeta};
use waxwing_plugin_sdk::workload::WorkloadObjects;
use waxwing_plugin_sdk::{ObjectQuery, PluginError, hpa, pod, selector};

use crate::deployment::{Workload, lookup};
use crate::keys::{CANARY_DEPLOYMENT, POD_TEMPLATE_HASH};
use crate::{bounded, replica_set};

/// The queries for [`crate::related_objects`]; HPAs only while a blue-green release holds the
/// Deployment (see [`waxwing_plugin_sdk::hpa`]).
pub fn queries(workload: &Workload) -> Result<Vec<ObjectQuery>, PluginError> {
    let selector = selector::render(&workload.spec.selector)?;
    if selector.is_empty() {
        return Err(PluginError::invalid_input(format!(
            "Deployment {} has an empty selector, which would select every pod in the namespace",
            workload.name
        )));
    }
    let query = |api_version: &str, kind: &str, label_selector: String| ObjectQuery {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        label_selector,
    };
    let mut queries = vec![
        query(ReplicaSet::API_VERSION, ReplicaSet::KIND, selector.clone()),
        query(Pod::API_VERSION, Pod::KIND, selector),
        query(
            Deployment::API_VERSION,
            Deployment::KIND,
            format!("{CANARY_DEPLOYMENT}={}", workload.name),
        ),
    ];
    if bounded::recorded(workload) {
        queries.push(hpa::query());
    }
    Ok(queries)
}

/// The name of the canary Deployment of `stable` (see the crate docs for why it is fixed).
pub fn canary_name(stable: &Workload) -> String {
    format!("{}-canary", stable.name)
}

/// A call's objects.
#[derive(Debug, Clone)]
pub struct Objects {
    /// The Deployment the Rollout manages.
    pub workload: Workload,
    pub replica_sets: Vec<ReplicaSet>,
    pub pods: Vec<Pod>,
    /// The canary Deployment, when it exists.
    pub canary: Option<Workload>,
    /// Every HPA of the namespace, while a blue-green release asks for them.
    pub hpas: Vec<HorizontalPodAutoscaler>,
}

impl Objects {
    pub fn parse(objects: &WorkloadObjects) -> Result<Self, PluginError> {
        let workload = Workload::parse(&objects.workload, "the workload")?;
        let canary_name = canary_name(&workload);
        let mut parsed = Self {
            workload,
            replica_sets: Vec::new(),
            pods: Vec::new(),
            canary: None,
            hpas: Vec::new(),
        };
        for (i, json) in objects.related.iter().enumerate() {
            let what = format!("related object {} of {}", i + 1, objects.related.len());
            let kind = TypeMeta::of(json, &what)?;
            if kind.is::<ReplicaSet>() {
                parsed.replica_sets.push(object::parse(json, &what)?);
            } else if kind.is::<Pod>() {
                parsed.pods.push(object::parse(json, &what)?);
            } else if kind.is::<HorizontalPodAutoscaler>() {
                parsed.hpas.push(object::parse(json, &what)?);
            } else if kind.is::<Deployment>() {
                let deployment: Deployment = object::parse(json, &what)?;
                let labels = deployment.metadata.labels.as_ref();
                if deployment.metadata.name.as_deref() == Some(canary_name.as_str())
                    && lookup(labels, CANARY_DEPLOYMENT) == Some(parsed.workload.name.as_str())
                {
                    parsed.canary = Some(Workload::new(deployment, "the canary Deployment")?);
                }
            } else {
                return Err(PluginError::invalid_input(format!(
                    "{what} is a {} {}; the Deployment plugin asks for ReplicaSets, Pods, \
                     Deployments and HorizontalPodAutoscalers only",
                    kind.api_version, kind.kind
                )));
            }
        }
        Ok(parsed)
    }

    /// The live ReplicaSets `owner` controls, oldest first.
    pub fn replica_sets_of(&self, owner: &Workload) -> Vec<&ReplicaSet> {
        let mut owned: Vec<&ReplicaSet> = self
            .replica_sets
            .iter()
            .filter(|rs| replica_set::live_and_controlled_by(rs, &owner.uid))
            .collect();
        owned.sort_by_key(|rs| replica_set::age_key(rs));
        owned
    }

    /// The live pods of the revision with this `pod-template-hash`.
    pub fn pods_of_revision(&self, hash: &str) -> Vec<&Pod> {
        self.pods
            .iter()
            .filter(|p| pod::is_active(p))
            .filter(|p| lookup(p.metadata.labels.as_ref(), POD_TEMPLATE_HASH) == Some(hash))
            .collect()
    }
}
