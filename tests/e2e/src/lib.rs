//! End-to-end test harness for Waxwing against the local test control plane.
//!
//! The cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok fake
//! nodes, Gateway API and Kruise CRDs, kruise-manager) is started by `make cluster-up`
//! (`tests/cluster/up.sh`). This crate never starts it: a test that cannot reach it fails
//! with a message saying so.
//!
//! Typical use:
//! ```no_run
//! # async fn t() -> anyhow::Result<()> {
//! use waxwing_e2e::*;
//! let ns = TestNamespace::new("my-test").await?;
//! ns.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}").await?;
//! let deploy = wait_for(&ns.api::<k8s_openapi::api::apps::v1::Deployment>(), "web",
//!     "3 ready replicas", DEFAULT_TIMEOUT,
//!     |d| d.status.as_ref().and_then(|s| s.ready_replicas) == Some(3)).await?;
//! # Ok(()) }
//! ```
//!
//! Pod conventions of the kwok-based cluster: pods are scheduled onto fake nodes and become
//! Running and Ready with an IP right away; a pod with any container image containing
//! `:fail` (e.g. `echoserver:fail-v2`) becomes Running but never Ready.

use std::fmt::Debug;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Client, Config, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use k8s_openapi;
pub use kube;
pub use waxwing_api;

pub mod cli;
pub mod metrics;
pub mod plugins;
pub mod rollout;
pub mod traffic;

/// Default timeout of the wait helpers.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Field manager used for server-side apply.
pub const FIELD_MANAGER: &str = "waxwing-e2e";
/// Label put on every namespace created by [`TestNamespace`].
pub const NAMESPACE_LABEL: &str = "waxwing.io/e2e";
/// Poll interval of the wait helpers.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

const HOW_TO_START: &str = "start the test cluster first with `make cluster-up` (tests/cluster/up.sh) \
     and run the e2e tests with `make test-e2e`";

/// Path of the kubeconfig the tests use: `$KUBECONFIG` if set, else
/// `<repo>/target/cluster/kubeconfig` (written by `make cluster-up`).
pub fn kubeconfig_path() -> PathBuf {
    match std::env::var_os("KUBECONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join("target/cluster/kubeconfig"),
    }
}

/// Root of the repository (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Client configuration for the test cluster; fails with a "run make cluster-up" message
/// if the kubeconfig is missing.
pub async fn config() -> Result<Config> {
    let path = kubeconfig_path();
    if !path.exists() {
        bail!(
            "no test cluster: kubeconfig {} does not exist; {HOW_TO_START}",
            path.display()
        );
    }
    let kc = Kubeconfig::read_from(&path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    let mut cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .with_context(|| format!("loading kubeconfig {}", path.display()))?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    cfg.read_timeout = Some(Duration::from_secs(60));
    Ok(cfg)
}

/// A client for the test cluster, checked to be reachable.
pub async fn connect() -> Result<Client> {
    let cfg = config().await?;
    let url = cfg.cluster_url.clone();
    let client = Client::try_from(cfg).context("building the kube client")?;
    match tokio::time::timeout(Duration::from_secs(10), client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(anyhow!(
            "test cluster at {url} (kubeconfig {}) is not reachable: {e}; {HOW_TO_START}",
            kubeconfig_path().display()
        )),
        Err(_) => Err(anyhow!(
            "test cluster at {url} (kubeconfig {}) did not answer within 10s; {HOW_TO_START}",
            kubeconfig_path().display()
        )),
    }
}

/// A namespace unique to one test. Deleted when dropped (also when the test panics),
/// unless `WAXWING_E2E_KEEP_NAMESPACES=1`.
pub struct TestNamespace {
    name: String,
    client: Client,
    config: Config,
    deleted: bool,
}

impl TestNamespace {
    /// Create `e2e-<prefix>-<unique suffix>` and wait for its `default` ServiceAccount
    /// (pods are rejected until it exists).
    pub async fn new(prefix: &str) -> Result<Self> {
        let config = config().await?;
        let client = connect().await?;
        let name = unique_name(&format!("e2e-{prefix}"));
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": name, "labels": { NAMESPACE_LABEL: "true" } }
        }))?;
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        let this = TestNamespace {
            name,
            client,
            config,
            deleted: false,
        };
        wait_for(
            &this.api::<ServiceAccount>(),
            "default",
            "the default ServiceAccount (created by kube-controller-manager)",
            DEFAULT_TIMEOUT,
            |_| true,
        )
        .await?;
        Ok(this)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Typed API in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Server-side apply every document of a (multi-document) YAML or JSON string, into this
    /// namespace for namespaced kinds. Returns the applied objects.
    pub async fn apply_yaml(&self, yaml: &str) -> Result<Vec<DynamicObject>> {
        apply_yaml(&self.client, Some(&self.name), yaml).await
    }

    /// Server-side apply one typed object into this namespace.
    pub async fn apply<K>(&self, obj: &K) -> Result<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + Debug
            + Serialize
            + DeserializeOwned,
        <K as Resource>::DynamicType: Default,
    {
        apply(&self.api::<K>(), obj).await
    }

    /// Pods in this namespace matching a label selector (e.g. `app=web`).
    pub async fn pods(&self, selector: &str) -> Result<Vec<Pod>> {
        let list = self
            .api::<Pod>()
            .list(&ListParams::default().labels(selector))
            .await
            .with_context(|| format!("listing pods {selector} in {}", self.name))?;
        Ok(list.items)
    }

    /// Delete the namespace now (what drop does), reporting errors.
    pub async fn cleanup(mut self) -> Result<()> {
        self.deleted = true;
        delete_namespace(&self.client, &self.name).await
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if self.deleted || std::env::var("WAXWING_E2E_KEEP_NAMESPACES").is_ok_and(|v| v == "1") {
            return;
        }
        // The client's background task lives on the test's runtime, which may be blocked
        // here (or shutting down): delete with a fresh client on a runtime of our own.
        let (name, config) = (self.name.clone(), self.config.clone());
        let res = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let client = Client::try_from(config)?;
                delete_namespace(&client, &name).await
            })
        })
        .join();
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("waxwing-e2e: deleting namespace {}: {e:#}", self.name),
            Err(_) => eprintln!("waxwing-e2e: deleting namespace {} panicked", self.name),
        }
    }
}

