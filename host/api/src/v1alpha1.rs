//! `rollouts.kruise.io/v1alpha1`, the older Rollout API, still served, and the TrafficRouting
//! API.
//!
//! Rollouts are stored as v1beta1; [`crate::conversion`] converts between the two. Types whose
//! JSON is identical in both versions are shared with [`crate::v1beta1`].

mod rollout;
mod traffic;
mod traffic_routing;

pub use crate::gateway::{HeaderMatchType, HttpHeader, HttpHeaderFilter, HttpHeaderMatch};
pub use crate::v1beta1::{
    ConditionStatus, FinalisingStepType, GatewayTrafficRouting, IngressTrafficRouting,
    ObjectRef as CustomNetworkRef, PatchPodTemplateMetadata, RolloutCondition, RolloutPause,
    RolloutPhase, StepState, TrafficRoutingRef, condition,
};
pub use rollout::{
    CanaryStatus, CanaryStep, CanaryStrategy, ObjectRef, Rollout, RolloutSpec, RolloutStatus,
    RolloutStrategy, WorkloadRef,
};
pub use traffic::{HttpRouteMatch, TrafficRoutingStrategy};
pub use traffic_routing::{
    TrafficRouting, TrafficRoutingPhase, TrafficRoutingSpec, TrafficRoutingStatus,
};
