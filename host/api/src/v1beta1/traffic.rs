//! Where and how a v1beta1 Rollout shifts traffic.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spec::ObjectRef;
use crate::gateway::{HttpHeaderFilter, HttpHeaderMatch, HttpPathMatch, HttpQueryParamMatch};
use crate::go_json::is_zero_i32;

/// The traffic a step sends to the new revision: a share of all requests, or the requests
/// matching any of `matches` (which then takes precedence over `traffic`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStrategy {
    /// Percentage of requests for the new revision, written `"20%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 8), regex(pattern = r"^0*(100|[1-9]?[0-9])%$"))]
    pub traffic: Option<String>,
    /// Header changes applied to requests sent to the new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    /// Independent request matches: a request matching any one goes to the new revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub matches: Vec<HttpRouteMatch>,
}

/// One request match; every condition in it must hold.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// Honoured by Istio and Gateway API routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 16),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    pub headers: Vec<HttpHeaderMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 16),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    pub query_params: Vec<HttpQueryParamMatch>,
}

/// One traffic provider for the Rollout: the stable Service and the route that points at it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.ingress) || has(self.gateway) || has(self.customNetworkRefs)",
        "message": "a trafficRoutings entry needs one of ingress, gateway or customNetworkRefs"
    }
]))]
pub struct TrafficRoutingRef {
    /// The Service that selects the stable pods (and, during a release, none of the new ones).
    #[schemars(length(min = 1))]
    pub service: String,
    /// Seconds to wait after changing a route so the proxy has picked it up; 3 when unset.
    // Go omits 0 and the API server then defaults it to 3, so 0 cannot be expressed, as in
    // Kruise.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    #[schemars(range(min = 0), extend("default" = 3))]
    pub grace_period_seconds: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressTrafficRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayTrafficRouting>,
    /// Other route objects (Istio VirtualService, APISIX route, ...), handled by traffic plugins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_network_refs: Vec<ObjectRef>,
}

/// An Ingress in the Rollout's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressTrafficRouting {
    /// The Ingress controller: `nginx` (the default when empty), `aliyun-alb`, ...
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub class_type: String,
    #[schemars(length(min = 1))]
    pub name: String,
}

/// A Gateway API route in the Rollout's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "has(self.httpRouteName)",
        "message": "gateway.httpRouteName is required"
    }
]))]
pub struct GatewayTrafficRouting {
    #[schemars(length(min = 1))]
    #[serde(
        rename = "httpRouteName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http_route_name: Option<String>,
}
