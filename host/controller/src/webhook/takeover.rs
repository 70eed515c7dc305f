//! Workload takeover: when a user updates a workload that an enabled Rollout manages, the
//! workload plugin's `takeover` says how to stop the native rollout (for a Deployment: paused
//! and marked in-progressing), and the webhook returns that as a JSON patch on top of the
//! user's update.
//!
//! This is Kruise's `workload_update_handler.go` with the workload knowledge moved into the
//! plugin: the host only finds the Rollout, picks the release style and translates the
//! plugin's merge patch.

use std::sync::Arc;

use kube::core::admission::{AdmissionResponse, Operation};
use serde_json::Value;
use waxwing_api::labels;
use waxwing_api::v1beta1::{RollingStyle, Rollout};
use waxwing_runtime::{CallError, PluginError, ReleaseStyle, RolloutInfo, WorkloadPlugin};

use super::Context;
use super::admission::{Refusal, Review};
use super::rollouts;

pub async fn admit(context: &Context, review: &Review) -> AdmissionResponse {
    let request = &review.request;
    // Scale and status updates never change the pod template.
    if request.operation != Operation::Update || request.sub_resource.is_some() {
        return review.allow();
    }
    let (Some(new), Some(old), Some(namespace)) =
        (&review.object, &review.old_object, &request.namespace)
    else {
        return review.deny(
            Refusal::BadRequest,
            "a namespaced UPDATE must carry the object and the old object",
        );
    };
    let kind = &request.kind;
    let api_version = match kind.group.as_str() {
        "" => kind.version.clone(),
        group => format!("{group}/{}", kind.version),
    };
    let Some(plugin) = context
        .registry
        .current()
        .workload(&api_version, &kind.kind)
        .cloned()
    else {
        // The plugin was removed since the webhook was registered; re-registration follows.
        tracing::debug!(workload = review.key(), %api_version, kind = kind.kind, "no workload plugin, admitted as is");
        return review.allow();
    };

    let all = match rollouts::list(&context.client, namespace).await {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!(workload = review.key(), "cannot list Rollouts: {e}");
            return review.deny(
                Refusal::Internal,
                format!(
                    "Waxwing cannot list the Rollouts of namespace {namespace} to find the one \
                     that manages {} {}: {e}; retry the update",
                    kind.kind, request.name
                ),
            );
        }
    };
    let Some(rollout) = managing_rollout(&all, &kind.group, &kind.kind, &request.name) else {
        return review.allow();
    };
    let Some(style) = release_style(rollout) else {
        // Neither canary nor blueGreen: nothing to release, the update goes through natively.
        return review.allow();
    };
    let rollout_name = rollout.metadata.name.clone().unwrap_or_default();
    let info = RolloutInfo {
        namespace: namespace.clone(),
        name: rollout_name.clone(),
        rollout_id: request
            .object
            .as_ref()
            .and_then(|object| labels::rollout_id(&object.metadata))
            .map(str::to_string),
    };

    let answer = ask_plugin(context, plugin, info, style, old, new).await;
    let refuse = |(refusal, problem): (Refusal, String)| {
        tracing::warn!(
            workload = review.key(),
            rollout = rollout_name,
            "takeover refused: {problem}"
        );
        review.deny(
            refusal,
            format!(
                "Rollout {rollout_name} cannot take over this update of {} {}: {problem}",
                kind.kind, request.name
            ),
        )
    };
    match answer {
        Ok(Some(patch)) => {
            tracing::info!(
                workload = review.key(),
                rollout = rollout_name,
                style = style_name(style),
                changes = patch.0.len(),
                "took over the update: the native rollout is held for the Rollout"
            );
            review.allow().with_patch(patch).unwrap_or_else(|e| {
                refuse((Refusal::Internal, format!("cannot encode the patch: {e}")))
            })
        }
        Ok(None) => review.allow(),
        Err(refusal) => refuse(refusal),
    }
}

/// Calls the plugin's `takeover` on a blocking thread (plugin calls are synchronous and may
/// run up to their time limit) and translates its answer: the JSON patch to return, `None`
/// when the update stays as it is, or why the update must be refused.
async fn ask_plugin(
    context: &Context,
    plugin: WorkloadPlugin,
    info: RolloutInfo,
    style: ReleaseStyle,
    old: &Value,
    new: &Value,
) -> Result<Option<json_patch::Patch>, (Refusal, String)> {
    let plugin_id = plugin.id().clone();
    let (old_text, new_text) = (old.to_string(), new.to_string());
    let services = Arc::clone(&context.services);
    let answer = tokio::task::spawn_blocking(move || {
        plugin.takeover(&services, &info, style, &old_text, &new_text)
    })
    .await
    .map_err(|e| {
        (
            Refusal::Internal,
            format!("the plugin call did not finish: {e}"),
        )
    })?
    .map_err(|e| (refusal_for(&e), e.to_string()))?;
    let Some(merge_patch) = answer else {
        return Ok(None);
    };
    let patch = json_patch_for(new, &merge_patch).map_err(|problem| {
        (
            Refusal::Internal,
            format!("{plugin_id} answered takeover with {problem}"),
        )
    })?;
    Ok((!patch.0.is_empty()).then_some(patch))
}

