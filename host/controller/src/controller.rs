//! `waxwing controller`: wires the plugin runtime, the plugin ConfigMap, the Rollout
//! reconciler, the webhook server and the HTTP endpoint.

use std::sync::Arc;

use anyhow::Context as _;
use waxwing_runtime::{CacheDir, HostServices, Registry, Runtime, RuntimeOptions};

use crate::ControllerArgs;
use crate::health::{self, Health};
use crate::metrics::Metrics;
use crate::plugin_config;
use crate::reconcile::{self, ClusterReads, Rollouts};
use crate::webhook;

pub async fn run(args: ControllerArgs) -> anyhow::Result<()> {
    let cache = args
        .plugin_cache_dir
        .clone()
        .map_or(CacheDir::Default, CacheDir::Path);
    let runtime = Runtime::new(RuntimeOptions { cache })?;
    let registry = Registry::new(runtime, waxwing_builtin::BUILTINS);

    let client = kube::Client::try_default()
        .await
        .context("cannot reach the Kubernetes API (is KUBECONFIG set?)")?;
    let rollouts = Rollouts::new(client.clone());
    let mut metrics = Metrics::default();
    metrics.count_rollouts_by_phase(rollouts.store());
    let health = Health::new(metrics);

    let configs = plugin_config::watch(
        client.clone(),
        &args.namespace,
        &args.plugins_configmap,
        registry.clone(),
        health.clone(),
    );
    let settings = reconcile::Settings {
        workers: args.rollout_workers,
        plugins_configmap: format!("{}/{}", args.namespace, args.plugins_configmap),
    };
    let reconciling = rollouts.run(registry.clone(), health.clone(), settings);
    let webhook_services: Arc<dyn HostServices> =
        Arc::new(ClusterReads::cluster_wide(client.clone()));
    let webhooks = webhook::run(
        client,
        registry,
        webhook_services,
        args.webhook.config(&args.namespace),
        health.clone(),
    );
    tokio::select! {
        served = health::serve(args.metrics_addr, health) => served,
        watched = configs => watched,
        served = webhooks => served,
        () = reconciling => Ok(()),
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("interrupted, shutting down");
            Ok(())
        }
    }
}
