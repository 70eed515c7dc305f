//! Conversion between v1alpha1 and v1beta1: Kruise's mapping, lossless both ways, and the
//! JSON entry point used by the conversion webhook.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::prelude::*;
use serde_json::json;
use waxwing_api::conversion::{
    ConversionError, V1ALPHA1, V1BETA1, convert, to_v1alpha1, to_v1beta1,
};
use waxwing_api::gateway::{
    HeaderMatchType, HttpHeader, HttpHeaderFilter, HttpHeaderMatch, HttpPathMatch,
    HttpQueryParamMatch, PathMatchType,
};
use waxwing_api::labels::{
    ROLLING_STYLE, TRAFFIC_ROUTING, V1ALPHA1_CONVERSION_DATA, V1BETA1_CONVERSION_DATA,
};
use waxwing_api::{v1alpha1, v1beta1};

fn meta(annotations: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some("demo".into()),
        namespace: Some("default".into()),
        annotations: (!annotations.is_empty()).then(|| {
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
        ..ObjectMeta::default()
    }
}

fn alpha_step(weight: Option<i32>, replicas: Option<IntOrString>) -> v1alpha1::CanaryStep {
    v1alpha1::CanaryStep {
        traffic_routing_strategy: v1alpha1::TrafficRoutingStrategy {
            weight,
            ..Default::default()
        },
        replicas,
        pause: v1beta1::RolloutPause::default(),
        analysis: None,
    }
}

fn alpha(annotations: &[(&str, &str)], steps: Vec<v1alpha1::CanaryStep>) -> v1alpha1::Rollout {
    v1alpha1::Rollout {
        metadata: meta(annotations),
        spec: v1alpha1::RolloutSpec {
            object_ref: v1alpha1::ObjectRef {
                workload_ref: Some(v1alpha1::WorkloadRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: "web".into(),
                }),
            },
            strategy: v1alpha1::RolloutStrategy {
                paused: false,
                canary: Some(v1alpha1::CanaryStrategy {
                    steps,
                    ..Default::default()
                }),
            },
            rollout_id: String::new(),
            disabled: false,
        },
        status: None,
    }
}

fn annotation<'a>(metadata: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

#[test]
fn rolling_style_annotation_decides_extra_workload() {
    for (annotations, extra) in [
        (vec![], true),
        (vec![(ROLLING_STYLE, "canary")], true),
        (vec![(ROLLING_STYLE, "partition")], false),
        (vec![(ROLLING_STYLE, "Partition")], false),
    ] {
        let beta = to_v1beta1(&alpha(&annotations, vec![alpha_step(Some(10), None)])).unwrap();
        let canary = beta.spec.strategy.canary.unwrap();
        assert_eq!(
            canary.enable_extra_workload_for_canary, extra,
            "{annotations:?}"
        );
    }
}

#[test]
fn traffic_routing_annotation_becomes_traffic_routing_ref() {
    let beta = to_v1beta1(&alpha(&[(TRAFFIC_ROUTING, "shared")], vec![])).unwrap();
    let canary = beta.spec.strategy.canary.as_ref().unwrap();
    assert_eq!(canary.traffic_routing_ref.as_deref(), Some("shared"));
    let empty = to_v1beta1(&alpha(&[(TRAFFIC_ROUTING, "")], vec![])).unwrap();
    assert_eq!(
        empty.spec.strategy.canary.unwrap().traffic_routing_ref,
        None
    );
}

#[test]
fn weight_becomes_traffic_and_fills_missing_replicas() {
    let rollout = alpha(
        &[],
        vec![
            alpha_step(Some(20), None),
            alpha_step(Some(40), Some(IntOrString::Int(3))),
            alpha_step(None, Some(IntOrString::String("100%".into()))),
        ],
    );
    let beta = to_v1beta1(&rollout).unwrap();
    let steps = beta.spec.strategy.steps();
    let traffic: Vec<_> = steps
        .iter()
        .map(|s| s.traffic_routing_strategy.traffic.clone())
        .collect();
    assert_eq!(
        traffic,
        [Some("20%".to_owned()), Some("40%".to_owned()), None]
    );
    let replicas: Vec<_> = steps.iter().map(|s| s.replicas.clone()).collect();
    assert_eq!(
        replicas,
        [
            Some(IntOrString::String("20%".into())),
            Some(IntOrString::Int(3)),
            Some(IntOrString::String("100%".into()))
        ]
    );
    // v1beta1 cannot tell a step's replicas from one derived from weight: the v1alpha1 spec is
    // kept for the way back, which restores it exactly.
    assert!(annotation(&beta.metadata, V1ALPHA1_CONVERSION_DATA).is_some());
    assert_eq!(to_v1alpha1(&beta).unwrap(), rollout);
}

