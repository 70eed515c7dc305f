//! Operations on Rollouts from the command line.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use waxwing_api::v1beta1::{Rollout, StepState};

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The Rollout's name.
    pub rollout: String,
    /// The Rollout's namespace (default: the namespace of the kubeconfig context).
    #[arg(short, long)]
    pub namespace: Option<String>,
}

/// `waxwing approve`: the status patch `currentStepState: StepPaused -> StepReady`, exactly
/// what `kubectl-kruise rollout approve` sends, refused unless the Rollout waits at a pause.
pub fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(run_approve(args))
}

async fn run_approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let client = Client::try_default()
        .await
        .context("cannot reach the Kubernetes API (is KUBECONFIG set?)")?;
    let namespace = args
        .namespace
        .unwrap_or_else(|| client.default_namespace().to_owned());
    let api: Api<Rollout> = Api::namespaced(client, &namespace);
    let name = &args.rollout;
    let rollout = api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot read rollout {namespace}/{name}"))?
        .ok_or_else(|| anyhow!("rollout {namespace}/{name} not found"))?;
    let (patch, step) = approval(&rollout).map_err(|refusal| anyhow!(refusal))?;
    match api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.is_conflict() => bail!(
            "rollout {namespace}/{name} changed while it was being approved; run the command again"
        ),
        Err(e) => return Err(e).context(format!("cannot approve rollout {namespace}/{name}")),
    }
    println!("rollout {namespace}/{name} approved: {step} goes on");
    Ok(ExitCode::SUCCESS)
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
    if common.current_step_state != StepState::StepPaused {
        return Err(format!(
            "{name} is not waiting for approval: {step} is in state {:?}; only a step in state \
             StepPaused can be approved",
            common.current_step_state
        ));
    }
    let patch = json!({
        "metadata": {"resourceVersion": rollout.resource_version()},
        "status": {field: {"currentStepState": "StepReady"}},
    });
    Ok((patch, step))
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
             only a step in state StepPaused can be approved"
        );
        let refusal = approval(&rollout(None)).unwrap_err();
        assert!(refusal.contains("no release in progress"), "{refusal}");
    }
}
