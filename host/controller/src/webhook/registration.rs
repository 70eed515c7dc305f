//! Self-registration: the webhook configurations and the CRD's conversion stanza, written by
//! server-side apply with the field manager `waxwing`, carrying the CA generated at start.
//!
//! Only Waxwing's own fields are claimed: `kubectl apply --server-side -f deploy/crds/` (whose
//! CRD has no conversion stanza, by design) leaves the conversion webhook in place, and
//! re-registering after a plugin change replaces exactly the rules written before.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use kube::api::{Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::time::Instant;
use waxwing_api::labels::WORKLOAD_TYPE;
use waxwing_runtime::{Gvk, PluginSet, Registry};

use super::Mode;
use super::rollouts::group_of;
use super::server::{CONVERT_ROLLOUT, MUTATE_WORKLOAD, VALIDATE_ROLLOUT};
use crate::health::Health;

pub const MUTATING_CONFIGURATION: &str = "waxwing-mutating";
pub const VALIDATING_CONFIGURATION: &str = "waxwing-validating";
pub const ROLLOUT_CRD: &str = "rollouts.rollouts.kruise.io";
const FIELD_MANAGER: &str = "waxwing";
const TAKEOVER_WEBHOOK: &str = "workload-takeover.waxwing.rollouts.kruise.io";
const VALIDATION_WEBHOOK: &str = "rollout-validation.waxwing.rollouts.kruise.io";
/// Room for a Rollout list and a plugin call at its default 1 s limit, well under the API
/// server's 30 s ceiling.
const TIMEOUT_SECONDS: i32 = 10;
/// How often the plugin registry is checked for a change of the workload kinds.
const POLL: Duration = Duration::from_secs(1);
/// After a failed or partial registration (a kind not served yet, the API unreachable).
const RETRY: Duration = Duration::from_secs(15);

/// The names the serving certificate is valid for.
pub fn certificate_names(mode: &Mode) -> Vec<String> {
    let names = match mode {
        Mode::Url { host } => vec![host.clone(), "127.0.0.1".into(), "localhost".into()],
        Mode::Service {
            namespace, name, ..
        } => vec![
            format!("{name}.{namespace}.svc"),
            format!("{name}.{namespace}.svc.cluster.local"),
            format!("{name}.{namespace}"),
            name.clone(),
        ],
    };
    let mut seen = BTreeSet::new();
    names
        .into_iter()
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

/// How the API server reaches this process, and the CA it must trust.
#[derive(Clone, Debug)]
pub struct Endpoint {
    target: Target,
    ca_bundle: ByteString,
}

#[derive(Clone, Debug)]
enum Target {
    /// `https://host:port`, without a path.
    Url(String),
    Service(ServiceReference),
}

/// A workload resource the takeover webhook covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadResource {
    pub group: String,
    pub version: String,
    /// The resource name in URLs: `deployments`.
    pub plural: String,
}

impl Endpoint {
    /// `listen_port` is the port actually bound, which URL mode publishes.
    pub fn new(mode: &Mode, listen_port: u16, ca_pem: &str) -> Endpoint {
        let target = match mode {
            Mode::Url { host } => {
                let host = match host.parse::<IpAddr>() {
                    Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
                    _ => host.clone(),
                };
                Target::Url(format!("https://{host}:{listen_port}"))
            }
            Mode::Service {
                namespace,
                name,
                port,
            } => Target::Service(ServiceReference {
                namespace: namespace.clone(),
                name: name.clone(),
                port: Some(i32::from(*port)),
                path: None,
            }),
        };
        Endpoint {
            target,
            ca_bundle: ByteString(ca_pem.as_bytes().to_vec()),
        }
    }

    fn client_config(&self, path: &str) -> WebhookClientConfig {
        let (url, service) = match &self.target {
            Target::Url(base) => (Some(format!("{base}{path}")), None),
            Target::Service(service) => (
                None,
                Some(ServiceReference {
                    path: Some(path.to_string()),
                    ..service.clone()
                }),
            ),
        };
        WebhookClientConfig {
            ca_bundle: Some(self.ca_bundle.clone()),
            service,
            url,
        }
    }

