//! The `host` imports of plugins: read-only `get`/`list` against the cluster, and the `metrics`
//! import's queries of the configured metric providers. The runtime has already checked the
//! plugin's grants for the kind or provider; reads made for a Rollout are also limited to the
//! Rollout's namespace.

use std::sync::Arc;

use kube::Client;
use tokio::runtime::Handle;
use waxwing_runtime::{HostServices, MetricQuery, Registry};

use super::kinds::Kinds;
use super::objects;
use crate::metric_providers;

/// Reads for plugin calls. Plugin calls run on blocking threads, so each read blocks its
/// thread on the async client through the runtime's handle.
pub struct ClusterReads {
    client: Client,
    kinds: Arc<Kinds>,
    /// The only namespace reads may touch; `None` for every namespace.
    namespace: Option<String>,
    /// Where the metric providers are configured, read at each query so a changed address
    /// applies at once.
    registry: Registry,
    runtime: Handle,
}

impl ClusterReads {
    /// Reads for the calls made for one Rollout: its namespace only, so a plugin granted
    /// Secrets for its own purposes cannot read another team's. Must be called inside the
    /// Tokio runtime.
    pub fn for_namespace(
        client: Client,
        kinds: Arc<Kinds>,
        registry: Registry,
        namespace: &str,
    ) -> Self {
        Self {
            client,
            kinds,
            namespace: Some(namespace.to_owned()),
            registry,
            runtime: Handle::current(),
        }
    }

    /// Reads in every namespace, limited by the plugins' grants only: for the admission
    /// webhook, which serves workloads of every namespace through one set of host services.
    /// Must be called inside the Tokio runtime.
    pub fn cluster_wide(client: Client, registry: Registry) -> Self {
        Self {
            kinds: Arc::new(Kinds::new(client.clone())),
            client,
            namespace: None,
            registry,
            runtime: Handle::current(),
        }
    }

    fn check_namespace(&self, namespace: &str) -> Result<(), String> {
        match &self.namespace {
            Some(allowed) if allowed != namespace => Err(format!(
                "plugins may read objects in the Rollout's namespace {allowed:?} only, not in \
                 {namespace:?}"
            )),
            _ => Ok(()),
        }
    }
}

impl HostServices for ClusterReads {
    fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, String> {
        self.check_namespace(namespace)?;
        self.runtime.block_on(async {
            let kind = self
                .kinds
                .resolve(api_version, kind)
                .await
                .map_err(|e| e.to_string())?;
            let object = objects::get(&self.client, &kind, namespace, name)
                .await
                .map_err(|e| format!("cannot read {} {name}: {e}", kind.resource.kind))?;
            Ok(object.as_ref().map(objects::to_json))
        })
    }

    fn list_objects(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        label_selector: &str,
    ) -> Result<Vec<String>, String> {
        self.check_namespace(namespace)?;
        self.runtime.block_on(async {
            let kind = self
                .kinds
                .resolve(api_version, kind)
                .await
                .map_err(|e| e.to_string())?;
            let objects = objects::list(&self.client, &kind, namespace, label_selector)
                .await
                .map_err(|e| format!("cannot list {}: {e}", kind.resource.plural))?;
            Ok(objects.iter().map(objects::to_json).collect())
        })
    }

    fn query_metrics(&self, provider: &str, request: &MetricQuery) -> Result<String, String> {
        let plugins = self.registry.current();
        self.runtime
            .block_on(metric_providers::query(&plugins, provider, request))
    }
}
