//! The Rollout reconciler: a kube-runtime `Controller` for v1beta1 Rollouts in every namespace
//! that drives the step machine (`waxwing-machine`) with the workload and policy plugins.
//!
//! One reconcile, from the Rollout as the API server has it now:
//! 1. make sure the finalizer `rollouts.kruise.io/rollout` is there (deleting a Rollout hands
//!    its workload back first);
//! 2. resolve the workload plugin and kind of `workloadRef`, and label the workload
//!    `rollouts.kruise.io/workload-type` so the takeover webhook sees it;
//! 3. read the workload and the related objects its plugin asks for, and `observe` it;
//! 4. let the machine `plan`, do the one piece of work it names (see [`work`]), and let it
//!    `advance`;
//! 5. write the status with the resourceVersion read in 1 (a person's approval made meanwhile
//!    makes the write fail, and the next reconcile sees it), then publish the events, drop the
//!    finalizer when the machine says so, and requeue as it says.
//!
//! Nothing that matters is kept in memory: a controller restarted at any moment resumes from
//! the Rollout's status. A missing plugin or kind, or a plugin failing before the machine runs,
//! holds the Rollout with the reason in `status.message` and a Warning event; failures of the
//! machine's work reach the status through the machine.

mod analysis;
mod apply;
mod error;
mod events;
mod kinds;
mod objects;
mod plugin_call;
mod policies;
mod reads;
mod status;
pub(crate) mod traffic;
mod triggers;
mod work;
mod workload;

pub use self::reads::ClusterReads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::Reporter;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tracing::Instrument;
use waxwing_api::analysis::AnalysisTemplate;
use waxwing_api::v1beta1::{Rollout, RolloutPhase, RolloutStatus};
use waxwing_machine::{Input, WorkOutcome};
use waxwing_runtime::{HostServices, PluginSet, Registry};

use self::error::Error;
use self::kinds::Kinds;
use self::plugin_call::WorkloadCalls;
use self::triggers::{Triggers, WorkloadKind};
use self::workload::{Snapshot, Workload};
use crate::health::Health;

/// Reconciles triggered within this window are merged into one: a batch touches many pods in
/// quick succession.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// How soon a reconcile that failed on the API server is tried again.
const ERROR_RETRY: Duration = Duration::from_secs(5);
/// How soon to look again at a Rollout held for a configuration problem (a missing plugin or
/// kind), which a change outside the Rollout fixes.
const CONFIGURATION_RETRY: Duration = Duration::from_secs(30);
/// How long to wait at start for the cache of AnalysisTemplates.
const TEMPLATES_WAIT: Duration = Duration::from_secs(10);
/// How often to check whether the plugin configuration has loaded, at start.
const READY_POLL: Duration = Duration::from_millis(100);

/// What the reconciler needs beyond the cluster.
pub struct Settings {
    /// Rollouts reconciled at the same time.
    pub workers: u16,
    /// `namespace/name` of the plugin ConfigMap, for messages that point at it.
    pub plugins_configmap: String,
}

/// The Rollout controller, built before it runs so its cache of Rollouts can feed metrics.
pub struct Rollouts {
    client: Client,
    controller: Controller<Rollout>,
}

impl Rollouts {
    pub fn new(client: Client) -> Self {
        let controller = Controller::new(
            Api::<Rollout>::all(client.clone()),
            watcher::Config::default(),
        );
        Self { client, controller }
    }

    /// The controller's cache of Rollouts.
    pub fn store(&self) -> Store<Rollout> {
        self.controller.store()
    }

    /// Reconciles Rollouts until the process stops. Waits for the first plugin configuration,
    /// so no Rollout is told its plugin is missing while the plugins are still loading.
    pub async fn run(self, registry: Registry, health: Arc<Health>, settings: Settings) {
        while !health.plugins_loaded() {
            tokio::time::sleep(READY_POLL).await;
        }
        let (triggers, wake) = Triggers::new(self.client.clone(), self.controller.store());
        triggers.watch_pods_and_replica_sets();
        let templates = triggers.watch_analysis_templates();
        // Analyses resolve from the template cache: let it fill first, so no Rollout is told
        // its template is missing at start. Without the CRD it never fills, and the analyses
        // that need it say so.
        let _ = tokio::time::timeout(TEMPLATES_WAIT, templates.wait_until_ready()).await;
        let ctx = Arc::new(Context {
            events: events::Events::new(self.client.clone(), Reporter::from("waxwing")),
            kinds: Arc::new(Kinds::new(self.client.clone())),
            client: self.client,
            registry,
            health,
            triggers,
            templates,
            plugins_configmap: settings.plugins_configmap,
        });
        tracing::info!(workers = settings.workers, "reconciling Rollouts");
        self.controller
            .with_config(
                controller::Config::default()
                    .debounce(DEBOUNCE)
                    .concurrency(settings.workers),
            )
            .reconcile_on(wake)
            .run(reconcile, error_policy, ctx)
            .for_each(|result| async move {
                match result {
                    Ok(_) | Err(controller::Error::ReconcilerFailed(..)) => {}
                    // The Rollout went away between the trigger and the reconcile.
                    Err(controller::Error::ObjectNotFound(_)) => {}
                    Err(e) => tracing::warn!("the Rollout controller: {e}"),
                }
            })
            .await;
    }
}

