//! The machine's work, done with plugin calls and the changes they return.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::{Client, ResourceExt};
use waxwing_api::v1beta1::{RollingStyle, Rollout};
use waxwing_machine::{
    BatchPlan, BatchProgress, IntOrPercent, MeasurePlan, MeasurementOutcome, MeasurementResult,
    MetricSpec, PolicyCheck, Work, WorkOutcome, WorkloadObservation,
};
use waxwing_runtime::{
    BatchContext, BatchStatus, HostServices, PluginSet, PolicyContext, PolicyPlugin,
    RegisteredPlugin, ReleaseStyle, Replicas, RolloutInfo,
};

use super::apply;
use super::error::Error;
use super::kinds::Kinds;
use super::plugin_call;
use super::policies;
use super::traffic;
use super::workload::{Snapshot, Workload};
use crate::health::Health;

/// How many times one reconcile applies a plugin's changes and asks again before it lets the
/// cluster catch up (the plugin's next answer usually waits for pods to start).
const MAX_ROUNDS: usize = 5;

/// How soon to look again at work that needs a person to fix the configuration.
const CONFIGURATION_RETRY: Duration = Duration::from_secs(30);

/// What the work needs besides the plan.
pub struct Env<'a> {
    pub client: &'a Client,
    pub kinds: &'a Kinds,
    pub health: &'a Health,
    pub plugins: &'a PluginSet,
    /// `namespace/name` of the plugin ConfigMap, for messages.
    pub configmap: &'a str,
    pub services: Arc<dyn HostServices>,
    pub rollout: &'a Rollout,
    pub workload: &'a Workload,
    /// The workload and its objects, as read for the observation.
    pub snapshot: Option<Snapshot>,
    pub observation: Option<&'a WorkloadObservation>,
    pub now: Timestamp,
}

/// Does `work` and reports how it went. Failures a person must see become the outcome; only
/// failures a retry fixes by itself (an unreachable API server) are returned as errors.
pub async fn perform(env: Env<'_>, work: &Work) -> Result<WorkOutcome, Error> {
    let result = match work {
        Work::None => Ok(WorkOutcome::Done),
        Work::ReleaseBatch(batch) => release(env, batch).await,
        Work::FinalizeWorkload { .. } => finalize(env).await,
        Work::EvaluatePolicies(check) => evaluate(env, check).await,
        Work::Measure(measure) => Ok(self::measure(env, measure).await),
        Work::AbortWorkload(batch) => abort(env, batch).await,
        Work::PrepareTraffic { .. } => traffic::prepare(&env).await,
        Work::RouteTraffic(plan) => traffic::route(&env, plan).await,
        Work::RestoreTraffic => traffic::restore(&env).await,
    };
    result.or_else(Error::into_outcome)
}

/// `release-batch` until it asks for nothing more, then `check-batch`.
async fn release(mut env: Env<'_>, batch: &BatchPlan) -> Result<WorkOutcome, Error> {
    let style = match style(env.rollout) {
        Ok(style) => style,
        Err(failed) => return Ok(failed),
    };
    let ctx = batch_context(env.rollout, batch, style);
    let snapshot = env.snapshot.take();
    let outcome = until_no_changes(&env, snapshot, Ask::ReleaseBatch(&ctx)).await?;
    let snapshot = match outcome {
        Rounds::Converged(snapshot) => snapshot,
        Rounds::NotYet(pending) => return Ok(pending),
    };
    let status = env
        .workload
        .calls
        .check_batch(&ctx, &snapshot.objects)
        .await?;
    Ok(WorkOutcome::Batch(progress(status)))
}

