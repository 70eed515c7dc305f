//! The HTTPRoute's rules for a step, always computed from the rules before the release, so a
//! step never builds on an earlier step's changes.

use serde_json::Value;
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{ObjectRef, PluginError};

use crate::backend_refs::{Services, refs};
use crate::config::describe;
use crate::matches::{self, AbStep};
use crate::original::{ORIGINAL_SPEC, Original};
use crate::{fields, limits, weights};

/// What a step asks of the route.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Requests matching the step go to the canary; as in Kruise, the weight is not used then
    /// (Gateway API has no weighted match).
    Ab(AbStep<'a>),
    /// This percentage of each stable rule's requests goes to the canary.
    Weight(u32),
}

impl<'a> Step<'a> {
    /// None when the step names neither weight nor matches: as in Kruise, the routing stays as
    /// it is.
    pub fn of(ctx: &'a TrafficContext) -> Result<Option<Self>, PluginError> {
        if !ctx.matches.is_empty() {
            return Ok(Some(Self::Ab(AbStep {
                matches: &ctx.matches,
                header_modifier: ctx.request_header_modifier.as_ref(),
            })));
        }
        match ctx.weight {
            Some(weight) if weight > 100 => Err(PluginError::invalid_input(format!(
                "the step's traffic weight is {weight}%, more than 100%"
            ))),
            weight => Ok(weight.map(Self::Weight)),
        }
    }
}

/// The rules for `step`.
pub fn rules_for(
    step: Step<'_>,
    original: &Original,
    services: &Services<'_>,
    target: &ObjectRef,
) -> Result<Vec<Value>, PluginError> {
    let mut rules = fields::list(&original.spec, "rules").to_vec();
    let stable_rules: Vec<usize> = (0..rules.len())
        .filter(|&index| services.stable_in(&rules[index]).is_some())
        .collect();
    if stable_rules.is_empty() {
        return Err(no_stable_rule(&rules, original, services, target));
    }
    match step {
        Step::Ab(step) => {
            let routed = matches::with_canary_rules(&rules, &stable_rules, step, services, target)?;
            limits::check(&routed, target)?;
            Ok(routed)
        }
        Step::Weight(weight) => {
            weights::split(&mut rules, &stable_rules, services, weight);
            Ok(rules)
        }
    }
}

/// An HTTPRoute routes by Service only, so a Rollout without a canary Service of its own
/// cannot route through one. Kruise goes ahead: its weights then land on the stable Service
/// alone (at weight 0 that backend gets weight 0, and the rule answers 500), and its A/B steps
/// drop every rule to the stable Service. Refusing keeps the route whole; the host's check
/// before the first step makes the refusal come before anything changed.
pub fn check_services(services: &Services<'_>, target: &ObjectRef) -> Result<(), PluginError> {
    if !services.share_one_service() {
        return Ok(());
    }
    Err(PluginError::invalid_input(format!(
        "{} cannot send traffic to the canary: the Rollout sets disableGenerateCanaryService, so \
         the stable and the canary pods are both behind Service {}, and an HTTPRoute tells \
         backends apart by Service only. Remove disableGenerateCanaryService from the Rollout \
         so that Waxwing creates Service {}-canary, or route through a mesh that tells versions \
         apart by subsets (customNetworkRefs)",
        describe(target),
        services.stable,
        services.stable
    )))
}

fn no_stable_rule(
    rules: &[Value],
    original: &Original,
    services: &Services<'_>,
    target: &ObjectRef,
) -> PluginError {
    let mut names: Vec<&str> = Vec::new();
    for name in rules
        .iter()
        .flat_map(refs)
        .filter_map(|backend_ref| fields::text(backend_ref, "name"))
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let seen = if names.is_empty() {
        "its rules have no backendRefs".to_owned()
    } else {
        format!("its rules send traffic to {}", names.join(", "))
    };
    let recorded = if original.recorded {
        format!(", as recorded in its annotation {ORIGINAL_SPEC} before the release")
    } else {
        String::new()
    };
    PluginError::invalid_input(format!(
        "{} has no rule whose backendRefs name the stable Service {} ({seen}{recorded}); add a \
         backendRef to Service {} to the rules that should send traffic to the canary, or name \
         the right Service in the Rollout's trafficRoutings[].service",
        describe(target),
        services.stable,
        services.stable
    ))
}

#[cfg(test)]
mod tests {
    use waxwing_plugin_sdk::RolloutInfo;

    use super::*;

    fn ctx(weight: Option<u32>) -> TrafficContext {
        TrafficContext {
            rollout: RolloutInfo {
                namespace: "shop".into(),
                name: "web".into(),
                rollout_id: None,
            },
            stable_service: "web".into(),
            canary_service: "web-canary".into(),
            weight,
            matches: vec![],
            request_header_modifier: None,
            config: "{}".into(),
        }
    }

    #[test]
    fn a_step_routes_by_weight_when_it_has_no_matches_and_a_weight_up_to_100() {
        assert!(matches!(
            Step::of(&ctx(Some(100))),
            Ok(Some(Step::Weight(100)))
        ));
        assert!(matches!(Step::of(&ctx(None)), Ok(None)));
        let err = Step::of(&ctx(Some(101))).unwrap_err();
        assert_eq!(
            err.message(),
            "the step's traffic weight is 101%, more than 100%"
        );
    }
}
