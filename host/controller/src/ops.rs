//! Operations on Rollouts from the command line.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use waxwing_api::analysis::AnalysisPhase;
use waxwing_api::v1beta1::condition::SUCCEEDED;
use waxwing_api::v1beta1::{ConditionStatus, Rollout, RolloutPhase, StepState};

use crate::view::{self, RolloutView};

/// `waxwing approve`: the status patch `currentStepState: StepPaused -> StepReady`, exactly
/// what `kubectl-kruise rollout approve` sends, refused unless the Rollout waits at a pause.
pub fn approve(args: Target) -> anyhow::Result<ExitCode> {
    step_command(args, "approved", approval)
}

/// `waxwing retry`: an aborted release runs its current step again, from its batch, with a
/// fresh analysis.
pub fn retry(args: Target) -> anyhow::Result<ExitCode> {
    step_command(args, "retried", retrial)
}

/// Patches the status as `patch_for` asks and says which step goes on.
fn step_command(
    args: Target,
    done: &str,
    patch_for: fn(&Rollout) -> Result<(Value, String), String>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = client().await?;
        let namespace = namespace_of(&client, args.namespace);
        let api: Api<Rollout> = Api::namespaced(client, &namespace);
        let name = &args.rollout;
        let (_, step) = patch_status(&api, &namespace, name, 1, patch_for).await?;
        println!("rollout {namespace}/{name} {done}: {step} goes on");
        Ok(ExitCode::SUCCESS)
    })
}

/// Reads the Rollout and patches its status with what `patch_for` asks for (or fails with its
/// refusal). The patch carries the resourceVersion read, so a state the reader did not see is
/// never changed: when the Rollout changed meanwhile, it is read and asked again, `attempts`
/// times in all (1 for a request that only makes sense for the state a person looked at).
/// Returns the patched Rollout and what `patch_for` said beside the patch.
pub(crate) async fn patch_status<T>(
    api: &Api<Rollout>,
    namespace: &str,
    name: &str,
    attempts: u32,
    patch_for: impl Fn(&Rollout) -> Result<(Value, T), String>,
) -> anyhow::Result<(Rollout, T)> {
    let mut left = attempts;
    loop {
        left = left.saturating_sub(1);
        let rollout = read(api, namespace, name).await?;
        let (patch, said) = patch_for(&rollout).map_err(|refusal| anyhow!(refusal))?;
        match api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(patched) => return Ok((patched, said)),
            Err(kube::Error::Api(status)) if status.is_conflict() && left > 0 => {}
            Err(kube::Error::Api(status)) if status.is_conflict() => bail!(
                "rollout {namespace}/{name} changed meanwhile; look at it again and run the command again"
            ),
            Err(e) => return Err(e).context(format!("cannot patch rollout {namespace}/{name}")),
        }
    }
}

/// The status patch that retries the current step of an aborted release, and the step, or
/// why it cannot be retried.
pub fn retrial(rollout: &Rollout) -> Result<(Value, String), String> {
    let name = format!(
        "rollout {}/{}",
        rollout.namespace().unwrap_or_default(),
        rollout.name_any()
    );
    let status = rollout.status.as_ref();
    let aborted = status.is_some_and(waxwing_machine::is_aborted);
    let (field, common) = match status.map(|s| (&s.canary_status, &s.blue_green_status)) {
        Some((Some(canary), _)) if aborted => ("canaryStatus", &canary.common),
        Some((None, Some(blue_green))) if aborted => ("blueGreenStatus", &blue_green.common),
        _ => {
            return Err(format!(
                "{name} is not aborted: only an aborted release can be retried"
            ));
        }
    };
    let step = format!(
        "step({}/{})",
        common.current_step_index,
        rollout.spec.strategy.steps().len()
    );
    let patch = json!({
        "metadata": {"resourceVersion": rollout.resource_version()},
        "status": {field: {"nextStepIndex": common.current_step_index}},
    });
    Ok((patch, step))
}

