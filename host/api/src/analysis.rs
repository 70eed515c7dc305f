//! Analysis: metrics measured while a release runs, deciding whether it goes on, pauses for a
//! person or aborts. Kruise Rollout has no analysis API (its `doCanaryMetricsAnalysis` is a
//! todo), so this is Waxwing's own, shaped after Argo Rollouts' AnalysisTemplate, which is what
//! users of progressive delivery know.
//!
//! - [`AnalysisTemplate`] (`waxwing.io/v1alpha1`): reusable metrics. Its group is Waxwing's own:
//!   `rollouts.kruise.io` belongs to OpenKruise (a Kruise AnalysisTemplate could come one day
//!   and clash), and `argoproj.io` is Argo's, whose CRD may be installed beside Waxwing with a
//!   different schema.
//! - [`RolloutAnalysis`]: a step's `analysis` (measured after the step's traffic is routed; the
//!   step waits for it) and [`BackgroundAnalysis`]: the strategy's `analysis` (measured from
//!   `startingStep` until the release ends; only a failure matters).
//! - [`AnalysisRunStatus`]: what was measured, in the Rollout's `status.analysisRuns`.
//!
//! A metric's `provider` names a policy plugin by the policy name it handles
//! (`provider: {prometheus: {query: ...}}`, Argo's shape), so the built-in Prometheus plugin
//! and a user's own policy in any language are used the same way.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Go-style duration: `30s`, `5m`, `1h30m`, `500ms`.
pub(crate) const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// Reusable metrics a Rollout's analysis refers to by name.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "waxwing.io",
    version = "v1alpha1",
    kind = "AnalysisTemplate",
    namespaced,
    derive = "PartialEq",
    doc = "Metrics a Rollout measures during a release, and the conditions that decide them.",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    ),
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateSpec {
    /// Arguments the metrics use as `{{args.NAME}}`. A value here is the default; the Rollout's
    /// analysis `args` override it. The controller always provides `namespace`, `rollout`,
    /// `workload`, `stable-revision`, `canary-revision`, `stable-pod-template-hash` and
    /// `canary-pod-template-hash`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Argument>,
    /// What is measured; at least one.
    #[schemars(length(min = 1, max = 20))]
    pub metrics: Vec<Metric>,
}

/// A named argument.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Argument {
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One metric: how it is measured, how often, and what its measurements must show.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.count) || self.count <= 1 || has(self.interval)",
        "message": "a metric measured more than once (count > 1) needs an interval"
    }
]))]
pub struct Metric {
    /// Unique within the template; names the metric in status and events.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// The policy plugin that measures, by the policy name it handles, with its settings:
    /// exactly one entry, such as `prometheus: {query: "..."}`. String values may use
    /// `{{args.NAME}}`.
    #[schemars(schema_with = "provider_schema")]
    pub provider: BTreeMap<String, serde_json::Value>,
    /// Time between measurements (`30s`, `5m`). Unset: measured once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    /// How many measurements make the metric successful. Unset: 1 in a step's analysis, and
    /// unbounded (until the release ends) in background analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub count: Option<i32>,
    /// Time before the first measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub initial_delay: Option<String>,
    /// A measurement that meets it is successful (for example `result[0] < 0.05`); handed to
    /// the provider, which evaluates it over what it measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// A measurement that meets it has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Failed measurements tolerated; one more aborts the release. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub failure_limit: Option<i32>,
    /// Inconclusive measurements tolerated; one more pauses the release for a person.
    /// Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub inconclusive_limit: Option<i32>,
    /// Measurement errors in a row tolerated (provider unreachable, plugin error); one more
    /// aborts the release. Default 4, as in Argo Rollouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub consecutive_error_limit: Option<i32>,
}

fn provider_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true
        }
    })
}

/// A step's analysis: the step waits until every metric of the templates is successful.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnalysis {
    /// The AnalysisTemplates (in the Rollout's namespace) whose metrics are measured.
    #[schemars(length(min = 1))]
    pub templates: Vec<AnalysisTemplateRef>,
    /// Values for the templates' arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Argument>,
}

/// Analysis running in the background of the release from `startingStep` on: a failed metric
/// aborts the release whatever step it is in.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackgroundAnalysis {
    #[serde(flatten)]
    pub analysis: RolloutAnalysis,
    /// The one-based step from which the metrics are measured; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub starting_step: Option<i32>,
}

/// Names an AnalysisTemplate.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateRef {
    #[schemars(length(min = 1))]
    pub template_name: String,
}

/// Where an analysis run stands, and where each of its metrics stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum AnalysisPhase {
    /// Measurements are still to be taken.
    #[default]
    Running,
    /// Every measurement asked for was taken and the limits held.
    Successful,
    /// More failed measurements than the failure limit: the release aborts.
    Failed,
    /// More inconclusive measurements than the limit: the release waits for a person.
    Inconclusive,
    /// More measurement errors in a row than the limit: the release aborts.
    Error,
}

impl AnalysisPhase {
    /// True once nothing more will be measured.
    pub fn is_finished(self) -> bool {
        self != Self::Running
    }
}

/// One analysis run: a step's, or the background one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunStatus {
    /// `step-N` for a step's analysis, `background` for the background analysis.
    pub name: String,
    pub phase: AnalysisPhase,
    /// Why the run is in its phase, for a person.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub started_at: Time,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricStatus>,
}

/// One metric of a run: its counts and latest measurements.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricStatus {
    /// `<template>/<metric>`.
    pub name: String,
    pub phase: AnalysisPhase,
    /// Measurements taken (successful, failed or inconclusive).
    #[serde(default)]
    pub count: i32,
    #[serde(default)]
    pub successful: i32,
    #[serde(default)]
    pub failed: i32,
    #[serde(default)]
    pub inconclusive: i32,
    /// Measurement errors in all, and in a row since the last measurement.
    #[serde(default)]
    pub error: i32,
    #[serde(default)]
    pub consecutive_error: i32,
    /// The latest measurements, newest last; at most [`MEASUREMENT_HISTORY`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<Measurement>,
    /// When the next measurement is due; unset when finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_measurement_at: Option<Time>,
}

/// How many measurements of each metric the status keeps.
pub const MEASUREMENT_HISTORY: usize = 10;

/// One measurement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub phase: MeasurementPhase,
    /// What the provider said: the measured value and the condition it met, or the error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub measured_at: Time,
}

/// The outcome of one measurement.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum MeasurementPhase {
    #[default]
    Successful,
    Failed,
    Inconclusive,
    Error,
}
