//! The machine's traffic work: the Services a routing needs and the traffic plugins' routes.
//!
//! The order is Kruise's. Before a step moves any pod, every route is checked with a dry
//! `route` call (plugins are pure, so nothing changes) and the stable Service is pinned to the
//! stable revision, so a new pod takes no traffic until a route sends it some; a bad route
//! therefore fails before anything changed. A step's routing creates the canary Service, then
//! asks each route's plugin. The restore unpins the stable Service first (it again selects
//! every pod, the new ones included), then restores every route, and removes the canary
//! Service only once the grace period has passed since the routes changed, so no proxy still
//! sends requests to it.
//!
//! Each call makes at most one round of changes and reports them as pending: the machine then
//! restarts the grace period, so proxies catch up with every change before the next.

pub(crate) mod routes;
mod services;

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use waxwing_api::v1beta1::HttpRouteMatch;
use waxwing_machine::{TrafficPlan, WorkOutcome};
use waxwing_runtime::{
    Change, HeaderMatch, HeaderModifier, ObjectRef, PathMatch, RegisteredPlugin, RouteMatch,
    TrafficContext, TrafficPlugin,
};

use self::routes::Route;
use super::apply::{self, FIELD_MANAGER};
use super::error::Error;
use super::objects;
use super::plugin_call;
use super::work::{Env, rollout_info};

/// How soon to look again at a routing a person must fix (a missing Service or route, an
/// unknown ingress class): the controller does not watch those objects.
const FIX_RETRY: Duration = Duration::from_secs(30);

/// Before a step that routes traffic moves any pod: the stable Services exist, every route
/// accepts the routing, and the stable Service selects only stable pods.
pub async fn prepare(env: &Env<'_>) -> Result<WorkOutcome, Error> {
    let routings = match resolve(env) {
        Ok(routings) => routings,
        Err(failed) => return Ok(failed),
    };
    let api = services_api(env);
    for name in stable_services(&routings) {
        if let Err(failed) = stable_service(&api, env, &name).await? {
            return Ok(failed);
        }
    }
    for routing in &routings {
        // The same check the routing makes later, with no traffic for the canary: a route the
        // plugin cannot handle fails now, before a pod or a Service changed.
        let ctx = routing.context(env, None)?;
        let objects = match routing.objects(env, &ctx).await {
            Ok(objects) => objects,
            Err(err) => return routing.failure(err),
        };
        if let Err(err) = routing.call(env, "route", &ctx, objects).await {
            return routing.failure(err);
        }
    }
    pin_stable_services(env, &routings).await
}

/// A step's routing: the canary Service, then each route as the step says.
pub async fn route(env: &Env<'_>, plan: &TrafficPlan) -> Result<WorkOutcome, Error> {
    let routings = match resolve(env) {
        Ok(routings) => routings,
        Err(failed) => return Ok(failed),
    };
    let pinned = pin_stable_services(env, &routings).await?;
    if pinned != WorkOutcome::Done {
        return Ok(pinned);
    }
    let created = ensure_canary_services(env, &routings).await?;
    if created != WorkOutcome::Done {
        return Ok(created);
    }
    for routing in &routings {
        let ctx = routing.context(env, Some(plan))?;
        let changed = match routing.converge(env, "route", &ctx).await {
            Ok(changed) => changed,
            Err(err) => return routing.failure(err),
        };
        if changed > 0 {
            return Ok(WorkOutcome::Pending {
                message: format!(
                    "routing step {} ({}): {} changed",
                    plan.step_index,
                    describe_plan(plan),
                    routing.route.describe()
                ),
            });
        }
    }
    Ok(WorkOutcome::Done)
}