/// The enabled Rollout that references the workload, if any.
fn managing_rollout<'a>(
    rollouts: &'a [Rollout],
    group: &str,
    kind: &str,
    name: &str,
) -> Option<&'a Rollout> {
    rollouts.iter().find(|rollout| {
        rollouts::is_enabled(rollout)
            && rollouts::references(&rollout.spec.workload_ref, group, kind, name)
    })
}

/// The style the plugin is asked to hold the workload for; `None` for a Rollout without a
/// strategy.
fn release_style(rollout: &Rollout) -> Option<ReleaseStyle> {
    Some(match rollout.release_style()? {
        RollingStyle::Canary => ReleaseStyle::Canary,
        RollingStyle::Partition => ReleaseStyle::Partition,
        RollingStyle::BlueGreen => ReleaseStyle::BlueGreen,
    })
}

fn style_name(style: ReleaseStyle) -> &'static str {
    match style {
        ReleaseStyle::Canary => "canary",
        ReleaseStyle::Partition => "partition",
        ReleaseStyle::BlueGreen => "blue-green",
    }
}

/// A plugin that says the input is wrong gets the user's update refused as invalid; anything
/// else is Waxwing failing to decide.
fn refusal_for(error: &CallError) -> Refusal {
    match error {
        CallError::Plugin {
            error: PluginError::InvalidInput(_),
            ..
        } => Refusal::Invalid,
        _ => Refusal::Internal,
    }
}

