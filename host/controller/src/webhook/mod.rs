//! The webhook server: workload takeover (mutating), Rollout validation (validating) and
//! v1alpha1 <-> v1beta1 Rollout conversion, over HTTPS with a certificate generated at start.
//!
//! # Use
//!
//! ```ignore
//! let config = args.webhook.config(&args.namespace, in_cluster)?;
//! // Serves until the future is dropped or the listener fails.
//! webhook::run(client, registry, services, config).await?;
//! ```
//!
//! [`run`] generates a CA and a serving certificate, starts listening, and only then registers
//! itself: server-side apply (field manager `waxwing`) of the `MutatingWebhookConfiguration`
//! `waxwing-mutating`, the `ValidatingWebhookConfiguration` `waxwing-validating`, and the
//! conversion stanza of the CRD `rollouts.rollouts.kruise.io`, all with the new `caBundle`.
//! In [`Mode::Url`] (out of cluster) the API server dials `https://HOST:PORT/...`; in
//! [`Mode::Service`] (in cluster) it goes through a Service. The workload rules follow the
//! plugin registry: every kind a workload plugin handles is covered, and a change of the plugin
//! ConfigMap re-registers within a second.
//!
//! # Endpoints
//!
//! - `/mutate-workload`: UPDATE of workloads labelled `rollouts.kruise.io/workload-type` (the
//!   label the controller stamps on the workloads Rollouts reference). When an enabled Rollout
//!   in the namespace references the workload, the workload plugin's `takeover` supplies a merge
//!   patch that stops the native rollout; it is applied on top of the user's update, so nothing
//!   else of the update is lost. `failurePolicy: Fail`: an update admitted without the takeover
//!   would bypass the Rollout entirely, so when Waxwing is down, updates of Rollout-managed
//!   workloads (and only those, thanks to the label selector) wait for it.
//! - `/validate-rollout`: CREATE and UPDATE of Rollouts, both versions. One Rollout per
//!   workload; workloadRef, release style and traffic routing fixed while a release is under
//!   way; steps that the step machine can run and that never decrease. `failurePolicy: Ignore`:
//!   the step machine checks the spec again at every reconcile and holds a bad one with a status
//!   message, so refusing every Rollout edit while Waxwing is down would protect nothing.
//! - `/convert-rollout`: the CRD conversion webhook (ConversionReview v1).

mod admission;
mod conversion;
mod registration;
mod rollouts;
mod server;
mod shared_identity;
mod takeover;
#[cfg(test)]
mod test_support;
mod tls;
mod validation;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use kube::Client;
use waxwing_runtime::{HostServices, Registry};

use crate::health::Health;
use registration::Endpoint;

/// Where the API server reaches the webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Out of cluster: `https://HOST:<listen port>/...`. `HOST` is an IP address or a DNS name
    /// the API server can dial, usually `127.0.0.1`.
    Url { host: String },
    /// In cluster: through the Service `namespace/name`, whose `port` forwards to the listen
    /// address.
    Service {
        namespace: String,
        name: String,
        port: u16,
    },
}

/// How to run the webhook server.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Address to listen on; port 0 picks a free port (URL mode registers the actual one).
    pub listen: SocketAddr,
    pub mode: Mode,
    /// The controller's namespace, where the shared certificate is kept.
    pub namespace: String,
}

/// The webhook flags of `waxwing controller`.
#[derive(clap::Args, Clone, Debug)]
pub struct WebhookArgs {
    /// Address the webhook server listens on (HTTPS).
    #[arg(long, default_value = "127.0.0.1:9443")]
    pub webhook_addr: SocketAddr,
    /// Out of cluster: the host the API server dials to reach the webhook (URL mode).
    #[arg(long, default_value = "127.0.0.1", conflicts_with = "webhook_service")]
    pub webhook_host: String,
    /// In cluster: the Service, in the controller's namespace, through which the API server
    /// reaches the webhook (Service mode). Without it the webhook runs in URL mode.
    #[arg(long, value_name = "NAME")]
    pub webhook_service: Option<String>,
    /// The port of that Service.
    #[arg(long, default_value_t = 443, requires = "webhook_service")]
    pub webhook_service_port: u16,
}

impl WebhookArgs {
    /// The configuration, with the Service (if any) in `namespace`. Refuses URL mode on a
    /// loopback host inside a pod (`in_cluster`): the API server would be sent to itself, and the
    /// takeover webhook fails closed, so updates of taken-over workloads would be refused.
    pub fn config(&self, namespace: &str, in_cluster: bool) -> anyhow::Result<WebhookConfig> {
        let config = self.unchecked_config(namespace);
        if let Mode::Url { host } = &config.mode
            && in_cluster
            && (host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()))
        {
            anyhow::bail!(
                "running in a pod with the webhooks at https://{host}: the API server cannot \
                 reach a pod's loopback address; pass --webhook-service NAME (the Service in \
                 front of the controller) or --webhook-host with an address the API server can dial"
            );
        }
        Ok(config)
    }

    fn unchecked_config(&self, namespace: &str) -> WebhookConfig {
        let mode = match &self.webhook_service {
            Some(name) => Mode::Service {
                namespace: namespace.to_string(),
                name: name.clone(),
                port: self.webhook_service_port,
            },
            None => Mode::Url {
                host: self.webhook_host.clone(),
            },
        };
        WebhookConfig {
            listen: self.webhook_addr,
            mode,
            namespace: namespace.to_owned(),
        }
    }
}

/// What every endpoint works with.
struct Context {
    client: Client,
    registry: Registry,
    /// Handed to workload plugins for the reads their `takeover` may make.
    services: Arc<dyn HostServices>,
}

/// Serves the webhooks and keeps their registration in step with the plugin registry. Runs
/// until the future is dropped; returns an error when the listener cannot be opened or fails.
/// Registration failures are logged and retried, never fatal: the controller keeps
/// reconciling while, for example, RBAC is being fixed.
pub async fn run(
    client: Client,
    registry: Registry,
    services: Arc<dyn HostServices>,
    config: WebhookConfig,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let names = registration::certificate_names(&config.mode);
    let identity =
        shared_identity::load_or_create(client.clone(), &config.namespace, &names).await?;
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {} for the webhooks", config.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, mode = ?config.mode, "serving the webhooks");

    let endpoint = Endpoint::new(&config.mode, addr.port(), identity.ca_pem());
    let context = Arc::new(Context {
        client: client.clone(),
        registry: registry.clone(),
        services,
    });
    // The listener accepts connections from here on, so registering now never sends the
    // API server to a port nobody answers.
    let serving = server::serve(listener, identity.server_config()?, context);
    let registering = registration::keep_registered(client, registry, endpoint, health);
    tokio::select! {
        served = serving => served,
        () = registering => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        webhook: WebhookArgs,
    }

    fn config(args: &[&str], in_cluster: bool) -> anyhow::Result<WebhookConfig> {
        let cli = Cli::try_parse_from(std::iter::once("waxwing").chain(args.iter().copied()))?;
        cli.webhook.config("waxwing-system", in_cluster)
    }

    #[test]
    fn a_pod_refuses_a_loopback_webhook_url() {
        let err = config(&[], true).unwrap_err().to_string();
        assert!(err.contains("--webhook-service"), "{err}");
        assert!(config(&[], false).is_ok());
        let service = config(&["--webhook-service", "waxwing-webhook"], true).unwrap();
        assert!(matches!(service.mode, Mode::Service { .. }));
        assert!(config(&["--webhook-host", "10.0.0.5"], true).is_ok());
    }
}