/// The contract's batch context of a planned batch.
fn batch_context(rollout: &Rollout, batch: &BatchPlan, style: ReleaseStyle) -> BatchContext {
    BatchContext {
        rollout: rollout_info(rollout, batch.rollout_id.clone()),
        style,
        batch_index: batch.batch_index,
        step_replicas: match batch.step_replicas {
            IntOrPercent::Count(count) => Replicas::Count(count),
            IntOrPercent::Percent(percent) => Replicas::Percent(percent),
        },
        planned_replicas: batch.planned_replicas,
        tolerated_failures: batch.tolerated_failures,
        stable_revision: batch.stable_revision.clone(),
        update_revision: batch.update_revision.clone(),
        pod_template_metadata: pod_template_metadata(rollout),
    }
}

/// `abort` until it asks for nothing more.
async fn abort(env: Env<'_>, batch: &BatchPlan) -> Result<WorkOutcome, Error> {
    let style = match style(env.rollout) {
        Ok(style) => style,
        Err(failed) => return Ok(failed),
    };
    let ctx = batch_context(env.rollout, batch, style);
    until_done(env, Ask::Abort(&ctx)).await
}

/// `finalize` until it asks for nothing more.
async fn finalize(env: Env<'_>) -> Result<WorkOutcome, Error> {
    let style = match style(env.rollout) {
        Ok(style) => style,
        Err(failed) => return Ok(failed),
    };
    let ctx = finalize_context(env.rollout, env.observation, style);
    until_done(env, Ask::Finalize(&ctx)).await
}

/// [`until_no_changes`] for work that is done when the plugin asks for nothing more.
async fn until_done(mut env: Env<'_>, ask: Ask<'_>) -> Result<WorkOutcome, Error> {
    let snapshot = env.snapshot.take();
    Ok(match until_no_changes(&env, snapshot, ask).await? {
        Rounds::Converged(_) => WorkOutcome::Done,
        Rounds::NotYet(pending) => pending,
    })
}

/// How a loop of "ask the plugin, apply its changes" ended.
enum Rounds {
    /// The plugin asks for nothing more; the objects as they are now.
    Converged(Box<Snapshot>),
    /// Not done in this reconcile: the workload disappeared meanwhile, or the plugin still
    /// asked for changes after [`MAX_ROUNDS`].
    NotYet(WorkOutcome),
}

