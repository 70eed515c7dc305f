//! The `metrics` import of the `policy-plugin` world, behind a seam.
//!
//! A policy's logic takes a `&dyn Metrics` instead of calling the generated import, so the same
//! code runs in the component (the plugin's glue passes a closure over the import) and in native
//! tests (a closure with canned answers, or a golden fixture's `metrics` entries).
//!
//! ```
//! use waxwing_plugin_sdk::metrics::{MetricQuery, Metrics};
//!
//! fn error_ratio(metrics: &dyn Metrics) -> Result<String, String> {
//!     metrics.query("prometheus", &MetricQuery::instant("sum(rate(errors[1m]))"))
//! }
//!
//! let canned = |_: &str, _: &MetricQuery| Ok(r#"{"resultType":"scalar","result":[0,"1"]}"#.into());
//! assert!(error_ratio(&canned).is_ok());
//! ```

use serde::{Deserialize, Serialize};

/// A range query's window, ending at the host's now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct QueryRange {
    /// How far back the window starts, in seconds.
    pub lookback_seconds: u32,
    /// The resolution step, in seconds (at least 1).
    pub step_seconds: u32,
}

/// One query: instant when `range` is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MetricQuery {
    pub query: String,
    pub range: Option<QueryRange>,
}

impl MetricQuery {
    /// A query at the host's now.
    pub fn instant(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            range: None,
        }
    }
}

/// Runs a query against a named provider and returns its JSON answer (for Prometheus the `data`
/// object of the HTTP API), or the host's error message.
pub trait Metrics {
    fn query(&self, provider: &str, request: &MetricQuery) -> Result<String, String>;
}

/// Any function of the right shape is a provider: the component's glue wraps the import in a
/// closure, tests write their answers in one.
impl<F> Metrics for F
where
    F: Fn(&str, &MetricQuery) -> Result<String, String>,
{
    fn query(&self, provider: &str, request: &MetricQuery) -> Result<String, String> {
        self(provider, request)
    }
}
