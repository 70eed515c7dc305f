//! The generated CRDs: committed YAML up to date, versions and printer columns as Kruise's,
//! schemas structural, and CEL rules that reject bad Rollouts with readable messages.

mod support;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};
use waxwing_api::crd::{
    ANALYSIS_TEMPLATE_CRD_FILE, ROLLOUT_CRD_FILE, TRAFFIC_ROUTING_CRD_FILE, rollout_crd,
};

use support::{cel_failures, fixture, schema};

fn deploy_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds")
}

#[test]
fn committed_yaml_matches_the_types() {
    let committed: String = [
        ROLLOUT_CRD_FILE,
        TRAFFIC_ROUTING_CRD_FILE,
        ANALYSIS_TEMPLATE_CRD_FILE,
    ]
    .iter()
    .map(|file| std::fs::read_to_string(deploy_dir().join(file)).unwrap_or_default())
    .collect();
    assert!(
        committed == waxwing_api::crds_yaml(),
        "deploy/crds/ is out of date with the types in host/api; \
         run `cargo run -p waxwing -- crds --write deploy/crds` and commit the result"
    );
}

#[test]
fn write_crds_writes_what_crds_yaml_prints() {
    let dir = std::env::temp_dir().join(format!("waxwing-crds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let written = waxwing_api::write_crds(&dir).unwrap();
    let contents: String = written
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!(contents, waxwing_api::crds_yaml());
}

#[test]
fn write_crds_names_the_path_it_cannot_write() {
    let missing = std::env::temp_dir()
        .join("waxwing-no-such-dir")
        .join("deeper");
    let err = waxwing_api::write_crds(&missing).unwrap_err();
    assert!(err.to_string().contains("waxwing-no-such-dir"), "{err}");
}

#[test]
fn yaml_parses_back_into_the_same_crds() {
    let yaml = waxwing_api::crds_yaml();
    let parsed: Vec<CustomResourceDefinition> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("a CRD document"))
        .collect();
    assert_eq!(parsed, waxwing_api::crds());
}

#[test]
fn rollout_crd_serves_both_versions_and_stores_v1beta1() {
    let crd = rollout_crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("rollouts.rollouts.kruise.io")
    );
    assert_eq!(crd.spec.group, "rollouts.kruise.io");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.plural, "rollouts");
    assert!(
        crd.spec.conversion.is_none(),
        "the controller fills in the conversion webhook"
    );
    let versions: Vec<(&str, bool, bool)> = crd
        .spec
        .versions
        .iter()
        .map(|v| (v.name.as_str(), v.served, v.storage))
        .collect();
    assert_eq!(
        versions,
        [("v1beta1", true, true), ("v1alpha1", true, false)]
    );
    for version in &crd.spec.versions {
        let status = version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref());
        assert!(
            status.is_some(),
            "{} has no status subresource",
            version.name
        );
    }
}

#[test]
fn printer_columns_are_kruises() {
    let crd = rollout_crd();
    let columns = |version: &str| -> Vec<(String, String, String)> {
        let version = crd
            .spec
            .versions
            .iter()
            .find(|v| v.name == version)
            .unwrap();
        version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| (c.name.clone(), c.type_.clone(), c.json_path.clone()))
            .collect()
    };
    let expected = |step: &str, state: &str| {
        [
            ("STATUS", "string", ".status.phase"),
            ("CANARY_STEP", "integer", step),
            ("CANARY_STATE", "string", state),
            ("MESSAGE", "string", ".status.message"),
            ("AGE", "date", ".metadata.creationTimestamp"),
        ]
        .map(|(n, t, p)| (n.to_owned(), t.to_owned(), p.to_owned()))
        .to_vec()
    };
    assert_eq!(
        columns("v1beta1"),
        expected(".status.currentStepIndex", ".status.currentStepState")
    );
    assert_eq!(
        columns("v1alpha1"),
        expected(
            ".status.canaryStatus.currentStepIndex",
            ".status.canaryStatus.currentStepState"
        )
    );
}

