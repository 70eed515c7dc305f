//! Which Rollout references which workload.
//!
//! A reference names a workload by API group, kind and name; the version is left out, as
//! Kruise does, so `apps/v1` and a later `apps/v2` name the same Deployment.

use kube::api::ListParams;
use kube::{Api, Client};
use waxwing_api::v1beta1::{ObjectRef, Rollout, RolloutPhase};

/// The API group of an `apiVersion`: `apps` for `apps/v1`, empty for the core `v1`.
pub fn group_of(api_version: &str) -> &str {
    api_version
        .split_once('/')
        .map_or("", |(group, _version)| group)
}

/// True when `reference` names the workload `group`/`kind`/`name`.
pub fn references(reference: &ObjectRef, group: &str, kind: &str, name: &str) -> bool {
    group_of(&reference.api_version) == group && reference.kind == kind && reference.name == name
}

/// True when two references name the same workload.
pub fn same_workload(a: &ObjectRef, b: &ObjectRef) -> bool {
    references(a, group_of(&b.api_version), &b.kind, &b.name)
}

/// True when the Rollout takes over its workload's updates: not disabled, not being deleted.
pub fn is_enabled(rollout: &Rollout) -> bool {
    let disabled_phase = rollout
        .status
        .as_ref()
        .and_then(|status| status.phase)
        .is_some_and(|phase| phase == RolloutPhase::Disabled);
    !rollout.spec.disabled && !disabled_phase && rollout.metadata.deletion_timestamp.is_none()
}

/// The Rollouts of a namespace, read from the API server (not a cache), so a Rollout created a
/// moment ago is seen.
pub async fn list(client: &Client, namespace: &str) -> Result<Vec<Rollout>, kube::Error> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), namespace);
    Ok(api.list(&ListParams::default()).await?.items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(api_version: &str, kind: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[test]
    fn groups_of_api_versions() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("apps.kruise.io/v1alpha1"), "apps.kruise.io");
        assert_eq!(group_of("v1"), "");
    }

    #[test]
    fn references_ignore_the_version_only() {
        let web = reference("apps/v1", "Deployment", "web");
        assert!(references(&web, "apps", "Deployment", "web"));
        assert!(same_workload(
            &web,
            &reference("apps/v1beta2", "Deployment", "web")
        ));
        assert!(!same_workload(
            &web,
            &reference("apps/v1", "Deployment", "api")
        ));
        assert!(!same_workload(
            &web,
            &reference("apps/v1", "StatefulSet", "web")
        ));
        assert!(!same_workload(
            &web,
            &reference("apps.kruise.io/v1alpha1", "Deployment", "web")
        ));
    }
}
