//! Keeps the plugin registry in step with the plugin ConfigMap and the part ConfigMaps of
//! components too large for it (see `plugin_parts`): every change is applied without a
//! restart; refused entries are logged, counted and reported as Warning events on the
//! ConfigMap, while the rest of the configuration (and the previous good version of a refused
//! plugin) stays in service. Without a ConfigMap the built-in plugins serve.

use std::collections::{BTreeMap, HashMap};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, Resource, ResourceExt as _};
use waxwing_runtime::{ApplyReport, ConfigMapWasm, Registry};

use crate::health::Health;
use crate::metrics::{PluginLabels, ReloadLabels};
use crate::plugin_parts;

pub const CONFIGMAP_NAME: &str = "waxwing-plugins";
/// The key of the ConfigMap's data holding the plugin list.
const PLUGINS_KEY: &str = "plugins.yaml";
/// Changes that come in a burst (a plugin's parts, applied one by one) are applied together
/// once none came for this long...
const QUIET: Duration = Duration::from_secs(1);
/// ...or once they have kept coming for this long.
const MOST_DELAY: Duration = Duration::from_secs(10);

/// A change seen by one of the two watches.
enum Seen {
    Plugins(watcher::Event<ConfigMap>),
    Parts(watcher::Event<ConfigMap>),
    /// The part ConfigMaps cannot be watched (a failed watch of the plugin ConfigMap ends the
    /// loop instead, as it always has).
    PartsFailed(watcher::Error),
}

/// What the watches have shown so far.
#[derive(Default)]
struct Watched {
    /// The plugin ConfigMap, once its watch has listed it (`None` inside: there is none).
    plugins: Option<Option<ConfigMap>>,
    /// Whether the plugin ConfigMap appeared in the listing under way.
    plugins_listed: bool,
    /// The part ConfigMaps by name, once their watch has listed them.
    parts: Option<BTreeMap<String, ConfigMap>>,
    /// The part ConfigMaps of the listing under way.
    parts_listing: BTreeMap<String, ConfigMap>,
}

impl Watched {
    /// Takes in one change; false when it changes nothing to apply.
    fn take(&mut self, seen: Seen) -> bool {
        match seen {
            Seen::Plugins(event) => match event {
                watcher::Event::Init => {
                    self.plugins_listed = false;
                    return false;
                }
                watcher::Event::InitApply(cm) => {
                    self.plugins_listed = true;
                    self.plugins = Some(Some(cm));
                }
                watcher::Event::InitDone if self.plugins_listed => return false,
                // No ConfigMap, or it was deleted: the built-ins serve.
                watcher::Event::InitDone | watcher::Event::Delete(_) => self.plugins = Some(None),
                watcher::Event::Apply(cm) => self.plugins = Some(Some(cm)),
            },
            Seen::Parts(event) => match event {
                watcher::Event::Init => {
                    self.parts_listing.clear();
                    return false;
                }
                watcher::Event::InitApply(cm) => {
                    self.parts_listing.insert(cm.name_any(), cm);
                    return false;
                }
                watcher::Event::InitDone => {
                    self.parts = Some(std::mem::take(&mut self.parts_listing));
                }
                watcher::Event::Apply(cm) => {
                    self.parts.get_or_insert_default().insert(cm.name_any(), cm);
                }
                watcher::Event::Delete(cm) => {
                    self.parts.get_or_insert_default().remove(&cm.name_any());
                }
            },
            Seen::PartsFailed(error) => {
                tracing::warn!(
                    "cannot watch the part ConfigMaps (label {}): {error}; plugins with source \
                     configMaps: cannot load until it works (does the controller's Role allow \
                     list and watch of configmaps in its namespace?)",
                    plugin_parts::NAME_LABEL
                );
                // Serve the rest of the configuration meanwhile (once: the watch retries).
                let first = self.parts.is_none();
                self.parts.get_or_insert_default();
                return first;
            }
        }
        true
    }

    /// Both watches have listed what exists.
    fn ready(&self) -> bool {
        self.plugins.is_some() && self.parts.is_some()
    }
}

