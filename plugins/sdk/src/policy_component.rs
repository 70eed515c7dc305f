//! The component glue every Rust policy plugin shares: the `policy-plugin` world's bindings
//! mapped onto the crate's `crate::evaluate` with the SDK's types. One copy here instead of one
//! per plugin.

/// Expands to the `wit` module of a policy plugin crate. Call it once at the crate root:
/// `waxwing_plugin_sdk::policy_component!();` when `crate::evaluate(&PolicyContext)` needs no
/// metrics, or `waxwing_plugin_sdk::policy_component!(metrics);` when it is
/// `crate::evaluate(&PolicyContext, &impl Metrics)` and queries the host's metric providers.
/// The crate depends on `wit-bindgen` and sits two directories below the workspace root.
// `crate::` below is meant: it names the plugin crate that calls the macro.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! policy_component {
    () => {
        $crate::policy_component!(@glue |ctx| crate::evaluate(&ctx));
    };
    (metrics) => {
        $crate::policy_component!(@glue |ctx| {
            let host = |provider: &str, request: &$crate::metrics::MetricQuery| {
                self::waxwing::plugin::metrics::query(provider, &request.into())
            };
            crate::evaluate(&ctx, &host)
        });
    };
    (@glue |$ctx:ident| $call:expr) => {
        mod wit {
            use $crate::policy as sdk;
            use $crate::{
                Change as SdkChange, ObjectRef as SdkObjectRef, PluginError as SdkError,
                RolloutInfo as SdkRolloutInfo,
            };

            use self::exports::waxwing::plugin::policy::{
                Decision, Guest, PolicyContext, WaitReason,
            };
            use self::waxwing::plugin::metrics::{MetricQuery, QueryRange};
            use self::waxwing::plugin::types::{Change, ObjectRef, Patch, PluginError, RolloutInfo};

            wit_bindgen::generate!({
                path: "../../wit",
                world: "policy-plugin",
            });

            /// The component's export. Only the wasm build exports it: the export symbols
            /// (`waxwing:plugin/...`) are not valid in a native shared library, and the native
            /// build exists for tests and clippy.
            struct Plugin;

            #[cfg(target_family = "wasm")]
            export!(Plugin with_types_in self);

            impl Guest for Plugin {
                fn evaluate(ctx: PolicyContext) -> Result<Decision, PluginError> {
                    let $ctx: sdk::PolicyContext = ctx.into();
                    let decision: Result<sdk::Decision, SdkError> = $call;
                    decision.map(Into::into).map_err(Into::into)
                }
            }

            impl From<&$crate::metrics::MetricQuery> for MetricQuery {
                fn from(request: &$crate::metrics::MetricQuery) -> Self {
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

            $crate::__contract_conversions!();
        }
    };
}
