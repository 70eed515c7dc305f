//! The plugin configuration: `plugins.yaml` in the `waxwing-plugins` ConfigMap.
//!
//! ```yaml
//! plugins:
//!   - name: deployment
//!     source: builtin:deployment          # or configMap:KEY (binaryData), configMaps:NAME
//!                                         # (split over part ConfigMaps), or file:/path
//!     sha256: 3f1c...                     # optional pin of the (uncompressed) wasm
//!     world: workload                     # optional for built-ins
//!     handles:
//!       workloads: [{apiVersion: apps/v1, kind: Deployment}]
//!     limits: {memoryMiB: 64, timeoutMs: 1000, outputMiB: 4}
//!     grants:
//!       read: [{apiVersion: v1, kind: Pod}]
//!       metrics: [prometheus]
//!     config: {}                          # free-form, handed to policy plugins
//! metricProviders:                        # what `grants.metrics` names
//!   - name: prometheus
//!     type: prometheus
//!     address: http://prometheus.monitoring:9090
//!     timeout: 10s                        # optional, default 10s
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::LoadError;
use crate::services::{Grants, Gvk};
use crate::{Limits, World};

/// The whole file. Entries are kept as raw YAML so one malformed entry is refused alone.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PluginsFile {
    #[serde(default)]
    pub(crate) plugins: Vec<serde_yaml::Value>,
    #[serde(default)]
    pub(crate) metric_providers: Vec<serde_yaml::Value>,
}

/// One plugin as configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginEntry {
    pub name: String,
    /// `builtin:NAME`, `configMap:KEY`, `configMaps:NAME` or `file:/absolute/path`.
    pub source: String,
    /// Lowercase hex sha256 the wasm must have (uncompressed, whatever the source).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Required unless the source is a built-in, whose world is known.
    #[serde(default)]
    pub world: Option<World>,
    #[serde(default)]
    pub handles: Handles,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub grants: Grants,
    /// Settings handed to the plugin: a policy plugin gets them under the step's own, a traffic
    /// plugin under the route's fields (`traffic-context.config`).
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// What a plugin is used for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Handles {
    /// Workload kinds (workload plugins).
    #[serde(default)]
    pub workloads: Vec<Gvk>,
    /// Route kinds (traffic plugins).
    #[serde(default)]
    pub traffic: Vec<TrafficHandle>,
    /// Policy names steps refer to (policy plugins); empty means the plugin's own name.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A route kind, optionally only for some classes (an Ingress's `classType`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficHandle {
    pub api_version: String,
    pub kind: String,
    /// Empty: every class.
    #[serde(default)]
    pub class_types: Vec<String>,
}

/// Limits as written; unset fields take the defaults of [`Limits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default, rename = "memoryMiB")]
    pub memory_mib: Option<u64>,
    #[serde(default, rename = "timeoutMs")]
    pub timeout_ms: Option<u64>,
    #[serde(default, rename = "outputMiB")]
    pub output_mib: Option<u64>,
}

const MIB: u64 = 1024 * 1024;

impl LimitsConfig {
    /// The limits, or why they are out of range.
    pub(crate) fn resolve(&self) -> Result<Limits, String> {
        let defaults = Limits::default();
        let check =
            |field: &str, value: Option<u64>, range: std::ops::RangeInclusive<u64>| match value {
                Some(v) if !range.contains(&v) => Err(format!(
                    "limits.{field} is {v}, outside {}..={}",
                    range.start(),
                    range.end()
                )),
                other => Ok(other),
            };
        let memory = check("memoryMiB", self.memory_mib, 1..=4096)?;
        let timeout = check("timeoutMs", self.timeout_ms, 1..=60_000)?;
        let output = check("outputMiB", self.output_mib, 1..=64)?;
        Ok(Limits {
            memory_bytes: memory.map_or(defaults.memory_bytes, |m| m * MIB),
            timeout: timeout.map_or(defaults.timeout, Duration::from_millis),
            max_output_bytes: output.map_or(defaults.max_output_bytes, |m| (m * MIB) as usize),
        })
    }
}