    /// The takeover webhook for UPDATEs of `workloads` carrying the workload-type label.
    /// `failurePolicy: Fail`: see the module documentation of `webhook`.
    pub fn mutating(&self, workloads: &[WorkloadResource]) -> MutatingWebhookConfiguration {
        let rules = workloads
            .iter()
            .map(|workload| RuleWithOperations {
                api_groups: Some(vec![workload.group.clone()]),
                api_versions: Some(vec![workload.version.clone()]),
                resources: Some(vec![workload.plural.clone()]),
                operations: Some(vec!["UPDATE".into()]),
                scope: Some("Namespaced".into()),
            })
            .collect();
        MutatingWebhookConfiguration {
            metadata: named(MUTATING_CONFIGURATION),
            webhooks: Some(vec![MutatingWebhook {
                name: TAKEOVER_WEBHOOK.into(),
                client_config: self.client_config(MUTATE_WORKLOAD),
                rules: Some(rules),
                object_selector: Some(LabelSelector {
                    match_expressions: Some(vec![LabelSelectorRequirement {
                        key: WORKLOAD_TYPE.into(),
                        operator: "Exists".into(),
                        values: None,
                    }]),
                    match_labels: None,
                }),
                failure_policy: Some("Fail".into()),
                match_policy: Some("Equivalent".into()),
                // Another mutating webhook may change the template after this one; the
                // takeover must see the final object. The plugin's answer is idempotent.
                reinvocation_policy: Some("IfNeeded".into()),
                side_effects: "None".into(),
                admission_review_versions: vec!["v1".into()],
                timeout_seconds: Some(TIMEOUT_SECONDS),
                ..MutatingWebhook::default()
            }]),
        }
    }

    /// The Rollout validation webhook. `failurePolicy: Ignore`: see the module documentation
    /// of `webhook`.
    pub fn validating(&self) -> ValidatingWebhookConfiguration {
        ValidatingWebhookConfiguration {
            metadata: named(VALIDATING_CONFIGURATION),
            webhooks: Some(vec![ValidatingWebhook {
                name: VALIDATION_WEBHOOK.into(),
                client_config: self.client_config(VALIDATE_ROLLOUT),
                rules: Some(vec![RuleWithOperations {
                    api_groups: Some(vec!["rollouts.kruise.io".into()]),
                    api_versions: Some(vec!["v1alpha1".into(), "v1beta1".into()]),
                    resources: Some(vec!["rollouts".into()]),
                    operations: Some(vec!["CREATE".into(), "UPDATE".into()]),
                    scope: Some("Namespaced".into()),
                }]),
                failure_policy: Some("Ignore".into()),
                match_policy: Some("Equivalent".into()),
                side_effects: "None".into(),
                admission_review_versions: vec!["v1".into()],
                timeout_seconds: Some(TIMEOUT_SECONDS),
                ..ValidatingWebhook::default()
            }]),
        }
    }

    /// The apply configuration of the Rollout CRD's conversion stanza: only the fields
    /// Waxwing owns, so the rest of the CRD stays with whoever applied it.
    pub fn crd_conversion(&self) -> Value {
        // The CRD's WebhookClientConfig has the same JSON shape as the admission one.
        let client_config = self.client_config(CONVERT_ROLLOUT);
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": ROLLOUT_CRD},
            "spec": {"conversion": {
                "strategy": "Webhook",
                "webhook": {"clientConfig": client_config, "conversionReviewVersions": ["v1"]}
            }}
        })
    }
}

fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        ..ObjectMeta::default()
    }
}

/// The workload kinds the plugins in service handle.
fn workload_kinds(plugins: &PluginSet) -> BTreeSet<Gvk> {
    plugins
        .iter()
        .filter(|registered| registered.plugin.as_workload().is_some())
        .flat_map(|registered| registered.entry.handles.workloads.iter().cloned())
        .collect()
}

