//! The StatefulSet and its pods, parsed.

use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::Pod;
use waxwing_plugin_sdk::object::{self, TypeMeta};
use waxwing_plugin_sdk::workload::WorkloadObjects;
use waxwing_plugin_sdk::{ObjectQuery, PluginError, pod, revision, selector};

use crate::partition;
use crate::statefulset::StatefulSet;

/// The queries for [`crate::related_objects`]: the pods the workload's selector matches.
pub fn queries(workload: &StatefulSet) -> Result<Vec<ObjectQuery>, PluginError> {
    let selector = selector::render(&workload.spec.selector)?;
    if selector.is_empty() {
        return Err(PluginError::invalid_input(format!(
            "{} {} has an empty selector, which would select every pod in the namespace",
            workload.kind, workload.name
        )));
    }
    Ok(vec![ObjectQuery {
        api_version: Pod::API_VERSION.to_owned(),
        kind: Pod::KIND.to_owned(),
        label_selector: selector,
    }])
}

/// A call's objects.
#[derive(Debug, Clone)]
pub struct Objects {
    /// The StatefulSet-like workload the Rollout manages.
    pub workload: StatefulSet,
    /// The live pods it controls (the selector may match other workloads' pods).
    pub pods: Vec<Pod>,
}

impl Objects {
    pub fn parse(objects: &WorkloadObjects) -> Result<Self, PluginError> {
        let workload = StatefulSet::parse(&objects.workload, "the workload")?;
        let uid = workload.uid()?.to_owned();
        let mut pods = Vec::new();
        for (i, json) in objects.related.iter().enumerate() {
            let what = format!("related object {} of {}", i + 1, objects.related.len());
            let kind = TypeMeta::of(json, &what)?;
            if !kind.is::<Pod>() {
                return Err(PluginError::invalid_input(format!(
                    "{what} is a {} {}; the StatefulSet plugin asks for Pods only",
                    kind.api_version, kind.kind
                )));
            }
            let pod: Pod = object::parse(json, &what)?;
            if pod::is_active(&pod) && pod::is_controlled_by(&pod, &uid) {
                pods.push(pod);
            }
        }
        Ok(Self { workload, pods })
    }

    /// The pods running `revision`.
    pub fn pods_of_revision(&self, revision: &str) -> Vec<&Pod> {
        self.pods
            .iter()
            .filter(|pod| revision::pod_runs(pod, revision))
            .collect()
    }

    /// The pods running `revision` that a partition of `partition` released: by ordinal, those
    /// at or above it; with `unorderedUpdate`, every one (the controller picks them).
    pub fn released_pods(&self, partition: u32, revision: &str) -> Result<Vec<&Pod>, PluginError> {
        let workload = &self.workload;
        if !workload.ordered() {
            return Ok(self.pods_of_revision(revision));
        }
        let mut released = Vec::new();
        for pod in self.pods_of_revision(revision) {
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let position = partition::position(name, &workload.name, workload.first_ordinal())
                .ok_or_else(|| {
                    PluginError::invalid_input(format!(
                        "pod {name} of {} {} is not named {}-<ordinal> (from ordinal {}); the \
                         StatefulSet plugin releases pods by ordinal",
                        workload.kind,
                        workload.name,
                        workload.name,
                        workload.first_ordinal()
                    ))
                })?;
            if position >= partition {
                released.push(pod);
            }
        }
        Ok(released)
    }
}
