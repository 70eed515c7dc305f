//! The types every world shares (`interface types` in the WIT contract).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::json_text;

/// Why a plugin call failed. The message ends up verbatim in the Rollout's status, so it is
/// written for the person running `kubectl describe rollout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginError {
    /// The input cannot be handled; the same input fails the same way.
    InvalidInput(String),
    /// The objects are not yet in the state the call needs; the host retries shortly.
    NotReady(String),
    /// A host import failed or was refused.
    HostFailure(String),
    /// A bug or an unexpected state inside the plugin.
    Internal(String),
}

impl PluginError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    pub fn not_ready(message: impl Into<String>) -> Self {
        Self::NotReady(message.into())
    }

    pub fn host_failure(message: impl Into<String>) -> Self {
        Self::HostFailure(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Self::InvalidInput(m)
            | Self::NotReady(m)
            | Self::HostFailure(m)
            | Self::Internal(m) => m,
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::InvalidInput(_) => "invalid input",
            Self::NotReady(_) => "not ready",
            Self::HostFailure(_) => "host failure",
            Self::Internal(_) => "internal error",
        };
        write!(f, "{kind}: {}", self.message())
    }
}

impl std::error::Error for PluginError {}

/// Names one Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectRef {
    /// `group/version`, or `v1` for the core group.
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Every object of one kind in the rollout's namespace that matches a label selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectQuery {
    pub api_version: String,
    pub kind: String,
    /// `kubectl -l` syntax; empty matches all.
    pub label_selector: String,
}

/// A change the host makes on the plugin's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Server-side apply of the complete desired object, JSON.
    Apply(#[serde(deserialize_with = "json_text::deserialize")] String),
    /// A JSON merge patch on an existing object.
    MergePatch(Patch),
    /// Delete the object; a missing object is not an error.
    Delete(ObjectRef),
}

/// A JSON merge patch (RFC 7386) on an object or one of its subresources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Patch {
    pub target: ObjectRef,
    /// `status` or `scale`; none for the object itself.
    pub subresource: Option<String>,
    /// The merge patch document, JSON.
    #[serde(deserialize_with = "json_text::deserialize")]
    pub body: String,
}

/// A replica count as the user wrote it in a step: `5` or `"20%"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replicas {
    Count(u32),
    Percent(u32),
}

/// Identity of the Rollout a call is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RolloutInfo {
    pub namespace: String,
    pub name: String,
    /// The release id for the `rollouts.kruise.io/rollout-id` pod label; none when unset.
    pub rollout_id: Option<String>,
}

impl RolloutInfo {
    /// The rollout id when batch labels must be written: set and not empty.
    pub fn batch_label_id(&self) -> Option<&str> {
        self.rollout_id.as_deref().filter(|id| !id.is_empty())
    }
}
