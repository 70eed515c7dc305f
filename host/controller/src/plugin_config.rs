//! Keeps the plugin registry in step with the plugin ConfigMap: every change is applied without
//! a restart; refused entries are logged, counted and reported as Warning events on the
//! ConfigMap, while the rest of the configuration (and the previous good version of a refused
//! plugin) stays in service. Without a ConfigMap the built-in plugins serve.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use waxwing_runtime::{ApplyReport, Registry};

use crate::health::Health;
use crate::metrics::{PluginLabels, ReloadLabels};

pub const CONFIGMAP_NAME: &str = "waxwing-plugins";
/// The key of the ConfigMap's data holding the plugin list.
const PLUGINS_KEY: &str = "plugins.yaml";

pub async fn watch(
    client: Client,
    namespace: &str,
    name: &str,
    registry: Registry,
    health: Arc<Health>,
) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let recorder = Recorder::new(client, Reporter::from("waxwing"));
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut seen_during_init = false;
    let mut events = std::pin::pin!(watcher(api, config));
    while let Some(event) = events.try_next().await? {
        let configmap = match event {
            watcher::Event::Init => {
                seen_during_init = false;
                continue;
            }
            watcher::Event::InitApply(cm) => {
                seen_during_init = true;
                Some(cm)
            }
            watcher::Event::InitDone if seen_during_init => continue,
            // No ConfigMap, or it was deleted: the built-ins serve.
            watcher::Event::InitDone | watcher::Event::Delete(_) => None,
            watcher::Event::Apply(cm) => Some(cm),
        };
        let (yaml, binary_data) = match &configmap {
            Some(cm) => contents(cm),
            None => {
                tracing::info!(
                    configmap = name,
                    namespace,
                    "no plugin ConfigMap, serving the built-in plugins"
                );
                (
                    waxwing_builtin::DEFAULT_PLUGINS_YAML.to_string(),
                    BTreeMap::new(),
                )
            }
        };
        let report = registry.apply_async(yaml, binary_data).await;
        record(&report, &health);
        health
            .metrics
            .plugins_loaded
            .set(registry.current().len() as i64);
        health.set_plugins_loaded();
        if let Some(cm) = &configmap {
            publish_refusals(&recorder, cm, &report).await;
        }
    }
    Ok(())
}

/// `plugins.yaml` and the binaryData wasm of a ConfigMap. A ConfigMap without the key holds no
/// plugins: that is a valid (if empty) configuration, and the log says so.
fn contents(cm: &ConfigMap) -> (String, BTreeMap<String, Vec<u8>>) {
    let yaml = cm
        .data
        .as_ref()
        .and_then(|d| d.get(PLUGINS_KEY))
        .cloned()
        .unwrap_or_else(|| {
            tracing::warn!(
                "the plugin ConfigMap has no key {PLUGINS_KEY}: no plugins are configured"
            );
            String::new()
        });
    let binary_data = cm
        .binary_data
        .iter()
        .flatten()
        .map(|(key, bytes)| (key.clone(), bytes.0.clone()))
        .collect();
    (yaml, binary_data)
}

fn record(report: &ApplyReport, health: &Health) {
    let result = if let Some(problem) = &report.invalid_file {
        tracing::error!("{problem}");
        "invalid"
    } else if report.refused.is_empty() {
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
    tracing::info!(
        loaded = ?report.loaded,
        reconfigured = ?report.reconfigured,
        unchanged = report.unchanged.len(),
        removed = ?report.removed,
        refused = report.refused.len(),
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

async fn publish_refusals(recorder: &Recorder, cm: &ConfigMap, report: &ApplyReport) {
    let reference = cm.object_ref(&());
    let notes = report.invalid_file.iter().cloned().chain(
        report
            .refused
            .iter()
            .map(|r| format!("plugin {}: {r}", r.name)),
    );
    for note in notes {
        let event = Event {
            type_: EventType::Warning,
            reason: "PluginRefused".into(),
            note: Some(note),
            action: "LoadPlugins".into(),
            secondary: None,
        };
        if let Err(e) = recorder.publish(&event, &reference).await {
            tracing::warn!("cannot publish an event on the plugin ConfigMap: {e}");
        }
    }
}