/// Every route and Service back as before the release.
pub async fn restore(env: &Env<'_>) -> Result<WorkOutcome, Error> {
    let routings = match resolve(env) {
        Ok(routings) => routings,
        Err(failed) => return Ok(failed),
    };
    let api = services_api(env);
    let mut unpinned = Vec::new();
    for name in stable_services(&routings) {
        let Some(stable) = api
            .get_opt(&name)
            .await
            .map_err(Error::api(format!("reading Service {name}")))?
        else {
            continue;
        };
        if let Some(patch) = services::unpin(&stable) {
            api.patch(&name, &merge_params(), &Patch::Merge(&patch))
                .await
                .map_err(Error::api(format!(
                    "restoring the selector of Service {name}"
                )))?;
            unpinned.push(name);
        }
    }
    if !unpinned.is_empty() {
        return Ok(WorkOutcome::Pending {
            message: format!(
                "Service {} selects every pod again; restoring the routes next",
                unpinned.join(", ")
            ),
        });
    }
    for routing in &routings {
        let ctx = routing.context(env, None)?;
        let changed = match routing.converge(env, "restore", &ctx).await {
            Ok(changed) => changed,
            Err(err) => return routing.failure(err),
        };
        if changed > 0 {
            return Ok(WorkOutcome::Pending {
                message: format!(
                    "restoring {}: traffic goes back to the stable Service",
                    routing.route.describe()
                ),
            });
        }
    }
    remove_canary_services(env, &routings).await
}

/// A route and the plugin that routes it.
struct Routing<'a> {
    route: Route,
    registered: &'a RegisteredPlugin,
    plugin: &'a TrafficPlugin,
}

/// Every route of the Rollout with its plugin, or the Failed outcome naming a route no plugin
/// serves.
fn resolve<'a>(env: &'a Env<'_>) -> Result<Vec<Routing<'a>>, WorkOutcome> {
    if let Some(name) = env.rollout.spec.strategy.traffic_routing_ref() {
        return Err(failed(format!(
            "trafficRoutingRef {name:?} names a TrafficRouting object; Waxwing routes the \
             Rollout's own trafficRoutings only: move the routes into the Rollout's strategy"
        )));
    }
    routes::of(env.rollout)
        .into_iter()
        .map(|route| {
            let registered = env
                .plugins
                .traffic(&route.api_version, &route.kind, route.class_type.as_deref())
                .ok_or_else(|| failed(no_plugin_message(env, &route)))?;
            let plugin = registered
                .plugin
                .as_traffic()
                .ok_or_else(|| failed(no_plugin_message(env, &route)))?;
            Ok(Routing {
                route,
                registered,
                plugin,
            })
        })
        .collect()
}

fn no_plugin_message(env: &Env<'_>, route: &Route) -> String {
    let class = route
        .class_type
        .as_deref()
        .map(|class| format!(" of class {class:?}"))
        .unwrap_or_default();
    format!(
        "no traffic plugin handles {} ({}){class}: add one to the plugin ConfigMap {} with \
         `handles.traffic: [{{apiVersion: {}, kind: {}}}]`",
        route.describe(),
        route.api_version,
        env.configmap,
        route.api_version,
        route.kind
    )
}

