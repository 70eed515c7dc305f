//! The plain-HTTP endpoint for probes and scraping: `/healthz`, `/readyz`, `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::metrics::Metrics;

/// Shared by the HTTP handlers and the parts of the controller that report readiness.
pub struct Health {
    pub metrics: Metrics,
    plugins_loaded: AtomicBool,
    webhooks_registered: AtomicBool,
}

impl Health {
    pub fn new(metrics: Metrics) -> Arc<Self> {
        Arc::new(Self {
            metrics,
            plugins_loaded: AtomicBool::new(false),
            webhooks_registered: AtomicBool::new(false),
        })
    }

    /// The plugin registry holds its first configuration: rollouts can be reconciled.
    pub fn set_plugins_loaded(&self) {
        self.plugins_loaded.store(true, Ordering::Release);
    }

    pub fn plugins_loaded(&self) -> bool {
        self.plugins_loaded.load(Ordering::Acquire)
    }

    /// The webhook configurations point at this process and cover the loaded plugins'
    /// workload kinds: an update of a workload is taken over from here on.
    pub fn set_webhooks_registered(&self) {
        self.webhooks_registered.store(true, Ordering::Release);
    }
}

pub async fn serve(addr: SocketAddr, health: Arc<Health>) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for health and metrics: {e}"))?;
    tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn readyz(State(health): State<Arc<Health>>) -> (StatusCode, &'static str) {
    if !health.plugins_loaded() {
        (StatusCode::SERVICE_UNAVAILABLE, "plugins not loaded yet")
    } else if !health.webhooks_registered.load(Ordering::Acquire) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks not registered yet",
        )
    } else {
        (StatusCode::OK, "ok")
    }
}

async fn metrics(State(health): State<Arc<Health>>) -> String {
    health.metrics.render()
}
