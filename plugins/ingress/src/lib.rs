//! Waxwing's traffic plugin for `networking.k8s.io/v1` Ingresses (world `traffic-plugin`), as
//! Kruise Rollout routes them: a canary Ingress `<ingress>-canary` beside the stable Ingress,
//! which the Ingress controller merges into the stable one's routes because of its class's
//! canary annotations (weight, header, cookie, query parameter). The stable Ingress is never
//! changed.
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
//! # Behaviour
//!
//! - **route-objects**: the stable Ingress (`config.name`) and the canary Ingress
//!   `<name>-canary`, both in the Rollout's namespace. It reads nothing but the name, so a
//!   wrong class cannot keep `restore` from cleaning up.
//! - **route**, first call: the canary Ingress is created (server-side apply) as Kruise creates
//!   it: the stable Ingress's labels and annotations (without
//!   `kubectl.kubernetes.io/last-applied-configuration`), its `ingressClassName` and `tls` as
//!   they are, and every rule with only its paths whose backend is the stable Service, now
//!   sent to the canary Service on the same port (other paths, rules left empty and the
//!   default backend are not copied). Its annotations say canary on at weight 0 with no match
//!   (plus the class's extras), so the Ingress controller has loaded it before it gets
//!   requests. A step that sends the canary nothing (weight 0, no match) creates nothing.
//! - **route**, later calls: one merge patch brings the class's annotations to the step (weight,
//!   matches, header changes; keys the step does not use are removed) and the canary's
//!   `ingressClassName`, `rules` and `tls` back in line with the stable Ingress; no change
//!   when both are right. Other annotations on the canary Ingress are left alone.
//! - **restore**: deletes the canary Ingress; done (no change) once it is gone or being deleted.
//! - A step with neither weight nor match leaves the routing as it is, as Kruise does.
//!
//! Matches map to annotations as in Kruise's lua scripts: a header match sets by-header and
//! by-header-value (`Exact`) or by-header-pattern (`RegularExpression`); a header match named
//! `canary-by-cookie` sets by-cookie to its value, the cookie's name (nginx then routes
//! requests whose cookie is `always`); a query-parameter match sets by-query and
//! by-query-value or by-query-pattern (classes that have them: `mse`). The Ingress controller
//! sends a request to the canary if it meets any of these rules (header and query first, then
//! cookie, then weight), so each match may hold one condition and each kind of condition may
//! appear in one match (see the `conditions` module). Request header changes become `name value` lines
//! (set, add) and a comma-separated list (remove) under the class's keys.
//!
//! # Configuration
//!
//! `config` is the plugin's ConfigMap `config` with the Rollout's route over it:
//!
//! ```json
//! {"name": "web", "classType": "nginx", "classes": {"<class>": {<class definition>}}}
//! ```
//!
//! `classType` picks a class (`nginx` when empty). A class definition names annotation keys:
//!
//! | field | value on the canary Ingress |
//! |---|---|
//! | `canary` (required) | `"true"` |
//! | `weight` | the step's weight, `"0"` to `"100"` |
//! | `byHeader`, `byHeaderValue`, `byHeaderPattern` | a header match's name, exact value, regular expression |
//! | `byCookie` | the cookie name of a `canary-by-cookie` match |
//! | `byQuery`, `byQueryValue`, `byQueryPattern` | a query-parameter match's name, exact value, regular expression |
//! | `requestHeaderSet`, `requestHeaderAdd` | `name value` lines, one per header |
//! | `requestHeaderRemove` | header names, comma-separated |
//! | `extra` | an object of annotations set on every canary Ingress of the class |
//! | `replaceIfPresent` | an object of annotations whose value, when the stable Ingress has them, the canary gets instead |
//!
//! A key a class lacks makes every step that needs it fail with a message naming the field.
//! `classes.<name>` is merged over the built-in class of that name as a JSON merge patch
//! (`null` removes a key), or defines a new class. Built-in classes, after Kruise's
//! `lua_configuration/trafficrouting_ingress/*.lua`:
//!
//! - `nginx` and `higress`: the `nginx.ingress.kubernetes.io/canary*` keys (canary, weight,
//!   by-header, by-header-value, by-header-pattern, by-cookie);
//! - `mse`: nginx's, plus `mse.ingress.kubernetes.io/canary-by-query`, `-value`, `-pattern`,
//!   `request-header-control-update` (set), `-add`, `-remove`, and
//!   `mse.ingress.kubernetes.io/service-subset` replaced by `gray` when present;
//! - `aliyun-alb`: the same six keys under `alb.ingress.kubernetes.io/`, plus
//!   `alb.ingress.kubernetes.io/order: "1"`.
//!
//! For example, Higress with request header changes, and a second ingress-nginx controller
//! started with `--annotations-prefix=internal.nginx.ingress.kubernetes.io`:
//!
//! ```json
//! {"classes": {
//!   "higress": {"requestHeaderSet": "higress.io/request-header-control-update",
//!               "requestHeaderAdd": "higress.io/request-header-control-add",
//!               "requestHeaderRemove": "higress.io/request-header-control-remove"},
//!   "nginx-internal": {"canary": "internal.nginx.ingress.kubernetes.io/canary",
//!                      "weight": "internal.nginx.ingress.kubernetes.io/canary-weight"}}}
//! ```
//!
//! A new class also needs the plugin's ConfigMap entry to handle it: list it in the entry's
//! `classTypes`, or list none so the entry handles every class.
//!
//! # Where this departs from Kruise
//!
//! - Unexpressible matches are refused with a message instead of dropped: Kruise reads only the
//!   first header (and, for mse, the first query parameter) of each match and lets a later
//!   match overwrite an earlier one's annotations, and ignores paths.
//! - The canary Ingress is owned by the stable Ingress (Kruise: by the Rollout, whose uid a
//!   plugin is not given); restore deletes it either way.
//! - Its `rules`, `tls` and `ingressClassName` follow edits of the stable Ingress during a
//!   release; Kruise copies them once.
//! - `last-applied-configuration` is not copied.
//! - Weight 0 with matches creates the canary Ingress (Kruise creates nothing at weight 0, so
//!   its matches never route).
//! - mse: query matches use the `mse.`-prefixed keys MSE documents (Kruise clears those but
//!   writes `nginx.`-prefixed ones); several set headers are written one per line (Kruise
//!   runs them together on one line); add and remove are supported (Kruise ignores them); the
//!   header-change annotation is removed in a step without changes (Kruise leaves it).

