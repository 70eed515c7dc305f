//! The component's bindings: maps the `policy` export onto [`crate::evaluate`], with the
//! `metrics` import as its provider.

use waxwing_plugin_sdk::metrics as sdk_metrics;
use waxwing_plugin_sdk::policy as sdk;
use waxwing_plugin_sdk::{PluginError as SdkError, RolloutInfo as SdkRolloutInfo};

use self::exports::waxwing::plugin::policy::{Decision, Guest, PolicyContext, WaitReason};
use self::waxwing::plugin::metrics::{self, MetricQuery, QueryRange};
use self::waxwing::plugin::types::{PluginError, RolloutInfo};

wit_bindgen::generate!({
    path: "../../wit",
    world: "policy-plugin",
});

/// The component's export. Only the wasm build exports it: the export symbols (`waxwing:plugin/...`)
/// are not valid in a native shared library, and the native build exists for tests and clippy.
struct Plugin;

impl Guest for Plugin {
    fn evaluate(ctx: PolicyContext) -> Result<Decision, PluginError> {
        let host = |provider: &str, request: &sdk_metrics::MetricQuery| {
            metrics::query(provider, &request.into())
        };
        crate::evaluate(&ctx.into(), &host)
            .map(Into::into)
            .map_err(Into::into)
    }
}

#[cfg(target_family = "wasm")]
export!(Plugin with_types_in self);

impl From<&sdk_metrics::MetricQuery> for MetricQuery {
    fn from(request: &sdk_metrics::MetricQuery) -> Self {
        Self {
            query: request.query.clone(),
            range: request.range.map(|range| QueryRange {
                lookback_seconds: range.lookback_seconds,
                step_seconds: range.step_seconds,
            }),
        }
    }
}

impl From<PolicyContext> for sdk::PolicyContext {
    fn from(ctx: PolicyContext) -> Self {
        Self {
            rollout: ctx.rollout.into(),
            step_index: ctx.step_index,
            step_count: ctx.step_count,
            elapsed_ms: ctx.elapsed_ms,
            now_unix_ms: ctx.now_unix_ms,
            config: ctx.config,
            args: ctx.args,
        }
    }
}

impl From<RolloutInfo> for SdkRolloutInfo {
    fn from(info: RolloutInfo) -> Self {
        Self {
            namespace: info.namespace,
            name: info.name,
            rollout_id: info.rollout_id,
        }
    }
}

impl From<sdk::Decision> for Decision {
    fn from(decision: sdk::Decision) -> Self {
        match decision {
            sdk::Decision::Proceed => Self::Proceed,
            sdk::Decision::Wait(wait) => Self::Wait(WaitReason {
                after_ms: wait.after_ms,
                reason: wait.reason,
            }),
            sdk::Decision::Pause(reason) => Self::Pause(reason),
            sdk::Decision::Abort(reason) => Self::Abort(reason),
        }
    }
}

impl From<SdkError> for PluginError {
    fn from(err: SdkError) -> Self {
        match err {
            SdkError::InvalidInput(m) => Self::InvalidInput(m),
            SdkError::NotReady(m) => Self::NotReady(m),
            SdkError::HostFailure(m) => Self::HostFailure(m),
            SdkError::Internal(m) => Self::Internal(m),
        }
    }
}
