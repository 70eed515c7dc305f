//! Waxwing's traffic plugin for Gateway API `HTTPRoute`s (`gateway.networking.k8s.io/v1`,
//! world `traffic-plugin`), after Kruise Rollout's Gateway API provider
//! (`pkg/trafficrouting/network/gateway/gateway.go`): the route's rules that send traffic to
//! the stable Service split it with the canary Service by weight, or get canary copies for the
//! requests that match the step (A/B). The route is the user's, so it is changed with merge
//! patches of `spec.rules` only, and put back exactly as it was.
//!
//! # Native API
//!
//! The component's exports as plain Rust on the SDK's types; Kubernetes objects are JSON text,
//! as the host passes them. The `wit` module only maps these to the generated bindings.
//!
//! ```text
//! route_objects(ctx: &TrafficContext)                  -> Result<Vec<ObjectRef>, PluginError>
//! route(ctx: &TrafficContext, objects: &[String])      -> Result<Vec<Change>, PluginError>
//! restore(ctx: &TrafficContext, objects: &[String])    -> Result<Vec<Change>, PluginError>
//! ```
//!
//! `config` is `{"httpRouteName": "<name>"}` (the Rollout's `trafficRoutings[].gateway`); the
//! HTTPRoute is in the Rollout's namespace.
//!
//! # Behaviour
//!
//! - **route-objects**: the HTTPRoute.
//! - **route**: one merge patch, or none when the route is already right for the step. Its
//!   rules are computed from the rules before the release, never from the route as an earlier
//!   step left it. Before the first change the spec is recorded, with the route's labels and
//!   annotations, in the annotation `rollouts.kruise.io/original-spec-configuration`, in the
//!   format of Kruise's custom network providers (see the `original` module); the same patch
//!   records it and routes, and carries the resourceVersion the host read, so nothing is
//!   recorded or rewritten from a stale read.
//!   - A step with matches routes by them (its weight is not used, as in Kruise); see the
//!     `matches` module: a canary copy of each rule to the stable Service, sent to the canary
//!     Service alone, with the step's request header changes as a `RequestHeaderModifier`
//!     filter.
//!   - A step with a weight `w` only: each rule to the stable Service sends `100 - w` to its
//!     stable backendRef and `w` to a copy of it on the canary Service (see `weights`).
//!   - A step with neither leaves the route as it is, as Kruise does.
//! - **restore**: one merge patch that puts the recorded rules back and removes the
//!   annotation; none once that is done or when the HTTPRoute is gone.
//!
//! A backendRef is the stable Service when it names it, and its kind, group and namespace are
//! absent or Gateway API's defaults (`Service`, the core group, the route's namespace); the
//! first such backendRef of a rule is the one routed, as in Kruise. Refused with a message
//! for the Rollout's status: a missing HTTPRoute, a route with no rule to the stable Service,
//! a Rollout without a canary Service of its own (`disableGenerateCanaryService`: an HTTPRoute
//! can only tell the canary apart by Service), a step whose matches no request of the stable
//! rules can meet, or whose canary copies would exceed Gateway API's limits (16 rules, 64
//! matches a rule, 128 in all, 16 headers or query parameters a match).
//!
//! The route is handled as JSON rather than through the `gateway-api` crate's types: those
//! drop every field they do not know (they follow Gateway API v1.5 standard channel, while a
//! cluster may run a newer version or the experimental channel), and a rewritten rule must keep
//! all of the user's fields.
//!
//! # Where this departs from Kruise
//!
//! - **Exact restore.** Kruise's provider keeps no record: it recomputes each step from the
//!   route as it is and, when finishing, takes the canary backendRefs out, sets every stable
//!   backendRef to weight 1 and drops every rule left without backendRefs (the user's redirect
//!   rules included). Here each step starts from the recorded rules and restore writes them
//!   back. Only `spec.rules` is written, so edits others make to other fields during a release
//!   stay; edits to the rules during a release are replaced by the next step and by restore.
//! - A route with canary routing but no record (left by Kruise mid-release, or whose annotation
//!   was removed) is first cleaned as Kruise finishes, but only in rules that had a canary
//!   backendRef; that cleaned spec is recorded and restored.
//! - The step's request header changes are applied (Kruise's provider ignores them); steps with
//!   a weight only have no canary rule and do not use them, as in Kruise.
//! - Canary copies go right before their rule instead of after all rules, so they also win the
//!   ties Gateway API breaks by rule order.
//! - A step match without a path is combined with each of the rule's matches; Kruise indexes
//!   the wrong list when path and non-path matches are mixed, and gives a rule without matches
//!   a canary copy without matches, which takes all of its requests.
//! - A header or query parameter the rule already tests is written once; a step match that
//!   asks another exact value of it cannot match there and is left out, and one that would
//!   have to merge a regular expression is refused (Kruise writes both conditions, which the
//!   API server refuses).
//! - A named rule's copy is named `<name>-canary`; a rule that replaces its path prefix gets a
//!   copy per match, as Gateway API allows such a rule a single PathPrefix match.
//! - A backendRef without `kind` or `group` counts as the Service (Gateway API's defaults;
//!   Kruise needs `kind: Service`, which the API server fills in), and one to another group's
//!   kind or another namespace's Service of the same name does not (Kruise looks at kind and
//!   name only).
//! - `disableGenerateCanaryService` is refused (see `routing::check_services`); a missing
//!   HTTPRoute is refused rather than retried.