/// Where a plugin's wasm comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Builtin(String),
    /// A binaryData key of the plugin ConfigMap.
    ConfigMap(String),
    /// The name in the `waxwing.io/plugin-wasm` label of the part ConfigMaps.
    ConfigMaps(String),
    File(PathBuf),
}

impl Source {
    pub(crate) fn parse(name: &str, source: &str) -> Result<Source, LoadError> {
        let config_error = |message: String| LoadError::Config {
            name: name.to_string(),
            message,
        };
        let (scheme, rest) = source.split_once(':').ok_or_else(|| {
            config_error(format!(
                "source {source:?} must be builtin:NAME, configMap:KEY, configMaps:NAME or \
                 file:/PATH"
            ))
        })?;
        if rest.is_empty() {
            return Err(config_error(format!(
                "source {source:?} names nothing after {scheme}:"
            )));
        }
        match scheme {
            "builtin" => Ok(Source::Builtin(rest.to_string())),
            "configMap" => Ok(Source::ConfigMap(rest.to_string())),
            "configMaps" => Ok(Source::ConfigMaps(rest.to_string())),
            "file" if rest.starts_with('/') => Ok(Source::File(PathBuf::from(rest))),
            "file" => Err(config_error(format!(
                "source {source:?} must be an absolute path (file:/...)"
            ))),
            _ => Err(config_error(format!(
                "source {source:?} has an unknown scheme {scheme:?}: use builtin:, configMap:, \
                 configMaps: or file:"
            ))),
        }
    }
}

/// A metrics provider plugins may query (`grants.metrics` names it), as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricProvider {
    pub name: String,
    pub kind: ProviderKind,
    /// An `http://` or `https://` URL without a trailing slash: the provider's API paths are
    /// appended to it, so a path prefix (a proxy's `/prometheus`) is kept.
    pub address: String,
    /// How long one query may take, answer included.
    pub timeout: Duration,
}

/// The query languages and HTTP APIs the controller speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`), PromQL queries.
    Prometheus,
}

/// One `metricProviders` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricProviderEntry {
    name: String,
    #[serde(rename = "type")]
    kind: ProviderKind,
    address: String,
    #[serde(default)]
    timeout: Option<String>,
}

impl MetricProvider {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// A query cannot usefully outlast the plugin call it is made in (at most 60 s).
    const MAX_TIMEOUT: Duration = Duration::from_secs(60);

    /// A provider entry, or why it is refused.
    pub(crate) fn parse(raw: serde_yaml::Value) -> Result<MetricProvider, String> {
        let entry: MetricProviderEntry = serde_yaml::from_value(raw).map_err(|e| e.to_string())?;
        if entry.name.is_empty() {
            return Err("the name is empty".to_string());
        }
        let timeout = match &entry.timeout {
            None => Self::DEFAULT_TIMEOUT,
            Some(written) => parse_duration(written)
                .filter(|t| (Duration::from_millis(1)..=Self::MAX_TIMEOUT).contains(t))
                .ok_or_else(|| {
                    format!(
                        "timeout {written:?} is not a duration between 1ms and 60s (write \
                         500ms, 10s or 1m)"
                    )
                })?,
        };
        Ok(MetricProvider {
            name: entry.name,
            kind: entry.kind,
            address: check_address(&entry.address)?,
            timeout,
        })
    }
}

/// The address without its trailing slashes, or why it is not an http(s) URL.
fn check_address(address: &str) -> Result<String, String> {
    let refuse = |why: &str| {
        Err(format!(
            "address {address:?} {why}: write an http:// or https:// URL such as \
             http://prometheus.monitoring:9090"
        ))
    };
    let Some(rest) = address
        .strip_prefix("http://")
        .or_else(|| address.strip_prefix("https://"))
    else {
        return refuse("is not an http:// or https:// URL");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return refuse("names no host");
    }
    if address.contains(['?', '#']) || address.contains(char::is_whitespace) {
        return refuse("has a query, a fragment or spaces");
    }
    Ok(address.trim_end_matches('/').to_string())
}

