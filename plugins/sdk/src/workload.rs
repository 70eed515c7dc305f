//! The types of the `workload` interface (world `workload-plugin`).

use serde::{Deserialize, Serialize};

use crate::json_text;
use crate::types::{Replicas, RolloutInfo};

/// How the new revision is released, from the Rollout's strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStyle {
    /// An extra canary workload runs the new revision beside the untouched stable one.
    Canary,
    /// The workload itself is updated in place, a few pods per batch.
    Partition,
    /// The new revision is scaled up beside the old one until the end.
    BlueGreen,
}

/// The workload and the related objects the plugin asked for, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorkloadObjects {
    #[serde(deserialize_with = "json_text::deserialize")]
    pub workload: String,
    #[serde(deserialize_with = "json_text::deserialize_list")]
    pub related: Vec<String>,
}

/// What the host needs to know about the workload to drive the steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorkloadState {
    pub replicas: u32,
    pub stable_revision: String,
    pub update_revision: String,
    pub update_pod_template_hash: String,
    pub stable_pod_template_hash: String,
    pub settled: bool,
    pub taken_over: bool,
    /// The pod label whose values the two pod-template hashes are.
    pub revision_label: String,
}

/// Everything a batch call needs to know about the current step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BatchContext {
    pub rollout: RolloutInfo,
    pub style: ReleaseStyle,
    /// Zero-based.
    pub batch_index: u32,
    pub step_replicas: Replicas,
    pub planned_replicas: u32,
    pub tolerated_failures: u32,
    pub stable_revision: String,
    pub update_revision: String,
    /// `{"labels":{},"annotations":{}}` as JSON text, or empty when unset.
    #[serde(deserialize_with = "json_text::deserialize")]
    pub pod_template_metadata: String,
}

/// How far a batch has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BatchStatus {
    pub updated_replicas: u32,
    pub updated_ready_replicas: u32,
    pub ready: bool,
    /// What the batch waits for, for a person; empty when ready.
    pub message: String,
}