/// Registers the webhooks, then again whenever the workload kinds of the plugin registry
/// change, and retries after failures. Never returns.
pub async fn keep_registered(
    client: Client,
    registry: Registry,
    endpoint: Endpoint,
    health: Arc<Health>,
) {
    let mut ticker = tokio::time::interval(POLL);
    let mut seen: Option<Arc<PluginSet>> = None;
    let mut registered: Option<BTreeSet<Gvk>> = None;
    let mut retry_at: Option<Instant> = None;
    loop {
        ticker.tick().await;
        // Read before the snapshot: a registration counts for readiness only if it covered
        // a loaded configuration, not the empty one the registry starts with.
        let loaded = health.plugins_loaded();
        let plugins = registry.current();
        let retry_due = retry_at.is_some_and(|at| Instant::now() >= at);
        if !retry_due
            && seen
                .as_ref()
                .is_some_and(|seen| Arc::ptr_eq(seen, &plugins))
        {
            continue;
        }
        seen = Some(Arc::clone(&plugins));
        let kinds = workload_kinds(&plugins);
        if !retry_due && registered.as_ref() == Some(&kinds) {
            continue;
        }
        retry_at = None;
        let (resources, unresolved) = resolve(&client, &kinds).await;
        match register(&client, &endpoint, &resources).await {
            Ok(()) => {
                let covered: Vec<String> = resources
                    .iter()
                    .map(|r| format!("{}/{}", r.group, r.plural))
                    .collect();
                tracing::info!(?covered, "webhooks registered");
                if !unresolved.is_empty() {
                    tracing::warn!(
                        "workloads of these kinds are not taken over until the API server \
                         serves them (retrying): {}",
                        unresolved.join("; ")
                    );
                    retry_at = Some(Instant::now() + RETRY);
                }
                registered = Some(kinds);
                if loaded {
                    health.set_webhooks_registered();
                }
            }
            Err(e) => {
                tracing::error!("cannot register the webhooks (retrying in {RETRY:?}): {e:#}");
                retry_at = Some(Instant::now() + RETRY);
            }
        }
    }
}

/// Looks up the resource name of every kind; kinds the API server does not serve (a CRD not
/// installed yet) or that are not namespaced are returned as messages instead.
async fn resolve(client: &Client, kinds: &BTreeSet<Gvk>) -> (Vec<WorkloadResource>, Vec<String>) {
    let mut resources = Vec::new();
    let mut unresolved = Vec::new();
    for kind in kinds {
        let group = group_of(&kind.api_version);
        let version = kind
            .api_version
            .rsplit_once('/')
            .map_or(kind.api_version.as_str(), |(_, version)| version);
        match pinned_kind(client, &GroupVersionKind::gvk(group, version, &kind.kind)).await {
            Ok((resource, capabilities)) if capabilities.scope == Scope::Namespaced => {
                resources.push(WorkloadResource {
                    group: group.to_string(),
                    version: version.to_string(),
                    plural: resource.plural,
                });
            }
            Ok(_) => unresolved.push(format!(
                "{kind} is cluster-scoped, and Rollouts only manage namespaced workloads"
            )),
            Err(e) => unresolved.push(format!("{kind}: {e}")),
        }
    }
    (resources, unresolved)
}

