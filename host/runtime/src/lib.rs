//! Waxwing's WebAssembly plugin host.
//!
//! Plugins are components implementing one world of `wit/plugin.wit`. The [`Runtime`] compiles
//! them once (off the reconcile path, with an on-disk cache) and runs every call in a fresh,
//! sandboxed instance: a memory cap, a deadline, no filesystem, network, environment or clock,
//! and host reads limited to what the plugin was granted. The [`Registry`] keeps the set of
//! plugins configured in the `waxwing-plugins` ConfigMap, swapping it atomically on change.
//!
//! The runtime knows nothing about Kubernetes: objects are JSON text it passes through, and the
//! controller implements [`HostServices`] for the reads plugins are allowed to make.

mod answer;
mod bindings;
mod cache;
mod calls;
mod config;
mod error;
mod fixtures;
mod host_imports;
mod limits;
mod plugin;
mod registry;
mod runtime;
mod sandbox;
mod services;
mod world;
mod world_check;

pub use cache::CacheDir;
pub use calls::{PolicyPlugin, TrafficPlugin, WorkloadPlugin};
pub use config::{Handles, LimitsConfig, MetricProvider, PluginEntry, ProviderKind, TrafficHandle};
pub use error::{CallError, EngineError, LoadError, PluginId};
pub use fixtures::{FixtureOutcome, FixtureResult, render_table, run_fixtures};
pub use limits::{EPOCH_TICK, Limits};
pub use plugin::{CompiledComponent, ComponentInfo, Plugin, PluginSettings};
pub use registry::{
    ApplyReport, BuiltinTable, ConfigMapWasm, PluginSet, ProviderRefusal, Refusal,
    RegisteredPlugin, Registry,
};
pub use runtime::{Runtime, RuntimeOptions};
pub use services::{Grants, Gvk, HostServices, NoHostServices};
pub use world::{UnknownWorld, WIT_PACKAGE, WIT_VERSION, World};

// The contract's types, as every world's calls take and return them.
pub use bindings::policy::exports::waxwing::plugin::policy::{Decision, PolicyContext, WaitReason};
pub use bindings::policy::waxwing::plugin::metrics::{MetricQuery, QueryRange};
pub use bindings::traffic::exports::waxwing::plugin::traffic::{
    HeaderMatch, HeaderModifier, PathMatch, RouteMatch, TrafficContext,
};
pub use bindings::workload::exports::waxwing::plugin::workload::{
    BatchContext, BatchStatus, ReleaseStyle, WorkloadObjects, WorkloadState,
};
pub use bindings::workload::waxwing::plugin::types::{
    Change, ObjectQuery, ObjectRef, Patch, PluginError, Replicas, RolloutInfo,
};