/// The status patch that approves `rollout`, and the step it approves (`step(2/4)`), or why it
/// cannot be approved. The patch carries the resourceVersion read, so it never approves a
/// state the reader did not see.
pub fn approval(rollout: &Rollout) -> Result<(Value, String), String> {
    let name = format!(
        "rollout {}/{}",
        rollout.namespace().unwrap_or_default(),
        rollout.name_any()
    );
    let status = rollout.status.as_ref();
    let (field, common) = match status.map(|s| (&s.canary_status, &s.blue_green_status)) {
        Some((Some(canary), _)) => ("canaryStatus", &canary.common),
        Some((None, Some(blue_green))) => ("blueGreenStatus", &blue_green.common),
        _ => {
            return Err(format!(
                "{name} has no release in progress: nothing to approve"
            ));
        }
    };
    let step = format!(
        "step({}/{})",
        common.current_step_index,
        rollout.spec.strategy.steps().len()
    );
    let inconclusive = common.current_step_state == StepState::StepMetricsAnalysis
        && status.is_some_and(|status| {
            status
                .analysis_runs
                .iter()
                .any(|run| run.phase == AnalysisPhase::Inconclusive)
        });
    if common.current_step_state != StepState::StepPaused && !inconclusive {
        return Err(format!(
            "{name} is not waiting for approval: {step} is in state {:?}; only a step in state \
             StepPaused, or one whose analysis is inconclusive, can be approved",
            common.current_step_state
        ));
    }
    let patch = json!({
        "metadata": {"resourceVersion": rollout.resource_version()},
        "status": {field: {"currentStepState": "StepReady"}},
    });
    Ok((patch, step))
}

/// Which Rollout a command works on.
#[derive(clap::Args)]
pub struct Target {
    /// The Rollout's name.
    pub rollout: String,
    /// The Rollout's namespace (default: the namespace of the kubeconfig context).
    #[arg(short, long)]
    pub namespace: Option<String>,
}

#[derive(Clone, Copy, Default, clap::ValueEnum)]
pub enum Output {
    /// A tree for people (colours on a terminal only).
    #[default]
    Tree,
    /// The same content as JSON, for scripts.
    Json,
}

#[derive(clap::Args)]
pub struct GetArgs {
    /// What to show: `rollout` (kubectl style; the only kind).
    #[arg(value_parser = ["rollout", "rollouts", "ro"])]
    pub kind: String,
    #[command(flatten)]
    pub target: Target,
    /// Redraw whenever something changes, until interrupted.
    #[arg(short, long)]
    pub watch: bool,
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Namespace to list (default: the kubeconfig context's).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: Target,
    /// Follow the release until it ends: exit 0 when Completed, 1 when cancelled, rolled
    /// back or disabled, 2 on timeout.
    #[arg(short, long)]
    pub watch: bool,
    /// Give up after this many seconds of --watch.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

pub(crate) async fn client() -> anyhow::Result<Client> {
    Client::try_default()
        .await
        .context("cannot reach the Kubernetes API (is KUBECONFIG set?)")
}

pub(crate) fn namespace_of(client: &Client, namespace: Option<String>) -> String {
    namespace.unwrap_or_else(|| client.default_namespace().to_owned())
}

pub(crate) async fn read(
    api: &Api<Rollout>,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Rollout> {
    api.get_opt(name)
        .await
        .with_context(|| format!("cannot read rollout {namespace}/{name}"))?
        .ok_or_else(|| anyhow!("rollout {namespace}/{name} not found"))
}

/// `waxwing pause` / `waxwing resume`: `spec.strategy.paused`, what
/// `kubectl-kruise rollout pause|resume` sets.
pub fn set_paused(target: Target, paused: bool) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = client().await?;
        let namespace = namespace_of(&client, target.namespace);
        let api: Api<Rollout> = Api::namespaced(client, &namespace);
        let name = &target.rollout;
        read(&api, &namespace, name).await?;
        api.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"strategy": {"paused": paused}}})),
        )
        .await
        .with_context(|| format!("cannot update rollout {namespace}/{name}"))?;
        let done = if paused { "paused" } else { "resumed" };
        println!("rollout {namespace}/{name} {done}");
        Ok(ExitCode::SUCCESS)
    })
}

