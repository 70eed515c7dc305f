//! `waxwing controller`: wires the plugin runtime, the plugin ConfigMap, the Rollout
//! reconciler, the webhook server and the HTTP endpoint.

use std::sync::Arc;

use anyhow::Context as _;
use waxwing_runtime::{CacheDir, HostServices, Registry, Runtime, RuntimeOptions};

use crate::ControllerArgs;
use crate::health::{self, Health};
use crate::leader::{Elector, LeaderArgs};
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
    let elector = Elector::new(client.clone(), &args.namespace, &args.leader);
    let reconciling = lead(
        &args.leader,
        &elector,
        &health,
        rollouts.run(registry.clone(), health.clone(), settings),
    );
    let webhook_services: Arc<dyn HostServices> =
        Arc::new(ClusterReads::cluster_wide(client.clone(), registry.clone()));
    let webhooks = webhook::run(
        client,
        registry,
        webhook_services,
        args.webhook.config(
            &args.namespace,
            std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
        )?,
        health.clone(),
    );
    let result = tokio::select! {
        served = health::serve(args.metrics_addr, health.clone()) => served,
        watched = configs => watched,
        served = webhooks => served,
        led = reconciling => led,
        () = shutdown_signal() => {
            tracing::info!("asked to stop, shutting down");
            Ok(())
        }
    };
    if args.leader.leader_elect {
        elector.release().await;
    }
    result
}

/// SIGINT or SIGTERM (what the kubelet sends).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); stopping on SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs `reconciling` while this replica leads (always, without leader election). Returns an
/// error when leadership is lost.
async fn lead(
    args: &LeaderArgs,
    elector: &Elector,
    health: &Health,
    reconciling: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if args.leader_elect {
        elector.acquire().await?;
        tracing::info!(
            identity = elector.identity(),
            "leading: reconciling Rollouts"
        );
    }
    health.metrics.leader.set(1);
    let result = if args.leader_elect {
        tokio::select! {
            lost = elector.hold() => lost,
            () = reconciling => Ok(()),
        }
    } else {
        reconciling.await;
        Ok(())
    };
    health.metrics.leader.set(0);
    result
}
