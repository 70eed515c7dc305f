//! `waxwing abort`: a person stops the release in progress. The command writes
//! `status.abortRequest` (a status patch, like an approval); the controller takes the request
//! into the abort a failed analysis makes: traffic back to the stable revision, the new
//! revision out of service, the release held for `waxwing retry`, `approve` or `undo`.

use std::process::ExitCode;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::Api;
use serde_json::{Value, json};
use waxwing_api::v1beta1::Rollout;

use crate::ops::{self, Target};

/// How many times the request is written again when the Rollout changed meanwhile.
const PATCH_ATTEMPTS: u32 = 5;
/// How long the command waits for the controller to act on the request.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

#[derive(clap::Args)]
pub struct AbortArgs {
    #[command(flatten)]
    pub target: Target,
    /// Why, for the Rollout's message and its RolloutAborted event.
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// `waxwing abort NAME`: exits 0 once the controller has aborted the release, 1 when it
/// cannot be aborted, 2 when the controller has not acted within 30 seconds (the request
/// stays and is acted on when it runs).
pub fn abort(args: AbortArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = ops::client().await?;
        let namespace = ops::namespace_of(&client, args.target.namespace);
        let api: Api<Rollout> = Api::namespaced(client, &namespace);
        let name = &args.target.rollout;
        let reason = args.reason;
        // The controller writes the status as the release moves: an abort is asked again of
        // the state now rather than given up on.
        ops::patch_status(&api, &namespace, name, PATCH_ATTEMPTS, |rollout| {
            request(rollout, &reason)
        })
        .await?;
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let rollout = ops::read(&api, &namespace, name).await?;
            let Some(status) = rollout.status.as_ref() else {
                continue;
            };
            if status.abort_request.is_some() {
                continue;
            }
            if waxwing_machine::is_aborted(status) {
                println!(
                    "rollout {namespace}/{name} aborted: traffic goes back to the stable revision \
                     and the new revision is taken out of service; `waxwing retry {name}` runs \
                     the step again, `waxwing undo {name}` rolls back"
                );
                return Ok(ExitCode::SUCCESS);
            }
            // The state moved on before the controller saw the request (the release ended,
            // say): the refusal for the state now is the controller's.
            let why = refusal(&rollout).unwrap_or("the controller refused it");
            eprintln!(
                "rollout {namespace}/{name} was not aborted: {why} (see its AbortRefused event)"
            );
            return Ok(ExitCode::from(1));
        }
        eprintln!(
            "rollout {namespace}/{name}: the abort is requested but the controller has not acted \
             on it within {}s (is it running?); it will when it runs",
            ANSWER_WAIT.as_secs()
        );
        Ok(ExitCode::from(2))
    })
}

/// The status patch that asks the controller to abort `rollout`, or why it cannot be aborted.
fn request(rollout: &Rollout, reason: &str) -> Result<(Value, ()), String> {
    if let Some(why) = refusal(rollout) {
        return Err(format!(
            "rollout {}/{} cannot be aborted: {why}",
            rollout.namespace().unwrap_or_default(),
            rollout.name_any()
        ));
    }
    let patch = json!({
        "metadata": {"resourceVersion": rollout.resource_version()},
        "status": {"abortRequest": {"reason": reason}},
    });
    Ok((patch, ()))
}

/// Why `rollout` cannot be aborted now (the machine's rule), or `None`.
fn refusal(rollout: &Rollout) -> Option<&'static str> {
    let status = rollout.status.clone().unwrap_or_default();
    let deleting = rollout.metadata.deletion_timestamp.is_some();
    waxwing_machine::abort_refusal(&status, rollout.spec.disabled, deleting)
}
