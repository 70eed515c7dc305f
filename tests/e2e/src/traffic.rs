//! Traffic scenarios' pieces: the Service, Ingress and HTTPRoute manifests of Deployment `web`,
//! Rollouts routing through them, and checks of what each Service selects and each route says.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use serde_json::Value;

use crate::rollout::{
    Census, DEPLOYMENT, Scenario, WorkloadKind, deployment, message, phase, rollout,
};
use crate::{Check, poll_until};
use waxwing_api::v1beta1::RolloutPhase;

/// The stable Service of `web`: port 80 to the pods' 8080.
pub const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: 8080}
";

/// An Ingress of class `class` sending `/` of web.example.com to `web` and `/admin` to another
/// Service, which a canary Ingress must leave out.
pub fn ingress(class: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {{team.example.com/owner: storefront}}
spec:
  ingressClassName: {class}
  rules:
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {{service: {{name: web, port: {{number: 80}}}}}}
          - path: /admin
            pathType: Prefix
            backend: {{service: {{name: admin, port: {{number: 80}}}}}}
"
    )
}

/// An HTTPRoute `web` with one rule to `web` (path `/`) and one to another Service.
pub const HTTP_ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs:
    - name: public
  hostnames: [web.example.com]
  rules:
    - matches:
        - path: {type: PathPrefix, value: /}
      backendRefs:
        - {name: web, port: 80}
    - matches:
        - path: {type: PathPrefix, value: /admin}
      backendRefs:
        - {name: admin, port: 80}
";

/// The routing of a Rollout as YAML for `strategy.canary` (indented for it): `route` is the
/// trafficRoutings entry's route field (`ingress: {name: web}`...).
pub fn routing(route: &str) -> String {
    format!(
        "      trafficRoutings:
        - service: web
          gracePeriodSeconds: 1
          {route}
"
    )
}

/// Steps as YAML list items: `(replicas, traffic, manual pause)` each.
pub fn traffic_steps(list: &[(&str, &str)]) -> String {
    list.iter()
        .map(|(replicas, traffic)| {
            format!("        - replicas: {replicas}\n          traffic: \"{traffic}\"\n          pause: {{}}\n")
        })
        .collect()
}

/// The HTTPRoute API of the scenario's namespace.
pub fn http_routes(s: &Scenario) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    Api::namespaced_with(
        s.ns.client(),
        s.ns.name(),
        &ApiResource::from_gvk_with_plural(&gvk, "httproutes"),
    )
}

/// The spec of HTTPRoute `name`, as JSON.
pub async fn http_route_spec(s: &Scenario, name: &str) -> Result<Value> {
    let route = http_routes(s).get(name).await?;
    Ok(route.data.get("spec").cloned().unwrap_or(Value::Null))
}

/// `(backend name, weight)` of every backendRef of rule `index` of HTTPRoute `web`.
pub fn rule_backends(spec: &Value, index: usize) -> Vec<(String, Option<i64>)> {
    spec["rules"][index]["backendRefs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|backend| {
            (
                backend["name"].as_str().unwrap_or_default().to_owned(),
                backend["weight"].as_i64(),
            )
        })
        .collect()
}

pub async fn service(s: &Scenario, name: &str) -> Result<Option<Service>> {
    Ok(s.ns.api::<Service>().get_opt(name).await?)
}

pub async fn ingress_named(s: &Scenario, name: &str) -> Result<Option<Ingress>> {
    Ok(s.ns.api::<Ingress>().get_opt(name).await?)
}

/// The label selector of a Service in `kubectl -l` syntax.
pub fn selector_of(service: &Service) -> String {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.clone())
        .unwrap_or_default()
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What the stable Service `web` and the canary Service `web-canary` select, by version.
pub async fn selected(s: &Scenario) -> Result<(Census, Option<Census>)> {
    let stable = service(s, "web").await?.context("Service web is gone")?;
    let stable = s.census(&selector_of(&stable)).await?;
    let canary = match service(s, "web-canary").await? {
        Some(canary) => Some(s.census(&selector_of(&canary)).await?),
        None => None,
    };
    Ok((stable, canary))
}

