//! The component glue every Rust traffic plugin shares: the `traffic-plugin` world's bindings
//! mapped onto the crate's native API (`crate::route_objects`, `crate::route`,
//! `crate::restore`, with the SDK's types).

/// Expands to the `wit` module of a traffic plugin crate. Call it once at the crate root:
/// `waxwing_plugin_sdk::traffic_component!();`. The crate depends on `wit-bindgen` and sits two
/// directories below the workspace root (the WIT is read from `../../wit`).
// `crate::` below is meant: it names the plugin crate that calls the macro.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! traffic_component {
    () => {
        mod wit {
            use $crate::traffic as sdk;
            use $crate::{
                Change as SdkChange, ObjectRef as SdkObjectRef, PluginError as SdkError,
                RolloutInfo as SdkRolloutInfo,
            };

            use self::exports::waxwing::plugin::traffic::{
                Guest, HeaderMatch, HeaderModifier, PathMatch, RouteMatch, TrafficContext,
            };
            use self::waxwing::plugin::types::{Change, ObjectRef, Patch, PluginError, RolloutInfo};

            wit_bindgen::generate!({
                path: "../../wit",
                world: "traffic-plugin",
            });

            /// The component's export. Only the wasm build exports it: the export symbols
            /// (`waxwing:plugin/...`) are not valid in a native shared library, and the native
            /// build exists for tests and clippy.
            struct Plugin;

            #[cfg(target_family = "wasm")]
            export!(Plugin with_types_in self);

            impl Guest for Plugin {
                fn route_objects(ctx: TrafficContext) -> Result<Vec<ObjectRef>, PluginError> {
                    let objects = crate::route_objects(&ctx.into())?;
                    Ok(objects.into_iter().map(Into::into).collect())
                }

                fn route(
                    ctx: TrafficContext,
                    objects: Vec<String>,
                ) -> Result<Vec<Change>, PluginError> {
                    let changes = crate::route(&ctx.into(), &objects)?;
                    Ok(changes.into_iter().map(Into::into).collect())
                }

                fn restore(
                    ctx: TrafficContext,
                    objects: Vec<String>,
                ) -> Result<Vec<Change>, PluginError> {
                    let changes = crate::restore(&ctx.into(), &objects)?;
                    Ok(changes.into_iter().map(Into::into).collect())
                }
            }

            impl From<TrafficContext> for sdk::TrafficContext {
                fn from(ctx: TrafficContext) -> Self {
                    Self {
                        rollout: ctx.rollout.into(),
                        stable_service: ctx.stable_service,
                        canary_service: ctx.canary_service,
                        weight: ctx.weight,
                        matches: ctx.matches.into_iter().map(Into::into).collect(),
                        request_header_modifier: ctx.request_header_modifier.map(Into::into),
                        config: ctx.config,
                    }
                }
            }

            impl From<RouteMatch> for sdk::RouteMatch {
                fn from(route: RouteMatch) -> Self {
                    Self {
                        path: route.path.map(Into::into),
                        headers: route.headers.into_iter().map(Into::into).collect(),
                        query_params: route.query_params.into_iter().map(Into::into).collect(),
                    }
                }
            }

            impl From<HeaderMatch> for sdk::HeaderMatch {
                fn from(header: HeaderMatch) -> Self {
                    Self {
                        name: header.name,
                        value: header.value,
                        match_type: header.match_type,
                    }
                }
            }

            impl From<PathMatch> for sdk::PathMatch {
                fn from(path: PathMatch) -> Self {
                    Self {
                        value: path.value,
                        match_type: path.match_type,
                    }
                }
            }

            impl From<HeaderModifier> for sdk::HeaderModifier {
                fn from(modifier: HeaderModifier) -> Self {
                    Self {
                        set: modifier.set,
                        add: modifier.add,
                        remove: modifier.remove,
                    }
                }
            }

            $crate::__contract_conversions!();
        }
    };
}