impl Routing<'_> {
    /// The plugin's view of the step; `plan` none for no canary traffic (checks and restores).
    fn context(&self, env: &Env<'_>, plan: Option<&TrafficPlan>) -> Result<TrafficContext, Error> {
        let config = self
            .route
            .config(&self.registered.entry.config)
            .map_err(|problem| Error::Refused {
                plugin: self.describe_plugin(),
                problem,
            })?;
        Ok(TrafficContext {
            rollout: rollout_info(
                env.rollout,
                env.observation.and_then(|o| o.rollout_id.clone()),
            ),
            stable_service: self.route.stable_service.clone(),
            canary_service: self.route.canary_service.clone(),
            weight: match plan {
                Some(plan) => plan.weight,
                None => Some(0),
            },
            matches: plan
                .map(|plan| plan.matches.iter().map(route_match).collect())
                .unwrap_or_default(),
            request_header_modifier: plan
                .and_then(|plan| plan.request_header_modifier.as_ref())
                .map(|modifier| HeaderModifier {
                    set: modifier
                        .set
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                    add: modifier
                        .add
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                    remove: modifier.remove.clone(),
                }),
            config,
        })
    }

    fn describe_plugin(&self) -> String {
        self.plugin.id().to_string()
    }

    /// The objects the plugin names that exist, as JSON, in its order.
    async fn objects(&self, env: &Env<'_>, ctx: &TrafficContext) -> Result<Vec<String>, Error> {
        let refs: Vec<ObjectRef> = self.call_refs(env, ctx).await?;
        let namespace = &ctx.rollout.namespace;
        let mut found = Vec::with_capacity(refs.len());
        for target in refs {
            if !target.namespace.is_empty() && &target.namespace != namespace {
                return Err(Error::Refused {
                    plugin: self.describe_plugin(),
                    problem: format!(
                        "route-objects named {} {} in namespace {:?}; routes are read in the \
                         Rollout's namespace {namespace:?} only",
                        target.kind, target.name, target.namespace
                    ),
                });
            }
            let kind = env.kinds.resolve(&target.api_version, &target.kind).await?;
            let object = objects::get(env.client, &kind, namespace, &target.name)
                .await
                .map_err(Error::api(format!(
                    "reading {} {}",
                    target.kind, target.name
                )))?;
            found.extend(object.as_ref().map(objects::to_json));
        }
        Ok(found)
    }

    async fn call_refs(
        &self,
        env: &Env<'_>,
        ctx: &TrafficContext,
    ) -> Result<Vec<ObjectRef>, Error> {
        let ctx = ctx.clone();
        plugin_call::traffic(
            env.health,
            self.plugin,
            &env.services,
            "route-objects",
            move |plugin, services| plugin.route_objects(services, &ctx),
        )
        .await
    }

    /// `route` or `restore` on the given objects.
    async fn call(
        &self,
        env: &Env<'_>,
        function: &'static str,
        ctx: &TrafficContext,
        objects: Vec<String>,
    ) -> Result<Vec<Change>, Error> {
        let ctx = ctx.clone();
        plugin_call::traffic(
            env.health,
            self.plugin,
            &env.services,
            function,
            move |plugin, services| {
                if function == "restore" {
                    plugin.restore(services, &ctx, &objects)
                } else {
                    plugin.route(services, &ctx, &objects)
                }
            },
        )
        .await
    }

    /// One round of `function` (`route` or `restore`): reads the objects, asks the plugin and
    /// makes its changes. Returns how many changes were made; none means the route is done.
    async fn converge(
        &self,
        env: &Env<'_>,
        function: &'static str,
        ctx: &TrafficContext,
    ) -> Result<usize, Error> {
        let objects = self.objects(env, ctx).await?;
        let changes = self.call(env, function, ctx, objects).await?;
        if !changes.is_empty() {
            tracing::info!(
                route = %self.route.describe(),
                function,
                changes = changes.len(),
                "applying the traffic plugin's changes"
            );
            apply::all(
                env.client,
                env.kinds,
                &ctx.rollout.namespace,
                &self.describe_plugin(),
                &changes,
            )
            .await?;
        }
        Ok(changes.len())
    }

    /// A failure of this route as the work's outcome, naming the route. The controller does
    /// not watch routes, so even an input error is looked at again after a while.
    fn failure(&self, err: Error) -> Result<WorkOutcome, Error> {
        Ok(match err.into_outcome()? {
            WorkOutcome::Failed { message, .. } => WorkOutcome::Failed {
                message: format!("{}: {message}", self.route.describe()),
                retry_after: Some(FIX_RETRY),
            },
            other => other,
        })
    }
}

fn failed(message: String) -> WorkOutcome {
    WorkOutcome::Failed {
        message,
        retry_after: Some(FIX_RETRY),
    }
}

