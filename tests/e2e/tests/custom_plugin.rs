//! A traffic plugin of a user's own, written in JavaScript (plugins/examples/istio-virtualservice,
//! built by `make examples` with componentize-js), configured through the plugin ConfigMap
//! while the controller runs, routes an Istio VirtualService (the CRD is installed by the test
//! cluster; no Istio runs) through weights and header matches and restores it exactly.
//!
//! The component is 12 MiB, over a ConfigMap's 1 MiB, so its entry names the file
//! (`source: file:...`, pinned by sha256), as its README tells users to do with a volume.

use anyhow::{Context, Result, ensure};
use waxwing_e2e::kube::api::{Api, ApiResource, DynamicObject};
use waxwing_e2e::kube::core::GroupVersionKind;
use waxwing_e2e::plugins::{add_plugin, sha256};
use waxwing_e2e::repo_root;
use waxwing_e2e::rollout::{Scenario, deployment, phase, rollout};
use waxwing_e2e::traffic::{SERVICE, routing, traffic_restored, wait_split};
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};

const PLUGIN: &str = "istio-virtualservice";

const VIRTUAL_SERVICE: &str = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
spec:
  hosts: [web.example.com]
  http:
    - name: main
      route:
        - destination: {host: web, port: {number: 80}}
";

fn wasm_path() -> std::path::PathBuf {
    std::env::var("WAXWING_EXAMPLES_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target/examples"))
        .join(format!("{PLUGIN}.wasm"))
}

/// The JavaScript plugin's entry in the plugin ConfigMap.
async fn entry() -> Result<String> {
    let wasm = wasm_path();
    ensure!(
        wasm.exists(),
        "{} is missing: run `make examples`",
        wasm.display()
    );
    Ok(format!(
        "  - name: {PLUGIN}
    source: file:{}
    sha256: {}
    world: traffic
    handles:
      traffic:
        - {{apiVersion: networking.istio.io/v1, kind: VirtualService}}
",
        wasm.display(),
        sha256(&wasm).await?
    ))
}

fn virtual_services(s: &Scenario) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService");
    Api::namespaced_with(
        s.ns.client(),
        s.ns.name(),
        &ApiResource::from_gvk_with_plural(&gvk, "virtualservices"),
    )
}

async fn virtual_service(s: &Scenario) -> Result<DynamicObject> {
    Ok(virtual_services(s).get("web").await?)
}

#[tokio::test]
async fn a_javascript_plugin_from_the_configmap_routes_a_virtual_service() -> Result<()> {
    let s = Scenario::new("custom-plugin").await?;
    add_plugin(&s.ns.client(), &entry().await?, None).await?;

    s.apply(&deployment("web", 3, "v1")).await?;
    s.apply(SERVICE).await?;
    s.apply(VIRTUAL_SERVICE).await?;
    let original = virtual_service(&s).await?.data["spec"].clone();
    let steps = "        - replicas: 1
          traffic: \"20%\"
          pause: {}
        - replicas: 1
          matches:
            - headers: [{name: x-canary, value: \"on\"}]
          pause: {}
        - replicas: 100%
";
    let route = "customNetworkRefs: [{apiVersion: networking.istio.io/v1, kind: VirtualService, name: web}]";
    s.apply(&format!(
        "{}{}",
        rollout("web", true, steps),
        routing(route)
    ))
    .await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods("app=web", &[("v1", 3)]).await?;
    s.release("web", "v2", Some("v2")).await?;

    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_split(&s, 3, 1).await?;
    let spec = virtual_service(&s).await?.data["spec"].clone();
    let destinations: Vec<(String, i64)> = spec["http"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rule| rule["route"].as_array().into_iter().flatten())
        .map(|route| {
            (
                route["destination"]["host"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                route["weight"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    ensure!(
        destinations == [("web".to_owned(), 80), ("web-canary".to_owned(), 20)],
        "step 1 routes {destinations:?}: {spec:#}"
    );
    s.approve("web").await?;

    s.wait_step("web", 2, StepState::StepPaused).await?;
    let spec = virtual_service(&s).await?.data["spec"].clone();
    let canary_rule = spec["http"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|rule| {
            rule["route"].as_array().is_some_and(|routes| {
                routes
                    .iter()
                    .all(|r| r["destination"]["host"] == "web-canary")
            })
        })
        .with_context(|| format!("no rule routes only to web-canary: {spec:#}"))?;
    ensure!(
        canary_rule["match"].to_string().contains("x-canary"),
        "the canary rule does not match the header: {canary_rule:#}"
    );
    s.approve("web").await?;

    s.wait_completed("web").await?;
    s.wait_pods("app=web", &[("v2", 3)]).await?;
    traffic_restored(&s).await?;
    let restored = virtual_service(&s).await?;
    ensure!(
        restored.data["spec"] == original,
        "VirtualService web is not as written: {:#}",
        restored.data["spec"]
    );
    let annotations = restored.metadata.annotations.unwrap_or_default();
    ensure!(
        !annotations
            .keys()
            .any(|key| key.starts_with("rollouts.kruise.io/")),
        "VirtualService web keeps {annotations:?}"
    );
    s.ns.cleanup().await
}
