//! The route's settings from `traffic-context.config`: the stable Ingress, its class, and the
//! classes the plugin's ConfigMap defines.

use k8s_openapi::Resource;
use k8s_openapi::api::networking::v1::Ingress;
use serde::Deserialize;
use serde_json::{Map, Value};
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{ObjectRef, PluginError};

use crate::classes::{self, IngressClass};

/// Kruise's class for an Ingress whose Rollout names none.
const DEFAULT_CLASS: &str = "nginx";

/// `{"name": "<stable Ingress>", "classType": "<class>", "classes": {...}}`; other keys are
/// the host's or another plugin's business and are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteConfig {
    #[serde(default)]
    name: String,
    #[serde(default)]
    class_type: String,
    #[serde(default)]
    classes: Map<String, Value>,
    /// The Rollout's namespace, where both Ingresses live.
    #[serde(skip)]
    namespace: String,
}

impl RouteConfig {
    pub fn of(ctx: &TrafficContext) -> Result<Self, PluginError> {
        let mut config: Self = serde_json::from_str(&ctx.config).map_err(|err| {
            PluginError::invalid_input(format!(
                "the ingress plugin's config is not valid: {err}; expected an object like \
                 {{\"name\":\"<ingress>\",\"classType\":\"nginx\",\"classes\":{{}}}}"
            ))
        })?;
        if config.name.is_empty() {
            return Err(PluginError::invalid_input(
                "the trafficRoutings entry names no Ingress: set ingress.name in the Rollout",
            ));
        }
        config.namespace = ctx.rollout.namespace.clone();
        Ok(config)
    }

    /// The Ingress the Rollout routes with, which the plugin never changes.
    pub fn stable(&self) -> ObjectRef {
        self.ingress_ref(&self.name)
    }

    /// The plugin's own Ingress, `<stable>-canary`: a fixed name, as Kruise's.
    pub fn canary(&self) -> ObjectRef {
        self.ingress_ref(&format!("{}-canary", self.name))
    }

    /// The class the Rollout names, resolved against the built-ins and the configured classes.
    pub fn class(&self) -> Result<IngressClass, PluginError> {
        let class_type = if self.class_type.is_empty() {
            DEFAULT_CLASS
        } else {
            &self.class_type
        };
        classes::resolve(class_type, &self.classes)
    }

    fn ingress_ref(&self, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: Ingress::API_VERSION.to_owned(),
            kind: Ingress::KIND.to_owned(),
            namespace: self.namespace.clone(),
            name: name.to_owned(),
        }
    }
}

/// `Ingress shop/web`, for messages.
pub fn describe(object: &ObjectRef) -> String {
    format!("{} {}/{}", object.kind, object.namespace, object.name)
}
