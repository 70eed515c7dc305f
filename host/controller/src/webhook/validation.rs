//! Rollout validation, for both API versions (a v1alpha1 Rollout is checked as the v1beta1
//! object it is stored as).
//!
//! The rules are Kruise's (`pkg/webhook/rollout/validating`): one Rollout per workload; while a
//! release is under way (phase Progressing or Terminating, finalising included, since the hand
//! back needs the same workload and routes) the workload reference, the release style and the
//! traffic routing stay as they are; steps that the step machine can run and that never
//! decrease. Unlike Kruise, every problem found is reported at once, and the number of steps
//! may change mid-release (the step machine moves to the step that fits the pods already
//! updated).

use kube::core::admission::AdmissionResponse;
use serde::Deserialize;
use serde_json::Value;
use waxwing_api::conversion::{self, V1ALPHA1, V1BETA1};
use waxwing_api::v1alpha1;
use waxwing_api::v1beta1::{Rollout, RolloutPhase, RolloutSpec, RolloutStrategy};
use waxwing_machine::IntOrPercent;
use waxwing_runtime::PluginSet;

use super::Context;
use super::admission::{Refusal, Review};
use super::rollouts;

pub async fn admit(context: &Context, review: &Review) -> AdmissionResponse {
    let request = &review.request;
    let Some(object) = &review.object else {
        return review.deny(Refusal::BadRequest, "the request carries no Rollout");
    };
    let decoded = decode(object, &request.kind.version).and_then(|new| {
        let old = review
            .old_object
            .as_ref()
            .map(|old| decode(old, &request.kind.version))
            .transpose()?;
        Ok((new, old))
    });
    let (new, old) = match decoded {
        Ok(decoded) => decoded,
        Err(problem) => return review.deny(Refusal::BadRequest, problem),
    };
    if let Some(old) = &old
        && (old.spec == new.spec || new.metadata.deletion_timestamp.is_some())
    {
        // Finalizers, labels, a Rollout going away: nothing the rules are about, and refusing
        // would block the controller's own bookkeeping.
        return review.allow();
    }

    let mut problems = check_spec(&new.spec);
    if let Some(old) = &old {
        problems.extend(check_update(old, &new));
    }
    let namespace = request.namespace.as_deref().unwrap_or_default();
    match rollouts::list(&context.client, namespace).await {
        Ok(all) => problems.extend(conflict(&new, &all)),
        Err(e) => {
            return review.deny(
                Refusal::Internal,
                format!(
                    "Waxwing cannot list the Rollouts of namespace {namespace} to check that \
                     no other Rollout manages the same workload: {e}; retry"
                ),
            );
        }
    }

    let mut response = if problems.is_empty() {
        review.allow()
    } else {
        let message = refusal_message(&request.name, &problems);
        tracing::info!(rollout = review.key(), "refused: {message}");
        review.deny(Refusal::Invalid, message)
    };
    response.warnings = plugin_warning(&new, &context.registry.current()).map(|w| vec![w]);
    response
}

/// The Rollout as v1beta1, from the version the request names.
fn decode(object: &Value, version: &str) -> Result<Rollout, String> {
    let invalid = |api_version: &str, e: &dyn std::fmt::Display| {
        format!("the object is not a valid {api_version} Rollout: {e}")
    };
    match version {
        "v1beta1" => Rollout::deserialize(object).map_err(|e| invalid(V1BETA1, &e)),
        "v1alpha1" => {
            let rollout =
                v1alpha1::Rollout::deserialize(object).map_err(|e| invalid(V1ALPHA1, &e))?;
            conversion::to_v1beta1(&rollout).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "Rollouts of version {other} are not validated here: the versions are v1alpha1 and v1beta1"
        )),
    }
}

/// Problems of the spec alone.
fn check_spec(spec: &RolloutSpec) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = waxwing_machine::validate(spec) {
        problems.push(e.to_string());
    }
    problems.extend(decreasing_steps(&spec.strategy));
    problems
}

/// Kruise's rule that step replicas never decrease, for neighbours written the same way
/// (two counts or two percentages; a count and a percentage cannot be compared before the
/// workload's size is known).
fn decreasing_steps(strategy: &RolloutStrategy) -> Vec<String> {
    let field = strategy_field(strategy);
    let replicas: Vec<Option<IntOrPercent>> = strategy
        .steps()
        .iter()
        .map(|step| {
            step.replicas
                .as_ref()
                .and_then(|r| IntOrPercent::parse(r).ok())
        })
        .collect();
    replicas
        .windows(2)
        .enumerate()
        .filter_map(|(index, pair)| {
            let (before, now) = (pair[0]?, pair[1]?);
            let decreases = match (before, now) {
                (IntOrPercent::Count(before), IntOrPercent::Count(now))
                | (IntOrPercent::Percent(before), IntOrPercent::Percent(now)) => now < before,
                _ => false,
            };
            decreases.then(|| {
                format!(
                    "{field}.steps[{}].replicas: {now} is less than the {before} of \
                     steps[{index}]; a step never has fewer pods on the new revision than the \
                     step before",
                    index + 1
                )
            })
        })
        .collect()
}