async fn register(
    client: &Client,
    endpoint: &Endpoint,
    workloads: &[WorkloadResource],
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .patch(
            MUTATING_CONFIGURATION,
            &apply,
            &Patch::Apply(endpoint.mutating(workloads)),
        )
        .await
        .with_context(|| {
            format!("applying MutatingWebhookConfiguration {MUTATING_CONFIGURATION}")
        })?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .patch(
            VALIDATING_CONFIGURATION,
            &apply,
            &Patch::Apply(endpoint.validating()),
        )
        .await
        .with_context(|| {
            format!("applying ValidatingWebhookConfiguration {VALIDATING_CONFIGURATION}")
        })?;
    Api::<CustomResourceDefinition>::all(client.clone())
        .patch(
            ROLLOUT_CRD,
            &apply,
            &Patch::Apply(endpoint.crd_conversion()),
        )
        .await
        .with_context(|| {
            format!(
                "setting the conversion webhook of CRD {ROLLOUT_CRD} (are the CRDs installed? \
                 kubectl apply --server-side -f deploy/crds/)"
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::test_support;

    fn url_mode() -> Endpoint {
        let mode = Mode::Url {
            host: "127.0.0.1".into(),
        };
        Endpoint::new(&mode, 9443, "-----BEGIN CERTIFICATE-----\nCA\n")
    }

    fn service_mode() -> Endpoint {
        let mode = Mode::Service {
            namespace: "waxwing-system".into(),
            name: "waxwing-webhook".into(),
            port: 443,
        };
        Endpoint::new(&mode, 9443, "CA")
    }

    fn deployments() -> Vec<WorkloadResource> {
        vec![WorkloadResource {
            group: "apps".into(),
            version: "v1".into(),
            plural: "deployments".into(),
        }]
    }

    #[test]
    fn certificate_names_cover_how_the_api_server_dials() {
        assert_eq!(
            certificate_names(&Mode::Url {
                host: "127.0.0.1".into()
            }),
            ["127.0.0.1", "localhost"]
        );
        assert_eq!(
            certificate_names(&Mode::Url {
                host: "host.example".into()
            }),
            ["host.example", "127.0.0.1", "localhost"]
        );
        assert_eq!(
            certificate_names(&Mode::Service {
                namespace: "ns".into(),
                name: "hook".into(),
                port: 443
            }),
            [
                "hook.ns.svc",
                "hook.ns.svc.cluster.local",
                "hook.ns",
                "hook"
            ]
        );
    }

    #[test]
    fn url_mode_points_at_the_bound_port_with_the_ca() {
        let mutating = serde_json::to_value(url_mode().mutating(&deployments())).unwrap();
        assert_eq!(mutating["metadata"]["name"], MUTATING_CONFIGURATION);
        let webhook = &mutating["webhooks"][0];
        assert_eq!(
            webhook["clientConfig"]["url"],
            "https://127.0.0.1:9443/mutate-workload"
        );
        assert!(webhook["clientConfig"].get("service").is_none());
        // caBundle is the PEM, base64-encoded as the API expects.
        assert_eq!(
            webhook["clientConfig"]["caBundle"],
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg=="
        );
        assert_eq!(
            webhook["rules"],
            json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"],
                    "operations": ["UPDATE"], "scope": "Namespaced"}])
        );
        assert_eq!(
            webhook["objectSelector"],
            json!({"matchExpressions": [{"key": "rollouts.kruise.io/workload-type", "operator": "Exists"}]})
        );
        assert_eq!(webhook["failurePolicy"], "Fail");
        assert_eq!(webhook["sideEffects"], "None");
        assert_eq!(webhook["admissionReviewVersions"], json!(["v1"]));

        let ipv6 = Endpoint::new(&Mode::Url { host: "::1".into() }, 8443, "CA");
        assert_eq!(
            ipv6.client_config("/x").url.as_deref(),
            Some("https://[::1]:8443/x")
        );
    }

    #[test]
    fn validation_covers_both_versions_and_is_ignored_when_down() {
        let validating = serde_json::to_value(url_mode().validating()).unwrap();
        assert_eq!(validating["metadata"]["name"], VALIDATING_CONFIGURATION);
        let webhook = &validating["webhooks"][0];
        assert_eq!(
            webhook["clientConfig"]["url"],
            "https://127.0.0.1:9443/validate-rollout"
        );
        assert_eq!(
            webhook["rules"][0]["apiVersions"],
            json!(["v1alpha1", "v1beta1"])
        );
        assert_eq!(
            webhook["rules"][0]["operations"],
            json!(["CREATE", "UPDATE"])
        );
        assert_eq!(webhook["failurePolicy"], "Ignore");
    }

    #[test]
    fn service_mode_goes_through_the_service() {
        let endpoint = service_mode();
        let crd = endpoint.crd_conversion();
        assert_eq!(crd["metadata"]["name"], ROLLOUT_CRD);
        let conversion = &crd["spec"]["conversion"];
        assert_eq!(conversion["strategy"], "Webhook");
        assert_eq!(
            conversion["webhook"]["conversionReviewVersions"],
            json!(["v1"])
        );
        assert_eq!(
            conversion["webhook"]["clientConfig"]["service"],
            json!({"namespace": "waxwing-system", "name": "waxwing-webhook", "port": 443,
                   "path": "/convert-rollout"})
        );
        assert!(conversion["webhook"]["clientConfig"].get("url").is_none());
        assert_eq!(conversion["webhook"]["clientConfig"]["caBundle"], "Q0E=");
        // The apply configuration names nothing else of the CRD.
        assert_eq!(crd["spec"].as_object().unwrap().len(), 1);

        let mutating = serde_json::to_value(endpoint.mutating(&[])).unwrap();
        assert_eq!(
            mutating["webhooks"][0]["clientConfig"]["service"]["path"],
            "/mutate-workload"
        );
        assert_eq!(mutating["webhooks"][0]["rules"], json!([]));
    }

    #[test]
    fn the_rules_follow_the_workload_plugins_in_service() {
        let registry = test_support::default_registry();
        assert_eq!(
            workload_kinds(&registry.current()),
            BTreeSet::from([
                Gvk::new("apps/v1", "Deployment"),
                Gvk::new("apps.kruise.io/v1alpha1", "CloneSet"),
                Gvk::new("apps/v1", "StatefulSet"),
                Gvk::new("apps.kruise.io/v1beta1", "StatefulSet"),
            ]),
            "the pause plugin is a policy plugin and handles no workloads"
        );
        registry.apply("plugins: []", &Default::default());
        assert!(workload_kinds(&registry.current()).is_empty());
    }
}