fn route_match(rule: &HttpRouteMatch) -> RouteMatch {
    let header = |name: &str, value: &str, regex: bool| HeaderMatch {
        name: name.to_owned(),
        value: value.to_owned(),
        match_type: if regex { "RegularExpression" } else { "Exact" }.to_owned(),
    };
    use waxwing_api::v1beta1::{HeaderMatchType, PathMatchType, QueryParamMatchType};
    RouteMatch {
        path: rule.path.as_ref().map(|path| PathMatch {
            // Gateway API's defaults for an absent type and value.
            value: path.value.clone().unwrap_or_else(|| "/".to_owned()),
            match_type: match path.type_.unwrap_or(PathMatchType::PathPrefix) {
                PathMatchType::Exact => "Exact",
                PathMatchType::PathPrefix => "PathPrefix",
                PathMatchType::RegularExpression => "RegularExpression",
            }
            .to_owned(),
        }),
        headers: rule
            .headers
            .iter()
            .map(|h| {
                header(
                    &h.name,
                    &h.value,
                    h.type_ == Some(HeaderMatchType::RegularExpression),
                )
            })
            .collect(),
        query_params: rule
            .query_params
            .iter()
            .map(|q| {
                header(
                    &q.name,
                    &q.value,
                    q.type_ == Some(QueryParamMatchType::RegularExpression),
                )
            })
            .collect(),
    }
}

/// `20%` or `matches`, for messages.
fn describe_plan(plan: &TrafficPlan) -> String {
    match plan.weight {
        Some(weight) if plan.matches.is_empty() => format!("{weight}% of requests"),
        _ => format!("{} request matches", plan.matches.len()),
    }
}

fn services_api(env: &Env<'_>) -> Api<Service> {
    Api::namespaced(
        env.client.clone(),
        &env.rollout.namespace().unwrap_or_default(),
    )
}

