//! Plugin calls from async code: each runs on a blocking thread (a call is synchronous CPU
//! work, and host reads block on the API client) and is timed into the metrics.

use std::sync::Arc;
use std::time::Instant;

use waxwing_runtime::{
    BatchContext, BatchStatus, CallError, Change, Decision, HostServices, ObjectQuery,
    PolicyContext, PolicyPlugin, TrafficPlugin, WorkloadObjects, WorkloadPlugin, WorkloadState,
};

use super::error::Error;
use crate::health::Health;

/// Runs `call` on a blocking thread and records how long it took.
async fn timed<T: Send + 'static>(
    health: &Health,
    plugin: &str,
    function: &'static str,
    call: impl FnOnce() -> Result<T, CallError> + Send + 'static,
) -> Result<T, Error> {
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(call).await?;
    health
        .metrics
        .plugin_called(plugin, function, started.elapsed(), result.is_err());
    Ok(result?)
}

/// The workload plugin of one Rollout, with the reads it may make.
#[derive(Clone)]
pub struct WorkloadCalls {
    plugin: WorkloadPlugin,
    services: Arc<dyn HostServices>,
    health: Arc<Health>,
}

impl WorkloadCalls {
    pub fn new(
        plugin: WorkloadPlugin,
        services: Arc<dyn HostServices>,
        health: Arc<Health>,
    ) -> Self {
        Self {
            plugin,
            services,
            health,
        }
    }

    /// The plugin as messages name it: its name and build.
    pub fn describe(&self) -> String {
        self.plugin.id().to_string()
    }

    async fn run<T: Send + 'static>(
        &self,
        function: &'static str,
        call: impl FnOnce(&WorkloadPlugin, &Arc<dyn HostServices>) -> Result<T, CallError>
        + Send
        + 'static,
    ) -> Result<T, Error> {
        let plugin = self.plugin.clone();
        let services = Arc::clone(&self.services);
        let name = self.plugin.id().name.clone();
        timed(&self.health, &name, function, move || {
            call(&plugin, &services)
        })
        .await
    }

    pub async fn related_objects(&self, workload: String) -> Result<Vec<ObjectQuery>, Error> {
        self.run("related-objects", move |plugin, services| {
            plugin.related_objects(services, &workload)
        })
        .await
    }

    pub async fn observe(&self, objects: &WorkloadObjects) -> Result<WorkloadState, Error> {
        let objects = objects.clone();
        self.run("observe", move |plugin, services| {
            plugin.observe(services, &objects)
        })
        .await
    }

    pub async fn release_batch(
        &self,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, Error> {
        let (ctx, objects) = (ctx.clone(), objects.clone());
        self.run("release-batch", move |plugin, services| {
            plugin.release_batch(services, &ctx, &objects)
        })
        .await
    }

    pub async fn check_batch(
        &self,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<BatchStatus, Error> {
        let (ctx, objects) = (ctx.clone(), objects.clone());
        self.run("check-batch", move |plugin, services| {
            plugin.check_batch(services, &ctx, &objects)
        })
        .await
    }

    pub async fn abort(
        &self,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, Error> {
        let (ctx, objects) = (ctx.clone(), objects.clone());
        self.run("abort", move |plugin, services| {
            plugin.abort(services, &ctx, &objects)
        })
        .await
    }

    pub async fn finalize(
        &self,
        ctx: &BatchContext,
        objects: &WorkloadObjects,
    ) -> Result<Vec<Change>, Error> {
        let (ctx, objects) = (ctx.clone(), objects.clone());
        self.run("finalize", move |plugin, services| {
            plugin.finalize(services, &ctx, &objects)
        })
        .await
    }
}

/// One traffic plugin function.
pub async fn traffic<T: Send + 'static>(
    health: &Health,
    plugin: &TrafficPlugin,
    services: &Arc<dyn HostServices>,
    function: &'static str,
    call: impl FnOnce(&TrafficPlugin, &Arc<dyn HostServices>) -> Result<T, CallError> + Send + 'static,
) -> Result<T, Error> {
    let (plugin, services) = (plugin.clone(), Arc::clone(services));
    let name = plugin.id().name.clone();
    timed(health, &name, function, move || call(&plugin, &services)).await
}

/// One policy plugin's `evaluate`.
pub async fn evaluate(
    health: &Health,
    plugin: PolicyPlugin,
    services: Arc<dyn HostServices>,
    ctx: PolicyContext,
) -> Result<Decision, Error> {
    let name = plugin.id().name.clone();
    timed(health, &name, "evaluate", move || {
        plugin.evaluate(&services, &ctx)
    })
    .await
}