async fn delete_namespace(client: &Client, name: &str) -> Result<()> {
    match Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting namespace {name}")),
    }
}

/// `prefix-<suffix>`: unique across processes and calls, valid as a DNS-1123 label.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!("{:x}{:x}{n:x}", std::process::id() & 0xffff, nanos >> 12);
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    prefix.truncate(62 - suffix.len());
    format!("{}-{suffix}", prefix.trim_end_matches('-'))
}

/// Outcome of one check of a [`poll_until`] condition.
pub enum Check<T> {
    /// The condition holds: stop polling and return this.
    Done(T),
    /// Not yet: a description of what was observed, reported if the wait times out.
    Pending(String),
}

/// Poll `check` every [`POLL_INTERVAL`] until it returns [`Check::Done`]. On timeout, the
/// error names `what` and the last observed state. Errors from `check` are retried (and
/// reported as the last state) because the API server may be briefly unavailable.
pub async fn poll_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match check().await {
            Ok(Check::Done(v)) => return Ok(v),
            Ok(Check::Pending(s)) => s,
            Err(e) => format!("error: {e:#}"),
        };
        if start.elapsed() >= timeout {
            bail!("timed out after {timeout:?} waiting for {what}; last observed: {last}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Wait until the object `name` exists and satisfies `pred`; returns it. The timeout error
/// includes the object's last observed status.
pub async fn wait_for<K, P>(
    api: &Api<K>,
    name: &str,
    what: &str,
    timeout: Duration,
    pred: P,
) -> Result<K>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
    P: Fn(&K) -> bool,
{
    let desc = format!("{what} ({} {name}{})", plural(api), ns_suffix(api));
    poll_until(&desc, timeout, || async {
        match api.get_opt(name).await? {
            Some(obj) if pred(&obj) => Ok(Check::Done(obj)),
            Some(obj) => Ok(Check::Pending(summarize(&obj))),
            None => Ok(Check::Pending("not found".into())),
        }
    })
    .await
}

/// Wait until the list of objects matching `lp` satisfies `pred`; returns the list. The
/// timeout error includes a summary of the last list.
pub async fn wait_for_list<K, P>(
    api: &Api<K>,
    lp: &ListParams,
    what: &str,
    timeout: Duration,
    pred: P,
) -> Result<Vec<K>>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
    P: Fn(&[K]) -> bool,
{
    let sel = lp.label_selector.as_deref().unwrap_or("");
    let desc = format!(
        "{what} ({} list{}{})",
        plural(api),
        if sel.is_empty() {
            String::new()
        } else {
            format!(" -l {sel}")
        },
        ns_suffix(api)
    );
    poll_until(&desc, timeout, || async {
        let items = api.list(lp).await?.items;
        if pred(&items) {
            Ok(Check::Done(items))
        } else {
            let s: Vec<String> = items.iter().map(summarize).collect();
            Ok(Check::Pending(format!(
                "{} item(s): [{}]",
                items.len(),
                s.join(", ")
            )))
        }
    })
    .await
}

/// Wait until the object is gone (404).
pub async fn wait_deleted<K>(api: &Api<K>, name: &str, timeout: Duration) -> Result<()>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    poll_until(
        &format!("{} {name}{} to be deleted", plural(api), ns_suffix(api)),
        timeout,
        || async {
            Ok(match api.get_opt(name).await? {
                None => Check::Done(()),
                Some(o) => Check::Pending(summarize(&o)),
            })
        },
    )
    .await
}

/// Resource name (plural, e.g. `deployments`) of an Api, from its URL.
fn plural<K: Resource>(api: &Api<K>) -> &str {
    api.resource_url().rsplit('/').next().unwrap_or("object")
}

fn ns_suffix<K: Resource>(api: &Api<K>) -> String {
    api.namespace()
        .map(|ns| format!(" in {ns}"))
        .unwrap_or_default()
}

/// Short description of an object for timeout messages: name, generation and status (or,
/// for pods, phase/readiness/image/IP).
pub fn summarize<K: Serialize + Resource>(obj: &K) -> String {
    let v = serde_json::to_value(obj).unwrap_or_default();
    let name = obj.meta().name.clone().unwrap_or_default();
    if v.get("kind").and_then(|k| k.as_str()) == Some("Pod") {
        let ready = v
            .pointer("/status/conditions")
            .and_then(|c| c.as_array())
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .map(|c| c["status"].as_str().unwrap_or("?").to_string())
            .unwrap_or_else(|| "-".into());
        let images: Vec<&str> = v
            .pointer("/spec/containers")
            .and_then(|c| c.as_array())
            .map(|cs| cs.iter().filter_map(|c| c["image"].as_str()).collect())
            .unwrap_or_default();
        return format!(
            "{name}(phase={}, ready={ready}, ip={}, node={}, image={}{})",
            v.pointer("/status/phase")
                .and_then(|p| p.as_str())
                .unwrap_or("-"),
            v.pointer("/status/podIP")
                .and_then(|p| p.as_str())
                .unwrap_or("-"),
            v.pointer("/spec/nodeName")
                .and_then(|p| p.as_str())
                .unwrap_or("-"),
            images.join("+"),
            if obj.meta().deletion_timestamp.is_some() {
                ", terminating"
            } else {
                ""
            },
        );
    }
    let status = v
        .get("status")
        .map(|s| s.to_string())
        .unwrap_or_else(|| "{}".into());
    format!(
        "{name}(generation={:?}, status={status})",
        obj.meta().generation
    )
}

/// Server-side apply a typed object (force, field manager [`FIELD_MANAGER`]).
pub async fn apply<K>(api: &Api<K>, obj: &K) -> Result<K>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let name = obj
        .meta()
        .name
        .clone()
        .context("object to apply has no metadata.name")?;
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .with_context(|| {
        format!(
            "server-side apply of {} {name}{}",
            plural(api),
            ns_suffix(api)
        )
    })
}

