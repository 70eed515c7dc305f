//! Conversion between v1alpha1 and v1beta1 Rollouts, for the CRD conversion webhook.
//!
//! The field mapping is Kruise's (`api/v1alpha1/conversion.go`). Unlike Kruise, conversion is
//! lossless both ways: what the target version cannot hold is kept, as JSON, in an annotation
//! of the converted object ([`V1ALPHA1_CONVERSION_DATA`] on v1beta1 objects,
//! [`V1BETA1_CONVERSION_DATA`] on v1alpha1 objects) and restored when the object is converted
//! back, so v1alpha1 -> v1beta1 -> v1alpha1 and v1beta1 -> v1alpha1 -> v1beta1 both return the
//! original spec and status. The annotation is written only when something would be lost
//! (for v1alpha1: the deprecated `rolloutID` or a step with `weight` and no `replicas`; for
//! v1beta1: blue-green, path or query-parameter matches, the blue-green status, ...), and it is
//! restored only if the converted object still says what the stored data says; an edit in the
//! other version wins over the stored data. An annotation that does not parse is dropped.
//!
//! The v1alpha1 strategy annotations (`rollouts.kruise.io/rolling-style`,
//! `rollouts.kruise.io/trafficrouting`) stay in metadata across conversions, as in Kruise; the
//! v1beta1 spec fields are what counts.

mod spec;
mod status;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::labels::{V1ALPHA1_CONVERSION_DATA, V1BETA1_CONVERSION_DATA};
use crate::{v1alpha1, v1beta1};

/// `apiVersion` of v1alpha1 Rollouts.
pub const V1ALPHA1: &str = "rollouts.kruise.io/v1alpha1";
/// `apiVersion` of v1beta1 Rollouts.
pub const V1BETA1: &str = "rollouts.kruise.io/v1beta1";

