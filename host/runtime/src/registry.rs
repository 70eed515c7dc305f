//! The live set of plugins, from the plugin ConfigMap.
//!
//! [`Registry::apply`] turns a new `plugins.yaml` into a new [`PluginSet`] and swaps it in
//! atomically. Unchanged entries keep their compiled plugin. An entry that cannot be loaded is
//! refused with a precise message while every other entry is applied, and the previous good
//! version of the refused entry stays in service. The same holds for the `metricProviders`
//! entries plugins query.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::config::{MetricProvider, PluginEntry, PluginsFile, Source};
use crate::error::{LoadError, PluginId};
use crate::plugin::{CompiledComponent, Plugin, PluginSettings};
use crate::runtime::{Runtime, sha256_hex};
use crate::{PolicyPlugin, WorkloadPlugin, World};

/// Built-in plugins by name, with their world and wasm (see the `waxwing-builtin` crate).
pub type BuiltinTable = &'static [(&'static str, World, &'static [u8])];

/// A plugin in service, with the entry it was configured by.
#[derive(Clone)]
pub struct RegisteredPlugin {
    pub plugin: Plugin,
    pub entry: PluginEntry,
    compiled: CompiledComponent,
}

/// One consistent set of plugins. Lookups never see a half-applied configuration.
#[derive(Clone, Default)]
pub struct PluginSet {
    by_name: BTreeMap<String, RegisteredPlugin>,
    providers: BTreeMap<String, MetricProvider>,
}

impl PluginSet {
    pub fn get(&self, name: &str) -> Option<&RegisteredPlugin> {
        self.by_name.get(name)
    }

    /// The metrics provider configured under this name.
    pub fn metric_provider(&self, name: &str) -> Option<&MetricProvider> {
        self.providers.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &RegisteredPlugin> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The workload plugin for a workload kind.
    pub fn workload(&self, api_version: &str, kind: &str) -> Option<&WorkloadPlugin> {
        self.iter()
            .filter(|r| {
                r.entry
                    .handles
                    .workloads
                    .iter()
                    .any(|g| g.is(api_version, kind))
            })
            .find_map(|r| r.plugin.as_workload())
    }

    /// The traffic plugin for a route kind and class; a plugin naming the class wins over one
    /// that handles every class.
    pub fn traffic(
        &self,
        api_version: &str,
        kind: &str,
        class_type: Option<&str>,
    ) -> Option<&RegisteredPlugin> {
        let candidates = || {
            self.iter().flat_map(|r| {
                r.entry
                    .handles
                    .traffic
                    .iter()
                    .filter(|t| t.api_version == api_version && t.kind == kind)
                    .map(move |t| (r, t))
            })
        };
        let exact = candidates().find(|(_, t)| {
            class_type.is_some_and(|class| t.class_types.iter().any(|c| c == class))
        });
        let any_class = || candidates().find(|(_, t)| t.class_types.is_empty());
        exact
            .or_else(any_class)
            .map(|(r, _)| r)
            .filter(|r| r.plugin.as_traffic().is_some())
    }

    /// The policy plugin a step refers to by name.
    pub fn policy(&self, name: &str) -> Option<&RegisteredPlugin> {
        self.iter()
            .filter(|r| r.plugin.world() == World::Policy)
            .find(|r| r.entry.policy_names().contains(&name))
    }

    /// Same as [`PluginSet::policy`], for the typed call API only.
    pub fn policy_plugin(&self, name: &str) -> Option<&PolicyPlugin> {
        self.policy(name).and_then(|r| r.plugin.as_policy())
    }
}

/// What one `apply` did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// The whole file could not be read; nothing changed.
    pub invalid_file: Option<String>,
    /// Entries compiled (new, or new wasm).
    pub loaded: Vec<String>,
    /// Entries whose wasm is unchanged but whose settings changed.
    pub reconfigured: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
    pub refused: Vec<Refusal>,
    /// `metricProviders` entries not applied.
    pub refused_providers: Vec<ProviderRefusal>,
}