struct Context {
    client: Client,
    registry: Registry,
    health: Arc<Health>,
    kinds: Arc<Kinds>,
    events: events::Events,
    triggers: Triggers,
    /// Every AnalysisTemplate, kept by a watch.
    templates: Store<AnalysisTemplate>,
    plugins_configmap: String,
}

async fn reconcile(rollout: Arc<Rollout>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = rollout.namespace().unwrap_or_default();
    let name = rollout.name_any();
    let span = tracing::info_span!("reconcile", namespace = %namespace, rollout = %name);
    let started = Instant::now();
    let result = reconcile_rollout(&ctx, &namespace, &name)
        .instrument(span)
        .await;
    ctx.health
        .metrics
        .reconciled(started.elapsed(), result.is_err());
    match result {
        Err(e) if e.is_conflict() => {
            tracing::debug!(
                namespace,
                rollout = name,
                "the Rollout changed meanwhile: {e}"
            );
            Ok(Action::requeue(Duration::ZERO))
        }
        other => other,
    }
}

fn error_policy(rollout: Arc<Rollout>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(
        namespace = rollout.namespace().unwrap_or_default(),
        rollout = rollout.name_any(),
        "reconcile failed, retrying in {}s: {error}",
        ERROR_RETRY.as_secs()
    );
    Action::requeue(ERROR_RETRY)
}

/// Why a Rollout is held before the machine runs.
struct Held {
    /// The Warning event's reason.
    reason: &'static str,
    message: String,
    retry_after: Option<Duration>,
}

impl Held {
    /// A failure reading or observing the workload, as a hold; failures a retry fixes by
    /// itself stay errors.
    fn from_error(error: Error) -> Result<Held, Error> {
        match error {
            Error::Api { .. } | Error::Machine(_) | Error::Join(_) => Err(error),
            Error::Plugin(_) | Error::Kind(_) | Error::Refused { .. } => Ok(Held {
                reason: "PluginError",
                retry_after: error.retry_after(),
                message: error.to_string(),
            }),
        }
    }
}

async fn reconcile_rollout(ctx: &Context, namespace: &str, name: &str) -> Result<Action, Error> {
    let api: Api<Rollout> = Api::namespaced(ctx.client.clone(), namespace);
    // The controller's cache may not have the status this controller just wrote yet: planning
    // from a fresh read avoids redoing work and failing the status write on a conflict.
    let Some(mut rollout) = api
        .get_opt(name)
        .await
        .map_err(Error::api("reading the Rollout"))?
    else {
        return Ok(Action::await_change());
    };
    let deleting = rollout.metadata.deletion_timestamp.is_some();
    if !status::has_finalizer(&rollout) {
        if deleting {
            return Ok(Action::await_change());
        }
        rollout = status::add_finalizer(&api, &rollout).await?;
    }

    let plugins = ctx.registry.current();
    let services: Arc<dyn HostServices> = Arc::new(ClusterReads::for_namespace(
        ctx.client.clone(),
        Arc::clone(&ctx.kinds),
        ctx.registry.clone(),
        namespace,
    ));
    let workload = match resolve(ctx, &plugins, &rollout, Arc::clone(&services)).await {
        Ok(workload) => workload,
        Err(_) if deleting && !holds_workload(&rollout) => {
            // No release holds the workload, so there is nothing to hand back without the
            // plugin.
            status::remove_finalizer(&api, &rollout).await?;
            tracing::info!("deleted with no release under way; finalizer removed");
            return Ok(Action::await_change());
        }
        Err(held) => return hold(ctx, &api, &rollout, held).await,
    };
    let (snapshot, observation) = match observe(ctx, &workload, deleting).await {
        Ok(observed) => observed,
        Err(error) => return hold(ctx, &api, &rollout, Held::from_error(error)?).await,
    };

    let now = Timestamp::now();
    let analysis = analysis::resolve(
        &ctx.templates,
        &rollout,
        &work::policy_args(&rollout, observation.as_ref()),
    );
    let input = Input {
        rollout: &rollout,
        workload: observation.as_ref(),
        now,
        analysis: &analysis,
    };
    let plan = waxwing_machine::plan(&input)?;
    let work = plan.work.name();
    let env = work::Env {
        client: &ctx.client,
        kinds: &ctx.kinds,
        health: &ctx.health,
        plugins: &plugins,
        configmap: &ctx.plugins_configmap,
        services,
        rollout: &rollout,
        workload: &workload,
        snapshot,
        observation: observation.as_ref(),
        now,
    };
    let outcome = work::perform(env, &plan.work).await?;
    match &outcome {
        WorkOutcome::Failed { message, .. } => tracing::warn!(work, "{message}"),
        WorkOutcome::Pending { message } => tracing::info!(work, "pending: {message}"),
        _ => tracing::debug!(work, ?outcome, "work done"),
    }
    let transition = waxwing_machine::advance(&input, &plan, outcome)?;

    let written = status::write(&api, &rollout, transition.status).await?;
    for event in &transition.events {
        tracing::info!(reason = %event.reason, "{}", event.message);
    }
    events::publish(&ctx.events, &rollout, &transition.events).await;
    if transition.remove_finalizer {
        status::remove_finalizer(&api, written.as_ref().unwrap_or(&rollout)).await?;
        tracing::info!("the Rollout handed everything back; finalizer removed");
    }
    Ok(transition
        .requeue_after
        .map_or_else(Action::await_change, Action::requeue))
}