/// What may not change while a release is under way.
fn check_update(old: &Rollout, new: &Rollout) -> Vec<String> {
    let Some(phase) = old
        .status
        .as_ref()
        .and_then(|status| status.phase)
        .filter(|phase| matches!(phase, RolloutPhase::Progressing | RolloutPhase::Terminating))
    else {
        return Vec::new();
    };
    let while_releasing = format!(
        "cannot change while the Rollout is {phase}; wait until the release is done \
         (phase Healthy), or set spec.disabled to hand the workload back first"
    );
    let mut problems = Vec::new();
    let (before, after) = (&old.spec, &new.spec);
    if before.workload_ref != after.workload_ref {
        let workload = &before.workload_ref;
        problems.push(format!(
            "spec.workloadRef (now {} {} {}) {while_releasing}",
            workload.api_version, workload.kind, workload.name
        ));
    }
    let (style_before, style_after) = (
        before.strategy.rolling_style(),
        after.strategy.rolling_style(),
    );
    if style_before != style_after {
        let name = |style: Option<_>| style.map_or("none".to_string(), |s| format!("{s}"));
        problems.push(format!(
            "the release style (now {}, the update makes it {}; set by canary or blueGreen and \
             enableExtraWorkloadForCanary) {while_releasing}",
            name(style_before),
            name(style_after)
        ));
    }
    if before.strategy.traffic_routings() != after.strategy.traffic_routings()
        || before.strategy.traffic_routing_ref() != after.strategy.traffic_routing_ref()
    {
        problems.push(format!(
            "{}.trafficRoutings and trafficRoutingRef {while_releasing}",
            strategy_field(&before.strategy)
        ));
    }
    problems
}

/// Another Rollout that already references the same workload.
fn conflict(rollout: &Rollout, all: &[Rollout]) -> Option<String> {
    let name = rollout.metadata.name.as_deref().unwrap_or_default();
    let other = all.iter().find(|other| {
        other.metadata.name.as_deref() != Some(name)
            && rollouts::same_workload(&other.spec.workload_ref, &rollout.spec.workload_ref)
    })?;
    let workload = &rollout.spec.workload_ref;
    Some(format!(
        "Rollout {} already manages {} {}, and a workload can have only one Rollout: delete \
         that Rollout or point this one at another workload",
        other.metadata.name.as_deref().unwrap_or_default(),
        workload.kind,
        workload.name
    ))
}

/// A Rollout for a kind no plugin handles is admitted (the plugin ConfigMap may configure one
/// later), with a warning that it will wait until then.
fn plugin_warning(rollout: &Rollout, plugins: &PluginSet) -> Option<String> {
    let workload = &rollout.spec.workload_ref;
    plugins
        .workload(&workload.api_version, &workload.kind)
        .is_none()
        .then(|| {
            format!(
                "no workload plugin handles {} {} yet: this Rollout waits until the plugin \
                 ConfigMap configures one",
                workload.api_version, workload.kind
            )
        })
}

fn strategy_field(strategy: &RolloutStrategy) -> &'static str {
    if strategy.blue_green.is_some() {
        "spec.strategy.blueGreen"
    } else {
        "spec.strategy.canary"
    }
}