impl ApplyReport {
    /// True when every entry is in service as configured.
    pub fn is_clean(&self) -> bool {
        self.invalid_file.is_none() && self.refused.is_empty() && self.refused_providers.is_empty()
    }
}

/// An entry that was not applied.
#[derive(Debug)]
pub struct Refusal {
    pub name: String,
    pub error: LoadError,
    /// The previous version still in service, if there was one.
    pub kept: Option<PluginId>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        match &self.kept {
            Some(previous) => write!(
                f,
                "; still serving the previous version (sha256:{})",
                previous.short_sha()
            ),
            None => write!(f, "; the plugin is not in service"),
        }
    }
}

/// A `metricProviders` entry that was not applied.
#[derive(Debug)]
pub struct ProviderRefusal {
    pub name: String,
    pub message: String,
    /// The provider's previous settings stay in use.
    pub kept: bool,
}

impl fmt::Display for ProviderRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "metrics provider {:?}: {}", self.name, self.message)?;
        if self.kept {
            write!(f, "; still using its previous settings")?;
        }
        Ok(())
    }
}

/// The wasm the plugin ConfigMaps hold, for `configMap:` and `configMaps:` sources.
#[derive(Clone, Debug, Default)]
pub struct ConfigMapWasm {
    /// The plugin ConfigMap's binaryData, by key (`configMap:KEY`).
    pub binary_data: BTreeMap<String, Vec<u8>>,
    /// Components split over part ConfigMaps, by the name in their `waxwing.io/plugin-wasm`
    /// label (`configMaps:NAME`): the assembled, uncompressed wasm, or why the parts do not
    /// make one.
    pub split: BTreeMap<String, Result<Vec<u8>, String>>,
}

impl From<BTreeMap<String, Vec<u8>>> for ConfigMapWasm {
    fn from(binary_data: BTreeMap<String, Vec<u8>>) -> Self {
        ConfigMapWasm {
            binary_data,
            split: BTreeMap::new(),
        }
    }
}

/// The registry of plugins in service. Clone it freely: clones share the same set.
#[derive(Clone)]
pub struct Registry(Arc<Inner>);

struct Inner {
    runtime: Runtime,
    builtins: BuiltinTable,
    current: RwLock<Arc<PluginSet>>,
    /// One apply at a time, so two configurations never interleave.
    applying: Mutex<()>,
}

/// What happened to one entry.
enum Outcome {
    Loaded,
    Reconfigured,
    Unchanged,
}

impl Registry {
    /// An empty registry; apply a configuration to fill it.
    pub fn new(runtime: Runtime, builtins: BuiltinTable) -> Registry {
        Registry(Arc::new(Inner {
            runtime,
            builtins,
            current: RwLock::new(Arc::new(PluginSet::default())),
            applying: Mutex::new(()),
        }))
    }

