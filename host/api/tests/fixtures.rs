//! Every fixture parses, is written back as Kruise would write it, converts to the other
//! Rollout version and back unchanged, and passes the CRD's CEL rules in both versions.

mod support;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use waxwing_api::conversion::{to_v1alpha1, to_v1beta1};
use waxwing_api::labels::{ROLLING_STYLE, TRAFFIC_ROUTING};
use waxwing_api::{v1alpha1, v1beta1};

use support::{cel_failures, differences, fixture, fixture_names};

fn api_version(object: &Value) -> &str {
    object["apiVersion"]
        .as_str()
        .expect("a fixture has an apiVersion")
}

/// Parses `object` as `T` and checks that writing it back loses nothing.
fn parse_round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    name: &str,
    object: &Value,
) -> T {
    let typed: T = serde_json::from_value(object.clone())
        .unwrap_or_else(|err| panic!("{name} does not parse: {err}"));
    let written = serde_json::to_value(&typed).expect("serialises");
    let diff = differences(object, &written);
    assert!(diff.is_empty(), "{name} does not round-trip: {diff:#?}");
    let reparsed: T = serde_json::from_value(written).expect("its own output parses");
    assert_eq!(
        reparsed, typed,
        "{name}: parsing the written object gives another value"
    );
    typed
}

fn assert_cel_passes(name: &str, kind: &str, version: &str, object: &impl Serialize) {
    let failures = cel_failures(kind, version, &serde_json::to_value(object).unwrap());
    assert!(
        failures.is_empty(),
        "{name} as {version} fails CEL rules: {failures:#?}"
    );
}

#[test]
fn there_are_fixtures_for_every_kind_and_version() {
    let versions: Vec<String> = fixture_names()
        .iter()
        .map(|name| {
            let object = fixture(name);
            format!(
                "{} {}",
                object["kind"].as_str().unwrap(),
                api_version(&object)
            )
        })
        .collect();
    for expected in [
        "Rollout rollouts.kruise.io/v1alpha1",
        "Rollout rollouts.kruise.io/v1beta1",
        "TrafficRouting rollouts.kruise.io/v1alpha1",
    ] {
        assert!(
            versions.iter().any(|v| v == expected),
            "no fixture for {expected}"
        );
    }
}

#[test]
fn v1alpha1_rollouts_round_trip_and_convert_to_v1beta1_and_back() {
    let mut checked = 0;
    for name in fixture_names() {
        let object = fixture(&name);
        if object["kind"] != "Rollout" || api_version(&object) != "rollouts.kruise.io/v1alpha1" {
            continue;
        }
        let alpha: v1alpha1::Rollout = parse_round_trip(&name, &object);
        assert_cel_passes(&name, "Rollout", "v1alpha1", &alpha);

        let beta = to_v1beta1(&alpha).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_cel_passes(&name, "Rollout", "v1beta1", &beta);
        let back = to_v1alpha1(&beta).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            back, alpha,
            "{name}: v1alpha1 -> v1beta1 -> v1alpha1 changed it"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} v1alpha1 fixtures");
}

#[test]
fn v1beta1_rollouts_round_trip_and_convert_to_v1alpha1_and_back() {
    let mut checked = 0;
    for name in fixture_names() {
        let object = fixture(&name);
        if object["kind"] != "Rollout" || api_version(&object) != "rollouts.kruise.io/v1beta1" {
            continue;
        }
        let beta: v1beta1::Rollout = parse_round_trip(&name, &object);
        assert_cel_passes(&name, "Rollout", "v1beta1", &beta);

        let alpha = to_v1alpha1(&beta).unwrap_or_else(|err| panic!("{name}: {err}"));
        let back = to_v1beta1(&alpha).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            back.spec, beta.spec,
            "{name}: the spec changed on the way back"
        );
        assert_eq!(
            back.status, beta.status,
            "{name}: the status changed on the way back"
        );
        // The v1alpha1 strategy annotations may stay behind (as in Kruise); nothing else may.
        let mut metadata = back.metadata.clone();
        if let Some(annotations) = &mut metadata.annotations {
            annotations.remove(ROLLING_STYLE);
            annotations.remove(TRAFFIC_ROUTING);
        }
        if metadata.annotations.as_ref().is_some_and(|a| a.is_empty()) {
            metadata.annotations = None;
        }
        assert_eq!(
            metadata, beta.metadata,
            "{name}: metadata changed on the way back"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} v1beta1 fixtures");
}

#[test]
fn traffic_routing_fixture_round_trips_and_passes_cel() {
    let object = fixture("trafficrouting.yaml");
    let routing: v1alpha1::TrafficRouting = parse_round_trip("trafficrouting.yaml", &object);
    assert_eq!(routing.spec.object_ref.len(), 1);
    assert_eq!(
        routing.status.as_ref().and_then(|s| s.phase),
        Some(v1alpha1::TrafficRoutingPhase::Healthy)
    );
    assert_cel_passes(
        "trafficrouting.yaml",
        "TrafficRouting",
        "v1alpha1",
        &routing,
    );
}

#[test]
fn fixtures_say_what_kruise_means() {
    let alpha: v1alpha1::Rollout =
        serde_json::from_value(fixture("v1alpha1-canary-weight.yaml")).unwrap();
    let beta = to_v1beta1(&alpha).unwrap();
    let canary = beta.spec.strategy.canary.as_ref().unwrap();
    assert!(
        canary.enable_extra_workload_for_canary,
        "no rolling-style annotation means canary"
    );
    let first = &canary.steps[0];
    assert_eq!(
        first.traffic_routing_strategy.traffic.as_deref(),
        Some("5%")
    );
    assert_eq!(
        serde_json::to_value(&first.replicas).unwrap(),
        serde_json::json!("5%"),
        "a step with weight only runs weight percent of the pods"
    );
    assert_eq!(canary.steps[2].pause.duration, Some(60));
    assert_eq!(canary.traffic_routings[0].grace_period_seconds, 5);

    let beta: v1beta1::Rollout =
        serde_json::from_value(fixture("v1beta1-ab-matches.yaml")).unwrap();
    let step = &beta.spec.strategy.steps()[0];
    let second_match = &step.traffic_routing_strategy.matches[1];
    assert_eq!(
        second_match.path.as_ref().and_then(|p| p.type_),
        Some(v1beta1::PathMatchType::PathPrefix)
    );
    assert_eq!(second_match.query_params[0].name, "canary");

    let beta: v1beta1::Rollout =
        serde_json::from_value(fixture("v1beta1-blue-green.yaml")).unwrap();
    let status = beta.status.unwrap();
    let blue_green = status.blue_green_status.as_ref().unwrap();
    assert_eq!(blue_green.update_revision, "7d6c98d7fd");
    assert_eq!(blue_green.common.finalising_step, None);
    assert_eq!(
        status.current_step_state,
        Some(v1beta1::StepState::StepPaused)
    );
    assert_eq!(status.sub_status().map(|s| s.next_step_index), Some(2));
}
