//! The typed call API of each world. Every call runs in a fresh instance of the plugin under
//! its limits; see [`CallError`] for what can go wrong.

use std::sync::Arc;

use crate::bindings::policy::PolicyPluginPre;
use crate::bindings::traffic::TrafficPluginPre;
use crate::bindings::workload::WorkloadPluginPre;
use crate::error::{CallError, PluginId};
use crate::plugin::Loaded;
use crate::sandbox::CallState;
use crate::services::HostServices;
use crate::{
    BatchContext, BatchStatus, Change, Decision, ObjectQuery, ObjectRef, PolicyContext,
    ReleaseStyle, RolloutInfo, TrafficContext, WorkloadObjects, WorkloadState,
};

/// A plugin of the `workload-plugin` world. Cloning is cheap.
#[derive(Clone)]
pub struct WorkloadPlugin(pub(crate) Arc<Loaded<WorkloadPluginPre<CallState>>>);

/// A plugin of the `traffic-plugin` world. Cloning is cheap.
#[derive(Clone)]
pub struct TrafficPlugin(pub(crate) Arc<Loaded<TrafficPluginPre<CallState>>>);

/// A plugin of the `policy-plugin` world. Cloning is cheap.
#[derive(Clone)]
pub struct PolicyPlugin(pub(crate) Arc<Loaded<PolicyPluginPre<CallState>>>);

impl WorkloadPlugin {
    pub fn id(&self) -> &PluginId {
        &self.0.sandbox.meta.id
    }

    pub fn related_objects(
        &self,
        services: &Arc<dyn HostServices>,
        workload: &str,
    ) -> Result<Vec<ObjectQuery>, CallError> {
        self.0.call(services, "related-objects", |b, store| {
            b.waxwing_plugin_workload()
                .call_related_objects(store, workload)
        })
    }

    pub fn observe(
        &self,
        services: &Arc<dyn HostServices>,
        objects: &WorkloadObjects,
    ) -> Result<WorkloadState, CallError> {
        self.0.call(services, "observe", |b, store| {
            b.waxwing_plugin_workload().call_observe(store, objects)
        })
    }

    pub fn takeover(
        &self,
        services: &Arc<dyn HostServices>,
        rollout: &RolloutInfo,
        style: ReleaseStyle,
        old: &str,
        new: &str,
    ) -> Result<Option<String>, CallError> {
        self.0.call(services, "takeover", |b, store| {
            b.waxwing_plugin_workload()
                .call_takeover(store, rollout, style, old, new)
        })
    }

    pub fn release_batch(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, CallError> {
        self.0.call(services, "release-batch", |b, store| {
            b.waxwing_plugin_workload()
                .call_release_batch(store, ctx, objects)
        })
    }

    pub fn check_batch(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<BatchStatus, CallError> {
        self.0.call(services, "check-batch", |b, store| {
            b.waxwing_plugin_workload()
                .call_check_batch(store, ctx, objects)
        })
    }

    pub fn abort(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, CallError> {
        self.0.call(services, "abort", |b, store| {
            b.waxwing_plugin_workload().call_abort(store, ctx, objects)
        })
    }

    pub fn finalize(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, CallError> {
        self.0.call(services, "finalize", |b, store| {
            b.waxwing_plugin_workload()
                .call_finalize(store, ctx, objects)
        })
    }
}

impl TrafficPlugin {
    pub fn id(&self) -> &PluginId {
        &self.0.sandbox.meta.id
    }

    pub fn route_objects(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &TrafficContext,
    ) -> Result<Vec<ObjectRef>, CallError> {
        self.0.call(services, "route-objects", |b, store| {
            b.waxwing_plugin_traffic().call_route_objects(store, ctx)
        })
    }

    pub fn route(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &TrafficContext,
        objects: &[String],
    ) -> Result<Vec<Change>, CallError> {
        self.0.call(services, "route", |b, store| {
            b.waxwing_plugin_traffic().call_route(store, ctx, objects)
        })
    }

    pub fn restore(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &TrafficContext,
        objects: &[String],
    ) -> Result<Vec<Change>, CallError> {
        self.0.call(services, "restore", |b, store| {
            b.waxwing_plugin_traffic().call_restore(store, ctx, objects)
        })
    }
}

impl PolicyPlugin {
    pub fn id(&self) -> &PluginId {
        &self.0.sandbox.meta.id
    }

    pub fn evaluate(
        &self,
        services: &Arc<dyn HostServices>,
        ctx: &PolicyContext,
    ) -> Result<Decision, CallError> {
        self.0.call(services, "evaluate", |b, store| {
            b.waxwing_plugin_policy().call_evaluate(store, ctx)
        })
    }
}
