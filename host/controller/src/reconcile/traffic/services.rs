//! The two Services a traffic routing needs besides the route: the stable Service pinned to
//! the stable pods while a release runs, and the generated canary Service that selects only
//! the new ones. Pure functions from the Service as read to the change to make.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Value, json};

/// Records on the stable Service which selector label Waxwing added, so the restore removes
/// exactly that one, whatever the workload has become meanwhile (even deleted).
pub const PINNED_LABEL_ANNOTATION: &str = "waxwing.io/pinned-selector-label";

/// The merge patch that makes the stable Service select only pods of the stable revision:
/// `label=hash` added to its selector. `None` when it already does.
pub fn pin(stable: &Service, label: &str, hash: &str) -> Option<Value> {
    if selector(stable).get(label).map(String::as_str) == Some(hash)
        && pinned_label(stable) == Some(label)
    {
        return None;
    }
    Some(json!({
        "metadata": {"annotations": {PINNED_LABEL_ANNOTATION: label}},
        "spec": {"selector": {label: hash}},
    }))
}

/// The merge patch that puts the stable Service's selector back as it was before [`pin`].
/// `None` when it is not pinned.
pub fn unpin(stable: &Service) -> Option<Value> {
    let label = pinned_label(stable)?;
    Some(json!({
        "metadata": {"annotations": {PINNED_LABEL_ANNOTATION: null}},
        "spec": {"selector": {label: null}},
    }))
}

fn pinned_label(service: &Service) -> Option<&str> {
    service
        .metadata
        .annotations
        .as_ref()?
        .get(PINNED_LABEL_ANNOTATION)
        .map(String::as_str)
}

fn selector(service: &Service) -> BTreeMap<String, String> {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.clone())
        .unwrap_or_default()
}

/// The canary Service: the stable Service's ports and settings, selecting the stable
/// selector's pods of the new revision only (`label=hash`), owned by the Rollout so it goes
/// with it. Addresses the API server assigns (cluster IPs, node ports) are left for it to
/// assign anew, as Kruise does.
pub fn canary(
    stable: &Service,
    name: &str,
    label: &str,
    hash: &str,
    owner: OwnerReference,
) -> Service {
    let mut selector = selector(stable);
    // The stable Service may be pinned already; the canary selects the new revision instead.
    selector.insert(label.to_owned(), hash.to_owned());
    let spec = stable.spec.clone().unwrap_or_default();
    let ports = spec.ports.map(|ports| {
        ports
            .into_iter()
            .map(|mut port| {
                port.node_port = None;
                port
            })
            .collect()
    });
    Service {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: stable.metadata.namespace.clone(),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            type_: spec.type_,
            ports,
            selector: Some(selector),
            session_affinity: spec.session_affinity,
            session_affinity_config: spec.session_affinity_config,
            publish_not_ready_addresses: spec.publish_not_ready_addresses,
            ip_families: spec.ip_families,
            ip_family_policy: spec.ip_family_policy,
            internal_traffic_policy: spec.internal_traffic_policy,
            traffic_distribution: spec.traffic_distribution,
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// Whether the canary Service as read already selects and serves like `desired`.
pub fn is_current(existing: &Service, desired: &Service) -> bool {
    let ports = |service: &Service| {
        service.spec.as_ref().map(|spec| {
            spec.ports
                .iter()
                .flatten()
                .map(|port| (port.name.clone(), port.port, port.target_port.clone()))
                .collect::<Vec<_>>()
        })
    };
    selector(existing) == selector(desired) && ports(existing) == ports(desired)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ServicePort;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use super::*;

    fn stable() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("shop".into()),
                ..ObjectMeta::default()
            },
            spec: Some(ServiceSpec {
                type_: Some("NodePort".into()),
                cluster_ip: Some("10.96.0.12".into()),
                cluster_ips: Some(vec!["10.96.0.12".into()]),
                selector: Some(BTreeMap::from([("app".into(), "web".into())])),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some(IntOrString::Int(8080)),
                    node_port: Some(30080),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            status: None,
        }
    }

    fn owner() -> OwnerReference {
        OwnerReference {
            api_version: "rollouts.kruise.io/v1beta1".into(),
            kind: "Rollout".into(),
            name: "web".into(),
            uid: "u".into(),
            controller: Some(true),
            ..OwnerReference::default()
        }
    }

    fn patched(service: &Service, patch: &Value) -> Service {
        let mut value = serde_json::to_value(service).unwrap();
        json_patch::merge(&mut value, patch);
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn pinning_adds_the_revision_label_once_and_unpinning_restores_the_selector() {
        let original = stable();
        let patch = pin(&original, "pod-template-hash", "v1hash").unwrap();
        let pinned = patched(&original, &patch);
        assert_eq!(
            selector(&pinned),
            BTreeMap::from([
                ("app".into(), "web".into()),
                ("pod-template-hash".into(), "v1hash".into())
            ])
        );
        assert_eq!(pin(&pinned, "pod-template-hash", "v1hash"), None);
        let restored = patched(&pinned, &unpin(&pinned).unwrap());
        assert_eq!(selector(&restored), selector(&original));
        assert_eq!(restored.metadata.annotations.unwrap_or_default().len(), 0);
        assert_eq!(unpin(&original), None);
    }

    #[test]
    fn the_canary_service_selects_the_new_revision_and_gets_its_own_addresses() {
        let pinned = patched(
            &stable(),
            &pin(&stable(), "pod-template-hash", "v1").unwrap(),
        );
        let canary = canary(&pinned, "web-canary", "pod-template-hash", "v2", owner());
        let spec = canary.spec.as_ref().unwrap();
        assert_eq!(
            spec.selector
                .as_ref()
                .unwrap()
                .get("pod-template-hash")
                .unwrap(),
            "v2"
        );
        assert_eq!(spec.cluster_ip, None);
        assert_eq!(spec.cluster_ips, None);
        assert_eq!(spec.ports.as_ref().unwrap()[0].node_port, None);
        assert_eq!(spec.type_.as_deref(), Some("NodePort"));
        assert_eq!(
            canary.metadata.owner_references.as_ref().unwrap()[0].name,
            "web"
        );
        assert!(is_current(&canary, &canary.clone()));
        let stale = super::canary(&pinned, "web-canary", "pod-template-hash", "v3", owner());
        assert!(!is_current(&canary, &stale));
    }
}