/// Walks every schema node, calling `check(path, node)`.
fn walk(path: &str, node: &Value, check: &mut dyn FnMut(&str, &Value)) {
    check(path, node);
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            walk(&format!("{path}.{name}"), child, check);
        }
    }
    if let Some(items) = node.get("items") {
        walk(&format!("{path}[]"), items, check);
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        walk(&format!("{path}{{}}"), values, check);
    }
}

fn all_schemas() -> Vec<(String, Value)> {
    vec![
        ("Rollout v1beta1".to_owned(), schema("Rollout", "v1beta1")),
        ("Rollout v1alpha1".to_owned(), schema("Rollout", "v1alpha1")),
        (
            "TrafficRouting v1alpha1".to_owned(),
            schema("TrafficRouting", "v1alpha1"),
        ),
    ]
}

#[test]
fn schemas_are_structural() {
    for (name, root) in all_schemas() {
        let mut problems = Vec::new();
        walk(&name, &root, &mut |path, node| {
            let int_or_string = node.get("x-kubernetes-int-or-string") == Some(&json!(true));
            if node.get("type").is_none() && !int_or_string {
                problems.push(format!("{path}: no type"));
            }
            if int_or_string && node.get("type").is_some() {
                problems.push(format!("{path}: int-or-string with a type"));
            }
            for forbidden in ["nullable", "oneOf", "allOf", "not", "$ref"] {
                if node.get(forbidden).is_some() {
                    problems.push(format!("{path}: has {forbidden}"));
                }
            }
            if let (Some(default), Some(Value::Array(values))) =
                (node.get("default"), node.get("enum"))
                && !values.contains(default)
            {
                problems.push(format!("{path}: default {default} is not in its enum"));
            }
        });
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn int_or_string_fields_are_marked_and_validated() {
    let root = schema("Rollout", "v1beta1");
    let step = &root["properties"]["spec"]["properties"]["strategy"]["properties"]["canary"]["properties"]
        ["steps"]["items"];
    let replicas = &step["properties"]["replicas"];
    assert_eq!(replicas["x-kubernetes-int-or-string"], json!(true));
    assert_eq!(replicas["minimum"], json!(1.0));
    assert_eq!(replicas["pattern"], json!("^0*(100|[1-9][0-9]?)%$"));
    assert_eq!(step["properties"]["traffic"]["type"], json!("string"));
}

#[test]
fn status_enums_accept_go_empty_strings() {
    let root = schema("Rollout", "v1beta1");
    let status = &root["properties"]["status"]["properties"];
    for state in [
        &status["currentStepState"],
        &status["canaryStatus"]["properties"]["finalisingStep"],
    ] {
        let values = state["enum"].as_array().expect("an enum");
        assert!(values.contains(&json!("")), "{state}");
    }
    let step_states = status["canaryStatus"]["properties"]["currentStepState"]["enum"]
        .as_array()
        .unwrap();
    for expected in [
        "BeforeStepUpgrade",
        "StepUpgrade",
        "StepPaused",
        "StepReady",
        "Completed",
    ] {
        assert!(step_states.contains(&json!(expected)), "{expected} missing");
    }
}

#[test]
fn cel_rules_stay_within_the_api_servers_cost_budget() {
    // The estimator does flag a rule that walks an unbounded list.
    let unbounded = json!({"type": "object", "properties": {
        "names": {"type": "array", "items": {"type": "string"}}
    }});
    let warnings = kube_cel::estimate_rule_cost(
        "self.names.all(n, n.matches('^a'))",
        &kube_cel::compile_schema(&unbounded),
    );
    assert!(!warnings.is_empty(), "the cost estimator flags nothing");

    for (name, root) in all_schemas() {
        let mut warnings = Vec::new();
        let mut rules = 0;
        walk(&name, &root, &mut |path, node| {
            let Some(Value::Array(validations)) = node.get("x-kubernetes-validations") else {
                return;
            };
            let compiled = kube_cel::compile_schema(node);
            for validation in validations {
                rules += 1;
                let rule = validation["rule"].as_str().unwrap();
                assert!(
                    validation["message"].is_string(),
                    "{path}: rule {rule} has no message"
                );
                for warning in kube_cel::estimate_rule_cost(rule, &compiled) {
                    warnings.push(format!("{path}: {}", warning.message));
                }
            }
        });
        assert!(rules > 0, "{name} has no CEL rules");
        assert!(warnings.is_empty(), "{warnings:#?}");
    }
}

/// `fixture` with `change` applied, checked against the CEL rules of `version`.
fn failures_after(name: &str, version: &str, change: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut object = fixture(name);
    change(&mut object);
    cel_failures("Rollout", version, &object)
}

fn assert_rejected(failures: &[String], message: &str) {
    assert!(
        failures.iter().any(|f| f.contains(message)),
        "expected a failure containing {message:?}, got {failures:#?}"
    );
}

#[test]
fn a_rollout_needs_exactly_one_strategy() {
    let both = failures_after("v1beta1-canary-traffic.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["blueGreen"] = o["spec"]["strategy"]["canary"].clone();
    });
    assert_rejected(
        &both,
        "set exactly one of strategy.canary and strategy.blueGreen",
    );
    let neither = failures_after("v1beta1-canary-traffic.yaml", "v1beta1", |o| {
        o["spec"]["strategy"] = json!({"paused": true});
    });
    assert_rejected(
        &neither,
        "set exactly one of strategy.canary and strategy.blueGreen",
    );
}

#[test]
fn steps_are_required_and_need_replicas() {
    let no_steps = failures_after("v1beta1-blue-green.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["blueGreen"]["steps"] = json!([]);
    });
    assert_rejected(&no_steps, "at least one step is required");
    let no_replicas = failures_after("v1beta1-canary-traffic.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["steps"][1] = json!({"traffic": "50%"});
    });
    assert_rejected(&no_replicas, "every step needs replicas");
}