/// Why a Rollout could not be converted. The message is returned to the API server and shown
/// to whoever made the request.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error(
        "spec.objectRef.workloadRef is missing: a v1alpha1 Rollout must name the workload it releases"
    )]
    MissingWorkloadRef,
    #[error(
        "cannot convert Rollouts from {from:?} to {to:?}: the versions are {V1ALPHA1} and {V1BETA1}"
    )]
    UnsupportedVersions { from: String, to: String },
    #[error("the object is not a valid {api_version} Rollout: {source}")]
    InvalidObject {
        api_version: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode the converted Rollout as JSON: {0}")]
    Encode(#[source] serde_json::Error),
}

/// What v1alpha1 cannot hold of a v1beta1 Rollout.
#[derive(Serialize, Deserialize)]
struct V1beta1Data {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<v1beta1::RolloutSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<v1beta1::RolloutStatus>,
}

/// Converts a v1alpha1 Rollout to v1beta1.
pub fn to_v1beta1(rollout: &v1alpha1::Rollout) -> Result<v1beta1::Rollout, ConversionError> {
    let mut annotations = annotations_of(&rollout.metadata);
    let stored: Option<V1beta1Data> = take_data(&mut annotations, V1BETA1_CONVERSION_DATA);
    // A copy of the other direction's data never travels on.
    annotations.remove(V1ALPHA1_CONVERSION_DATA);

    let mut spec = spec::to_v1beta1(&rollout.spec, &annotations)?;
    let mut status = rollout.status.as_ref().map(status::to_v1beta1);
    if let Some(stored) = stored {
        if let Some(stored_spec) = stored.spec {
            let mut expected_annotations = annotations.clone();
            let expected = spec::to_v1alpha1(&stored_spec, &mut expected_annotations);
            if expected == rollout.spec && expected_annotations == annotations {
                spec = stored_spec;
            }
        }
        if let Some(stored_status) = stored.status
            && rollout.status.as_ref() == Some(&status::to_v1alpha1(&stored_status))
        {
            status = Some(stored_status);
        }
    }

    let mut back_annotations = annotations.clone();
    if spec::to_v1alpha1(&spec, &mut back_annotations) != rollout.spec {
        let data = serde_json::to_string(&rollout.spec).map_err(ConversionError::Encode)?;
        annotations.insert(V1ALPHA1_CONVERSION_DATA.to_owned(), data);
    }

    Ok(v1beta1::Rollout {
        metadata: with_annotations(&rollout.metadata, annotations),
        spec,
        status,
    })
}

/// Converts a v1beta1 Rollout to v1alpha1.
pub fn to_v1alpha1(rollout: &v1beta1::Rollout) -> Result<v1alpha1::Rollout, ConversionError> {
    let mut annotations = annotations_of(&rollout.metadata);
    let stored: Option<v1alpha1::RolloutSpec> =
        take_data(&mut annotations, V1ALPHA1_CONVERSION_DATA);
    annotations.remove(V1BETA1_CONVERSION_DATA);

    let mut spec = spec::to_v1alpha1(&rollout.spec, &mut annotations);
    if let Some(stored) = stored
        && spec::to_v1beta1(&stored, &annotations).is_ok_and(|stored| stored == rollout.spec)
    {
        spec = stored;
    }
    let status = rollout.status.as_ref().map(status::to_v1alpha1);

    let lost = V1beta1Data {
        spec: (spec::to_v1beta1(&spec, &annotations).ok().as_ref() != Some(&rollout.spec))
            .then(|| rollout.spec.clone()),
        status: rollout
            .status
            .clone()
            .filter(|original| status::to_v1beta1(&status::to_v1alpha1(original)) != *original),
    };
    if lost.spec.is_some() || lost.status.is_some() {
        let data = serde_json::to_string(&lost).map_err(ConversionError::Encode)?;
        annotations.insert(V1BETA1_CONVERSION_DATA.to_owned(), data);
    }

    Ok(v1alpha1::Rollout {
        metadata: with_annotations(&rollout.metadata, annotations),
        spec,
        status,
    })
}

/// Converts a Rollout, as JSON, to `desired_api_version`; what the conversion webhook does for
/// each object of a ConversionReview. An object already at that version is returned as is.
pub fn convert(object: &Value, desired_api_version: &str) -> Result<Value, ConversionError> {
    let from = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match (from, desired_api_version) {
        (from, to) if from == to && (to == V1ALPHA1 || to == V1BETA1) => Ok(object.clone()),
        (V1ALPHA1, V1BETA1) => encode(&to_v1beta1(&decode(object, V1ALPHA1)?)?),
        (V1BETA1, V1ALPHA1) => encode(&to_v1alpha1(&decode(object, V1BETA1)?)?),
        (from, to) => Err(ConversionError::UnsupportedVersions {
            from: from.to_owned(),
            to: to.to_owned(),
        }),
    }
}

fn decode<T: for<'de> Deserialize<'de>>(
    object: &Value,
    api_version: &'static str,
) -> Result<T, ConversionError> {
    T::deserialize(object).map_err(|source| ConversionError::InvalidObject {
        api_version,
        source,
    })
}

fn encode<T: Serialize>(rollout: &T) -> Result<Value, ConversionError> {
    serde_json::to_value(rollout).map_err(ConversionError::Encode)
}

fn annotations_of(metadata: &ObjectMeta) -> BTreeMap<String, String> {
    metadata.annotations.clone().unwrap_or_default()
}

/// Removes the data annotation `key` and parses it; data that does not parse is dropped.
fn take_data<T: for<'de> Deserialize<'de>>(
    annotations: &mut BTreeMap<String, String>,
    key: &str,
) -> Option<T> {
    serde_json::from_str(&annotations.remove(key)?).ok()
}

/// `metadata` with its annotations replaced; no annotations is written as none at all, as the
/// API server (Go's `omitempty`) does.
fn with_annotations(metadata: &ObjectMeta, annotations: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..metadata.clone()
    }
}