mod backend_refs;
mod config;
mod fields;
mod header_modifier;
mod http_route;
mod limits;
mod matches;
mod original;
mod routing;
mod weights;

// The component's bindings: the `traffic` export onto the native API below.
waxwing_plugin_sdk::traffic_component!();

use serde_json::Value;
use waxwing_plugin_sdk::merge_patch::MergePatch;
use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError};

use crate::backend_refs::Services;
use crate::config::describe;
use crate::original::{ORIGINAL_SPEC, Original};
use crate::routing::Step;

/// The HTTPRoute.
pub fn route_objects(ctx: &TrafficContext) -> Result<Vec<ObjectRef>, PluginError> {
    Ok(vec![config::route_ref(ctx)?])
}

/// The patch that records the original spec (first time) and sets the step's rules; none when
/// the route is right.
pub fn route(ctx: &TrafficContext, objects: &[String]) -> Result<Vec<Change>, PluginError> {
    let target = config::route_ref(ctx)?;
    let Some(step) = Step::of(ctx)? else {
        return Ok(Vec::new());
    };
    let services = Services::of(ctx);
    routing::check_services(&services, &target)?;
    let route = http_route::find(objects, &target)?.ok_or_else(|| {
        PluginError::invalid_input(format!(
            "{} not found; create it, or name the right HTTPRoute in the Rollout's \
             trafficRoutings[].gateway.httpRouteName",
            describe(&target)
        ))
    })?;
    let original = Original::of(&route, &services, &target)?;
    let rules = routing::rules_for(step, &original, &services, &target)?;
    let mut patch = MergePatch::default();
    if !original.recorded {
        patch.set_annotation(ORIGINAL_SPEC, &original.record(&route));
    }
    http_route::set_rules(&route, Value::Array(rules), &mut patch);
    Ok(http_route::patch(&route, &target, patch)
        .into_iter()
        .collect())
}

/// The patch that puts the original rules back and removes the record; none once done.
pub fn restore(ctx: &TrafficContext, objects: &[String]) -> Result<Vec<Change>, PluginError> {
    let target = config::route_ref(ctx)?;
    let Some(route) = http_route::find(objects, &target)? else {
        return Ok(Vec::new());
    };
    let original = Original::of(&route, &Services::of(ctx), &target)?;
    let mut patch = MergePatch::default();
    if original.recorded {
        patch.remove_annotation(ORIGINAL_SPEC);
    }
    http_route::set_rules(&route, original.rules().clone(), &mut patch);
    Ok(http_route::patch(&route, &target, patch)
        .into_iter()
        .collect())
}
