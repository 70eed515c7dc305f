//! Gateway API HTTPRoutes routed end to end against the local cluster and the controller
//! `make up` runs: weights on the rule to the stable Service step by step, A/B matches with a
//! request header modifier, exact restore, and a route that does not send traffic to the stable
//! Service refused before anything changes.

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use waxwing_e2e::rollout::Scenario;
use waxwing_e2e::traffic::{
    HTTP_ROUTE, WEIGHTS, http_route_spec, refused_before_anything_changes, rule_backends, settled,
    traffic_restored, traffic_steps, wait_split,
};
use waxwing_e2e::waxwing_api::v1beta1::StepState;

/// Scenario 3: an HTTPRoute, 20% to 90% with 3 replicas: the rule to the stable Service splits
/// its weight between the two Services, the other rule is never touched, and the route is
/// exactly as written at the end.
#[tokio::test]
async fn http_route_weights_step_by_step() -> Result<()> {
    let s = Scenario::new("traffic-httproute").await?;
    let steps = traffic_steps(&WEIGHTS);
    settled(
        &s,
        3,
        HTTP_ROUTE,
        true,
        &steps,
        "gateway: {httpRouteName: web}",
    )
    .await?;
    let original = http_route_spec(&s, "web").await?;
    s.release("web", "v2", Some("v2")).await?;
    for (index, (_, weight)) in WEIGHTS.iter().enumerate() {
        let step = i32::try_from(index + 1)?;
        s.wait_step("web", step, StepState::StepPaused).await?;
        let canary: i64 = weight.trim_end_matches('%').parse()?;
        let spec = http_route_spec(&s, "web").await?;
        let stable_rule = rule_backends(&spec, 0);
        ensure!(
            stable_rule
                == [
                    ("web".to_owned(), Some(100 - canary)),
                    ("web-canary".to_owned(), Some(canary))
                ],
            "step {step}: rule 0 sends to {stable_rule:?}"
        );
        ensure!(
            rule_backends(&spec, 1) == rule_backends(&original, 1),
            "step {step}: the /admin rule changed: {:?}",
            rule_backends(&spec, 1)
        );
        wait_split(&s, 3, [1, 2, 2, 3, 3][index]).await?;
        s.approve("web").await?;
    }
    s.wait_completed("web").await?;
    traffic_restored(&s).await?;
    let restored = http_route_spec(&s, "web").await?;
    ensure!(
        restored == original,
        "HTTPRoute web is not as written: {restored:#}"
    );
    s.ns.cleanup().await
}

/// Scenario 3, A/B: header, query-parameter and path matches go to the canary through a rule of
/// their own, with the step's request header modifier on it; the weight rule stays untouched.
#[tokio::test]
async fn http_route_matches_and_header_modifier() -> Result<()> {
    let s = Scenario::new("traffic-ab").await?;
    let steps = "        - replicas: 1
          matches:
            - headers: [{name: x-canary, value: always}]
            - queryParams: [{name: canary, value: \"yes\"}]
              path: {type: PathPrefix, value: /beta}
          requestHeaderModifier:
            set: [{name: x-routed-by, value: waxwing}]
          pause: {}
        - replicas: 100%
";
    settled(
        &s,
        5,
        HTTP_ROUTE,
        false,
        steps,
        "gateway: {httpRouteName: web}",
    )
    .await?;
    let original = http_route_spec(&s, "web").await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    let spec = http_route_spec(&s, "web").await?;
    let rules = spec["rules"].as_array().context("no rules")?;
    let canary_rules: Vec<&Value> = rules
        .iter()
        .filter(|rule| {
            rule["backendRefs"]
                .as_array()
                .is_some_and(|refs| refs.iter().all(|r| r["name"] == "web-canary"))
        })
        .collect();
    ensure!(
        !canary_rules.is_empty(),
        "no rule routes to web-canary: {spec:#}"
    );
    let matches: Vec<&Value> = canary_rules
        .iter()
        .flat_map(|rule| rule["matches"].as_array().into_iter().flatten())
        .collect();
    let text = serde_json::to_string(&matches)?;
    for expected in ["x-canary", "always", "\"canary\"", "/beta"] {
        ensure!(
            text.contains(expected),
            "canary matches lack {expected}: {text}"
        );
    }
    for rule in &canary_rules {
        let filters = serde_json::to_string(&rule["filters"])?;
        ensure!(
            filters.contains("RequestHeaderModifier") && filters.contains("x-routed-by"),
            "a canary rule lacks the header modifier: {rule:#}"
        );
    }
    ensure!(
        rules.iter().any(
            |rule| rule_backends(&json!({ "rules": [rule] }), 0) == rule_backends(&original, 0)
        ),
        "the weight rule to web changed: {spec:#}"
    );
    wait_split(&s, 4, 1).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    traffic_restored(&s).await?;
    ensure!(
        http_route_spec(&s, "web").await? == original,
        "HTTPRoute web is not as written"
    );
    s.ns.cleanup().await
}

/// Scenario 7: an HTTPRoute none of whose rules sends traffic to the stable Service is refused
/// with a message that says so, before any pod, Service or route changed.
#[tokio::test]
async fn an_http_route_without_the_stable_service_is_refused() -> Result<()> {
    refused_before_anything_changes(
        "httproute-bad",
        &HTTP_ROUTE.replace("- {name: web, port: 80}", "- {name: admin, port: 80}"),
        "gateway: {httpRouteName: web}",
        "web",
        "no rule",
    )
    .await
}