    /// The set in service now.
    pub fn current(&self) -> Arc<PluginSet> {
        self.0
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies `plugins.yaml` with the ConfigMap's binaryData. Compiles what changed, so call
    /// it on a blocking thread (or use [`Registry::apply_async`]).
    pub fn apply(&self, yaml: &str, binary_data: &BTreeMap<String, Vec<u8>>) -> ApplyReport {
        self.apply_with_parts(yaml, &ConfigMapWasm::from(binary_data.clone()))
    }

    /// [`Registry::apply`] with components split over part ConfigMaps too.
    pub fn apply_with_parts(&self, yaml: &str, wasm: &ConfigMapWasm) -> ApplyReport {
        let _one_at_a_time = self
            .0
            .applying
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let previous = self.current();
        let mut report = ApplyReport::default();
        let file: PluginsFile = match serde_yaml::from_str(yaml) {
            Ok(file) => file,
            Err(e) => {
                report.invalid_file = Some(format!(
                    "plugins.yaml is not valid, keeping all {} plugins as they are: {e}",
                    previous.len()
                ));
                return report;
            }
        };

        let mut next = PluginSet {
            providers: apply_providers(file.metric_providers, &previous, &mut report),
            ..PluginSet::default()
        };
        let mut claims = Claims::default();
        for (index, raw) in file.plugins.into_iter().enumerate() {
            let label = raw
                .get("name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("#{}", index + 1), str::to_string);
            let refuse = |report: &mut ApplyReport, next: &mut PluginSet, error, keep: bool| {
                let kept = keep.then(|| previous.get(&label)).flatten().cloned();
                report.refused.push(Refusal {
                    name: label.clone(),
                    error,
                    kept: kept.as_ref().map(|k| k.plugin.id().clone()),
                });
                if let Some(kept) = kept {
                    next.by_name.insert(label.clone(), kept);
                }
            };
            if next.by_name.contains_key(&label) || report.refused.iter().any(|r| r.name == label) {
                let error = LoadError::Config {
                    name: label.clone(),
                    message: format!("entry #{} repeats the name of an earlier entry", index + 1),
                };
                refuse(&mut report, &mut next, error, false);
                continue;
            }
            let entry: PluginEntry = match serde_yaml::from_value(raw) {
                Ok(entry) => entry,
                Err(e) => {
                    let error = LoadError::Config {
                        name: label.clone(),
                        message: e.to_string(),
                    };
                    refuse(&mut report, &mut next, error, true);
                    continue;
                }
            };
            if let Err(error) = claims.claim(&entry) {
                refuse(&mut report, &mut next, error, false);
                continue;
            }
            match self.load_entry(entry, previous.get(&label), wasm) {
                Ok((registered, outcome)) => {
                    match outcome {
                        Outcome::Loaded => report.loaded.push(label.clone()),
                        Outcome::Reconfigured => report.reconfigured.push(label.clone()),
                        Outcome::Unchanged => report.unchanged.push(label.clone()),
                    }
                    next.by_name.insert(label, registered);
                }
                Err(error) => refuse(&mut report, &mut next, error, true),
            }
        }
        report.removed = previous
            .by_name
            .keys()
            .filter(|name| !next.by_name.contains_key(*name))
            .cloned()
            .collect();
        *self
            .0
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        report
    }

    /// [`Registry::apply_with_parts`] on tokio's blocking pool.
    pub async fn apply_async(&self, yaml: String, wasm: impl Into<ConfigMapWasm>) -> ApplyReport {
        let registry = self.clone();
        let wasm = wasm.into();
        tokio::task::spawn_blocking(move || registry.apply_with_parts(&yaml, &wasm))
            .await
            .unwrap_or_else(|e| ApplyReport {
                invalid_file: Some(format!("applying plugins.yaml failed: {e}")),
                ..ApplyReport::default()
            })
    }

    fn load_entry(
        &self,
        entry: PluginEntry,
        previous: Option<&RegisteredPlugin>,
        configmap_wasm: &ConfigMapWasm,
    ) -> Result<(RegisteredPlugin, Outcome), LoadError> {
        let name = entry.name.clone();
        let source = Source::parse(&name, &entry.source)?;
        let (wasm, builtin_world) =
            self.read_source(&name, &entry.source, &source, configmap_wasm)?;
        let world = match (entry.world, builtin_world) {
            (Some(world), _) => world,
            (None, Some(world)) => world,
            (None, None) => {
                return Err(LoadError::Config {
                    name,
                    message: "world is required (workload, traffic or policy) for a plugin that is not built in".to_string(),
                });
            }
        };
        let limits = entry.validate(world)?;
        let sha256 = sha256_hex(&wasm);
        if let Some(expected) = &entry.sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(LoadError::ChecksumMismatch {
                name,
                expected: expected.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        let settings = PluginSettings {
            limits,
            grants: entry.grants.clone(),
        };
        let same_wasm = previous.filter(|p| p.compiled.sha256() == sha256);
        if let Some(previous) = same_wasm
            && previous.entry == entry
        {
            return Ok((previous.clone(), Outcome::Unchanged));
        }
        let (compiled, outcome) = match same_wasm {
            Some(previous) => (previous.compiled.clone(), Outcome::Reconfigured),
            None => (self.0.runtime.compile(&name, &wasm)?, Outcome::Loaded),
        };
        let plugin = self.0.runtime.prepare(&compiled, world, settings)?;
        Ok((
            RegisteredPlugin {
                plugin,
                entry,
                compiled,
            },
            outcome,
        ))
    }

    fn read_source(
        &self,
        name: &str,
        written: &str,
        source: &Source,
        configmap_wasm: &ConfigMapWasm,
    ) -> Result<(Vec<u8>, Option<World>), LoadError> {
        let unreadable = |message: String| LoadError::Source {
            name: name.to_string(),
            source_ref: written.to_string(),
            message,
        };
        match source {
            Source::Builtin(builtin) => self
                .0
                .builtins
                .iter()
                .find(|(n, _, _)| n == builtin)
                .map(|(_, world, wasm)| (wasm.to_vec(), Some(*world)))
                .ok_or_else(|| {
                    let known: Vec<&str> = self.0.builtins.iter().map(|(n, _, _)| *n).collect();
                    unreadable(format!(
                        "there is no built-in plugin {builtin:?} (built in: {})",
                        known.join(", ")
                    ))
                }),
            Source::ConfigMap(key) => configmap_wasm
                .binary_data
                .get(key)
                .map(|wasm| (wasm.clone(), None))
                .ok_or_else(|| unreadable(format!("the ConfigMap has no binaryData key {key:?}"))),
            Source::ConfigMaps(label) => match configmap_wasm.split.get(label) {
                Some(Ok(wasm)) => Ok((wasm.clone(), None)),
                Some(Err(why)) => Err(unreadable(why.clone())),
                None => Err(unreadable(format!(
                    "there are no ConfigMaps labelled waxwing.io/plugin-wasm={label} next to the \
                     plugin ConfigMap (make them with `waxwing plugin package --name {label}`)"
                ))),
            },
            Source::File(path) => std::fs::read(path)
                .map(|wasm| (wasm, None))
                .map_err(|e| unreadable(e.to_string())),
        }
    }
}

/// The `metricProviders` entries: each malformed one is refused alone, keeping its previous
/// settings when it had some.
fn apply_providers(
    entries: Vec<serde_yaml::Value>,
    previous: &PluginSet,
    report: &mut ApplyReport,
) -> BTreeMap<String, MetricProvider> {
    let mut providers = BTreeMap::new();
    for (index, raw) in entries.into_iter().enumerate() {
        let label = raw
            .get("name")
            .and_then(|n| n.as_str())
            .map_or_else(|| format!("#{}", index + 1), str::to_string);
        if providers.contains_key(&label) {
            report.refused_providers.push(ProviderRefusal {
                name: label,
                message: format!(
                    "entry #{} repeats the name of an earlier entry, which is the one in use",
                    index + 1
                ),
                kept: false,
            });
            continue;
        }
        match MetricProvider::parse(raw) {
            Ok(provider) => {
                providers.insert(label, provider);
            }
            Err(message) => {
                let kept = previous.providers.get(&label).cloned();
                report.refused_providers.push(ProviderRefusal {
                    name: label.clone(),
                    message,
                    kept: kept.is_some(),
                });
                if let Some(kept) = kept {
                    providers.insert(label, kept);
                }
            }
        }
    }
    providers
}

/// Which entry handles what, so two entries never claim the same workload kind, route kind and
/// class, or policy name.
#[derive(Default)]
struct Claims {
    owners: BTreeMap<String, String>,
}

impl Claims {
    fn claim(&mut self, entry: &PluginEntry) -> Result<(), LoadError> {
        let h = &entry.handles;
        let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
        for g in &h.workloads {
            keys.insert((format!("workload {g}"), format!("workloads {g}")));
        }
        for t in &h.traffic {
            let classes: Vec<&str> = if t.class_types.is_empty() {
                vec!["*"]
            } else {
                t.class_types.iter().map(String::as_str).collect()
            };
            for class in classes {
                keys.insert((
                    format!("traffic {} {} {class}", t.api_version, t.kind),
                    format!("traffic {} {} (class {class})", t.api_version, t.kind),
                ));
            }
        }
        for p in &h.policies {
            keys.insert((format!("policy {p}"), format!("policy {p:?}")));
        }
        if let Some((_, what, owner)) = keys
            .iter()
            .find_map(|(key, what)| self.owners.get(key).map(|owner| (key, what, owner)))
        {
            return Err(LoadError::Config {
                name: entry.name.clone(),
                message: format!("handles {what}, which plugin {owner:?} already handles"),
            });
        }
        for (key, _) in keys {
            self.owners.insert(key, entry.name.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CacheDir, RuntimeOptions};

    fn registry() -> Registry {
        let runtime = Runtime::new(RuntimeOptions {
            cache: CacheDir::Disabled,
        })
        .expect("engine");
        Registry::new(runtime, &[])
    }

    /// A policy entry read from part ConfigMaps, pinned to a sha256 no wasm has, so the load
    /// stops right after the source was read and reports what it read.
    const SPLIT_ENTRY: &str = "
plugins:
  - name: freeze
    source: configMaps:freeze
    world: policy
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
";

    fn refusal(report: &ApplyReport) -> String {
        assert_eq!(report.refused.len(), 1, "{report:?}");
        report.refused[0].to_string()
    }

    #[test]
    fn split_sources_are_read_from_the_assembled_parts() {
        let wasm = ConfigMapWasm {
            split: BTreeMap::from([("freeze".to_string(), Ok(b"assembled".to_vec()))]),
            ..ConfigMapWasm::default()
        };
        let report = registry().apply_with_parts(SPLIT_ENTRY, &wasm);
        assert!(
            refusal(&report).contains(&sha256_hex(b"assembled")),
            "{report:?}"
        );
    }

    #[test]
    fn split_sources_report_why_the_parts_make_no_wasm() {
        let wasm = ConfigMapWasm {
            split: BTreeMap::from([("freeze".to_string(), Err("part 2/3 is missing".to_string()))]),
            ..ConfigMapWasm::default()
        };
        let report = registry().apply_with_parts(SPLIT_ENTRY, &wasm);
        assert_eq!(
            refusal(&report),
            "plugin \"freeze\": cannot read its wasm from configMaps:freeze: part 2/3 is missing; \
             the plugin is not in service"
        );
        let report = registry().apply_with_parts(SPLIT_ENTRY, &ConfigMapWasm::default());
        assert!(
            refusal(&report).contains("no ConfigMaps labelled waxwing.io/plugin-wasm=freeze"),
            "{report:?}"
        );
    }

    #[test]
    fn metric_providers_are_applied_and_refused_one_by_one() {
        let registry = registry();
        let report = registry.apply(
            "
metricProviders:
  - {name: prometheus, type: prometheus, address: 'http://prom:9090'}
  - {name: thanos, type: prometheus, address: 'http://thanos:10902', timeout: 30s}
",
            &BTreeMap::new(),
        );
        assert!(report.is_clean(), "{report:?}");
        let set = registry.current();
        assert_eq!(set.metric_provider("thanos").unwrap().timeout.as_secs(), 30);

        let report = registry.apply(
            "
metricProviders:
  - {name: prometheus, type: prometheus, address: 'prom:9090'}
  - {name: thanos, type: prometheus, address: 'http://thanos:10902'}
  - {name: thanos, type: prometheus, address: 'http://other:10902'}
  - {name: fresh, type: graphite, address: 'http://graphite'}
",
            &BTreeMap::new(),
        );
        let refused: Vec<String> = report
            .refused_providers
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(
            refused[0].starts_with("metrics provider \"prometheus\": address \"prom:9090\"")
                && refused[0].ends_with("; still using its previous settings"),
            "{}",
            refused[0]
        );
        assert!(
            refused[1].contains("entry #3 repeats the name"),
            "{}",
            refused[1]
        );
        assert!(
            refused[2].contains("unknown variant `graphite`") && !refused[2].contains("still"),
            "{}",
            refused[2]
        );
        let set = registry.current();
        assert_eq!(
            set.metric_provider("prometheus").unwrap().address,
            "http://prom:9090"
        );
        assert_eq!(
            set.metric_provider("thanos").unwrap().address,
            "http://thanos:10902"
        );
        assert!(set.metric_provider("fresh").is_none());
    }
}
