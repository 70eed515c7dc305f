//! Spec conversion between v1alpha1 and v1beta1, with Kruise's semantics (`conversion.go`).
//!
//! v1alpha1 keeps two strategy fields in annotations, which v1beta1 has in the spec:
//! `rollouts.kruise.io/rolling-style` (`enableExtraWorkloadForCanary`) and
//! `rollouts.kruise.io/trafficrouting` (`trafficRoutingRef`). Converting to v1beta1 reads them
//! and leaves them in metadata, as Kruise does; converting to v1alpha1 changes them only when
//! they no longer say what the v1beta1 spec says, so unchanged objects round-trip exactly.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::ConversionError;
use crate::labels::{ROLLING_STYLE, TRAFFIC_ROUTING};
use crate::{v1alpha1, v1beta1};

pub(super) fn to_v1beta1(
    spec: &v1alpha1::RolloutSpec,
    annotations: &BTreeMap<String, String>,
) -> Result<v1beta1::RolloutSpec, ConversionError> {
    let workload = spec
        .object_ref
        .workload_ref
        .as_ref()
        .ok_or(ConversionError::MissingWorkloadRef)?;
    Ok(v1beta1::RolloutSpec {
        workload_ref: v1beta1::ObjectRef {
            api_version: workload.api_version.clone(),
            kind: workload.kind.clone(),
            name: workload.name.clone(),
        },
        strategy: v1beta1::RolloutStrategy {
            paused: spec.strategy.paused,
            canary: spec
                .strategy
                .canary
                .as_ref()
                .map(|canary| canary_to_v1beta1(canary, annotations)),
            blue_green: None,
        },
        disabled: spec.disabled,
    })
}

fn canary_to_v1beta1(
    canary: &v1alpha1::CanaryStrategy,
    annotations: &BTreeMap<String, String>,
) -> v1beta1::CanaryStrategy {
    v1beta1::CanaryStrategy {
        steps: canary.steps.iter().map(step_to_v1beta1).collect(),
        traffic_routings: canary.traffic_routings.clone(),
        failure_threshold: canary.failure_threshold.clone(),
        patch_pod_template_metadata: canary.patch_pod_template_metadata.clone(),
        // Absent or anything but "partition" means canary; only Deployments honour it, see
        // `v1beta1::Rollout::release_style`.
        enable_extra_workload_for_canary: !says_partition(annotations.get(ROLLING_STYLE)),
        traffic_routing_ref: annotations
            .get(TRAFFIC_ROUTING)
            .filter(|name| !name.is_empty())
            .cloned(),
        disable_generate_canary_service: canary.disable_generate_canary_service,
        analysis: canary.analysis.clone(),
    }
}

fn step_to_v1beta1(step: &v1alpha1::CanaryStep) -> v1beta1::CanaryStep {
    let strategy = &step.traffic_routing_strategy;
    let weight_percent = strategy.weight.map(|weight| format!("{weight}%"));
    v1beta1::CanaryStep {
        traffic_routing_strategy: v1beta1::TrafficRoutingStrategy {
            traffic: weight_percent.clone(),
            request_header_modifier: strategy.request_header_modifier.clone(),
            matches: strategy
                .matches
                .iter()
                .map(|m| v1beta1::HttpRouteMatch {
                    headers: m.headers.clone(),
                    ..v1beta1::HttpRouteMatch::default()
                })
                .collect(),
        },
        // A v1alpha1 step without replicas runs as many pods (in percent) as its weight.
        replicas: step
            .replicas
            .clone()
            .or_else(|| weight_percent.map(IntOrString::String)),
        pause: step.pause,
        analysis: step.analysis.clone(),
    }
}