/// The JSON patch (RFC 6902) the API server applies to `object` so that it ends up as
/// `object` with `merge_patch` (RFC 7386) applied: the user's update plus the takeover.
fn json_patch_for(object: &Value, merge_patch: &str) -> Result<json_patch::Patch, String> {
    let merge_patch: Value = serde_json::from_str(merge_patch)
        .map_err(|e| format!("a merge patch that is not JSON: {e}"))?;
    if !merge_patch.is_object() {
        return Err(format!(
            "a merge patch that is not a JSON object (it would replace the whole object): {merge_patch}"
        ));
    }
    let mut patched = object.clone();
    json_patch::merge(&mut patched, &merge_patch);
    Ok(json_patch::diff(object, &patched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;
    use waxwing_api::v1beta1::{
        CanaryStep, CanaryStrategy, ObjectRef, RolloutPhase, RolloutSpec, RolloutStatus,
        RolloutStrategy,
    };

    fn rollout(name: &str, workload: &str, canary: CanaryStrategy) -> Rollout {
        let mut rollout = Rollout::new(
            name,
            RolloutSpec {
                workload_ref: ObjectRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: workload.into(),
                },
                strategy: RolloutStrategy {
                    canary: Some(canary),
                    ..RolloutStrategy::default()
                },
                disabled: false,
            },
        );
        rollout.metadata.namespace = Some("demo".into());
        rollout
    }

    fn steps() -> CanaryStrategy {
        CanaryStrategy {
            steps: vec![CanaryStep::default()],
            ..CanaryStrategy::default()
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo",
                         "labels": {"app": "web", "rollouts.kruise.io/workload-type": "deployment"},
                         "annotations": {"team": "a"}},
            "spec": {"replicas": 5, "paused": false,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
                     "template": {"spec": {"containers": [{"name": "echo", "image": "echo:v2"}]}}}
        })
    }

    #[test]
    fn the_takeover_lands_on_top_of_the_users_update() {
        let updated = deployment();
        let merge = json!({
            "metadata": {"annotations": {"rollouts.kruise.io/in-progressing": "{\"rolloutName\":\"r\"}"},
                         "labels": {"rollouts.kruise.io/stable-revision": null}},
            "spec": {"paused": true, "strategy": {"type": "Recreate", "rollingUpdate": null}}
        });
        let patch = json_patch_for(&updated, &merge.to_string()).unwrap();
        let mut result = updated.clone();
        json_patch::patch(&mut result, &patch).unwrap();

        assert_eq!(result["spec"]["paused"], true);
        assert_eq!(result["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            result["metadata"]["annotations"],
            json!({"team": "a", "rollouts.kruise.io/in-progressing": "{\"rolloutName\":\"r\"}"})
        );
        // The user's image change and everything else the patch does not name stay.
        assert_eq!(
            result["spec"]["template"], updated["spec"]["template"],
            "the user's template is kept"
        );
        assert_eq!(result["metadata"]["labels"], updated["metadata"]["labels"]);
        assert_eq!(result["spec"]["replicas"], 5);
    }

    #[test]
    fn a_patch_that_changes_nothing_is_empty() {
        let updated = deployment();
        let patch = json_patch_for(&updated, r#"{"spec": {"paused": false}}"#).unwrap();
        assert!(patch.0.is_empty(), "{patch:?}");
    }

    #[test]
    fn a_patch_that_is_not_a_json_object_is_an_error() {
        let updated = deployment();
        let not_json = json_patch_for(&updated, "paused").unwrap_err();
        assert!(not_json.contains("not JSON"), "{not_json}");
        let not_object = json_patch_for(&updated, "[1]").unwrap_err();
        assert!(not_object.contains("not a JSON object"), "{not_object}");
    }

    #[test]
    fn only_an_enabled_rollout_of_the_same_workload_manages_it() {
        let other = rollout("other", "api", steps());
        let mut disabled = rollout("disabled", "web", steps());
        disabled.spec.disabled = true;
        let mut deleting = rollout("deleting", "web", steps());
        deleting.metadata.deletion_timestamp = Some(Time(Timestamp::UNIX_EPOCH));
        let mut disabled_phase = rollout("disabled-phase", "web", steps());
        disabled_phase.status = Some(RolloutStatus {
            phase: Some(RolloutPhase::Disabled),
            ..RolloutStatus::default()
        });
        let candidates = vec![other, disabled, deleting, disabled_phase];
        assert!(managing_rollout(&candidates, "apps", "Deployment", "web").is_none());

        let mut with_manager = candidates;
        with_manager.push(rollout("manager", "web", steps()));
        let found = managing_rollout(&with_manager, "apps", "Deployment", "web").unwrap();
        assert_eq!(found.metadata.name.as_deref(), Some("manager"));
        assert!(managing_rollout(&with_manager, "apps", "StatefulSet", "web").is_none());
        assert!(managing_rollout(&with_manager, "apps.kruise.io", "Deployment", "web").is_none());
    }

    #[test]
    fn the_style_follows_the_strategy() {
        let partition = rollout("r", "web", steps());
        assert_eq!(release_style(&partition), Some(ReleaseStyle::Partition));

        let canary = rollout(
            "r",
            "web",
            CanaryStrategy {
                enable_extra_workload_for_canary: true,
                ..steps()
            },
        );
        assert_eq!(release_style(&canary), Some(ReleaseStyle::Canary));

        let mut blue_green = rollout("r", "web", steps());
        blue_green.spec.strategy = RolloutStrategy {
            blue_green: Some(Default::default()),
            ..RolloutStrategy::default()
        };
        assert_eq!(release_style(&blue_green), Some(ReleaseStyle::BlueGreen));

        let mut empty = rollout("r", "web", steps());
        empty.spec.strategy = RolloutStrategy::default();
        assert_eq!(release_style(&empty), None);
    }

    /// The built-in Deployment plugin's answer for a partition release, translated: the
    /// result is the user's update, paused, on Recreate, with the rolling settings recorded.
    #[test]
    fn the_deployment_plugins_takeover_becomes_a_json_patch() {
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../../plugins/deployment/fixtures/takeover-partition-start.json"
        ))
        .unwrap();
        let (old, new) = (&fixture["args"]["old"], &fixture["args"]["new"]);
        let plugins = crate::webhook::test_support::default_registry().current();
        let plugin = plugins.workload("apps/v1", "Deployment").unwrap();
        let services: Arc<dyn waxwing_runtime::HostServices> = Arc::new(
            waxwing_runtime::NoHostServices::new("takeover reads nothing"),
        );
        let info = RolloutInfo {
            namespace: "shop".into(),
            name: "web-rollout".into(),
            rollout_id: None,
        };
        let merge_patch = plugin
            .takeover(
                &services,
                &info,
                ReleaseStyle::Partition,
                &old.to_string(),
                &new.to_string(),
            )
            .unwrap()
            .expect("a new template under a release is taken over");

        let patch = json_patch_for(new, &merge_patch).unwrap();
        let mut admitted = new.clone();
        json_patch::patch(&mut admitted, &patch).unwrap();
        assert_eq!(admitted["spec"]["paused"], true);
        assert_eq!(admitted["spec"]["strategy"], json!({"type": "Recreate"}));
        let annotations = &admitted["metadata"]["annotations"];
        assert_eq!(
            annotations["rollouts.kruise.io/in-progressing"],
            "{\"rolloutName\":\"web-rollout\"}"
        );
        assert!(annotations["rollouts.kruise.io/deployment-strategy"].is_string());
        assert_eq!(
            annotations["shop.example.com/owner"], "storefront-team",
            "the user's annotations stay"
        );
        assert_eq!(admitted["spec"]["template"], new["spec"]["template"]);
        assert_ne!(admitted["spec"]["template"], old["spec"]["template"]);
    }
}
