//! The few Gateway API (`gateway.networking.k8s.io/v1beta1`) types a Rollout step embeds for
//! request matching and header rewriting.
//!
//! Kruise embeds these Go types from sigs.k8s.io/gateway-api directly, so a Rollout accepts
//! exactly their JSON. They are written out here rather than taken from the `gateway-api` crate
//! so that the API crate stays small and its schema carries the same validation as Kruise's CRD.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a request path is compared with the path match's value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum PathMatchType {
    /// The whole path equals the value.
    Exact,
    /// The path starts with the value, on `/` boundaries.
    PathPrefix,
    /// The path matches the value as a regular expression (dialect of the proxy).
    RegularExpression,
}

/// How a header value is compared with the header match's value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum HeaderMatchType {
    Exact,
    RegularExpression,
}

/// How a query parameter is compared with the query parameter match's value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum QueryParamMatchType {
    Exact,
    RegularExpression,
}

/// Matches requests by path. Gateway API defaults an absent `type` to `PathPrefix` and an absent
/// `value` to `/`; both stay absent here so that the object round-trips as written.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.value) || (has(self.type) && self.type == 'RegularExpression') || self.value.startsWith('/')",
        "message": "a path match of type Exact or PathPrefix must be an absolute path starting with '/'"
    }
]))]
pub struct HttpPathMatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "PathPrefix"))]
    pub type_: Option<PathMatchType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024), extend("default" = "/"))]
    pub value: Option<String>,
}

/// Matches requests carrying a header. Header names compare case-insensitively.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpHeaderMatch {
    /// `Exact` when absent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Exact"))]
    pub type_: Option<HeaderMatchType>,
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
    )]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

/// Matches requests carrying a query parameter. Names compare case-sensitively.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpQueryParamMatch {
    /// `Exact` when absent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Exact"))]
    pub type_: Option<QueryParamMatchType>,
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
    )]
    pub name: String,
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}

/// One header name and value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct HttpHeader {
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
    )]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

/// Changes to the headers of requests sent to the canary.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpHeaderFilter {
    /// Replaces the header's value, adding the header when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub set: Vec<HttpHeader>,
    /// Appends to the header's values, adding the header when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub add: Vec<HttpHeader>,
    /// Header names to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub remove: Vec<String>,
}
