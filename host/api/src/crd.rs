//! The CustomResourceDefinitions for Rollout, TrafficRouting and AnalysisTemplate, generated
//! from the types.
//!
//! The Rollout CRD serves v1alpha1 and v1beta1 and stores v1beta1. Its `spec.conversion` is
//! left unset here: converting between the versions needs the controller's conversion webhook,
//! whose Service (or URL) and CA bundle are only known where the controller runs, so the
//! controller fills in `conversion: {strategy: Webhook, webhook: ...}` when it installs or
//! updates the CRD. Until then the API server converts by rewriting `apiVersion` only, which is
//! wrong for Rollouts; do not serve v1alpha1 Rollouts without the controller.
//!
//! The committed YAML in `deploy/crds/` must equal [`crds_yaml`]'s output; a test checks it.
//! Regenerate it with `cargo run -p waxwing -- crds --write deploy/crds`.

use std::io;
use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;

use crate::{analysis, v1alpha1, v1beta1};

mod tidy;

/// File name of the Rollout CRD under `deploy/crds/`.
pub const ROLLOUT_CRD_FILE: &str = "rollouts.kruise.io_rollouts.yaml";
/// File name of the TrafficRouting CRD under `deploy/crds/`.
pub const TRAFFIC_ROUTING_CRD_FILE: &str = "rollouts.kruise.io_trafficroutings.yaml";
/// File name of the AnalysisTemplate CRD under `deploy/crds/`.
pub const ANALYSIS_TEMPLATE_CRD_FILE: &str = "waxwing.io_analysistemplates.yaml";

/// A CRD file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the CRD file {path}: {source}")]
pub struct WriteCrdError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// The Rollout CRD: v1beta1 (served, storage) and v1alpha1 (served).
pub fn rollout_crd() -> CustomResourceDefinition {
    let mut crd = v1beta1::Rollout::crd();
    crd.spec
        .versions
        .extend(v1alpha1::Rollout::crd().spec.versions);
    tidy::drop_nullable(&mut crd);
    crd
}

/// The TrafficRouting CRD (v1alpha1 only).
pub fn traffic_routing_crd() -> CustomResourceDefinition {
    let mut crd = v1alpha1::TrafficRouting::crd();
    tidy::drop_nullable(&mut crd);
    crd
}

/// The AnalysisTemplate CRD (`waxwing.io/v1alpha1`).
pub fn analysis_template_crd() -> CustomResourceDefinition {
    let mut crd = analysis::AnalysisTemplate::crd();
    tidy::drop_nullable(&mut crd);
    crd
}

/// Every CRD Waxwing serves, Rollout first.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        rollout_crd(),
        traffic_routing_crd(),
        analysis_template_crd(),
    ]
}

/// The CRDs as one multi-document YAML stream, as printed by `waxwing crds`.
pub fn crds_yaml() -> String {
    crds().iter().map(render).collect()
}

/// Writes each CRD to its file in `dir` (normally `deploy/crds`), replacing what is there.
/// Returns the paths written.
pub fn write_crds(dir: &Path) -> Result<Vec<PathBuf>, WriteCrdError> {
    let files = [
        (ROLLOUT_CRD_FILE, rollout_crd()),
        (TRAFFIC_ROUTING_CRD_FILE, traffic_routing_crd()),
        (ANALYSIS_TEMPLATE_CRD_FILE, analysis_template_crd()),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (file, crd) in files {
        let path = dir.join(file);
        std::fs::write(&path, render(&crd)).map_err(|source| WriteCrdError {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// One CRD as a YAML document starting with `---`.
fn render(crd: &CustomResourceDefinition) -> String {
    // A CRD is plain data (string keys, no floats), which YAML always represents; a failure
    // here is a bug in the generator, caught by the tests, not something a caller can handle.
    let yaml = serde_yaml::to_string(crd).expect("a CustomResourceDefinition serialises to YAML");
    format!("---\n{yaml}")
}