pub async fn watch(
    client: Client,
    namespace: &str,
    name: &str,
    registry: Registry,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut refusals = RefusalEvents {
        client,
        by_note: HashMap::new(),
    };
    let plugins = watcher(
        api.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .map(|event| event.map(Seen::Plugins));
    let parts = watcher(
        api,
        watcher::Config::default().labels(plugin_parts::NAME_LABEL),
    )
    .default_backoff()
    .map(|event| Ok::<_, watcher::Error>(event.map_or_else(Seen::PartsFailed, Seen::Parts)));
    let mut seen = pin!(futures::stream::select(plugins, parts));
    let mut watched = Watched::default();
    while let Some(first) = seen.next().await {
        let mut changed = watched.take(first?);
        changed |= take_burst(&mut seen, &mut watched).await?;
        if !changed || !watched.ready() {
            continue;
        }
        let configmap = watched.plugins.clone().flatten();
        let report = apply(&registry, configmap.as_ref(), &watched, namespace, name).await;
        record(&report, &health);
        health
            .metrics
            .plugins_loaded
            .set(registry.current().len() as i64);
        health.set_plugins_loaded();
        if let Some(cm) = &configmap {
            refusals.publish(cm, &report).await;
        }
    }
    Ok(())
}

/// Takes in the changes that follow within [`QUIET`] of each other; true when one of them is
/// to be applied.
async fn take_burst(
    seen: &mut (impl Stream<Item = Result<Seen, watcher::Error>> + Unpin),
    watched: &mut Watched,
) -> anyhow::Result<bool> {
    let mut changed = false;
    let deadline = tokio::time::Instant::now() + MOST_DELAY;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(QUIET.min(left), seen.next()).await {
            Ok(Some(next)) => changed |= watched.take(next?),
            // Quiet for long enough (or the watches ended, which the caller sees next).
            Ok(None) | Err(_) => break,
        }
    }
    Ok(changed)
}

/// Applies what the watches show: the plugin list of the ConfigMap (the built-in list without
/// one) with its binaryData and the components assembled from the part ConfigMaps.
async fn apply(
    registry: &Registry,
    configmap: Option<&ConfigMap>,
    watched: &Watched,
    namespace: &str,
    name: &str,
) -> ApplyReport {
    let yaml = match configmap {
        Some(cm) => plugins_yaml(cm),
        None => {
            tracing::info!(
                configmap = name,
                namespace,
                "no plugin ConfigMap, serving the built-in plugins"
            );
            waxwing_builtin::DEFAULT_PLUGINS_YAML.to_string()
        }
    };
    let binary_data = configmap
        .and_then(|cm| cm.binary_data.as_ref())
        .into_iter()
        .flatten()
        .map(|(key, bytes)| (key.clone(), bytes.0.clone()))
        .collect();
    let parts: Vec<ConfigMap> = watched
        .parts
        .iter()
        .flat_map(|p| p.values())
        .cloned()
        .collect();
    // Gunzipping tens of MiB is work for the blocking pool.
    let split = tokio::task::spawn_blocking(move || plugin_parts::assemble_all(&parts))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("assembling the part ConfigMaps failed: {e}");
            BTreeMap::new()
        });
    let wasm = ConfigMapWasm { binary_data, split };
    registry.apply_async(yaml, wasm).await
}

/// `plugins.yaml` of a ConfigMap. A ConfigMap without the key holds no plugins: that is a
/// valid (if empty) configuration, and the log says so.
fn plugins_yaml(cm: &ConfigMap) -> String {
    cm.data
        .as_ref()
        .and_then(|d| d.get(PLUGINS_KEY))
        .cloned()
        .unwrap_or_else(|| {
            tracing::warn!(
                "the plugin ConfigMap has no key {PLUGINS_KEY}: no plugins are configured"
            );
            String::new()
        })
}

fn record(report: &ApplyReport, health: &Health) {
    let result = if let Some(problem) = &report.invalid_file {
        tracing::error!("{problem}");
        "invalid"
    } else if report.is_clean() {
        "ok"
    } else {
        "partial"
    };
    for refusal in &report.refused {
        tracing::error!(plugin = %refusal.name, "plugin refused: {refusal}");
        health
            .metrics
            .plugin_load_errors
            .get_or_create(&PluginLabels {
                plugin: refusal.name.clone(),
            })
            .inc();
    }
    for refusal in &report.refused_providers {
        tracing::error!(provider = %refusal.name, "metrics provider refused: {refusal}");
    }
    tracing::info!(
        loaded = ?report.loaded,
        reconfigured = ?report.reconfigured,
        unchanged = report.unchanged.len(),
        removed = ?report.removed,
        refused = report.refused.len(),
        refused_providers = report.refused_providers.len(),
        "plugin configuration applied"
    );
    health
        .metrics
        .plugin_config_reloads
        .get_or_create(&ReloadLabels {
            result: result.to_string(),
        })
        .inc();
}