/// `waxwing get rollout NAME`: the tree (or JSON) of [`RolloutView`], once or on every change.
pub fn get(args: GetArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = client().await?;
        let namespace = namespace_of(&client, args.target.namespace);
        let rollouts: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let colour = std::io::stdout().is_terminal();
        let mut shown = String::new();
        loop {
            let rollout = read(&rollouts, &namespace, &args.target.rollout).await?;
            let selected = workload_pods(&client, &pods, &rollout).await?;
            let view = RolloutView::new(&rollout, &selected);
            let text = match args.output {
                Output::Tree => view.render(colour),
                Output::Json => format!("{}\n", serde_json::to_string_pretty(&view)?),
            };
            if text != shown {
                if args.watch && colour {
                    print!("\x1b[2J\x1b[H");
                } else if args.watch && !shown.is_empty() {
                    println!();
                }
                print!("{text}");
                shown = text;
            }
            if !args.watch {
                return Ok(ExitCode::SUCCESS);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// The Rollout's workload, whatever its kind; `None` when it or its kind does not exist.
pub(crate) async fn workload(
    client: &Client,
    rollout: &Rollout,
) -> anyhow::Result<Option<DynamicObject>> {
    let reference = &rollout.spec.workload_ref;
    let (group, version) = reference
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", &reference.api_version));
    let gvk = GroupVersionKind::gvk(group, version, &reference.kind);
    let Ok((resource, _)) = kube::discovery::pinned_kind(client, &gvk).await else {
        return Ok(None);
    };
    let namespace = rollout.namespace().unwrap_or_default();
    let workloads: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
    Ok(workloads.get_opt(&reference.name).await?)
}

/// The pods the Rollout's workload selects (`spec.selector.matchLabels`).
async fn workload_pods(
    client: &Client,
    pods: &Api<Pod>,
    rollout: &Rollout,
) -> anyhow::Result<Vec<Pod>> {
    let Some(workload) = workload(client, rollout).await? else {
        return Ok(Vec::new());
    };
    let selector = workload.data["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if selector.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pods
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// `waxwing list`: one line per Rollout.
pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = client().await?;
        let api: Api<Rollout> = if args.all_namespaces {
            Api::all(client)
        } else {
            let namespace = namespace_of(&client, args.namespace);
            Api::namespaced(client, &namespace)
        };
        let rollouts = api.list(&ListParams::default()).await?;
        println!(
            "{:<20} {:<24} {:<12} {:<6} {:<20} {:<28} MESSAGE",
            "NAMESPACE", "NAME", "PHASE", "STEP", "STATE", "WORKLOAD"
        );
        for rollout in &rollouts.items {
            let view = RolloutView::new(rollout, &[]);
            println!(
                "{:<20} {:<24} {:<12} {:<6} {:<20} {:<28} {}",
                view.namespace,
                view.name,
                view.phase,
                format!("{}/{}", view.current_step, view.steps.len()),
                view.step_state,
                view.workload,
                view.message
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// How a release looks to `waxwing status`.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Completed,
    Failed(String),
    Going,
}

/// `workload_generation`: the workload's `metadata.generation`; until the Rollout has
/// observed it, the status describes an earlier release and decides nothing.
fn outcome(rollout: &Rollout, workload_generation: Option<i64>) -> Outcome {
    let status = rollout.status.as_ref();
    let common = view::common(rollout);
    let current =
        common.is_some_and(|c| Some(c.observed_workload_generation) == workload_generation);
    let condition = |kind: &str| status.and_then(|s| s.conditions.iter().find(|c| c.type_ == kind));
    let message = status.and_then(|s| s.message.clone()).unwrap_or_default();
    let aborted = status.is_some_and(waxwing_machine::is_aborted);
    let succeeded = condition(SUCCEEDED).map(|c| c.status);
    match status.and_then(|s| s.phase) {
        Some(RolloutPhase::Disabled | RolloutPhase::Disabling) => {
            Outcome::Failed(format!("the Rollout is disabled: {message}"))
        }
        _ if aborted => Outcome::Failed(message),
        Some(RolloutPhase::Healthy) if current && succeeded == Some(ConditionStatus::False) => {
            Outcome::Failed(format!("the release was cancelled: {message}"))
        }
        Some(RolloutPhase::Healthy)
            if current && common.is_some_and(|c| c.current_step_state == StepState::Completed) =>
        {
            Outcome::Completed
        }
        _ => Outcome::Going,
    }
}

/// `waxwing status`: one line now, or (--watch) a line per change until the release ends.
pub fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = client().await?;
        let namespace = namespace_of(&client, args.target.namespace);
        let api: Api<Rollout> = Api::namespaced(client.clone(), &namespace);
        let name = &args.target.rollout;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
        let mut last = String::new();
        loop {
            let rollout = read(&api, &namespace, name).await?;
            let view = RolloutView::new(&rollout, &[]);
            let line = format!(
                "{} step {}/{} {}: {}",
                view.phase,
                view.current_step,
                view.steps.len(),
                view.step_state,
                view.message
            );
            if line != last {
                println!("{line}");
                last = line;
            }
            let generation = workload(&client, &rollout)
                .await?
                .and_then(|w| w.metadata.generation);
            match outcome(&rollout, generation) {
                Outcome::Completed => return Ok(ExitCode::SUCCESS),
                Outcome::Failed(why) => {
                    eprintln!("rollout {namespace}/{name} did not complete: {why}");
                    return Ok(ExitCode::from(1));
                }
                Outcome::Going if !args.watch => return Ok(ExitCode::SUCCESS),
                Outcome::Going if tokio::time::Instant::now() >= deadline => {
                    eprintln!(
                        "rollout {namespace}/{name} still in progress after {}s",
                        args.timeout
                    );
                    return Ok(ExitCode::from(2));
                }
                Outcome::Going => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use waxwing_api::v1beta1::{
        BlueGreenStatus, CanaryStatus, CanaryStep, CanaryStrategy, CommonStatus, ObjectRef,
        RolloutSpec, RolloutStatus, RolloutStrategy,
    };

    use super::*;

    fn rollout(status: Option<RolloutStatus>) -> Rollout {
        let mut rollout = Rollout::new(
            "web",
            RolloutSpec {
                workload_ref: ObjectRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
                strategy: RolloutStrategy {
                    canary: Some(CanaryStrategy {
                        steps: vec![CanaryStep::default(); 4],
                        ..CanaryStrategy::default()
                    }),
                    ..RolloutStrategy::default()
                },
                disabled: false,
            },
        );
        rollout.metadata.namespace = Some("demo".into());
        rollout.metadata.resource_version = Some("42".into());
        rollout.status = status;
        rollout
    }

    fn common(state: StepState) -> CommonStatus {
        CommonStatus {
            current_step_index: 2,
            current_step_state: state,
            ..CommonStatus::default()
        }
    }

    fn canary(state: StepState) -> Option<RolloutStatus> {
        Some(RolloutStatus {
            canary_status: Some(CanaryStatus {
                common: common(state),
                ..CanaryStatus::default()
            }),
            ..RolloutStatus::default()
        })
    }

    #[test]
    fn a_paused_step_is_approved_with_kruises_status_patch() {
        let (patch, step) = approval(&rollout(canary(StepState::StepPaused))).unwrap();
        assert_eq!(
            patch,
            json!({
                "metadata": {"resourceVersion": "42"},
                "status": {"canaryStatus": {"currentStepState": "StepReady"}}
            })
        );
        assert_eq!(step, "step(2/4)");
    }

    #[test]
    fn a_blue_green_release_is_approved_in_its_own_status() {
        let status = RolloutStatus {
            blue_green_status: Some(BlueGreenStatus {
                common: common(StepState::StepPaused),
                ..BlueGreenStatus::default()
            }),
            ..RolloutStatus::default()
        };
        let (patch, _) = approval(&rollout(Some(status))).unwrap();
        assert_eq!(
            patch["status"],
            json!({"blueGreenStatus": {"currentStepState": "StepReady"}})
        );
    }

    #[test]
    fn anything_but_a_paused_step_is_refused_with_the_reason() {
        let refusal = approval(&rollout(canary(StepState::StepUpgrade))).unwrap_err();
        assert_eq!(
            refusal,
            "rollout demo/web is not waiting for approval: step(2/4) is in state StepUpgrade; \
             only a step in state StepPaused, or one whose analysis is inconclusive, can be \
             approved"
        );
        let refusal = approval(&rollout(None)).unwrap_err();
        assert!(refusal.contains("no release in progress"), "{refusal}");
    }

    fn healthy(state: StepState, succeeded: &str, generation: i64) -> Rollout {
        let mut rollout = rollout(canary(state));
        let status = rollout.status.as_mut().unwrap();
        status.phase = Some(RolloutPhase::Healthy);
        status
            .canary_status
            .as_mut()
            .unwrap()
            .common
            .observed_workload_generation = generation;
        status.conditions = vec![
            serde_json::from_value(json!({
                "type": SUCCEEDED, "status": succeeded, "reason": "", "message": ""
            }))
            .unwrap(),
        ];
        rollout
    }

    #[test]
    fn status_completes_only_for_the_workload_generation_it_observed() {
        let done = healthy(StepState::Completed, "True", 3);
        assert_eq!(outcome(&done, Some(3)), Outcome::Completed);
        // The user changed the workload; the controller has not seen it yet.
        assert_eq!(outcome(&done, Some(4)), Outcome::Going);
        let cancelled = healthy(StepState::StepPaused, "False", 3);
        assert!(matches!(outcome(&cancelled, Some(3)), Outcome::Failed(_)));
        assert_eq!(
            outcome(&rollout(canary(StepState::StepUpgrade)), Some(3)),
            Outcome::Going
        );
    }
}