/// Parse a multi-document YAML (or JSON) string into objects; empty documents are skipped.
pub fn parse_objects(yaml: &str) -> Result<Vec<DynamicObject>> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let value =
            serde_yaml::Value::deserialize(doc).with_context(|| format!("YAML document {i}"))?;
        if value.is_null() {
            continue;
        }
        let obj: DynamicObject = serde_yaml::from_value(value)
            .with_context(|| format!("YAML document {i} is not a Kubernetes object"))?;
        if obj.types.is_none() {
            bail!("YAML document {i} has no apiVersion/kind");
        }
        out.push(obj);
    }
    Ok(out)
}

/// Resolve the API of a dynamic object's kind via discovery; namespaced kinds go to
/// `obj.metadata.namespace`, else `default_ns`.
pub async fn dynamic_api(
    client: &Client,
    obj: &DynamicObject,
    default_ns: Option<&str>,
) -> Result<Api<DynamicObject>> {
    let tm = obj
        .types
        .as_ref()
        .context("object has no apiVersion/kind")?;
    let gvk = GroupVersionKind::try_from(tm)
        .with_context(|| format!("bad apiVersion {}", tm.api_version))?;
    let (ar, caps) = discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| {
            format!(
                "discovering {}/{} (is its CRD installed?)",
                tm.api_version, tm.kind
            )
        })?;
    Ok(match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &ar),
        Scope::Namespaced => {
            let ns = obj
                .namespace()
                .or_else(|| default_ns.map(String::from))
                .with_context(|| {
                    format!(
                        "{} {} is namespaced but has no namespace",
                        tm.kind,
                        obj.name_any()
                    )
                })?;
            Api::namespaced_with(client.clone(), &ns, &ar)
        }
    })
}

