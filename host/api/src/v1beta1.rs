//! `rollouts.kruise.io/v1beta1`, the storage version of the Rollout API.
//!
//! Field names, JSON names and `omitempty` behaviour follow Kruise's Go types
//! (`api/v1beta1/rollout_types.go`, `trafficrouting.go`), so any Kruise Rollout parses and
//! serialises back the way Kruise would write it.

pub(crate) mod spec;
mod status;
mod style;
mod traffic;

pub use crate::gateway::{
    HeaderMatchType, HttpHeader, HttpHeaderFilter, HttpHeaderMatch, HttpPathMatch,
    HttpQueryParamMatch, PathMatchType, QueryParamMatchType,
};
pub use spec::{
    BlueGreenStrategy, CanaryStep, CanaryStrategy, ObjectRef, PatchPodTemplateMetadata, Rollout,
    RolloutPause, RolloutSpec, RolloutStrategy,
};
pub use status::{
    AbortRequest, BlueGreenStatus, CanaryStatus, CommonStatus, ConditionStatus, FinalisingStepType,
    RolloutCondition, RolloutPhase, RolloutStatus, StepState, condition,
};
pub use style::RollingStyle;
pub use traffic::{
    GatewayTrafficRouting, HttpRouteMatch, IngressTrafficRouting, TrafficRoutingRef,
    TrafficRoutingStrategy,
};