mod annotations;
mod canary_ingress;
mod classes;
mod conditions;
mod objects;
mod route_config;

// The component's bindings: the `traffic` export onto the native API below.
waxwing_plugin_sdk::traffic_component!();

use waxwing_plugin_sdk::traffic::TrafficContext;
use waxwing_plugin_sdk::{Change, ObjectRef, PluginError, change};

use crate::annotations::{CanaryAnnotations, Plan};
use crate::objects::{Ingresses, is_terminating};
use crate::route_config::{RouteConfig, describe};

/// The stable Ingress and the canary Ingress, in that order.
pub fn route_objects(ctx: &TrafficContext) -> Result<Vec<ObjectRef>, PluginError> {
    let config = RouteConfig::of(ctx)?;
    Ok(vec![config.stable(), config.canary()])
}

/// The change that creates the canary Ingress or brings it to this step; none when it is there.
pub fn route(ctx: &TrafficContext, objects: &[String]) -> Result<Vec<Change>, PluginError> {
    let config = RouteConfig::of(ctx)?;
    let class = config.class()?;
    let plan = Plan::of(ctx)?;
    let wanted = CanaryAnnotations::new(&class, &plan)?;
    // Kruise's DoTrafficRouting: a step that names neither leaves the routing as it is.
    if ctx.weight.is_none() && ctx.matches.is_empty() {
        return Ok(Vec::new());
    }
    let ingresses = Ingresses::parse(&config, objects)?;
    let stable = ingresses.stable.as_ref().ok_or_else(|| {
        PluginError::invalid_input(format!(
            "{} not found; create it, or name the right Ingress in the Rollout's \
             trafficRoutings[].ingress.name",
            describe(&config.stable())
        ))
    })?;
    let spec = canary_ingress::spec(&config, stable, ctx)?;
    let change = match &ingresses.canary {
        // Nothing to send to the canary, so nothing to create (also at the end of a release).
        None if !ctx.routes_to_canary() => None,
        // Created at weight 0 as Kruise does; the next call sets the step.
        None => {
            let created = CanaryAnnotations::new(&class, &Plan::created())?;
            Some(canary_ingress::create(&config, stable, spec, &created)?)
        }
        Some(canary) if is_terminating(canary) => {
            return Err(PluginError::not_ready(format!(
                "{} is being deleted; it is created again once it is gone",
                describe(&config.canary())
            )));
        }
        Some(canary) => canary_ingress::update(canary, &config.canary(), &spec, &wanted)?,
    };
    Ok(change.into_iter().collect())
}

/// Deletes the canary Ingress; none once it is gone or going.
pub fn restore(ctx: &TrafficContext, objects: &[String]) -> Result<Vec<Change>, PluginError> {
    let config = RouteConfig::of(ctx)?;
    let ingresses = Ingresses::parse(&config, objects)?;
    Ok(match &ingresses.canary {
        Some(canary) if !is_terminating(canary) => vec![change::delete(config.canary())],
        _ => Vec::new(),
    })
}
