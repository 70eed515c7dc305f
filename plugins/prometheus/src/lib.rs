//! Waxwing's `prometheus` policy plugin (world `policy-plugin`): one Prometheus query per
//! measurement, judged by Argo Rollouts-style conditions. Used as an analysis metric's provider,
//! `provider: {prometheus: {query: ...}}`, or as a step policy.
//!
//! Settings (the ConfigMap `config`, the metric's provider settings and its conditions, merged
//! by the host into one JSON object; unknown fields are refused):
//! - `query` (required): the PromQL;
//! - `provider`: the metrics provider the host queries, default `prometheus` (the plugin needs
//!   it in its `grants.metrics`);
//! - `range: {lookback: 5m, step: 30s}`: a range query over the last `lookback` at `step`
//!   (default 60s) instead of an instant query; durations are whole seconds in s, m, h, d, w
//!   (`1h30m`);
//! - `successCondition`, `failureCondition`: conditions on `result` (see the `condition` module).
//!
//! `result` is a number for a scalar answer, a list of the sample values for a vector, every
//! value of every series for a matrix, and the string for a string answer (see the `samples` module).
//! The outcome follows Argo Rollouts: successful is `proceed`, failed `abort`, inconclusive
//! `pause`; a failed query is a `host-failure`, an empty result a condition indexes is
//! `not-ready`, and bad settings are `invalid-input`.
//!
//! The logic is [`evaluate`], plain Rust on the SDK's types with the `metrics` import behind
//! the SDK's seam; the `wit` module maps it to the component's bindings.

// The component's bindings: the `policy` export onto `evaluate` below.
waxwing_plugin_sdk::policy_component!(metrics);

mod condition;
mod duration;
mod judge;
mod samples;
mod settings;
mod value;

pub use judge::evaluate;