/// Waits until the stable Service selects exactly `stable` pods of v1 and the canary Service
/// exactly `canary` pods of v2: no new pod behind the stable Service, no old one behind the
/// canary.
pub async fn wait_split(s: &Scenario, stable: u32, canary: u32) -> Result<()> {
    poll_until(
        &format!("Service web selecting {stable} v1 pods only, web-canary {canary} v2 pods only"),
        crate::rollout::STEP_TIMEOUT,
        || async {
            let (stable_pods, canary_pods) = selected(s).await?;
            let canary_ok = canary_pods
                .as_ref()
                .is_some_and(|c| c.is(&[("v2", canary)]));
            Ok(if stable_pods.is(&[("v1", stable)]) && canary_ok {
                Check::Done(())
            } else {
                Check::Pending(format!(
                    "web selects {stable_pods}; web-canary selects {}",
                    canary_pods.map_or("(no Service)".to_owned(), |c| c.to_string())
                ))
            })
        },
    )
    .await
}

/// The annotations of Ingress `name` that start with `prefix`.
pub fn annotations_with(ingress: &Ingress, prefix: &str) -> BTreeMap<String, String> {
    ingress
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .collect()
}

/// The Services the paths of an Ingress send traffic to, in order.
pub fn backends(ingress: &Ingress) -> Vec<String> {
    ingress
        .spec
        .iter()
        .flat_map(|spec| spec.rules.iter().flatten())
        .flat_map(|rule| rule.http.iter().flat_map(|http| http.paths.iter()))
        .filter_map(|path| path.backend.service.as_ref().map(|s| s.name.clone()))
        .collect()
}

/// Everything is as before the release: no canary Service or Ingress, the stable Service's
/// selector and annotations as written.
pub async fn traffic_restored(s: &Scenario) -> Result<()> {
    let stable = service(s, "web").await?.context("Service web is gone")?;
    ensure!(
        selector_of(&stable) == "app=web",
        "Service web still selects {}",
        selector_of(&stable)
    );
    ensure!(
        stable
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .is_empty(),
        "Service web keeps annotations {:?}",
        stable.metadata.annotations
    );
    ensure!(
        service(s, "web-canary").await?.is_none(),
        "Service web-canary is left"
    );
    ensure!(
        ingress_named(s, "web-canary").await?.is_none(),
        "Ingress web-canary is left"
    );
    Ok(())
}

/// When each thing was first seen gone, from the start of a watch.
#[derive(Debug, Default)]
pub struct Timeline {
    pub canary_ingress_gone: Option<Duration>,
    pub stable_service_unpinned: Option<Duration>,
    pub canary_service_gone: Option<Duration>,
    pub workload_released: Option<Duration>,
}

