//! The example policies in Python (freeze-window) and JavaScript (error-budget), shipped as
//! part ConfigMaps with `waxwing plugin package` as a user ships a component of their own
//! (`make examples` builds them), gate a release: a change freeze holds step 1 until the freeze
//! is lifted in the plugin ConfigMap (no restart), a wrong sha256 pin is refused with an event
//! while the version in service keeps measuring, and an exhausted error budget read from
//! Prometheus aborts step 2.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use waxwing_e2e::k8s_openapi::api::core::v1::Event;
use waxwing_e2e::k8s_openapi::jiff::Timestamp;
use waxwing_e2e::kube::api::{Api, ListParams};
use waxwing_e2e::metrics::MetricsEndpoint;
use waxwing_e2e::plugins::{CONFIGMAP, SYSTEM, add_plugin, put_entry, ship};
use waxwing_e2e::rollout::{Scenario, deployment, message, phase, rollout};
use waxwing_e2e::waxwing_api::analysis::AnalysisPhase;
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};
use waxwing_e2e::{Check, poll_until, repo_root};

const WEB: &str = "app=web";

/// Ships `target/examples/NAME.wasm` (`make examples`) as part ConfigMaps; its sha256.
async fn shipped(name: &str) -> Result<String> {
    let client = waxwing_e2e::connect().await?;
    let wasm = repo_root().join(format!("target/examples/{name}.wasm"));
    ship(&client, name, &wasm)
        .await
        .with_context(|| format!("shipping {name} (built by `make examples`)"))
}

/// The freeze-window entry, pinned to `sha256`, with one freeze `name` from `start` to `end`.
fn freeze_entry(sha256: &str, name: &str, start: Timestamp, end: Timestamp) -> String {
    format!(
        "  - name: freeze-window
    source: configMaps:freeze-window
    sha256: {sha256}
    world: policy
    handles:
      policies: [freeze-window]
    limits: {{timeoutMs: 10000}}
    config:
      windows:
        - {{name: {name}, start: \"{start}\", end: \"{end}\"}}
"
    )
}

fn budget_entry(sha256: &str) -> String {
    format!(
        "  - name: error-budget
    source: configMaps:error-budget
    sha256: {sha256}
    world: policy
    handles:
      policies: [error-budget]
    limits: {{timeoutMs: 10000}}
    grants:
      metrics: [prometheus]
"
    )
}

/// Waits for a PluginRefused event on the plugin ConfigMap whose note contains `text`.
async fn refused(text: &str) -> Result<String> {
    let client = waxwing_e2e::connect().await?;
    let events: Api<Event> = Api::namespaced(client, SYSTEM);
    let params = ListParams::default().fields(&format!(
        "involvedObject.name={CONFIGMAP},reason=PluginRefused"
    ));
    poll_until("a PluginRefused event", Duration::from_secs(60), || async {
        let list = events.list(&params).await?;
        Ok(
            match list
                .items
                .iter()
                .filter_map(|e| e.message.clone())
                .find(|m| m.contains(text))
            {
                Some(found) => Check::Done(found),
                None => Check::Pending(format!("{} PluginRefused events", list.items.len())),
            },
        )
    })
    .await
}

#[tokio::test]
async fn python_and_javascript_policies_from_configmaps_gate_a_release() -> Result<()> {
    let s = Scenario::new("custom-policies").await?;
    let endpoint = MetricsEndpoint::start(s.ns.name()).await?;
    endpoint.wait_scraped(0.0).await?;

    let now = Timestamp::now();
    let hour = waxwing_e2e::k8s_openapi::jiff::SignedDuration::from_hours(1);
    let freeze_sha = shipped("freeze-window").await?;
    let budget_sha = shipped("error-budget").await?;
    let client = s.ns.client();
    add_plugin(&client, &budget_entry(&budget_sha), None).await?;
    add_plugin(
        &client,
        &freeze_entry(&freeze_sha, "e2e-freeze", now - hour, now + hour),
        None,
    )
    .await?;

    let query = endpoint.error_ratio_query().replace('"', "\\\"");
    s.apply(&format!(
        "apiVersion: waxwing.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: gates
spec:
  args: [{{name: budget, value: \"0.05\"}}]
  metrics:
    - name: freeze
      provider:
        freeze-window: {{}}
      interval: 1s
    - name: budget
      provider:
        error-budget:
          query: \"{query}\"
          budget: \"{{{{args.budget}}}}\"
      interval: 1s
"
    ))
    .await?;
    let gated =
        "          analysis:\n            templates:\n              - templateName: gates\n";
    let steps = format!(
        "        - replicas: 1\n{gated}          pause: {{}}\n        - replicas: 2\n{gated}          pause: {{duration: 0}}\n        - replicas: 100%\n"
    );
    s.apply(&deployment("web", 3, "v1")).await?;
    s.apply(&rollout("web", true, &steps)).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.release("web", "v2", None).await?;

    // The freeze holds step 1 and says until when.
    s.wait_rollout("web", "step 1 held by the freeze", |r| {
        message(r).contains("change freeze \"e2e-freeze\"")
    })
    .await?;
    // Lifted in the ConfigMap (a freeze that ended yesterday): the plugin serving the next
    // measurement sees it, without a restart.
    let day = waxwing_e2e::k8s_openapi::jiff::SignedDuration::from_hours(24);
    add_plugin(
        &client,
        &freeze_entry(&freeze_sha, "lifted", now - day - hour, now - day),
        None,
    )
    .await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;

    // A wrong pin is refused with an event; the version in service keeps measuring.
    let zeros = "0".repeat(64);
    put_entry(
        &client,
        &freeze_entry(&zeros, "lifted", now - day - hour, now - day),
        None,
    )
    .await?;
    let note = refused("sha256").await?;
    ensure!(note.contains("freeze-window"), "event: {note}");

    // Step 2: the error budget is exhausted.
    endpoint.set_error_ratio(0.3);
    endpoint.wait_scraped(0.3).await?;
    waxwing_e2e::cli::waxwing(&["approve", "web", "-n", s.ns.name()]).await?;
    let r = s
        .wait_rollout("web", "the release aborted by the error budget", |r| {
            message(r).contains("error budget exhausted")
        })
        .await?;
    let run = &r.status.as_ref().unwrap().analysis_runs[0];
    let freeze = run
        .metrics
        .iter()
        .find(|m| m.name == "gates/freeze")
        .context("no freeze metric")?;
    ensure!(
        run.name == "step-2" && freeze.phase == AnalysisPhase::Successful,
        "the freeze-window plugin in service did not measure step 2: {run:?}"
    );
    s.wait_pods(WEB, &[("v1", 3)]).await?;

    // The pin put right again for the tests that follow.
    add_plugin(
        &client,
        &freeze_entry(&freeze_sha, "lifted", now - day - hour, now - day),
        None,
    )
    .await?;
    s.ns.cleanup().await
}