/// The Warning events of refused entries on the plugin ConfigMap. kube's `Recorder` folds
/// events of one reason on one object into a series that keeps its first note, which would
/// hide every refusal but the first: each distinct note gets a recorder of its own, so a
/// repeated refusal counts up its own event and a new one makes a new event.
struct RefusalEvents {
    client: Client,
    /// The notes of the last configuration applied.
    by_note: HashMap<String, Recorder>,
}

impl RefusalEvents {
    async fn publish(&mut self, cm: &ConfigMap, report: &ApplyReport) {
        let notes: Vec<String> = report
            .invalid_file
            .iter()
            .cloned()
            .chain(
                report
                    .refused
                    .iter()
                    .map(|r| format!("plugin {}: {r}", r.name)),
            )
            .chain(report.refused_providers.iter().map(ToString::to_string))
            .collect();
        self.by_note.retain(|note, _| notes.contains(note));
        let reference = cm.object_ref(&());
        for note in notes {
            let recorder = self
                .by_note
                .entry(note.clone())
                .or_insert_with(|| Recorder::new(self.client.clone(), Reporter::from("waxwing")));
            let event = Event {
                type_: EventType::Warning,
                reason: "PluginRefused".into(),
                note: Some(fit_note(note)),
                action: "LoadPlugins".into(),
                secondary: None,
            };
            if let Err(e) = recorder.publish(&event, &reference).await {
                tracing::warn!("cannot publish an event on the plugin ConfigMap: {e}");
            }
        }
    }
}

/// An event's note holds at most 1 KiB; the log has the whole message.
fn fit_note(mut note: String) -> String {
    const MAX: usize = 1024;
    const CUT: &str = "... (see the controller's log)";
    if note.len() > MAX {
        let end = (0..=MAX - CUT.len())
            .rev()
            .find(|i| note.is_char_boundary(*i))
            .unwrap_or(0);
        note.truncate(end);
        note.push_str(CUT);
    }
    note
}

#[cfg(test)]
mod tests {
    use kube::api::ObjectMeta;

    use super::*;

    fn configmap(name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn part_names(watched: &Watched) -> Vec<&str> {
        watched
            .parts
            .iter()
            .flat_map(|p| p.keys())
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn applies_once_both_watches_have_listed() {
        let mut watched = Watched::default();
        assert!(!watched.take(Seen::Plugins(watcher::Event::Init)));
        assert!(
            watched.take(Seen::Plugins(watcher::Event::InitApply(configmap(
                "waxwing-plugins"
            ))))
        );
        assert!(!watched.take(Seen::Plugins(watcher::Event::InitDone)));
        assert!(!watched.ready(), "the parts are not listed yet");
        assert!(!watched.take(Seen::Parts(watcher::Event::Init)));
        assert!(!watched.take(Seen::Parts(watcher::Event::InitApply(configmap("p-1")))));
        assert!(watched.take(Seen::Parts(watcher::Event::InitDone)));
        assert!(watched.ready());
        assert_eq!(part_names(&watched), ["p-1"]);
        assert!(watched.plugins.as_ref().is_some_and(Option::is_some));
    }

    #[test]
    fn parts_follow_their_configmaps() {
        let mut watched = Watched::default();
        watched.take(Seen::Parts(watcher::Event::InitDone));
        watched.take(Seen::Parts(watcher::Event::Apply(configmap("p-1"))));
        watched.take(Seen::Parts(watcher::Event::Apply(configmap("p-2"))));
        watched.take(Seen::Parts(watcher::Event::Delete(configmap("p-1"))));
        assert_eq!(part_names(&watched), ["p-2"]);
        // A new listing (after the watch lost track) replaces what was seen, once complete.
        watched.take(Seen::Parts(watcher::Event::Init));
        watched.take(Seen::Parts(watcher::Event::InitApply(configmap("p-3"))));
        assert_eq!(part_names(&watched), ["p-2"]);
        watched.take(Seen::Parts(watcher::Event::InitDone));
        assert_eq!(part_names(&watched), ["p-3"]);
    }

    #[test]
    fn long_notes_are_cut_to_fit_an_event() {
        assert_eq!(fit_note("short".into()), "short");
        let cut = fit_note("é".repeat(600));
        assert!(
            cut.len() <= 1024 && cut.ends_with("(see the controller's log)"),
            "{cut}"
        );
    }

    #[test]
    fn no_plugin_configmap_means_the_builtins() {
        let mut watched = Watched::default();
        watched.take(Seen::Plugins(watcher::Event::Init));
        assert!(watched.take(Seen::Plugins(watcher::Event::InitDone)));
        assert_eq!(watched.plugins, Some(None));
    }
}
