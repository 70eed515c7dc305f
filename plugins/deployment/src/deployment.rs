//! A Deployment with the fields every call relies on checked once.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use waxwing_plugin_sdk::{ObjectRef, PluginError, object};

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
}

/// A non-empty value of a label or annotation map.
pub fn lookup<'a>(map: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    map?.get(key)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}
