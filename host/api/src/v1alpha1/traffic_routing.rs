//! The TrafficRouting object (`rollouts.kruise.io/v1alpha1`): routes shared by several
//! Rollouts, for example the gateway in front of a chain of services a -> b -> c, moved by
//! whichever Rollout names it in `trafficRoutingRef`.

use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::traffic::TrafficRoutingStrategy;
use crate::go_json::{empty_is_none, is_zero_i64};
use crate::v1beta1::TrafficRoutingRef;

/// The routes a TrafficRouting object moves, and how.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1alpha1",
    kind = "TrafficRouting",
    namespaced,
    derive = "PartialEq",
    status = "TrafficRoutingStatus",
    doc = "A TrafficRouting holds routes shared by several Rollouts; a Rollout naming it in trafficRoutingRef moves them.",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    ),
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.phase","description":"The TrafficRouting status phase"}"#,
    printcolumn = r#"{"name":"MESSAGE","type":"string","jsonPath":".status.message","description":"The TrafficRouting canary status message"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingSpec {
    /// The routes, one per traffic provider.
    pub object_ref: Vec<TrafficRoutingRef>,
    pub strategy: TrafficRoutingStrategy,
}

/// Status of a TrafficRouting object.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStatus {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    #[serde(
        default,
        deserialize_with = "empty_is_none::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub phase: Option<TrafficRoutingPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The lifecycle phase of a TrafficRouting object.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum TrafficRoutingPhase {
    Initial,
    /// The routes and Services exist.
    Healthy,
    /// A Rollout is moving the routes.
    Progressing,
    /// The release is done and the routes are being restored.
    Finalizing,
    Terminating,
}