/// Converts to v1alpha1, updating the v1alpha1 strategy annotations in `annotations`. A
/// blue-green strategy has no v1alpha1 form and converts to no strategy.
pub(super) fn to_v1alpha1(
    spec: &v1beta1::RolloutSpec,
    annotations: &mut BTreeMap<String, String>,
) -> v1alpha1::RolloutSpec {
    let workload = &spec.workload_ref;
    let canary = spec.strategy.canary.as_ref().map(|canary| {
        record_strategy_annotations(canary, annotations);
        canary_to_v1alpha1(canary)
    });
    v1alpha1::RolloutSpec {
        object_ref: v1alpha1::ObjectRef {
            workload_ref: Some(v1alpha1::WorkloadRef {
                api_version: workload.api_version.clone(),
                kind: workload.kind.clone(),
                name: workload.name.clone(),
            }),
        },
        strategy: v1alpha1::RolloutStrategy {
            paused: spec.strategy.paused,
            canary,
        },
        rollout_id: String::new(),
        disabled: spec.disabled,
    }
}

fn record_strategy_annotations(
    canary: &v1beta1::CanaryStrategy,
    annotations: &mut BTreeMap<String, String>,
) {
    let partition = !canary.enable_extra_workload_for_canary;
    if says_partition(annotations.get(ROLLING_STYLE)) != partition {
        let style = if partition { "partition" } else { "canary" };
        annotations.insert(ROLLING_STYLE.to_owned(), style.to_owned());
    }
    match &canary.traffic_routing_ref {
        Some(name) if annotations.get(TRAFFIC_ROUTING) != Some(name) => {
            annotations.insert(TRAFFIC_ROUTING.to_owned(), name.clone());
        }
        Some(_) => {}
        None => {
            if annotations
                .get(TRAFFIC_ROUTING)
                .is_some_and(|name| !name.is_empty())
            {
                annotations.remove(TRAFFIC_ROUTING);
            }
        }
    }
}

fn canary_to_v1alpha1(canary: &v1beta1::CanaryStrategy) -> v1alpha1::CanaryStrategy {
    v1alpha1::CanaryStrategy {
        steps: canary.steps.iter().map(step_to_v1alpha1).collect(),
        traffic_routings: canary.traffic_routings.clone(),
        failure_threshold: canary.failure_threshold.clone(),
        patch_pod_template_metadata: canary.patch_pod_template_metadata.clone(),
        disable_generate_canary_service: canary.disable_generate_canary_service,
        analysis: canary.analysis.clone(),
    }
}

fn step_to_v1alpha1(step: &v1beta1::CanaryStep) -> v1alpha1::CanaryStep {
    let strategy = &step.traffic_routing_strategy;
    v1alpha1::CanaryStep {
        traffic_routing_strategy: v1alpha1::TrafficRoutingStrategy {
            // Kruise turns an unreadable traffic into weight 0; no weight is the honest answer.
            weight: strategy.traffic.as_deref().and_then(parse_percent),
            request_header_modifier: strategy.request_header_modifier.clone(),
            matches: strategy
                .matches
                .iter()
                .map(|m| v1alpha1::HttpRouteMatch {
                    headers: m.headers.clone(),
                })
                .collect(),
        },
        replicas: step.replicas.clone(),
        pause: step.pause,
        analysis: step.analysis.clone(),
    }
}

/// Kruise compares the rolling-style annotation with "partition" ignoring case.
fn says_partition(style: Option<&String>) -> bool {
    style.is_some_and(|style| style.eq_ignore_ascii_case("partition"))
}

/// `"20%"` -> 20, as Kruise reads percentages (an integer followed by `%`).
fn parse_percent(text: &str) -> Option<i32> {
    text.strip_suffix('%')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_like_kruise() {
        assert_eq!(parse_percent("20%"), Some(20));
        assert_eq!(parse_percent("0%"), Some(0));
        assert_eq!(parse_percent("100%"), Some(100));
        assert_eq!(parse_percent("20"), None);
        assert_eq!(parse_percent("2.5%"), None);
        assert_eq!(parse_percent("%"), None);
    }

    #[test]
    fn rolling_style_partition_is_case_insensitive() {
        assert!(says_partition(Some(&"Partition".to_owned())));
        assert!(says_partition(Some(&"partition".to_owned())));
        assert!(!says_partition(Some(&"canary".to_owned())));
        assert!(!says_partition(None));
    }
}