/// The plugin functions that return changes.
#[derive(Clone, Copy)]
enum Ask<'a> {
    ReleaseBatch(&'a BatchContext),
    Abort(&'a BatchContext),
    Finalize(&'a BatchContext),
}

/// Asks the plugin with the workload's objects (first `snapshot`, as read for the
/// observation) and applies the changes it returns, reading the objects again after each
/// round, until it returns none.
async fn until_no_changes(
    env: &Env<'_>,
    mut snapshot: Option<Snapshot>,
    ask: Ask<'_>,
) -> Result<Rounds, Error> {
    let workload = env.workload;
    let function = match ask {
        Ask::ReleaseBatch(_) => "release-batch",
        Ask::Abort(_) => "abort",
        Ask::Finalize(_) => "finalize",
    };
    let plugin = workload.calls.describe();
    for round in 0..MAX_ROUNDS {
        if round > 0 {
            snapshot = workload.read(env.client, env.kinds).await?;
        }
        let Some(current) = snapshot.take() else {
            return Ok(Rounds::NotYet(WorkOutcome::Pending {
                message: format!(
                    "{} {} no longer exists",
                    workload.kind.resource.kind, workload.name
                ),
            }));
        };
        let changes = match ask {
            Ask::ReleaseBatch(ctx) => workload.calls.release_batch(ctx, &current.objects).await?,
            Ask::Abort(ctx) => workload.calls.abort(ctx, &current.objects).await?,
            Ask::Finalize(ctx) => workload.calls.finalize(ctx, &current.objects).await?,
        };
        if changes.is_empty() {
            return Ok(Rounds::Converged(Box::new(current)));
        }
        tracing::info!(
            function,
            changes = changes.len(),
            "applying the workload plugin's changes"
        );
        apply::all(
            env.client,
            env.kinds,
            &workload.namespace,
            &plugin,
            &changes,
        )
        .await?;
    }
    Ok(Rounds::NotYet(WorkOutcome::Pending {
        message: format!(
            "{plugin} {function} still asked for changes after {MAX_ROUNDS} rounds; looking \
             again once the cluster has caught up"
        ),
    }))
}

/// Asks the pause policy whether the step's pause is over.
async fn evaluate(env: Env<'_>, check: &PolicyCheck) -> Result<WorkOutcome, Error> {
    let policy = policies::PAUSE_POLICY;
    let (registered, plugin) = match policy_plugin(&env, policy) {
        Ok(found) => found,
        Err(message) => {
            return Ok(WorkOutcome::Failed {
                message,
                retry_after: Some(CONFIGURATION_RETRY),
            });
        }
    };
    let config = match policies::settings(&registered.entry.config, policy, check.pause_seconds) {
        Ok(config) => config,
        Err(message) => {
            return Ok(WorkOutcome::Failed {
                message,
                retry_after: Some(CONFIGURATION_RETRY),
            });
        }
    };
    let ctx = policy_context(
        &env,
        check.step_index,
        check.step_count,
        check.elapsed,
        config,
    );
    let answer =
        plugin_call::evaluate(env.health, plugin.clone(), Arc::clone(&env.services), ctx).await?;
    Ok(WorkOutcome::Decision(policies::decision(answer)))
}

/// One measurement of each metric, by its policy plugin. Every failure is the metric's
/// measurement error: it counts against the metric's consecutiveErrorLimit.
async fn measure(env: Env<'_>, measure: &MeasurePlan) -> WorkOutcome {
    let mut results = Vec::with_capacity(measure.metrics.len());
    for metric in &measure.metrics {
        let outcome = match measure_one(&env, measure, metric).await {
            Ok(outcome) => outcome,
            Err(message) => MeasurementOutcome::Error(message),
        };
        if let MeasurementOutcome::Error(message) = &outcome {
            tracing::warn!(metric = %metric.name, "measurement error: {message}");
        }
        results.push(MeasurementResult {
            metric: metric.name.clone(),
            outcome,
        });
    }
    WorkOutcome::Measured(results)
}

async fn measure_one(
    env: &Env<'_>,
    measure: &MeasurePlan,
    metric: &MetricSpec,
) -> Result<MeasurementOutcome, String> {
    let (registered, plugin) = policy_plugin(env, &metric.policy)?;
    let config =
        policies::merge_settings(&registered.entry.config, &metric.policy, &metric.config)?;
    let ctx = policy_context(
        env,
        measure.step_index,
        measure.step_count,
        measure.elapsed,
        config,
    );
    let answer = plugin_call::evaluate(env.health, plugin.clone(), Arc::clone(&env.services), ctx)
        .await
        .map_err(|error| error.to_string())?;
    Ok(policies::measurement(answer))
}

/// The plugin serving `policy`, or why there is none.
fn policy_plugin<'p>(
    env: &Env<'p>,
    policy: &str,
) -> Result<(&'p RegisteredPlugin, &'p PolicyPlugin), String> {
    env.plugins
        .policy(policy)
        .and_then(|registered| Some((registered, registered.plugin.as_policy()?)))
        .ok_or_else(|| {
            format!(
                "no policy plugin serves the policy {policy:?}: add one to the plugin ConfigMap \
                 {} (for a built-in, `source: builtin:{policy}`)",
                env.configmap
            )
        })
}

fn policy_context(
    env: &Env<'_>,
    step_index: u32,
    step_count: u32,
    elapsed: Duration,
    config: String,
) -> PolicyContext {
    PolicyContext {
        rollout: rollout_info(
            env.rollout,
            env.observation.and_then(|o| o.rollout_id.clone()),
        ),
        step_index,
        step_count,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        now_unix_ms: u64::try_from(env.now.as_millisecond()).unwrap_or_default(),
        config,
        args: policy_args(env.rollout, env.observation),
    }
}

/// The release style of the workload plugin's contract, or the Failed outcome of a Rollout
/// that names none.
fn style(rollout: &Rollout) -> Result<ReleaseStyle, WorkOutcome> {
    match rollout.release_style() {
        Some(RollingStyle::Canary) => Ok(ReleaseStyle::Canary),
        Some(RollingStyle::Partition) => Ok(ReleaseStyle::Partition),
        Some(RollingStyle::BlueGreen) => Ok(ReleaseStyle::BlueGreen),
        None => Err(WorkOutcome::Failed {
            message: "the Rollout sets neither spec.strategy.canary nor spec.strategy.blueGreen"
                .to_owned(),
            retry_after: None,
        }),
    }
}

pub(super) fn rollout_info(rollout: &Rollout, rollout_id: Option<String>) -> RolloutInfo {
    RolloutInfo {
        namespace: rollout.namespace().unwrap_or_default(),
        name: rollout.name_any(),
        rollout_id,
    }
}

/// `patchPodTemplateMetadata` as the contract's JSON, empty when unset.
fn pod_template_metadata(rollout: &Rollout) -> String {
    rollout
        .spec
        .strategy
        .canary
        .as_ref()
        .and_then(|canary| canary.patch_pod_template_metadata.as_ref())
        .and_then(|metadata| serde_json::to_string(metadata).ok())
        .unwrap_or_default()
}

/// `finalize` is told where the release got to: the current step's batch and the pods it
/// updated.
fn finalize_context(
    rollout: &Rollout,
    observation: Option<&WorkloadObservation>,
    style: ReleaseStyle,
) -> BatchContext {
    let status = rollout.status.as_ref();
    let common = status.and_then(|status| status.sub_status());
    let updated = status
        .and_then(|status| status.updated_replicas())
        .map_or(0, |(updated, _)| u32::try_from(updated).unwrap_or_default());
    BatchContext {
        rollout: rollout_info(rollout, observation.and_then(|o| o.rollout_id.clone())),
        style,
        batch_index: common.map_or(0, |common| {
            u32::try_from(common.current_step_index - 1).unwrap_or_default()
        }),
        step_replicas: Replicas::Count(updated),
        planned_replicas: updated,
        tolerated_failures: 0,
        stable_revision: common
            .map(|common| common.stable_revision.clone())
            .unwrap_or_default(),
        update_revision: status
            .and_then(|status| status.update_revision())
            .unwrap_or_default()
            .to_owned(),
        pod_template_metadata: pod_template_metadata(rollout),
    }
}

/// The named arguments policies receive (see `policy-context.args` in the contract).
pub(super) fn policy_args(
    rollout: &Rollout,
    observation: Option<&WorkloadObservation>,
) -> Vec<(String, String)> {
    let status = rollout.status.as_ref();
    let common = status.and_then(|status| status.sub_status());
    let arg = |name: &str, value: String| (name.to_owned(), value);
    vec![
        arg("namespace", rollout.namespace().unwrap_or_default()),
        arg("rollout", rollout.name_any()),
        arg("workload", rollout.spec.workload_ref.name.clone()),
        arg(
            "stable-revision",
            common
                .map(|common| common.stable_revision.clone())
                .unwrap_or_default(),
        ),
        arg(
            "canary-revision",
            status
                .and_then(|status| status.update_revision())
                .unwrap_or_default()
                .to_owned(),
        ),
        arg(
            "stable-pod-template-hash",
            observation
                .map(|o| o.stable_pod_template_hash.clone())
                .unwrap_or_default(),
        ),
        arg(
            "canary-pod-template-hash",
            common
                .map(|common| common.pod_template_hash.clone())
                .unwrap_or_default(),
        ),
    ]
}

fn progress(status: BatchStatus) -> BatchProgress {
    BatchProgress {
        updated_replicas: status.updated_replicas,
        updated_ready_replicas: status.updated_ready_replicas,
        ready: status.ready,
        message: status.message,
    }
}
