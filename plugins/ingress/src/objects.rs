//! The Ingresses the host passes to `route` and `restore`: those of `route-objects` that exist.

use k8s_openapi::api::networking::v1::Ingress;
use waxwing_plugin_sdk::{PluginError, object};

use crate::route_config::{RouteConfig, describe};

/// The stable and the canary Ingress, each when it exists.
#[derive(Debug, Clone, Default)]
pub struct Ingresses {
    pub stable: Option<Ingress>,
    pub canary: Option<Ingress>,
}

impl Ingresses {
    /// Sorts the objects by name; the host leaves out missing ones, so position says nothing.
    pub fn parse(config: &RouteConfig, objects: &[String]) -> Result<Self, PluginError> {
        let (stable, canary) = (config.stable(), config.canary());
        let mut found = Self::default();
        for (index, text) in objects.iter().enumerate() {
            let ingress: Ingress = object::parse(text, &format!("object {}", index + 1))?;
            let slot = match ingress.metadata.name.as_deref() {
                Some(name) if name == stable.name => &mut found.stable,
                Some(name) if name == canary.name => &mut found.canary,
                other => {
                    return Err(PluginError::internal(format!(
                        "the host passed Ingress {other:?}, which is neither {} nor {}",
                        describe(&stable),
                        describe(&canary)
                    )));
                }
            };
            *slot = Some(ingress);
        }
        Ok(found)
    }
}

/// The object is being deleted (it has finalizers left to run).
pub fn is_terminating(ingress: &Ingress) -> bool {
    ingress.metadata.deletion_timestamp.is_some()
}
