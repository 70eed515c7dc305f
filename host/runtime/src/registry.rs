//! The live set of plugins, from the plugin ConfigMap.
//!
//! [`Registry::apply`] turns a new `plugins.yaml` into a new [`PluginSet`] and swaps it in
//! atomically. Unchanged entries keep their compiled plugin. An entry that cannot be loaded is
//! refused with a precise message while every other entry is applied, and the previous good
//! version of the refused entry stays in service.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::config::{PluginEntry, PluginsFile, Source};
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
}

impl PluginSet {
    pub fn get(&self, name: &str) -> Option<&RegisteredPlugin> {
        self.by_name.get(name)
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
}

impl ApplyReport {
    /// True when every entry is in service as configured.
    pub fn is_clean(&self) -> bool {
        self.invalid_file.is_none() && self.refused.is_empty()
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

        let mut next = PluginSet::default();
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
            match self.load_entry(entry, previous.get(&label), binary_data) {
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

    /// [`Registry::apply`] on tokio's blocking pool.
    pub async fn apply_async(
        &self,
        yaml: String,
        binary_data: BTreeMap<String, Vec<u8>>,
    ) -> ApplyReport {
        let registry = self.clone();
        tokio::task::spawn_blocking(move || registry.apply(&yaml, &binary_data))
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
        binary_data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(RegisteredPlugin, Outcome), LoadError> {
        let name = entry.name.clone();
        let source = Source::parse(&name, &entry.source)?;
        let (wasm, builtin_world) = self.read_source(&name, &entry.source, &source, binary_data)?;
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
        binary_data: &BTreeMap<String, Vec<u8>>,
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
            Source::ConfigMap(key) => binary_data
                .get(key)
                .map(|wasm| (wasm.clone(), None))
                .ok_or_else(|| unreadable(format!("the ConfigMap has no binaryData key {key:?}"))),
            Source::File(path) => std::fs::read(path)
                .map(|wasm| (wasm, None))
                .map_err(|e| unreadable(e.to_string())),
        }
    }
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
