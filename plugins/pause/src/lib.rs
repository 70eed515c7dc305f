//! Waxwing's `pause` policy plugin (world `policy-plugin`).
//!
//! Settings, from the step merged over the plugin's ConfigMap entry:
//! - `{"duration": N}`: the step waits N seconds, then proceeds;
//! - `{}`: the step waits for a person (`kubectl-kruise rollout approve`).
//!
//! The logic is [`evaluate`], plain Rust on the SDK's types; the `wit` module maps it to the
//! component's bindings.

// The component's bindings: the `policy` export onto `evaluate` below.
waxwing_plugin_sdk::policy_component!();

mod decide;
mod settings;

pub use decide::evaluate;
