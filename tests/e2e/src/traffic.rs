//! Traffic scenarios' pieces: the Service, Ingress and HTTPRoute manifests of Deployment `web`,
//! Rollouts routing through them, and checks of what each Service selects and each route says.

use std::collections::BTreeMap;

use anyhow::{Context, Result, ensure};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use serde_json::Value;

use crate::rollout::{Census, Scenario};
use crate::{Check, poll_until};

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
