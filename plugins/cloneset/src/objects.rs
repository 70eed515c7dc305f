//! The CloneSet and its pods, parsed.

use k8s_openapi::Resource;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use waxwing_plugin_sdk::object::{self, TypeMeta};
use waxwing_plugin_sdk::workload::WorkloadObjects;
use waxwing_plugin_sdk::{ObjectQuery, PluginError, hpa, pod, revision, selector};

use crate::bounds;
use crate::cloneset::CloneSet;

/// The queries for [`crate::related_objects`]: the pods the CloneSet's selector matches, and
/// while a blue-green release holds it the namespace's HPAs (see [`waxwing_plugin_sdk::hpa`]).
pub fn queries(workload: &CloneSet) -> Result<Vec<ObjectQuery>, PluginError> {
    let selector = selector::render(&workload.spec.selector)?;
    if selector.is_empty() {
        return Err(PluginError::invalid_input(format!(
            "CloneSet {} has an empty selector, which would select every pod in the namespace",
            workload.name
        )));
    }
    let mut queries = vec![ObjectQuery {
        api_version: Pod::API_VERSION.to_owned(),
        kind: Pod::KIND.to_owned(),
        label_selector: selector,
    }];
    if bounds::recorded(workload) {
        queries.push(hpa::query());
    }
    Ok(queries)
}

/// A call's objects.
#[derive(Debug, Clone)]
pub struct Objects {
    /// The CloneSet the Rollout manages.
    pub workload: CloneSet,
    /// The live pods it controls (the selector may match other workloads' pods).
    pub pods: Vec<Pod>,
    /// Every HPA of the namespace, while a blue-green release asks for them.
    pub hpas: Vec<HorizontalPodAutoscaler>,
}

impl Objects {
    pub fn parse(objects: &WorkloadObjects) -> Result<Self, PluginError> {
        let workload = CloneSet::parse(&objects.workload, "the workload")?;
        let uid = workload.uid()?.to_owned();
        let (mut pods, mut hpas) = (Vec::new(), Vec::new());
        for (i, json) in objects.related.iter().enumerate() {
            let what = format!("related object {} of {}", i + 1, objects.related.len());
            let kind = TypeMeta::of(json, &what)?;
            if kind.is::<HorizontalPodAutoscaler>() {
                hpas.push(object::parse(json, &what)?);
                continue;
            }
            if !kind.is::<Pod>() {
                return Err(PluginError::invalid_input(format!(
                    "{what} is a {} {}; the CloneSet plugin asks for Pods only, and during a \
                     blue-green release for autoscaling/v2 HorizontalPodAutoscalers",
                    kind.api_version, kind.kind
                )));
            }
            let pod: Pod = object::parse(json, &what)?;
            if pod::is_active(&pod) && pod::is_controlled_by(&pod, &uid) {
                pods.push(pod);
            }
        }
        Ok(Self {
            workload,
            pods,
            hpas,
        })
    }

    /// The pods running the revision with this hash. They are matched against the revision's
    /// full name when the status names it, so pods that carry only `controller-revision-hash`
    /// match too.
    pub fn pods_of_revision(&self, hash: &str) -> Vec<&Pod> {
        let status = &self.workload.status;
        let name = [&status.update_revision, &status.current_revision]
            .into_iter()
            .flatten()
            .find(|name| revision::short_hash(name) == hash)
            .map_or(hash, String::as_str);
        self.pods
            .iter()
            .filter(|pod| revision::pod_runs(pod, name))
            .collect()
    }
}