fn merge_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// The distinct stable Services of the routes, in order.
fn stable_services(routings: &[Routing<'_>]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    routings
        .iter()
        .map(|routing| routing.route.stable_service.clone())
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

/// The distinct generated canary Services of the routes, in order.
fn canary_services(routings: &[Routing<'_>]) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    routings
        .iter()
        .filter(|routing| routing.route.canary_service != routing.route.stable_service)
        .map(|routing| {
            (
                routing.route.stable_service.clone(),
                routing.route.canary_service.clone(),
            )
        })
        .filter(|(_, canary)| seen.insert(canary.clone()))
        .collect()
}

/// Reads a stable Service; a missing one is the Failed outcome a person must fix.
async fn stable_service(
    api: &Api<Service>,
    env: &Env<'_>,
    name: &str,
) -> Result<Result<Service, WorkOutcome>, Error> {
    let service = api
        .get_opt(name)
        .await
        .map_err(Error::api(format!("reading Service {name}")))?;
    Ok(service.ok_or_else(|| {
        failed(format!(
            "Service {}/{name}, the `service` of the Rollout's trafficRoutings, does not exist: \
             create it, or name the Service the routes send traffic to",
            env.rollout.namespace().unwrap_or_default()
        ))
    }))
}

/// Pins every stable Service to the stable revision.
async fn pin_stable_services(
    env: &Env<'_>,
    routings: &[Routing<'_>],
) -> Result<WorkOutcome, Error> {
    let (label, hash) = match env.observation {
        Some(o) if !o.revision_label.is_empty() && !o.stable_pod_template_hash.is_empty() => (
            o.revision_label.as_str(),
            o.stable_pod_template_hash.as_str(),
        ),
        _ => {
            return Ok(WorkOutcome::Pending {
                message: "waiting for the workload plugin to report the stable pods' revision \
                          label before pinning the stable Service"
                    .to_owned(),
            });
        }
    };
    let api = services_api(env);
    let mut pinned = Vec::new();
    for name in stable_services(routings) {
        let stable = match stable_service(&api, env, &name).await? {
            Ok(stable) => stable,
            Err(failed) => return Ok(failed),
        };
        if let Some(patch) = services::pin(&stable, label, hash) {
            api.patch(&name, &merge_params(), &Patch::Merge(&patch))
                .await
                .map_err(Error::api(format!(
                    "pinning Service {name} to the stable revision"
                )))?;
            pinned.push(name);
        }
    }
    Ok(if pinned.is_empty() {
        WorkOutcome::Done
    } else {
        WorkOutcome::Pending {
            message: format!(
                "Service {} now selects only stable pods ({label}={hash})",
                pinned.join(", ")
            ),
        }
    })
}

/// Creates or updates each generated canary Service to select the new revision's pods.
async fn ensure_canary_services(
    env: &Env<'_>,
    routings: &[Routing<'_>],
) -> Result<WorkOutcome, Error> {
    let services = canary_services(routings);
    if services.is_empty() {
        return Ok(WorkOutcome::Done);
    }
    let status_hash = env
        .rollout
        .status
        .as_ref()
        .and_then(|status| status.sub_status())
        .map(|common| common.pod_template_hash.clone())
        .unwrap_or_default();
    let (label, hash) = match env.observation {
        Some(o) if !o.revision_label.is_empty() => {
            let hash = if o.update_pod_template_hash.is_empty() {
                status_hash
            } else {
                o.update_pod_template_hash.clone()
            };
            (o.revision_label.clone(), hash)
        }
        _ => (String::new(), String::new()),
    };
    if hash.is_empty() {
        return Ok(WorkOutcome::Pending {
            message: "waiting for the new pods' revision hash before creating the canary Service"
                .to_owned(),
        });
    }
    let Some(owner) = env.rollout.controller_owner_ref(&()) else {
        return Ok(WorkOutcome::Pending {
            message: "the Rollout has no uid yet".to_owned(),
        });
    };
    let api = services_api(env);
    let mut changed = Vec::new();
    for (stable_name, canary_name) in services {
        let stable = match stable_service(&api, env, &stable_name).await? {
            Ok(stable) => stable,
            Err(failed) => return Ok(failed),
        };
        let desired = services::canary(&stable, &canary_name, &label, &hash, owner.clone());
        let existing = api
            .get_opt(&canary_name)
            .await
            .map_err(Error::api(format!("reading Service {canary_name}")))?;
        if existing.is_some_and(|existing| services::is_current(&existing, &desired)) {
            continue;
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(&canary_name, &params, &Patch::Apply(&desired))
            .await
            .map_err(Error::api(format!("applying Service {canary_name}")))?;
        changed.push(canary_name);
    }
    Ok(if changed.is_empty() {
        WorkOutcome::Done
    } else {
        WorkOutcome::Pending {
            message: format!(
                "Service {} selects the new pods ({label}={hash})",
                changed.join(", ")
            ),
        }
    })
}

/// Deletes the generated canary Services, once the grace period has passed since the routes
/// last changed.
async fn remove_canary_services(
    env: &Env<'_>,
    routings: &[Routing<'_>],
) -> Result<WorkOutcome, Error> {
    let api = services_api(env);
    let mut present = Vec::new();
    for (_, canary_name) in canary_services(routings) {
        if api
            .get_opt(&canary_name)
            .await
            .map_err(Error::api(format!("reading Service {canary_name}")))?
            .is_some()
        {
            present.push(canary_name);
        }
    }
    if present.is_empty() {
        return Ok(WorkOutcome::Done);
    }
    if let Some(left) = grace_left(env) {
        return Ok(WorkOutcome::Waiting {
            message: format!(
                "routes restored; removing Service {} in {}s, once proxies have picked up the \
                 change",
                present.join(", "),
                left.as_secs().max(1)
            ),
            after: left,
        });
    }
    for name in &present {
        api.delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .or_else(|err| match err {
                kube::Error::Api(status) if status.code == 404 => Ok(()),
                other => Err(other),
            })
            .map_err(Error::api(format!("deleting Service {name}")))?;
    }
    Ok(WorkOutcome::Pending {
        message: format!("Service {} removed", present.join(", ")),
    })
}

/// What is left of the grace period since the release status last changed (the machine
/// stamps every route change).
fn grace_left(env: &Env<'_>) -> Option<Duration> {
    let grace = waxwing_machine::traffic_grace(&env.rollout.spec.strategy);
    let since = env
        .rollout
        .status
        .as_ref()
        .and_then(|status| status.sub_status())
        .and_then(|common| common.last_update_time.as_ref())?;
    let elapsed = env.now.duration_since(since.0);
    let elapsed = Duration::try_from(elapsed).unwrap_or_default();
    grace.checked_sub(elapsed).filter(|left| !left.is_zero())
}