#[test]
fn nothing_is_stored_when_nothing_would_be_lost() {
    let rollout = alpha(&[], vec![alpha_step(Some(20), Some(IntOrString::Int(1)))]);
    let beta = to_v1beta1(&rollout).unwrap();
    assert_eq!(beta.metadata.annotations, None);
    let alpha_again = to_v1alpha1(&beta).unwrap();
    assert_eq!(alpha_again.metadata.annotations, None);
}

#[test]
fn deprecated_rollout_id_survives_but_is_not_in_v1beta1() {
    let mut rollout = alpha(&[], vec![alpha_step(None, Some(IntOrString::Int(1)))]);
    rollout.spec.rollout_id = "r-7".into();
    let beta = to_v1beta1(&rollout).unwrap();
    assert!(
        annotation(&beta.metadata, V1ALPHA1_CONVERSION_DATA)
            .unwrap()
            .contains("r-7")
    );
    assert_eq!(to_v1alpha1(&beta).unwrap().spec.rollout_id, "r-7");
}

#[test]
fn a_v1beta1_edit_wins_over_stored_v1alpha1_data() {
    let rollout = alpha(&[], vec![alpha_step(Some(20), None)]);
    let mut beta = to_v1beta1(&rollout).unwrap();
    beta.spec.strategy.canary.as_mut().unwrap().steps[0].replicas = Some(IntOrString::Int(2));
    let back = to_v1alpha1(&beta).unwrap();
    assert_eq!(
        back.spec.strategy.canary.unwrap().steps[0].replicas,
        Some(IntOrString::Int(2))
    );
    assert_eq!(annotation(&back.metadata, V1ALPHA1_CONVERSION_DATA), None);
}

fn blue_green() -> v1beta1::Rollout {
    let step = v1beta1::CanaryStep {
        traffic_routing_strategy: v1beta1::TrafficRoutingStrategy {
            traffic: Some("0%".into()),
            ..Default::default()
        },
        replicas: Some(IntOrString::String("100%".into())),
        pause: v1beta1::RolloutPause::default(),
        analysis: None,
    };
    v1beta1::Rollout {
        metadata: meta(&[]),
        spec: v1beta1::RolloutSpec {
            workload_ref: v1beta1::ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: "web".into(),
            },
            strategy: v1beta1::RolloutStrategy {
                blue_green: Some(v1beta1::BlueGreenStrategy {
                    steps: vec![step],
                    ..Default::default()
                }),
                ..Default::default()
            },
            disabled: false,
        },
        status: Some(v1beta1::RolloutStatus {
            blue_green_status: Some(v1beta1::BlueGreenStatus {
                update_revision: "abc".into(),
                ..Default::default()
            }),
            current_step_index: 1,
            current_step_state: Some(v1beta1::StepState::StepPaused),
            ..Default::default()
        }),
    }
}

#[test]
fn blue_green_survives_a_trip_through_v1alpha1() {
    let original = blue_green();
    let alpha = to_v1alpha1(&original).unwrap();
    assert_eq!(
        alpha.spec.strategy.canary, None,
        "v1alpha1 has no blue-green"
    );
    assert_eq!(
        alpha
            .spec
            .object_ref
            .workload_ref
            .as_ref()
            .map(|w| w.name.as_str()),
        Some("web"),
        "what v1alpha1 can hold is converted, unlike Kruise which drops the whole spec"
    );
    assert!(annotation(&alpha.metadata, V1BETA1_CONVERSION_DATA).is_some());
    assert_eq!(to_v1beta1(&alpha).unwrap(), original);
}

#[test]
fn a_v1alpha1_edit_wins_over_stored_v1beta1_data() {
    let mut alpha = to_v1alpha1(&blue_green()).unwrap();
    alpha.spec.strategy.canary = Some(v1alpha1::CanaryStrategy {
        steps: vec![alpha_step(None, Some(IntOrString::Int(1)))],
        ..Default::default()
    });
    let beta = to_v1beta1(&alpha).unwrap();
    assert!(beta.spec.strategy.blue_green.is_none());
    assert_eq!(beta.spec.strategy.steps().len(), 1);
    assert_eq!(annotation(&beta.metadata, V1BETA1_CONVERSION_DATA), None);
}