#[test]
fn zero_traffic_is_for_blue_green_only() {
    let canary = failures_after("v1beta1-canary-traffic.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["steps"][0]["traffic"] = json!("0%");
    });
    assert_rejected(&canary, "\"0%\" is allowed in blueGreen steps only");
    let blue_green = failures_after("v1beta1-blue-green.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["blueGreen"]["steps"][1]["traffic"] = json!("0%");
    });
    assert!(blue_green.is_empty(), "{blue_green:#?}");
}

#[test]
fn traffic_routings_need_a_route() {
    let bare = failures_after("v1beta1-canary-traffic.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["trafficRoutings"] = json!([{"service": "echoserver"}]);
    });
    assert_rejected(&bare, "needs one of ingress, gateway or customNetworkRefs");
    let gateway = failures_after("v1beta1-gateway.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["trafficRoutings"][0]["gateway"] = json!({});
    });
    assert_rejected(&gateway, "gateway.httpRouteName is required");
}

#[test]
fn path_matches_must_be_absolute_unless_regular_expressions() {
    let relative = failures_after("v1beta1-ab-matches.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["steps"][0]["matches"][1]["path"]["value"] = json!("api");
    });
    assert_rejected(&relative, "must be an absolute path");
    let regex = failures_after("v1beta1-ab-matches.yaml", "v1beta1", |o| {
        o["spec"]["strategy"]["canary"]["steps"][0]["matches"][1]["path"] =
            json!({"type": "RegularExpression", "value": "api/.*"});
    });
    assert!(regex.is_empty(), "{regex:#?}");
}

#[test]
fn v1alpha1_rules_follow_v1alpha1_semantics() {
    let no_workload = failures_after("v1alpha1-canary-weight.yaml", "v1alpha1", |o| {
        o["spec"]["objectRef"] = json!({});
    });
    assert_rejected(&no_workload, "objectRef.workloadRef is required");
    let no_canary = failures_after("v1alpha1-canary-weight.yaml", "v1alpha1", |o| {
        o["spec"]["strategy"] = json!({});
    });
    assert_rejected(&no_canary, "strategy.canary is required");
    let empty_step = failures_after("v1alpha1-canary-weight.yaml", "v1alpha1", |o| {
        o["spec"]["strategy"]["canary"]["steps"][0] = json!({"pause": {}});
    });
    assert_rejected(&empty_step, "every step needs replicas");
}
