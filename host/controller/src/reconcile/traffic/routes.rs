//! The routes of a Rollout: every Ingress, Gateway API route and custom network object its
//! `trafficRoutings` name, with the Services they send traffic to and what their traffic
//! plugin is told about them.

use serde_json::{Map, Value, json};
use waxwing_api::v1beta1::{Rollout, TrafficRoutingRef};

/// Where an Ingress of no given class goes, as in Kruise.
const DEFAULT_INGRESS_CLASS: &str = "nginx";
const INGRESS_API_VERSION: &str = "networking.k8s.io/v1";
const HTTP_ROUTE_API_VERSION: &str = "gateway.networking.k8s.io/v1";

/// One route object and the Services it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The ingress class, which chooses among traffic plugins for the same kind.
    pub class_type: Option<String>,
    /// The Service the route sends traffic to today.
    pub stable_service: String,
    /// `<stable>-canary`, or the stable Service when the Rollout generates none.
    pub canary_service: String,
    /// The route's fields for the plugin's `config` (see `traffic-context.config`).
    pub fields: Map<String, Value>,
}

impl Route {
    /// `Ingress web`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    /// The plugin's `config`: its ConfigMap settings with the route's fields over them.
    pub fn config(&self, plugin_settings: &Value) -> Result<String, String> {
        let mut merged = match plugin_settings {
            Value::Object(fields) => fields.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(format!(
                    "the config of the traffic plugin for {} in the plugin ConfigMap must be a \
                     mapping, not {other}",
                    self.describe()
                ));
            }
        };
        merged.extend(self.fields.clone());
        Ok(Value::Object(merged).to_string())
    }
}

/// The name of the Service that selects only the new pods.
pub fn canary_service_name(stable: &str) -> String {
    format!("{stable}-canary")
}

/// Every route of the Rollout's strategy, in the order written.
pub fn of(rollout: &Rollout) -> Vec<Route> {
    let strategy = &rollout.spec.strategy;
    let generate = !strategy.disable_generate_canary_service();
    strategy
        .traffic_routings()
        .iter()
        .flat_map(|routing| routes_of(routing, generate))
        .collect()
}

fn routes_of(routing: &TrafficRoutingRef, generate_canary_service: bool) -> Vec<Route> {
    let stable = routing.service.clone();
    let canary = if generate_canary_service {
        canary_service_name(&stable)
    } else {
        stable.clone()
    };
    let route = |api_version: &str, kind: &str, name: &str, class: Option<String>, fields| Route {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        class_type: class,
        stable_service: stable.clone(),
        canary_service: canary.clone(),
        fields,
    };
    let mut routes = Vec::new();
    if let Some(ingress) = &routing.ingress {
        let class = if ingress.class_type.is_empty() {
            DEFAULT_INGRESS_CLASS.to_owned()
        } else {
            ingress.class_type.clone()
        };
        let fields = object(json!({"name": ingress.name, "classType": class}));
        routes.push(route(
            INGRESS_API_VERSION,
            "Ingress",
            &ingress.name,
            Some(class),
            fields,
        ));
    }
    if let Some(name) = routing
        .gateway
        .as_ref()
        .and_then(|gateway| gateway.http_route_name.as_deref())
    {
        let fields = object(json!({"httpRouteName": name}));
        routes.push(route(
            HTTP_ROUTE_API_VERSION,
            "HTTPRoute",
            name,
            None,
            fields,
        ));
    }
    for custom in &routing.custom_network_refs {
        let fields = object(json!({
            "apiVersion": custom.api_version,
            "kind": custom.kind,
            "name": custom.name,
        }));
        routes.push(route(
            &custom.api_version,
            &custom.kind,
            &custom.name,
            None,
            fields,
        ));
    }
    routes
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use waxwing_api::v1beta1::{
        CanaryStrategy, GatewayTrafficRouting, IngressTrafficRouting, ObjectRef, RolloutSpec,
        RolloutStrategy,
    };

    use super::*;

    fn rollout(routings: Vec<TrafficRoutingRef>, disable_canary_service: bool) -> Rollout {
        Rollout::new(
            "r",
            RolloutSpec {
                workload_ref: ObjectRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
                strategy: RolloutStrategy {
                    canary: Some(CanaryStrategy {
                        traffic_routings: routings,
                        disable_generate_canary_service: disable_canary_service,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                disabled: false,
            },
        )
    }

    #[test]
    fn every_route_of_every_routing_in_order_with_its_services() {
        let routing = TrafficRoutingRef {
            service: "web".into(),
            ingress: Some(IngressTrafficRouting {
                class_type: String::new(),
                name: "web-ingress".into(),
            }),
            gateway: Some(GatewayTrafficRouting {
                http_route_name: Some("web-route".into()),
            }),
            custom_network_refs: vec![ObjectRef {
                api_version: "networking.istio.io/v1".into(),
                kind: "VirtualService".into(),
                name: "web-vs".into(),
            }],
            ..Default::default()
        };
        let routes = of(&rollout(vec![routing], false));
        let names: Vec<String> = routes.iter().map(Route::describe).collect();
        assert_eq!(
            names,
            [
                "Ingress web-ingress",
                "HTTPRoute web-route",
                "VirtualService web-vs"
            ]
        );
        assert!(routes.iter().all(|r| r.canary_service == "web-canary"));
        assert_eq!(routes[0].class_type.as_deref(), Some("nginx"));
        assert_eq!(
            routes[0].config(&json!({"classes": {}})).unwrap(),
            r#"{"classType":"nginx","classes":{},"name":"web-ingress"}"#
        );
        assert_eq!(
            routes[1].config(&Value::Null).unwrap(),
            r#"{"httpRouteName":"web-route"}"#
        );
        assert!(routes[2].config(&json!([1])).is_err());
    }

    #[test]
    fn without_a_generated_canary_service_both_names_are_the_stable_service() {
        let routing = TrafficRoutingRef {
            service: "web".into(),
            gateway: Some(GatewayTrafficRouting {
                http_route_name: Some("web".into()),
            }),
            ..Default::default()
        };
        let routes = of(&rollout(vec![routing], true));
        assert_eq!(routes[0].canary_service, "web");
    }
}