#[test]
fn v1alpha1_status_fills_the_v1beta1_step_mirror() {
    let mut rollout = alpha(&[], vec![]);
    rollout.status = Some(v1alpha1::RolloutStatus {
        canary_status: Some(v1alpha1::CanaryStatus {
            current_step_index: 2,
            current_step_state: v1beta1::StepState::StepReady,
            ..Default::default()
        }),
        ..Default::default()
    });
    let status = to_v1beta1(&rollout).unwrap().status.unwrap();
    assert_eq!(status.current_step_index, 2);
    assert_eq!(
        status.current_step_state,
        Some(v1beta1::StepState::StepReady)
    );
}

#[test]
fn a_v1alpha1_rollout_without_workload_is_refused_with_a_reason() {
    let mut rollout = alpha(&[], vec![]);
    rollout.spec.object_ref.workload_ref = None;
    let err = to_v1beta1(&rollout).unwrap_err();
    assert!(matches!(err, ConversionError::MissingWorkloadRef));
    assert!(
        err.to_string().contains("spec.objectRef.workloadRef"),
        "{err}"
    );
}

#[test]
fn convert_handles_review_objects() {
    let object = serde_json::to_value(blue_green()).unwrap();
    assert_eq!(
        convert(&object, V1BETA1).unwrap(),
        object,
        "same version is returned as is"
    );
    let alpha = convert(&object, V1ALPHA1).unwrap();
    assert_eq!(alpha["apiVersion"], json!(V1ALPHA1));
    assert_eq!(alpha["kind"], json!("Rollout"));
    assert_eq!(convert(&alpha, V1BETA1).unwrap(), object);

    let err = convert(&object, "rollouts.kruise.io/v2").unwrap_err();
    assert!(err.to_string().contains("rollouts.kruise.io/v2"), "{err}");
    let err = convert(&json!({"apiVersion": V1ALPHA1, "spec": 3}), V1BETA1).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a valid rollouts.kruise.io/v1alpha1 Rollout"),
        "{err}"
    );
}

#[test]
fn unreadable_conversion_data_is_dropped() {
    let mut alpha = to_v1alpha1(&blue_green()).unwrap();
    alpha
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(V1BETA1_CONVERSION_DATA.into(), "{not json".into());
    let beta = to_v1beta1(&alpha).unwrap();
    assert!(beta.spec.strategy.blue_green.is_none());
    assert_eq!(annotation(&beta.metadata, V1BETA1_CONVERSION_DATA), None);
}

// Generated objects: every combination of fields round-trips, including ones the CRD's
// validation would refuse (conversion must not lose data whatever it is given).

fn name() -> impl Strategy<Value = String> {
    "[a-z]{1,6}"
}

fn int_or_string() -> impl Strategy<Value = IntOrString> {
    prop_oneof![
        (0..20i32).prop_map(IntOrString::Int),
        (0..=100i32).prop_map(|p| IntOrString::String(format!("{p}%"))),
    ]
}

fn header_matches() -> impl Strategy<Value = Vec<HttpHeaderMatch>> {
    prop::collection::vec(
        (
            name(),
            name(),
            prop::option::of(Just(HeaderMatchType::RegularExpression)),
        )
            .prop_map(|(name, value, type_)| HttpHeaderMatch { type_, name, value }),
        0..3,
    )
}

fn header_filter() -> impl Strategy<Value = Option<HttpHeaderFilter>> {
    prop::option::of((name(), name()).prop_map(|(name, value)| HttpHeaderFilter {
        set: vec![HttpHeader { name, value }],
        remove: vec!["x-debug".into()],
        ..Default::default()
    }))
}

fn traffic_routings() -> impl Strategy<Value = Vec<v1beta1::TrafficRoutingRef>> {
    prop::collection::vec(
        (
            name(),
            0..10i32,
            prop::option::of(name()),
            prop::option::of(name()),
        )
            .prop_map(
                |(service, grace, ingress, route)| v1beta1::TrafficRoutingRef {
                    service,
                    grace_period_seconds: grace,
                    ingress: ingress.map(|name| v1beta1::IngressTrafficRouting {
                        class_type: "nginx".into(),
                        name,
                    }),
                    gateway: route.map(|r| v1beta1::GatewayTrafficRouting {
                        http_route_name: Some(r),
                    }),
                    custom_network_refs: vec![],
                },
            ),
        0..2,
    )
}

fn pause() -> impl Strategy<Value = v1beta1::RolloutPause> {
    prop::option::of(0..600i32).prop_map(|duration| v1beta1::RolloutPause { duration })
}

fn metadata_patch() -> impl Strategy<Value = Option<v1beta1::PatchPodTemplateMetadata>> {
    prop::option::of(
        prop::collection::btree_map(name(), name(), 0..2).prop_map(|labels| {
            v1beta1::PatchPodTemplateMetadata {
                labels,
                annotations: BTreeMap::new(),
            }
        }),
    )
}

