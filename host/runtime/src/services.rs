//! What the controller offers plugins through the `host` and `metrics` imports, and the grants
//! that limit each plugin's use of it.

use serde::{Deserialize, Serialize};

use crate::MetricQuery;

/// The controller's side of the host imports. Calls are synchronous because plugin calls run on
/// a blocking thread; an implementation bridges to its async clients itself.
///
/// The runtime checks a plugin's grants before delegating, so an implementation only sees reads
/// of kinds and queries of providers the plugin was granted. Errors are plain messages: the
/// plugin receives them verbatim.
pub trait HostServices: Send + Sync {
    /// One object as JSON, or None when it does not exist.
    fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, String>;

    /// Objects of one kind in a namespace matching a label selector (`kubectl -l` syntax).
    fn list_objects(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        label_selector: &str,
    ) -> Result<Vec<String>, String>;

    /// Runs a query against a named metrics provider and returns its JSON answer.
    fn query_metrics(&self, provider: &str, request: &MetricQuery) -> Result<String, String>;
}

/// Host services that have nothing to offer: every read and query fails with the given reason.
/// For calls that must not touch a cluster, such as golden fixtures.
#[derive(Clone, Debug)]
pub struct NoHostServices {
    reason: String,
}

impl NoHostServices {
    pub fn new(reason: impl Into<String>) -> Self {
        NoHostServices {
            reason: reason.into(),
        }
    }
}

impl HostServices for NoHostServices {
    fn get_object(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Option<String>, String> {
        Err(self.reason.clone())
    }

    fn list_objects(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Vec<String>, String> {
        Err(self.reason.clone())
    }

    fn query_metrics(&self, _: &str, _: &MetricQuery) -> Result<String, String> {
        Err(self.reason.clone())
    }
}

/// A kind of object, as `apiVersion` + `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gvk {
    pub api_version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(api_version: impl Into<String>, kind: impl Into<String>) -> Self {
        Gvk {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    pub(crate) fn is(&self, api_version: &str, kind: &str) -> bool {
        self.api_version == api_version && self.kind == kind
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.api_version, self.kind)
    }
}

/// The host imports a plugin may use beyond `log`, from its ConfigMap entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grants {
    /// Kinds the plugin may read with `get-object` and `list-objects`.
    #[serde(default)]
    pub read: Vec<Gvk>,
    /// Metric providers a policy plugin may query.
    #[serde(default)]
    pub metrics: Vec<String>,
}

impl Grants {
    pub(crate) fn may_read(&self, api_version: &str, kind: &str) -> bool {
        self.read.iter().any(|gvk| gvk.is(api_version, kind))
    }

    pub(crate) fn may_query(&self, provider: &str) -> bool {
        self.metrics.iter().any(|granted| granted == provider)
    }
}