/// True while a release (or handing one back) may hold the workload.
fn holds_workload(rollout: &Rollout) -> bool {
    matches!(
        rollout.status.as_ref().and_then(|status| status.phase),
        Some(RolloutPhase::Progressing | RolloutPhase::Disabling | RolloutPhase::Terminating)
    )
}

/// The workload plugin and kind of `workloadRef`, or why the Rollout must wait for them.
async fn resolve(
    ctx: &Context,
    plugins: &PluginSet,
    rollout: &Rollout,
    services: Arc<dyn HostServices>,
) -> Result<Workload, Held> {
    let reference = &rollout.spec.workload_ref;
    let deleting = rollout.metadata.deletion_timestamp.is_some();
    // A deleted Rollout that released something cannot hand back what it cannot reach; say
    // what keeps it.
    let kept = if deleting {
        "; the Rollout keeps its finalizer until it can hand the workload back"
    } else {
        ""
    };
    let Some(plugin) = plugins.workload(&reference.api_version, &reference.kind) else {
        return Err(Held {
            reason: "PluginMissing",
            message: format!(
                "no workload plugin handles {} ({}): add one to the plugin ConfigMap {}{kept}",
                reference.kind, reference.api_version, ctx.plugins_configmap
            ),
            retry_after: Some(CONFIGURATION_RETRY),
        });
    };
    let kind = ctx
        .kinds
        .resolve(&reference.api_version, &reference.kind)
        .await
        .map_err(|e| Held {
            reason: "WorkloadKindUnknown",
            message: format!("{e}{kept}"),
            retry_after: Some(CONFIGURATION_RETRY),
        })?;
    ctx.triggers.watch_workloads(
        WorkloadKind {
            api_version: reference.api_version.clone(),
            kind: reference.kind.clone(),
        },
        &kind,
    );
    Ok(Workload {
        calls: WorkloadCalls::new(plugin.clone(), services, Arc::clone(&ctx.health)),
        kind,
        namespace: rollout.namespace().unwrap_or_default(),
        name: reference.name.clone(),
    })
}

/// Reads and observes the workload; `(None, None)` when it does not exist. Labels it for the
/// takeover webhook on the way, unless the Rollout is going away.
async fn observe(
    ctx: &Context,
    workload: &Workload,
    deleting: bool,
) -> Result<
    (
        Option<Snapshot>,
        Option<waxwing_machine::WorkloadObservation>,
    ),
    Error,
> {
    let Some(snapshot) = workload.read(&ctx.client, &ctx.kinds).await? else {
        return Ok((None, None));
    };
    if !deleting
        && let Some(patch) =
            workload::workload_type_patch(&snapshot.object.metadata, &workload.kind.resource.kind)
    {
        let params = PatchParams {
            field_manager: Some(apply::FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        objects::api(&ctx.client, &workload.kind, &workload.namespace)
            .patch(&workload.name, &params, &Patch::Merge(patch))
            .await
            .map_err(Error::api(format!(
                "labelling {} {} for the takeover webhook",
                workload.kind.resource.kind, workload.name
            )))?;
    }
    let observation = workload.observe(&snapshot).await?;
    Ok((Some(snapshot), Some(observation)))
}

/// Holds the Rollout: the reason goes into `status.message` and, when it is news, a Warning
/// event and the log.
async fn hold(
    ctx: &Context,
    api: &Api<Rollout>,
    rollout: &Rollout,
    held: Held,
) -> Result<Action, Error> {
    let persisted = rollout.status.clone().unwrap_or_default();
    if persisted.message.as_deref() != Some(held.message.as_str()) {
        tracing::warn!(reason = held.reason, "{}", held.message);
        let status = RolloutStatus {
            message: Some(held.message.clone()),
            ..persisted
        };
        status::write(api, rollout, status).await?;
        events::warn(&ctx.events, rollout, held.reason, &held.message).await;
    }
    Ok(held
        .retry_after
        .map_or_else(Action::await_change, Action::requeue))
}
