//! A Deployment with the fields every call relies on checked once.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use waxwing_plugin_sdk::{ObjectRef, PluginError, object};

use crate::strategy;

/// A Deployment that has a name, a namespace, a uid and a spec.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub meta: ObjectMeta,
    pub spec: DeploymentSpec,
    pub status: DeploymentStatus,
}

impl Workload {
    /// Parses a Deployment from JSON text; `what` names it in errors.
    pub fn parse(json: &str, what: &str) -> Result<Self, PluginError> {
        Self::new(object::parse::<Deployment>(json, what)?, what)
    }

    pub fn new(deployment: Deployment, what: &str) -> Result<Self, PluginError> {
        let Deployment {
            metadata,
            spec,
            status,
        } = deployment;
        let missing = |field: &str| {
            PluginError::invalid_input(format!(
                "{what} has no {field}; pass the Deployment as the API server returns it"
            ))
        };
        let spec = spec.ok_or_else(|| missing("spec"))?;
        if let Some(replicas) = spec.replicas.filter(|replicas| *replicas < 0) {
            return Err(PluginError::invalid_input(format!(
                "{what} has negative spec.replicas ({replicas})"
            )));
        }
        Ok(Self {
            name: metadata
                .name
                .clone()
                .ok_or_else(|| missing("metadata.name"))?,
            namespace: metadata
                .namespace
                .clone()
                .ok_or_else(|| missing("metadata.namespace"))?,
            uid: metadata
                .uid
                .clone()
                .ok_or_else(|| missing("metadata.uid"))?,
            meta: metadata,
            spec,
            status: status.unwrap_or_default(),
        })
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: Deployment::API_VERSION.to_owned(),
            kind: Deployment::KIND.to_owned(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// `spec.replicas`, which the API server defaults to 1.
    pub fn replicas(&self) -> u32 {
        self.spec
            .replicas
            .map_or(1, |replicas| u32::try_from(replicas).unwrap_or(0))
    }

    pub fn paused(&self) -> bool {
        self.spec.paused == Some(true)
    }

    /// True when the controller has observed the latest spec.
    pub fn settled(&self) -> bool {
        self.status.observed_generation.unwrap_or(0) >= self.meta.generation.unwrap_or(0)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        lookup(self.meta.annotations.as_ref(), key)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        lookup(self.meta.labels.as_ref(), key)
    }

    /// `spec.strategy.type`, which the API server defaults to `RollingUpdate`.
    pub fn strategy_type(&self) -> &str {
        self.spec
            .strategy
            .as_ref()
            .and_then(|strategy| strategy.type_.as_deref())
            .unwrap_or("RollingUpdate")
    }

    /// What the Deployment's own rollout still waits for; `None` when it is complete: every pod
    /// runs the template and enough of them are available (Kruise's `waitAllUpdatedAndReady`).
    pub fn rollout_progress(&self) -> Result<Option<String>, PluginError> {
        let replicas = self.replicas();
        let count = |value: Option<i32>| u32::try_from(value.unwrap_or(0)).unwrap_or(0);
        let status = &self.status;
        let (created, updated) = (count(status.replicas), count(status.updated_replicas));
        let available = count(status.available_replicas);
        let max_unavailable = if self.strategy_type() == "RollingUpdate" {
            strategy::fenceposts(&strategy::rolling_update_of(self, None), replicas)?
                .max_unavailable
        } else {
            0
        };
        Ok(if self.paused() {
            Some("it is still paused".to_owned())
        } else if !self.settled() {
            Some("its controller has not observed the latest spec".to_owned())
        } else if updated < replicas || created != updated {
            Some(format!(
                "{updated} of {replicas} pods updated, {created} pods exist"
            ))
        } else if available + max_unavailable < replicas {
            Some(format!("{available} of {replicas} pods available"))
        } else {
            None
        })
    }
}

/// A non-empty value of a label or annotation map.
pub fn lookup<'a>(map: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    map?.get(key)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}