fn alpha_rollout() -> impl Strategy<Value = v1alpha1::Rollout> {
    let step = (
        prop::option::of(0..=100i32),
        header_filter(),
        prop::collection::vec(header_matches(), 0..2),
        prop::option::of(int_or_string()),
        pause(),
    )
        .prop_map(
            |(weight, modifier, matches, replicas, pause)| v1alpha1::CanaryStep {
                traffic_routing_strategy: v1alpha1::TrafficRoutingStrategy {
                    weight,
                    request_header_modifier: modifier,
                    matches: matches
                        .into_iter()
                        .map(|headers| v1alpha1::HttpRouteMatch { headers })
                        .collect(),
                },
                replicas,
                pause,
                analysis: None,
            },
        );
    let canary = (
        prop::collection::vec(step, 0..4),
        traffic_routings(),
        prop::option::of(int_or_string()),
        metadata_patch(),
        any::<bool>(),
    )
        .prop_map(
            |(steps, traffic_routings, failure_threshold, patch, disable)| {
                v1alpha1::CanaryStrategy {
                    steps,
                    traffic_routings,
                    failure_threshold,
                    patch_pod_template_metadata: patch,
                    disable_generate_canary_service: disable,
                    analysis: None,
                }
            },
        );
    let annotations = (
        prop::option::of(prop::sample::select(vec![
            "partition",
            "Partition",
            "canary",
            "other",
        ])),
        prop::option::of(prop::sample::select(vec!["", "shared-routes"])),
    );
    let status = prop::option::of(
        (
            0..5i32,
            prop::option::of(prop::sample::select(vec![
                v1beta1::FinalisingStepType::RestoreStableService,
                v1beta1::FinalisingStepType::End,
            ])),
            prop::option::of("[a-z ]{0,8}"),
        )
            .prop_map(|(index, finalising_step, abort)| v1alpha1::RolloutStatus {
                observed_generation: 2,
                abort_request: abort.map(|reason| v1beta1::AbortRequest { reason }),
                phase: Some(v1beta1::RolloutPhase::Progressing),
                canary_status: Some(v1alpha1::CanaryStatus {
                    current_step_index: index,
                    next_step_index: index + 1,
                    current_step_state: v1beta1::StepState::StepUpgrade,
                    finalising_step,
                    canary_revision: "rev".into(),
                    last_update_time: Some(Time(Default::default())),
                    ..Default::default()
                }),
                ..Default::default()
            }),
    );
    (
        prop::option::of(canary),
        annotations,
        "[a-z0-9-]{0,4}",
        any::<(bool, bool)>(),
        status,
    )
        .prop_map(
            |(canary, (style, routing), rollout_id, (paused, disabled), status)| {
                let mut pairs = vec![];
                pairs.extend(style.map(|s| (ROLLING_STYLE, s)));
                pairs.extend(routing.map(|r| (TRAFFIC_ROUTING, r)));
                let mut rollout = alpha(&pairs, vec![]);
                rollout.spec.strategy = v1alpha1::RolloutStrategy { paused, canary };
                rollout.spec.rollout_id = rollout_id;
                rollout.spec.disabled = disabled;
                rollout.status = status;
                rollout
            },
        )
}

fn beta_step() -> impl Strategy<Value = v1beta1::CanaryStep> {
    let path = prop::option::of(prop::sample::select(vec!["/", "/api", "api/.*"]).prop_map(
        |value| HttpPathMatch {
            type_: Some(PathMatchType::PathPrefix),
            value: Some(value.into()),
        },
    ));
    let query = prop::collection::vec(
        (name(), name()).prop_map(|(name, value)| HttpQueryParamMatch {
            type_: None,
            name,
            value,
        }),
        0..2,
    );
    let route_match = (path, header_matches(), query).prop_map(|(path, headers, query_params)| {
        v1beta1::HttpRouteMatch {
            path,
            headers,
            query_params,
        }
    });
    (
        prop::option::of(prop::sample::select(vec![
            "0%", "5%", "50%", "100%", "07%", "half",
        ])),
        header_filter(),
        prop::collection::vec(route_match, 0..2),
        prop::option::of(int_or_string()),
        pause(),
    )
        .prop_map(
            |(traffic, modifier, matches, replicas, pause)| v1beta1::CanaryStep {
                traffic_routing_strategy: v1beta1::TrafficRoutingStrategy {
                    traffic: traffic.map(str::to_owned),
                    request_header_modifier: modifier,
                    matches,
                },
                replicas,
                pause,
                analysis: None,
            },
        )
}