fn refusal_message(name: &str, problems: &[String]) -> String {
    match problems {
        [one] => format!("Rollout {name} is invalid: {one}"),
        many => {
            let listed: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(index, problem)| format!("({}) {problem}", index + 1))
                .collect();
            format!(
                "Rollout {name} is invalid, {} problems: {}",
                many.len(),
                listed.join("; ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rollout(name: &str, steps: Value) -> Rollout {
        decode(
            &json!({
                "apiVersion": "rollouts.kruise.io/v1beta1", "kind": "Rollout",
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {
                    "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"},
                    "strategy": {"canary": {"steps": steps}}
                }
            }),
            "v1beta1",
        )
        .unwrap()
    }

    fn good_steps() -> Value {
        json!([{"replicas": "20%"}, {"replicas": "40%", "pause": {}}, {"replicas": "100%"}])
    }

    fn progressing(mut rollout: Rollout) -> Rollout {
        rollout.status = Some(waxwing_api::v1beta1::RolloutStatus {
            phase: Some(RolloutPhase::Progressing),
            ..Default::default()
        });
        rollout
    }

    #[test]
    fn a_good_rollout_has_no_problems() {
        assert_eq!(
            check_spec(&rollout("r", good_steps()).spec),
            Vec::<String>::new()
        );
    }

    #[test]
    fn decreasing_steps_are_named_with_their_values() {
        let steps = json!([{"replicas": 1}, {"replicas": "60%"}, {"replicas": "40%"},
                           {"replicas": 3}, {"replicas": 2}]);
        let problems = check_spec(&rollout("r", steps).spec);
        assert_eq!(
            problems,
            [
                "spec.strategy.canary.steps[2].replicas: 40% is less than the 60% of steps[1]; \
                 a step never has fewer pods on the new revision than the step before",
                "spec.strategy.canary.steps[4].replicas: 2 is less than the 3 of steps[3]; \
                 a step never has fewer pods on the new revision than the step before",
            ],
            "a count next to a percentage cannot be compared, so 1 -> 60% and 40% -> 3 pass"
        );
    }

    #[test]
    fn the_step_machines_objection_is_listed_with_the_others() {
        let steps = json!([{"replicas": "50%", "traffic": "150%"}, {"replicas": "20%"}]);
        let problems = check_spec(&rollout("r", steps).spec);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("spec.strategy.canary.steps[0]"),
            "{problems:?}"
        );
        assert!(problems[0].contains("150%"), "{problems:?}");
        assert!(
            problems[1].contains("20% is less than the 50%"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_v1alpha1_rollout_is_checked_as_v1beta1() {
        let alpha = json!({
            "apiVersion": "rollouts.kruise.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "r", "namespace": "shop"},
            "spec": {"objectRef": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"}},
                     "strategy": {"canary": {"steps": [{"replicas": 2}, {"replicas": 1}]}}}
        });
        let converted = decode(&alpha, "v1alpha1").unwrap();
        assert_eq!(converted.spec.workload_ref.name, "echo");
        assert_eq!(
            check_spec(&converted.spec),
            [
                "spec.strategy.canary.steps[1].replicas: 1 is less than the 2 of steps[0]; \
              a step never has fewer pods on the new revision than the step before"
            ]
        );

        let mut missing = alpha;
        missing["spec"]["objectRef"] = json!({});
        let problem = decode(&missing, "v1alpha1").unwrap_err();
        assert!(problem.contains("workloadRef is missing"), "{problem}");
        let problem = decode(&json!({"spec": 1}), "v1beta1").unwrap_err();
        assert!(
            problem.starts_with("the object is not a valid rollouts.kruise.io/v1beta1 Rollout"),
            "{problem}"
        );
    }

    #[test]
    fn only_another_rollout_of_the_same_workload_conflicts() {
        let mine = rollout("mine", good_steps());
        let mut elsewhere = rollout("elsewhere", good_steps());
        elsewhere.spec.workload_ref.name = "other".into();
        assert_eq!(conflict(&mine, &[mine.clone(), elsewhere.clone()]), None);

        let rival = rollout("rival", good_steps());
        let message = conflict(&mine, &[elsewhere, rival]).unwrap();
        assert_eq!(
            message,
            "Rollout rival already manages Deployment echo, and a workload can have only one \
             Rollout: delete that Rollout or point this one at another workload"
        );
    }

    #[test]
    fn a_release_under_way_keeps_workload_style_and_traffic() {
        let old = progressing(rollout("r", good_steps()));
        let mut new = old.clone();
        new.spec.workload_ref.name = "api".into();
        let canary = new.spec.strategy.canary.as_mut().unwrap();
        canary.enable_extra_workload_for_canary = true;
        canary.traffic_routings = vec![waxwing_api::v1beta1::TrafficRoutingRef {
            service: "echo".into(),
            ..Default::default()
        }];
        // Steps may change: the machine moves to the step that fits.
        canary.steps.pop();

        let problems = check_update(&old, &new);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "spec.workloadRef (now apps/v1 Deployment echo) cannot change while the Rollout \
                 is Progressing"
            ),
            "{problems:?}"
        );
        assert!(
            problems[1]
                .starts_with("the release style (now Partition, the update makes it Canary;"),
            "{problems:?}"
        );
        assert!(
            problems[2].starts_with(
                "spec.strategy.canary.trafficRoutings and trafficRoutingRef cannot change"
            ),
            "{problems:?}"
        );

        let mut terminating = old.clone();
        terminating.status.as_mut().unwrap().phase = Some(RolloutPhase::Terminating);
        assert_eq!(check_update(&terminating, &new).len(), 3);
    }

    #[test]
    fn outside_a_release_everything_may_change() {
        let old = rollout("r", good_steps());
        let mut new = old.clone();
        new.spec.workload_ref.name = "api".into();
        assert!(check_update(&old, &new).is_empty());
        let mut healthy = progressing(old);
        healthy.status.as_mut().unwrap().phase = Some(RolloutPhase::Healthy);
        assert!(check_update(&healthy, &new).is_empty());
    }

    #[test]
    fn one_problem_reads_as_a_sentence_and_several_are_numbered() {
        assert_eq!(
            refusal_message("r", &["a".into()]),
            "Rollout r is invalid: a"
        );
        assert_eq!(
            refusal_message("r", &["a".into(), "b".into()]),
            "Rollout r is invalid, 2 problems: (1) a; (2) b"
        );
    }

    #[test]
    fn a_kind_without_a_plugin_is_admitted_with_a_warning() {
        let mut rollout = rollout("r", good_steps());
        rollout.spec.workload_ref.kind = "Widget".into();
        let warning = plugin_warning(&rollout, &PluginSet::default()).unwrap();
        assert!(
            warning.starts_with("no workload plugin handles apps/v1 Widget yet"),
            "{warning}"
        );
    }
}
