//! Typed errors of loading and calling plugins. Every message names the plugin so it can go
//! verbatim into a Rollout's status or an event.

use std::fmt;
use std::time::Duration;

use crate::World;
use crate::bindings::workload::waxwing::plugin::types::PluginError;

/// Names one build of a plugin: its configured name and the sha256 of its wasm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PluginId {
    pub name: String,
    /// Lowercase hex sha256 of the component bytes.
    pub sha256: String,
}

impl PluginId {
    /// The first 12 hex digits of the sha256, enough to tell builds apart in a message.
    pub fn short_sha(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {:?} (sha256:{})", self.name, self.short_sha())
    }
}

/// A plugin error as a person reads it (the generated `Display` shows Rust syntax).
pub(crate) fn describe(error: &PluginError) -> String {
    match error {
        PluginError::InvalidInput(m) => format!("invalid input: {m}"),
        PluginError::NotReady(m) => format!("not ready: {m}"),
        PluginError::HostFailure(m) => format!("host failure: {m}"),
        PluginError::Internal(m) => format!("internal error: {m}"),
    }
}

/// Why a plugin call did not produce an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin answered with an error of its own.
    #[error("{plugin} {function}: {}", describe(error))]
    Plugin {
        plugin: PluginId,
        function: &'static str,
        error: PluginError,
    },
    /// The call ran past the plugin's time limit and was stopped.
    #[error("{plugin} {function}: stopped after its time limit of {} ms", limit.as_millis())]
    Timeout {
        plugin: PluginId,
        function: &'static str,
        limit: Duration,
    },
    /// The plugin needed more memory than its limit and was stopped.
    #[error("{plugin} {function}: stopped at its memory limit of {} MiB", limit / (1024 * 1024))]
    MemoryLimit {
        plugin: PluginId,
        function: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The plugin crashed (a panic, an `unreachable`, a stack overflow, a forbidden import).
    #[error("{plugin} {function}: crashed: {message}")]
    Trap {
        plugin: PluginId,
        function: &'static str,
        message: String,
    },
    /// The answer carried more text than the plugin's output limit.
    #[error(
        "{plugin} {function}: answered with {size} bytes of text, more than the limit of {limit} bytes"
    )]
    OutputTooLarge {
        plugin: PluginId,
        function: &'static str,
        size: usize,
        limit: usize,
    },
    /// The answer broke the plugin contract (not UTF-8, not the JSON the contract asks for...).
    #[error("{plugin} {function}: answered with something the contract does not allow: {message}")]
    InvalidOutput {
        plugin: PluginId,
        function: &'static str,
        message: String,
    },
}

impl CallError {
    /// The plugin that failed.
    pub fn plugin(&self) -> &PluginId {
        match self {
            CallError::Plugin { plugin, .. }
            | CallError::Timeout { plugin, .. }
            | CallError::MemoryLimit { plugin, .. }
            | CallError::Trap { plugin, .. }
            | CallError::OutputTooLarge { plugin, .. }
            | CallError::InvalidOutput { plugin, .. } => plugin,
        }
    }

    /// The WIT name of the function that failed.
    pub fn function(&self) -> &'static str {
        match self {
            CallError::Plugin { function, .. }
            | CallError::Timeout { function, .. }
            | CallError::MemoryLimit { function, .. }
            | CallError::Trap { function, .. }
            | CallError::OutputTooLarge { function, .. }
            | CallError::InvalidOutput { function, .. } => function,
        }
    }
}

/// Why a plugin could not be loaded. The registry keeps the previous good build in service.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// The entry in the plugin ConfigMap is malformed or contradicts itself.
    #[error("plugin {name:?}: {message}")]
    Config { name: String, message: String },
    /// The wasm bytes could not be found or read.
    #[error("plugin {name:?}: cannot read its wasm from {source_ref}: {message}")]
    Source {
        name: String,
        source_ref: String,
        message: String,
    },
    /// The wasm's sha256 is not the one the configuration pins.
    #[error(
        "plugin {name:?}: sha256 mismatch: the configuration expects {expected} but the wasm is {actual}"
    )]
    ChecksumMismatch {
        name: String,
        expected: String,
        actual: String,
    },
    /// The bytes are not a valid component for this engine.
    #[error("{plugin}: does not compile: {message}")]
    Compile { plugin: PluginId, message: String },
    /// The component does not implement the world it is configured for.
    #[error("{plugin}: is not a {expected} plugin: {problem}")]
    WorldMismatch {
        plugin: PluginId,
        expected: World,
        problem: String,
    },
}

impl LoadError {
    /// The configured name of the plugin that failed to load.
    pub fn plugin_name(&self) -> &str {
        match self {
            LoadError::Config { name, .. }
            | LoadError::Source { name, .. }
            | LoadError::ChecksumMismatch { name, .. } => name,
            LoadError::Compile { plugin, .. } | LoadError::WorldMismatch { plugin, .. } => {
                &plugin.name
            }
        }
    }
}

/// The engine could not be created with the configuration the sandbox needs.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the WebAssembly engine: {0}")]
pub struct EngineError(pub String);
