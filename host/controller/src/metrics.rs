//! Prometheus metrics served on `/metrics`.

use std::time::Duration;

use kube::runtime::reflector::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use waxwing_api::v1beta1::Rollout;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    pub plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok` when every entry loaded, `partial` when some were refused, `invalid` when the whole
    /// document was refused.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginCallLabels {
    pub plugin: String,
    /// The WIT function, such as `release-batch`.
    pub function: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The controller's metrics, registered once at start.
pub struct Metrics {
    pub registry: Registry,
    /// Plugins currently in service.
    pub plugins_loaded: Gauge,
    /// Plugin ConfigMap entries refused, by plugin name.
    pub plugin_load_errors: Family<PluginLabels, Counter>,
    /// Plugin ConfigMap reloads, by result.
    pub plugin_config_reloads: Family<ReloadLabels, Counter>,
    /// 1 while this replica holds the leader Lease and reconciles, else 0.
    pub leader: Gauge,
    reconciles: Counter,
    reconcile_errors: Counter,
    reconcile_duration: Histogram,
    plugin_call_duration: HistogramFamily<PluginCallLabels>,
    plugin_call_errors: Family<PluginCallLabels, Counter>,
}

/// Reconciles take milliseconds (a plugin call, a few API requests) to seconds (a slow API
/// server): 1 ms to about 16 s.
fn reconcile_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// A plugin call is a fresh instance and a pure function, usually tens of microseconds; host
/// reads make it longer: 10 µs to about 10 s.
fn plugin_call_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_01, 4.0, 11))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("waxwing");
        let plugins_loaded = Gauge::default();
        registry.register(
            "plugins_loaded",
            "Plugins currently in service",
            plugins_loaded.clone(),
        );
        let plugin_load_errors = Family::<PluginLabels, Counter>::default();
        registry.register(
            "plugin_load_errors",
            "Plugin ConfigMap entries refused",
            plugin_load_errors.clone(),
        );
        let plugin_config_reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "plugin_config_reloads",
            "Plugin ConfigMap reloads by result",
            plugin_config_reloads.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease and reconciles",
            leader.clone(),
        );
        let reconciles = Counter::default();
        registry.register("reconciles", "Rollout reconciles", reconciles.clone());
        let reconcile_errors = Counter::default();
        registry.register(
            "reconcile_errors",
            "Rollout reconciles that failed and are retried with backoff",
            reconcile_errors.clone(),
        );
        let reconcile_duration = reconcile_buckets();
        registry.register(
            "reconcile_duration_seconds",
            "Time one Rollout reconcile took",
            reconcile_duration.clone(),
        );
        let plugin_call_duration: HistogramFamily<PluginCallLabels> =
            Family::new_with_constructor(plugin_call_buckets);
        registry.register(
            "plugin_call_duration_seconds",
            "Time a plugin call took, host reads included, by plugin and function",
            plugin_call_duration.clone(),
        );
        let plugin_call_errors = Family::<PluginCallLabels, Counter>::default();
        registry.register(
            "plugin_call_errors",
            "Plugin calls that failed, by plugin and function",
            plugin_call_errors.clone(),
        );
        Self {
            registry,
            plugins_loaded,
            plugin_load_errors,
            plugin_config_reloads,
            leader,
            reconciles,
            reconcile_errors,
            reconcile_duration,
            plugin_call_duration,
            plugin_call_errors,
        }
    }
}

impl Metrics {
    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Counts the Rollouts of `rollouts` by phase at every scrape, so the figure is never stale
    /// (a deleted Rollout leaves no reconcile behind to update a gauge).
    pub fn count_rollouts_by_phase(&mut self, rollouts: Store<Rollout>) {
        self.registry
            .register_collector(Box::new(RolloutPhases(rollouts)));
    }

    pub fn reconciled(&self, took: Duration, failed: bool) {
        self.reconciles.inc();
        if failed {
            self.reconcile_errors.inc();
        }
        self.reconcile_duration.observe(took.as_secs_f64());
    }

    pub fn plugin_called(&self, plugin: &str, function: &str, took: Duration, failed: bool) {
        let labels = PluginCallLabels {
            plugin: plugin.to_owned(),
            function: function.to_owned(),
        };
        self.plugin_call_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if failed {
            self.plugin_call_errors.get_or_create(&labels).inc();
        }
    }
}

/// `waxwing_rollouts{phase}`, counted from the controller's cache of Rollouts.
#[derive(Debug)]
struct RolloutPhases(Store<Rollout>);

impl Collector for RolloutPhases {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let family = Family::<PhaseLabels, Gauge>::default();
        for rollout in self.0.state() {
            // A Rollout the controller has not reconciled yet has no phase; Kruise calls that
            // state Initial.
            let phase = rollout
                .status
                .as_ref()
                .and_then(|status| status.phase)
                .map_or("Initial", |phase| phase_name(phase));
            family
                .get_or_create(&PhaseLabels {
                    phase: phase.to_owned(),
                })
                .inc();
        }
        let metric = encoder.encode_descriptor(
            "rollouts",
            "Rollouts by phase",
            None,
            family.metric_type(),
        )?;
        family.encode(metric)
    }
}

fn phase_name(phase: waxwing_api::v1beta1::RolloutPhase) -> &'static str {
    use waxwing_api::v1beta1::RolloutPhase;
    match phase {
        RolloutPhase::Initial => "Initial",
        RolloutPhase::Healthy => "Healthy",
        RolloutPhase::Progressing => "Progressing",
        RolloutPhase::Terminating => "Terminating",
        RolloutPhase::Disabled => "Disabled",
        RolloutPhase::Disabling => "Disabling",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_calls_are_recorded_by_plugin_and_function() {
        let metrics = Metrics::default();
        metrics.plugin_called(
            "deployment",
            "release-batch",
            Duration::from_micros(40),
            false,
        );
        metrics.plugin_called(
            "deployment",
            "release-batch",
            Duration::from_micros(40),
            true,
        );
        let text = metrics.render();
        assert!(
            text.contains(
                r#"waxwing_plugin_call_duration_seconds_count{plugin="deployment",function="release-batch"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"waxwing_plugin_call_errors_total{plugin="deployment",function="release-batch"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn rollouts_are_counted_by_phase_at_scrape_time() {
        use kube::runtime::reflector::store::Writer;
        use kube::runtime::watcher::Event;
        use waxwing_api::v1beta1::{
            ObjectRef, RolloutPhase, RolloutSpec, RolloutStatus, RolloutStrategy,
        };

        let rollout = |name: &str, phase: Option<RolloutPhase>| {
            let spec = RolloutSpec {
                workload_ref: ObjectRef::default(),
                strategy: RolloutStrategy::default(),
                disabled: false,
            };
            let mut rollout = Rollout::new(name, spec);
            rollout.metadata.namespace = Some("demo".into());
            rollout.status = phase.map(|phase| RolloutStatus {
                phase: Some(phase),
                ..RolloutStatus::default()
            });
            rollout
        };
        let mut writer = Writer::<Rollout>::default();
        let mut metrics = Metrics::default();
        metrics.count_rollouts_by_phase(writer.as_reader());
        for object in [
            rollout("a", Some(RolloutPhase::Progressing)),
            rollout("b", Some(RolloutPhase::Progressing)),
            rollout("c", None),
        ] {
            writer.apply_watcher_event(&Event::Apply(object));
        }
        let text = metrics.render();
        assert!(
            text.contains(r#"waxwing_rollouts{phase="Progressing"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"waxwing_rollouts{phase="Initial"} 1"#),
            "{text}"
        );

        writer.apply_watcher_event(&Event::Delete(rollout(
            "a",
            Some(RolloutPhase::Progressing),
        )));
        assert!(
            metrics
                .render()
                .contains(r#"waxwing_rollouts{phase="Progressing"} 1"#)
        );
    }
}