fn beta_rollout() -> impl Strategy<Value = v1beta1::Rollout> {
    let canary = (
        prop::collection::vec(beta_step(), 0..4),
        traffic_routings(),
        prop::option::of(int_or_string()),
        metadata_patch(),
        any::<(bool, bool)>(),
        prop::option::of(prop::sample::select(vec!["", "shared-routes"])),
    )
        .prop_map(
            |(steps, traffic_routings, failure_threshold, patch, (extra, disable), tr)| {
                v1beta1::CanaryStrategy {
                    steps,
                    traffic_routings,
                    failure_threshold,
                    patch_pod_template_metadata: patch,
                    enable_extra_workload_for_canary: extra,
                    traffic_routing_ref: tr.map(str::to_owned),
                    disable_generate_canary_service: disable,
                    analysis: None,
                }
            },
        );
    let blue_green = (prop::collection::vec(beta_step(), 0..3), traffic_routings()).prop_map(
        |(steps, traffic_routings)| v1beta1::BlueGreenStrategy {
            steps,
            traffic_routings,
            ..Default::default()
        },
    );
    let common = (
        0..4i32,
        prop::option::of(Just(v1beta1::FinalisingStepType::ResumeWorkload)),
    )
        .prop_map(|(index, finalising_step)| v1beta1::CommonStatus {
            current_step_index: index,
            next_step_index: index + 1,
            finalising_step,
            current_step_state: v1beta1::StepState::StepPaused,
            ..Default::default()
        });
    let status = prop::option::of(
        (
            prop::option::of(common.clone()),
            prop::option::of(common),
            0..4i32,
            prop::option::of(Just(v1beta1::StepState::StepReady)),
        )
            .prop_map(
                |(canary, blue_green, index, state)| v1beta1::RolloutStatus {
                    canary_status: canary.map(|common| v1beta1::CanaryStatus {
                        common,
                        canary_revision: "c".into(),
                        ..Default::default()
                    }),
                    blue_green_status: blue_green.map(|common| v1beta1::BlueGreenStatus {
                        common,
                        update_revision: "b".into(),
                        ..Default::default()
                    }),
                    current_step_index: index,
                    current_step_state: state,
                    ..Default::default()
                },
            ),
    );
    (
        prop::option::of(canary),
        prop::option::of(blue_green),
        prop::option::of(prop::sample::select(vec!["partition", "canary", "other"])),
        status,
    )
        .prop_map(|(canary, blue_green, style, status)| {
            let pairs: Vec<_> = style.map(|s| (ROLLING_STYLE, s)).into_iter().collect();
            v1beta1::Rollout {
                metadata: meta(&pairs),
                spec: v1beta1::RolloutSpec {
                    workload_ref: v1beta1::ObjectRef {
                        api_version: "apps.kruise.io/v1alpha1".into(),
                        kind: "CloneSet".into(),
                        name: "web".into(),
                    },
                    strategy: v1beta1::RolloutStrategy {
                        paused: false,
                        canary,
                        blue_green,
                    },
                    disabled: false,
                },
                status,
            }
        })
}

fn without_strategy_annotations(mut metadata: ObjectMeta) -> ObjectMeta {
    if let Some(annotations) = &mut metadata.annotations {
        annotations.remove(ROLLING_STYLE);
        annotations.remove(TRAFFIC_ROUTING);
    }
    metadata.annotations = metadata.annotations.filter(|a| !a.is_empty());
    metadata
}

proptest! {
    #[test]
    fn v1alpha1_to_v1beta1_and_back_is_identity(rollout in alpha_rollout()) {
        let beta = to_v1beta1(&rollout).unwrap();
        prop_assert_eq!(to_v1alpha1(&beta).unwrap(), rollout);
    }

    #[test]
    fn v1beta1_to_v1alpha1_and_back_keeps_spec_and_status(rollout in beta_rollout()) {
        let alpha = to_v1alpha1(&rollout).unwrap();
        let back = to_v1beta1(&alpha).unwrap();
        prop_assert_eq!(&back.spec, &rollout.spec);
        prop_assert_eq!(&back.status, &rollout.status);
        prop_assert_eq!(
            without_strategy_annotations(back.metadata),
            without_strategy_annotations(rollout.metadata)
        );
    }

    #[test]
    fn json_conversion_round_trips(rollout in alpha_rollout()) {
        let object = serde_json::to_value(&rollout).unwrap();
        let beta = convert(&object, V1BETA1).unwrap();
        prop_assert_eq!(convert(&beta, V1ALPHA1).unwrap(), object);
    }
}
