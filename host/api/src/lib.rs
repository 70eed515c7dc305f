//! The Kruise Rollout API (`rollouts.kruise.io`) as Rust types.
//!
//! - [`v1beta1`]: the storage version, which the rest of Waxwing works with.
//! - [`v1alpha1`]: the older, still served Rollout version and the TrafficRouting object.
//! - [`conversion`]: lossless conversion between the two Rollout versions.
//! - [`analysis`]: Waxwing's analysis API: the AnalysisTemplate and a Rollout's analysis.
//! - [`labels`]: Kruise's label, annotation and finalizer keys, and the rollout id.
//! - [`gateway`]: the Gateway API match and filter types a step embeds.
//! - [`crd`]: the CustomResourceDefinitions, generated from the types.
//!
//! This crate holds types, conversions and CRD generation only: no controller or runtime logic.

pub mod analysis;
pub mod conversion;
pub mod crd;
pub mod gateway;
mod go_json;
pub mod labels;
pub mod v1alpha1;
pub mod v1beta1;

pub use crd::{crds, crds_yaml, write_crds};