/// `500ms`, `10s`, `1m`.
fn parse_duration(written: &str) -> Option<Duration> {
    let digits = written.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = written.split_at(digits);
    let number: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(number)),
        "s" => Some(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

impl PluginEntry {
    /// Checks what can be checked without the wasm: the handles fit the world, the sha256
    /// looks like one, the limits are in range.
    pub(crate) fn validate(&self, world: World) -> Result<Limits, LoadError> {
        let config_error = |message: String| LoadError::Config {
            name: self.name.clone(),
            message,
        };
        if self.name.is_empty() {
            return Err(config_error("the name is empty".to_string()));
        }
        if let Some(sha) = &self.sha256
            && !(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(config_error(format!(
                "sha256 {sha:?} is not 64 hexadecimal digits"
            )));
        }
        let h = &self.handles;
        let wrong = [
            (
                !h.workloads.is_empty() && world != World::Workload,
                "workloads",
                "workload",
            ),
            (
                !h.traffic.is_empty() && world != World::Traffic,
                "traffic",
                "traffic",
            ),
            (
                !h.policies.is_empty() && world != World::Policy,
                "policies",
                "policy",
            ),
        ];
        if let Some((_, field, only)) = wrong.into_iter().find(|(bad, _, _)| *bad) {
            return Err(config_error(format!(
                "handles.{field} is only for {only} plugins, and this is a {world} plugin"
            )));
        }
        if !self.grants.metrics.is_empty() && world != World::Policy {
            return Err(config_error(format!(
                "grants.metrics is only for policy plugins, and this is a {world} plugin"
            )));
        }
        self.limits.resolve().map_err(config_error)
    }

    /// The policy names this entry answers to.
    pub(crate) fn policy_names(&self) -> Vec<&str> {
        if self.handles.policies.is_empty() {
            vec![self.name.as_str()]
        } else {
            self.handles.policies.iter().map(String::as_str).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(yaml: &str) -> PluginEntry {
        serde_yaml::from_str(yaml).expect("entry parses")
    }

    #[test]
    fn parses_a_full_entry() {
        let e = entry(
            "
name: nginx
source: configMap:nginx.wasm
sha256: 0000000000000000000000000000000000000000000000000000000000000000
world: traffic
handles:
  traffic: [{apiVersion: networking.k8s.io/v1, kind: Ingress, classTypes: [nginx]}]
limits: {memoryMiB: 32, timeoutMs: 250}
grants:
  read: [{apiVersion: v1, kind: Service}]
config: {annotationPrefix: nginx.ingress.kubernetes.io}
",
        );
        assert_eq!(e.world, Some(World::Traffic));
        assert_eq!(e.handles.traffic[0].class_types, vec!["nginx".to_string()]);
        assert_eq!(e.grants.read, vec![Gvk::new("v1", "Service")]);
        assert_eq!(e.config["annotationPrefix"], "nginx.ingress.kubernetes.io");
        let limits = e.validate(World::Traffic).unwrap();
        assert_eq!(limits.memory_bytes, 32 * MIB);
        assert_eq!(limits.timeout, Duration::from_millis(250));
        assert_eq!(limits.max_output_bytes, Limits::DEFAULT_MAX_OUTPUT_BYTES);
    }

    #[test]
    fn refuses_unknown_fields() {
        let err = serde_yaml::from_str::<PluginEntry>("name: x\nsource: builtin:x\nhandle: {}\n")
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `handle`"), "{err}");
    }

    #[test]
    fn handles_must_fit_the_world() {
        let e = entry(
            "name: p\nsource: builtin:p\nhandles: {workloads: [{apiVersion: v1, kind: Pod}]}\n",
        );
        let err = e.validate(World::Policy).unwrap_err().to_string();
        assert_eq!(
            err,
            "plugin \"p\": handles.workloads is only for workload plugins, and this is a policy plugin"
        );
        let e = entry("name: w\nsource: builtin:w\ngrants: {metrics: [prometheus]}\n");
        assert!(e.validate(World::Workload).is_err());
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        let e = entry("name: p\nsource: builtin:p\nlimits: {timeoutMs: 0}\n");
        let err = e.validate(World::Policy).unwrap_err().to_string();
        assert!(
            err.contains("limits.timeoutMs is 0, outside 1..=60000"),
            "{err}"
        );
    }

    #[test]
    fn sources_are_parsed_with_precise_errors() {
        assert_eq!(
            Source::parse("p", "builtin:pause").unwrap(),
            Source::Builtin("pause".into())
        );
        assert_eq!(
            Source::parse("p", "file:/plugins/p.wasm").unwrap(),
            Source::File("/plugins/p.wasm".into())
        );
        assert_eq!(
            Source::parse("p", "configMaps:freeze-window").unwrap(),
            Source::ConfigMaps("freeze-window".into())
        );
        for (bad, expected) in [
            ("pause.wasm", "must be builtin:NAME"),
            ("file:p.wasm", "absolute path"),
            ("http://x", "unknown scheme \"http\""),
            ("configMap:", "names nothing"),
        ] {
            let err = Source::parse("p", bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }

    fn provider(yaml: &str) -> Result<MetricProvider, String> {
        MetricProvider::parse(serde_yaml::from_str(yaml).expect("yaml"))
    }

    #[test]
    fn parses_a_metric_provider() {
        let p = provider(
            "{name: prometheus, type: prometheus, address: 'http://prom:9090/', timeout: 250ms}",
        )
        .unwrap();
        assert_eq!(
            p,
            MetricProvider {
                name: "prometheus".into(),
                kind: ProviderKind::Prometheus,
                address: "http://prom:9090".into(),
                timeout: Duration::from_millis(250),
            }
        );
        let p = provider("{name: p, type: prometheus, address: 'https://thanos/prometheus'}");
        assert_eq!(p.unwrap().timeout, MetricProvider::DEFAULT_TIMEOUT);
    }

    #[test]
    fn refuses_malformed_metric_providers_with_the_reason() {
        for (bad, expected) in [
            (
                "{name: p, type: datadog, address: 'http://x'}",
                "unknown variant `datadog`, expected `prometheus`",
            ),
            ("{name: p, type: prometheus}", "missing field `address`"),
            (
                "{name: p, type: prometheus, address: 'prom:9090'}",
                "is not an http:// or https:// URL",
            ),
            (
                "{name: p, type: prometheus, address: 'http:///api'}",
                "names no host",
            ),
            (
                "{name: p, type: prometheus, address: 'http://x?a=b'}",
                "has a query",
            ),
            (
                "{name: p, type: prometheus, address: 'http://x', timeout: '10'}",
                "timeout \"10\" is not a duration",
            ),
            (
                "{name: p, type: prometheus, address: 'http://x', timeout: 2m}",
                "between 1ms and 60s",
            ),
            (
                "{name: '', type: prometheus, address: 'http://x'}",
                "name is empty",
            ),
        ] {
            let err = provider(bad).unwrap_err();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("15s"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("5ms"), Some(Duration::from_millis(5)));
        for bad in ["", "s", "10", "1h", "-1s", "1.5s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_policy_plugin_answers_to_its_name_by_default() {
        let e = entry("name: pause\nsource: builtin:pause\n");
        assert_eq!(e.policy_names(), vec!["pause"]);
        let e = entry("name: p\nsource: builtin:p\nhandles: {policies: [a, b]}\n");
        assert_eq!(e.policy_names(), vec!["a", "b"]);
    }
}