/// Polls the routes, Services and Deployments until `workload_released` says the workload is
/// handed back, recording when each traffic object went back to its original state.
pub async fn watch_restore(
    s: &Scenario,
    workload_released: impl Fn(&[Deployment]) -> bool,
) -> Result<Timeline> {
    let start = Instant::now();
    let mut timeline = Timeline::default();
    let deadline = start + Duration::from_secs(60);
    while Instant::now() < deadline {
        let at = start.elapsed();
        if timeline.canary_ingress_gone.is_none() && ingress_named(s, "web-canary").await?.is_none()
        {
            timeline.canary_ingress_gone = Some(at);
        }
        if timeline.stable_service_unpinned.is_none()
            && service(s, "web")
                .await?
                .is_some_and(|web| selector_of(&web) == "app=web")
        {
            timeline.stable_service_unpinned = Some(at);
        }
        if timeline.canary_service_gone.is_none() && service(s, "web-canary").await?.is_none() {
            timeline.canary_service_gone = Some(at);
        }
        let deployments =
            s.ns.api::<Deployment>()
                .list(&Default::default())
                .await?
                .items;
        if workload_released(&deployments) {
            timeline.workload_released = Some(at);
            return Ok(timeline);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the workload was not handed back within 60 s: {timeline:?}")
}

/// Every traffic object was back before the workload was released.
pub fn restored_first(timeline: &Timeline) -> Result<()> {
    let released = timeline.workload_released.context("not released")?;
    for (what, at) in [
        ("Ingress web-canary deleted", timeline.canary_ingress_gone),
        ("Service web unpinned", timeline.stable_service_unpinned),
        ("Service web-canary deleted", timeline.canary_service_gone),
    ] {
        let at = at.with_context(|| format!("{what} never seen: {timeline:?}"))?;
        ensure!(
            at < released,
            "{what} at {at:?}, after the workload at {released:?}: {timeline:?}"
        );
    }
    Ok(())
}

/// Waits until Ingress web-canary carries exactly these annotations with `prefix`.
pub async fn wait_canary_annotations(
    s: &Scenario,
    prefix: &str,
    expected: &[(&str, &str)],
) -> Result<()> {
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(key, value)| (format!("{prefix}{key}"), (*value).to_owned()))
        .collect();
    poll_until(
        &format!("Ingress web-canary annotated {expected:?}"),
        Duration::from_secs(30),
        || async {
            let Some(canary) = ingress_named(s, "web-canary").await? else {
                return Ok(Check::Pending("no Ingress web-canary".to_owned()));
            };
            let annotations = annotations_with(&canary, prefix);
            Ok(if annotations == expected {
                Check::Done(())
            } else {
                Check::Pending(format!("annotations {annotations:?}"))
            })
        },
    )
    .await
}

/// The weights of the scenarios: `(replicas, traffic)` of five steps.
pub const WEIGHTS: [(&str, &str); 5] = [
    ("20%", "20%"),
    ("40%", "40%"),
    ("60%", "60%"),
    ("80%", "80%"),
    ("90%", "90%"),
];

/// Deployment `web` with `replicas` v1 pods, its Service, `route_yaml` (Ingress or HTTPRoute)
/// and a Rollout with `steps` routing through `route` (the trafficRoutings entry's route
/// field), settled.
pub async fn settled(
    s: &Scenario,
    replicas: u32,
    route_yaml: &str,
    canary_style: bool,
    steps: &str,
    route: &str,
) -> Result<()> {
    let rollout_yaml = format!("{}{}", rollout("web", canary_style, steps), routing(route));
    settled_with(s, &DEPLOYMENT, replicas, route_yaml, &rollout_yaml).await
}

/// Workload `web` of `kind` with `replicas` v1 pods, Service `web`, `route_yaml` and the Rollout
/// `rollout_yaml`, settled.
pub async fn settled_with(
    s: &Scenario,
    kind: &WorkloadKind,
    replicas: u32,
    route_yaml: &str,
    rollout_yaml: &str,
) -> Result<()> {
    s.apply(&kind.manifest("web", replicas, "v1")).await?;
    s.apply(SERVICE).await?;
    s.apply(route_yaml).await?;
    s.apply(rollout_yaml).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods("app=web", &[("v1", replicas)]).await?;
    Ok(())
}

/// Scenario 7: a Rollout routing through `route` (the trafficRoutings entry's route field,
/// `route_yaml` applied) with `service` as its stable Service is refused when v2 is released:
/// the status says `expected`, and no pod, Service or route changed.
pub async fn refused_before_anything_changes(
    prefix: &str,
    route_yaml: &str,
    route: &str,
    service_name: &str,
    expected: &str,
) -> Result<()> {
    let s = Scenario::new(prefix).await?;
    let steps = traffic_steps(&WEIGHTS[..1]);
    let routing_yaml =
        routing(route).replace("- service: web", &format!("- service: {service_name}"));
    s.apply(&deployment("web", 3, "v1")).await?;
    s.apply(SERVICE).await?;
    s.apply(route_yaml).await?;
    s.apply(&format!("{}{routing_yaml}", rollout("web", true, &steps)))
        .await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods("app=web", &[("v1", 3)]).await?;
    s.release("web", "v2", Some("v2")).await?;
    let held = s
        .wait_rollout("web", &format!("a message about {expected}"), |r| {
            message(r).contains("prepare-traffic failed") && message(r).contains(expected)
        })
        .await?;
    let census = s.census("app=web").await?;
    ensure!(census.is(&[("v1", 3)]), "{prefix}: pods changed: {census}");
    let web = service(&s, "web").await?.context("Service web")?;
    ensure!(
        selector_of(&web) == "app=web",
        "{prefix}: Service web was pinned"
    );
    ensure!(
        service(&s, "web-canary").await?.is_none(),
        "{prefix}: a canary Service exists"
    );
    ensure!(
        ingress_named(&s, "web-canary").await?.is_none(),
        "{prefix}: a canary Ingress exists"
    );
    ensure!(
        s.ns.api::<Deployment>()
            .list(&Default::default())
            .await?
            .items
            .len()
            == 1,
        "{prefix}: a canary Deployment exists ({})",
        message(&held)
    );
    s.wait_event("web", "WorkFailed").await?;
    s.ns.cleanup().await?;
    Ok(())
}
