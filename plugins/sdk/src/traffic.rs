//! The types of the `traffic` interface (world `traffic-plugin`).

use serde::{Deserialize, Serialize};

use crate::json_text;
use crate::types::RolloutInfo;

/// A header or query-parameter match; `match_type` is `Exact` or `RegularExpression`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HeaderMatch {
    pub name: String,
    pub value: String,
    pub match_type: String,
}

/// A path match; `match_type` is `Exact`, `PathPrefix` or `RegularExpression`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PathMatch {
    pub value: String,
    pub match_type: String,
}

/// One independent request match: every condition inside must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RouteMatch {
    pub path: Option<PathMatch>,
    pub headers: Vec<HeaderMatch>,
    pub query_params: Vec<HeaderMatch>,
}

/// Header changes for requests sent to the canary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HeaderModifier {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

/// The step's routing, for one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrafficContext {
    pub rollout: RolloutInfo,
    pub stable_service: String,
    pub canary_service: String,
    /// Percent of requests for the canary; none when the step routes by matches only.
    pub weight: Option<u32>,
    pub matches: Vec<RouteMatch>,
    pub request_header_modifier: Option<HeaderModifier>,
    /// The route and the plugin's settings, a JSON object (see the WIT contract).
    #[serde(deserialize_with = "json_text::deserialize")]
    pub config: String,
}

impl TrafficContext {
    /// The canary gets traffic at all in this step: a weight above zero or a match.
    pub fn routes_to_canary(&self) -> bool {
        !self.matches.is_empty() || self.weight.is_some_and(|weight| weight > 0)
    }
}
