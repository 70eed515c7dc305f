//! Per-plugin resource limits and the host-wide bounds of the sandbox.

use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// How often the engine's epoch advances; a plugin's time limit is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How much of a plugin's stderr the host keeps (a Rust panic message lands there), so a crash
/// can be explained. A plugin writing more than this is stopped.
pub(crate) const STDERR_CAPTURE_BYTES: usize = 64 * 1024;

/// Longest log line the host passes on from a plugin; longer lines are cut.
pub(crate) const LOG_LINE_BYTES: usize = 16 * 1024;

/// The limits one plugin runs under, on every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Cap on the plugin's linear memory.
    pub memory_bytes: u64,
    /// Wall-clock time one call may run inside the plugin.
    pub timeout: Duration,
    /// Cap on the total bytes of text (strings) in one answer.
    pub max_output_bytes: usize,
}

impl Limits {
    pub const DEFAULT_MEMORY_BYTES: u64 = 64 * MIB;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

    /// The time limit in epoch ticks, rounded up, at least one.
    pub(crate) fn epoch_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos();
        let ticks = self.timeout.as_nanos().div_ceil(tick).max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: Self::DEFAULT_MEMORY_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up_to_whole_ticks() {
        let limits = |ms| Limits {
            timeout: Duration::from_millis(ms),
            ..Limits::default()
        };
        assert_eq!(limits(1000).epoch_ticks(), 100);
        assert_eq!(limits(15).epoch_ticks(), 2);
        assert_eq!(limits(0).epoch_ticks(), 1);
    }
}
