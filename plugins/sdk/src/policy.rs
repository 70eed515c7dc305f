//! The types of the `policy` interface (world `policy-plugin`).

use serde::{Deserialize, Serialize};

use crate::json_text;
use crate::types::RolloutInfo;

/// The step a policy decides for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyContext {
    pub rollout: RolloutInfo,
    /// One-based index of the current step.
    pub step_index: u32,
    pub step_count: u32,
    /// Milliseconds since the step reached the state this policy guards.
    pub elapsed_ms: u64,
    /// Wall clock from the host, milliseconds since the Unix epoch.
    pub now_unix_ms: u64,
    /// The policy's settings as a JSON object.
    #[serde(deserialize_with = "json_text::deserialize")]
    pub config: String,
    /// Named arguments filled by the host.
    pub args: Vec<(String, String)>,
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Proceed,
    Wait(WaitReason),
    Pause(String),
    Abort(String),
}

/// Ask again after `after_ms`; the reason is shown in status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WaitReason {
    pub after_ms: u64,
    pub reason: String,
}
