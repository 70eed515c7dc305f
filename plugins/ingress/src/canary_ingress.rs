//! The canary Ingress: a copy of the stable Ingress that holds only its paths to the stable
//! Service, sent to the canary Service instead, with the class's canary annotations.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::api::networking::v1::{HTTPIngressRuleValue, Ingress, IngressRule, IngressSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;
use serde_json::Value;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, change};

use crate::annotations::CanaryAnnotations;
use crate::route_config::{RouteConfig, describe};

/// Describes the stable Ingress, not the canary: `kubectl apply` on the canary would diff
/// against the wrong object, and it can be large enough to crowd out the canary annotations.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the canary Ingress's spec must be, from the stable Ingress: its ingress class, its TLS
/// as it is, and each rule with only its paths to the stable Service, pointed at the canary
/// Service on the same port. Rules without such a path are left out, as is the default backend.
pub fn spec(
    config: &RouteConfig,
    stable: &Ingress,
    ctx: &TrafficContext,
) -> Result<IngressSpec, PluginError> {
    let stable_spec = stable.spec.clone().unwrap_or_default();
    let rules: Vec<IngressRule> = stable_spec
        .rules
        .unwrap_or_default()
        .into_iter()
        .filter_map(|rule| {
            let paths: Vec<_> = rule
                .http?
                .paths
                .into_iter()
                .filter_map(|mut path| {
                    let service = path.backend.service.as_mut()?;
                    if service.name != ctx.stable_service {
                        return None;
                    }
                    service.name.clone_from(&ctx.canary_service);
                    Some(path)
                })
                .collect();
            (!paths.is_empty()).then_some(IngressRule {
                host: rule.host,
                http: Some(HTTPIngressRuleValue { paths }),
            })
        })
        .collect();
    if rules.is_empty() {
        return Err(PluginError::invalid_input(format!(
            "{} has no path whose backend is Service {}, so a canary Ingress would route \
             nothing; point a path of the Ingress at Service {}, or name the Ingress's Service \
             in the Rollout's trafficRoutings[].service",
            describe(&config.stable()),
            ctx.stable_service,
            ctx.stable_service
        )));
    }
    Ok(IngressSpec {
        default_backend: None,
        ingress_class_name: stable_spec.ingress_class_name,
        rules: Some(rules),
        tls: stable_spec.tls,
    })
}

/// The new canary Ingress: the stable Ingress's labels and annotations, the step's canary
/// annotations over them, owned by the stable Ingress so that deleting it removes the canary.
pub fn create(
    config: &RouteConfig,
    stable: &Ingress,
    spec: IngressSpec,
    annotations: &CanaryAnnotations<'_>,
) -> Result<Change, PluginError> {
    let mut copied = stable.metadata.annotations.clone().unwrap_or_default();
    copied.remove(LAST_APPLIED);
    annotations.apply_to(&mut copied);
    let owner = stable.metadata.uid.as_ref().map(|uid| OwnerReference {
        api_version: Ingress::API_VERSION.to_owned(),
        kind: Ingress::KIND.to_owned(),
        name: config.stable().name,
        uid: uid.clone(),
        ..OwnerReference::default()
    });
    let canary_ref = config.canary();
    change::apply(&Ingress {
        metadata: ObjectMeta {
            name: Some(canary_ref.name),
            namespace: Some(canary_ref.namespace),
            labels: stable.metadata.labels.clone(),
            annotations: Some(copied),
            owner_references: owner.map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// The merge patch that brings an existing canary Ingress to `spec` and `annotations`; none
/// when it is there. Only the class's annotations and the routing fields of the spec are
/// compared, so what others add to the canary Ingress stays.
pub fn update(
    canary: &Ingress,
    canary_ref: &ObjectRef,
    spec: &IngressSpec,
    annotations: &CanaryAnnotations<'_>,
) -> Result<Option<Change>, PluginError> {
    let mut patch = MergePatch::default();
    annotations.patch(
        canary
            .metadata
            .annotations
            .as_ref()
            .unwrap_or(&BTreeMap::new()),
        &mut patch,
    );
    let current = canary.spec.clone().unwrap_or_default();
    if current.ingress_class_name != spec.ingress_class_name {
        patch.set(
            &["spec", "ingressClassName"],
            json(&spec.ingress_class_name)?,
        );
    }
    if differs(&current.rules, &spec.rules) {
        patch.set(&["spec", "rules"], json(&spec.rules)?);
    }
    if differs(&current.tls, &spec.tls) {
        patch.set(&["spec", "tls"], json(&spec.tls)?);
    }
    Ok(patch
        .into_body()
        .map(|body| change::merge_patch(canary_ref.clone(), &body)))
}

/// An absent list and an empty one route the same.
fn differs<T: PartialEq>(current: &Option<Vec<T>>, wanted: &Option<Vec<T>>) -> bool {
    current.as_deref().unwrap_or_default() != wanted.as_deref().unwrap_or_default()
}

fn json<T: Serialize>(value: &T) -> Result<Value, PluginError> {
    serde_json::to_value(value)
        .map_err(|err| PluginError::internal(format!("cannot serialise the canary Ingress: {err}")))
}
