//! The component glue every workload plugin shares: the `workload-plugin` world's bindings
//! mapped onto the crate's native API (`crate::related_objects`, `crate::observe`,
//! `crate::takeover`, `crate::release_batch`, `crate::check_batch`, `crate::abort`,
//! `crate::finalize`, with
//! the SDK's types). One copy here instead of one per plugin.

/// Expands to the `wit` module of a workload plugin crate. Call it once at the crate root:
/// `waxwing_plugin_sdk::workload_component!();`. The crate depends on `wit-bindgen` and sits two
/// directories below the workspace root (the WIT is read from `../../wit`).
// `crate::` below is meant: it names the plugin crate that calls the macro.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! workload_component {
    () => {
        mod wit {
            use $crate::workload as sdk;
            use $crate::{
                Change as SdkChange, ObjectQuery as SdkObjectQuery, ObjectRef as SdkObjectRef,
                PluginError as SdkError, Replicas as SdkReplicas, RolloutInfo as SdkRolloutInfo,
            };

            use self::exports::waxwing::plugin::workload::{
                BatchContext, BatchStatus, Guest, ReleaseStyle, WorkloadObjects, WorkloadState,
            };
            use self::waxwing::plugin::types::{
                Change, ObjectQuery, ObjectRef, Patch, PluginError, Replicas, RolloutInfo,
            };

            wit_bindgen::generate!({
                path: "../../wit",
                world: "workload-plugin",
            });

            /// The component's export. Only the wasm build exports it: the export symbols
            /// (`waxwing:plugin/...`) are not valid in a native shared library, and the native build
            /// exists for tests and clippy.
            struct Plugin;

            #[cfg(target_family = "wasm")]
            export!(Plugin with_types_in self);

            impl Guest for Plugin {
                fn related_objects(workload: String) -> Result<Vec<ObjectQuery>, PluginError> {
                    let queries = crate::related_objects(&workload)?;
                    Ok(queries.into_iter().map(Into::into).collect())
                }

                fn observe(objects: WorkloadObjects) -> Result<WorkloadState, PluginError> {
                    Ok(crate::observe(&objects.into())?.into())
                }

                fn takeover(
                    rollout: RolloutInfo,
                    style: ReleaseStyle,
                    old: String,
                    new: String,
                ) -> Result<Option<String>, PluginError> {
                    Ok(crate::takeover(&rollout.into(), style.into(), &old, &new)?)
                }

                fn release_batch(
                    ctx: BatchContext,
                    objects: WorkloadObjects,
                ) -> Result<Vec<Change>, PluginError> {
                    let changes = crate::release_batch(&ctx.into(), &objects.into())?;
                    Ok(changes.into_iter().map(Into::into).collect())
                }

                fn check_batch(
                    ctx: BatchContext,
                    objects: WorkloadObjects,
                ) -> Result<BatchStatus, PluginError> {
                    Ok(crate::check_batch(&ctx.into(), &objects.into())?.into())
                }

                fn abort(ctx: BatchContext, objects: WorkloadObjects) -> Result<Vec<Change>, PluginError> {
                    let changes = crate::abort(&ctx.into(), &objects.into())?;
                    Ok(changes.into_iter().map(Into::into).collect())
                }

                fn finalize(ctx: BatchContext, objects: WorkloadObjects) -> Result<Vec<Change>, PluginError> {
                    let changes = crate::finalize(&ctx.into(), &objects.into())?;
                    Ok(changes.into_iter().map(Into::into).collect())
                }
            }

            impl From<WorkloadObjects> for sdk::WorkloadObjects {
                fn from(objects: WorkloadObjects) -> Self {
                    Self {
                        workload: objects.workload,
                        related: objects.related,
                    }
                }
            }

            impl From<BatchContext> for sdk::BatchContext {
                fn from(ctx: BatchContext) -> Self {
                    Self {
                        rollout: ctx.rollout.into(),
                        style: ctx.style.into(),
                        batch_index: ctx.batch_index,
                        step_replicas: match ctx.step_replicas {
                            Replicas::Count(count) => SdkReplicas::Count(count),
                            Replicas::Percent(percent) => SdkReplicas::Percent(percent),
                        },
                        planned_replicas: ctx.planned_replicas,
                        tolerated_failures: ctx.tolerated_failures,
                        stable_revision: ctx.stable_revision,
                        update_revision: ctx.update_revision,
                        pod_template_metadata: ctx.pod_template_metadata,
                    }
                }
            }

            impl From<ReleaseStyle> for sdk::ReleaseStyle {
                fn from(style: ReleaseStyle) -> Self {
                    match style {
                        ReleaseStyle::Canary => Self::Canary,
                        ReleaseStyle::Partition => Self::Partition,
                        ReleaseStyle::BlueGreen => Self::BlueGreen,
                    }
                }
            }

            impl From<sdk::WorkloadState> for WorkloadState {
                fn from(state: sdk::WorkloadState) -> Self {
                    Self {
                        replicas: state.replicas,
                        stable_revision: state.stable_revision,
                        update_revision: state.update_revision,
                        update_pod_template_hash: state.update_pod_template_hash,
                        stable_pod_template_hash: state.stable_pod_template_hash,
                        settled: state.settled,
                        taken_over: state.taken_over,
                        revision_label: state.revision_label,
                    }
                }
            }

            impl From<sdk::BatchStatus> for BatchStatus {
                fn from(status: sdk::BatchStatus) -> Self {
                    Self {
                        updated_replicas: status.updated_replicas,
                        updated_ready_replicas: status.updated_ready_replicas,
                        ready: status.ready,
                        message: status.message,
                    }
                }
            }

            impl From<SdkObjectQuery> for ObjectQuery {
                fn from(query: SdkObjectQuery) -> Self {
                    Self {
                        api_version: query.api_version,
                        kind: query.kind,
                        label_selector: query.label_selector,
                    }
                }
            }

            $crate::__contract_conversions!();
        }
    };
}

/// The conversions every world's glue needs between the SDK's types and the bindings' shared
/// `types` interface. Expanded inside the glue module, where the bindings' types and the SDK's
/// (`SdkRolloutInfo`, `SdkObjectRef`, `SdkChange`, `SdkError`) are in scope.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_conversions {
    () => {
        impl From<RolloutInfo> for SdkRolloutInfo {
            fn from(info: RolloutInfo) -> Self {
                Self {
                    namespace: info.namespace,
                    name: info.name,
                    rollout_id: info.rollout_id,
                }
            }
        }

        impl From<SdkObjectRef> for ObjectRef {
            fn from(target: SdkObjectRef) -> Self {
                Self {
                    api_version: target.api_version,
                    kind: target.kind,
                    namespace: target.namespace,
                    name: target.name,
                }
            }
        }

        impl From<SdkChange> for Change {
            fn from(change: SdkChange) -> Self {
                match change {
                    SdkChange::Apply(object) => Self::Apply(object),
                    SdkChange::MergePatch(patch) => Self::MergePatch(Patch {
                        target: patch.target.into(),
                        subresource: patch.subresource,
                        body: patch.body,
                    }),
                    SdkChange::Delete(target) => Self::Delete(target.into()),
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
    };
}
