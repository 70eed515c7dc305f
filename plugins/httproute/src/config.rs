//! The route's settings from `traffic-context.config`: which HTTPRoute, in the Rollout's
//! namespace.

use serde::Deserialize;
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{ObjectRef, PluginError};

/// The HTTPRoute version the plugin reads and patches; the host reads it in this version
/// whatever version the user wrote.
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";
pub const KIND: &str = "HTTPRoute";

/// `{"httpRouteName": "<name>"}`; other keys belong to the host or the plugin ConfigMap and are
/// ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(default)]
    http_route_name: String,
}

/// The HTTPRoute the Rollout routes with.
pub fn route_ref(ctx: &TrafficContext) -> Result<ObjectRef, PluginError> {
    let settings: Settings = serde_json::from_str(&ctx.config).map_err(|err| {
        PluginError::invalid_input(format!(
            "the httproute plugin's config is not valid: {err}; expected an object like \
             {{\"httpRouteName\":\"<HTTPRoute name>\"}}"
        ))
    })?;
    if settings.http_route_name.is_empty() {
        return Err(PluginError::invalid_input(
            "the trafficRoutings entry names no HTTPRoute: set gateway.httpRouteName in the \
             Rollout",
        ));
    }
    Ok(ObjectRef {
        api_version: API_VERSION.to_owned(),
        kind: KIND.to_owned(),
        namespace: ctx.rollout.namespace.clone(),
        name: settings.http_route_name,
    })
}

/// `HTTPRoute shop/web`, for messages.
pub fn describe(route: &ObjectRef) -> String {
    format!("{} {}/{}", route.kind, route.namespace, route.name)
}
