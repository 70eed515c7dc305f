//! The v1alpha1 traffic of a step: an integer weight instead of v1beta1's `"20%"`, and header
//! matches only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gateway::{HttpHeaderFilter, HttpHeaderMatch};

/// The traffic a step sends to the new revision: `weight` percent of all requests, or the
/// requests matching any of `matches` (which then takes precedence).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStrategy {
    /// Percentage of requests for the new revision, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub matches: Vec<HttpRouteMatch>,
}

/// One request match: every header must match.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub headers: Vec<HttpHeaderMatch>,
}