/// Server-side apply every object of a (multi-document) YAML/JSON string.
pub async fn apply_yaml(
    client: &Client,
    default_ns: Option<&str>,
    yaml: &str,
) -> Result<Vec<DynamicObject>> {
    let mut applied = Vec::new();
    for obj in parse_objects(yaml)? {
        applied.push(apply_dynamic(client, default_ns, &obj).await?);
    }
    Ok(applied)
}

/// Server-side apply one dynamic object.
pub async fn apply_dynamic(
    client: &Client,
    default_ns: Option<&str>,
    obj: &DynamicObject,
) -> Result<DynamicObject> {
    let api = dynamic_api(client, obj, default_ns).await?;
    let name = obj
        .metadata
        .name
        .clone()
        .context("object to apply has no metadata.name")?;
    let kind = obj
        .types
        .as_ref()
        .map(|t| t.kind.clone())
        .unwrap_or_default();
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map_err(|e| {
        anyhow::Error::new(ApplyError {
            kind,
            name,
            source: e,
        })
    })
}

/// Error of [`apply_dynamic`]/[`apply_yaml`]; use [`api_error`] to inspect a rejection.
#[derive(Debug)]
pub struct ApplyError {
    pub kind: String,
    pub name: String,
    pub source: kube::Error,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server-side apply of {} {}: {}",
            self.kind, self.name, self.source
        )
    }
}

impl std::error::Error for ApplyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The API server's rejection (code, reason, message) inside an error chain, if any.
pub fn api_error(err: &anyhow::Error) -> Option<&kube::core::Status> {
    err.chain().find_map(|e| {
        if let Some(kube::Error::Api(s)) = e.downcast_ref::<kube::Error>() {
            return Some(s.as_ref());
        }
        if let Some(ApplyError {
            source: kube::Error::Api(s),
            ..
        }) = e.downcast_ref::<ApplyError>()
        {
            return Some(s.as_ref());
        }
        None
    })
}

/// Whether a pod has condition Ready=True.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod is Running (phase), scheduled, has an IP and is not terminating.
pub fn pod_running(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_some()
        && pod
            .status
            .as_ref()
            .is_some_and(|s| s.phase.as_deref() == Some("Running") && s.pod_ip.is_some())
}

/// Images of a pod's containers.
pub fn pod_images(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_dns_labels_and_unique() {
        let a = unique_name("e2e-Some_Test");
        let b = unique_name("e2e-Some_Test");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 63, "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{n}"
            );
            assert!(n.starts_with("e2e-some-test-"), "{n}");
        }
        assert!(unique_name(&"x".repeat(100)).len() <= 63);
    }

    #[test]
    fn parses_multi_document_yaml() {
        let objs = parse_objects(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\n\
             apiVersion: apps.kruise.io/v1alpha1\nkind: CloneSet\nmetadata: {name: b, namespace: x}\nspec: {replicas: 1}\n",
        )
        .unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].types.as_ref().unwrap().kind, "CloneSet");
        assert_eq!(objs[1].data["spec"]["replicas"], 1);
        assert!(parse_objects("metadata: {name: a}\n").is_err());
    }

    #[tokio::test]
    async fn poll_until_reports_last_state_on_timeout() {
        let mut n = 0;
        let err = poll_until::<(), _, _>("the thing", Duration::from_millis(300), || {
            n += 1;
            let s = format!("attempt {n}");
            async move { Ok(Check::Pending(s)) }
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("waiting for the thing"), "{err}");
        assert!(err.contains("last observed: attempt"), "{err}");
    }
}
