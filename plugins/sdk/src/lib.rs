//! Helpers shared by Waxwing plugins written in Rust.
//!
//! The plugin contract (`wit/plugin.wit`) is mirrored here as plain Rust types ([`types`],
//! [`workload`], [`traffic`], [`policy`]) so a plugin keeps its logic free of generated bindings: the logic
//! takes and returns these types, is unit-tested natively, and a thin glue module maps them to
//! the `wit-bindgen` types of the plugin's world. Field and case names serialise exactly as the
//! golden-fixture format writes WIT values (kebab-case records, `{"case": payload}` variants).
//!
//! Besides the types, the crate holds the one way to do each recurring job:
//! - [`object`]: parse Kubernetes objects from the JSON text the host passes in, name them;
//! - [`change`]: build `apply`, `merge-patch` and `delete` changes from typed objects;
//! - [`merge_patch`]: build a merge patch's body field by field;
//! - [`metrics`]: the `metrics` import behind a seam, so policy logic is tested natively;
//! - [`selector`]: render a label selector in the `kubectl -l` syntax of `object-query`;
//! - [`pod`]: pod readiness, liveness and ownership;
//! - [`batch_labels`]: Kruise's `rollout-id` / `rollout-batch-id` pod labels;
//! - [`no_need_update`]: Kruise's mark for pods a rollback in batches need not move;
//! - [`revision`]: which revision a pod runs, by its `pod-template-hash` or
//!   `controller-revision-hash` label;
//! - [`template`]: compare and hash pod templates by content;
//! - [`readiness`]: Kruise's batch readiness rule and its messages;
//! - [`takeover`]: Kruise's in-progressing mark and when an update starts a release;
//! - [`hpa`]: HPAs kept off a workload during a blue-green release, as Kruise does;
//! - [`intstr`]: resolve `5` / `"25%"` values against a replica count.

pub mod batch_labels;
pub mod change;
mod component;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod hpa;
pub mod intstr;
pub mod json_text;
pub mod merge_patch;
pub mod metrics;
pub mod no_need_update;
pub mod object;
pub mod pod;
pub mod policy;
mod policy_component;
pub mod readiness;
pub mod revision;
pub mod selector;
pub mod takeover;
pub mod template;
pub mod traffic;
mod traffic_component;
pub mod types;
pub mod workload;

pub use types::{Change, ObjectQuery, ObjectRef, Patch, PluginError, Replicas, RolloutInfo};
