//! A hostile policy delivered through ConfigMaps (`waxwing plugin package`, the way a user
//! ships a component of their own): its endless loop and its memory bomb each end as
//! measurement errors naming the limit that stopped them, their releases abort, and the
//! controller and every other rollout keep working.

use anyhow::{Result, ensure};
use tokio::sync::OnceCell;
use waxwing_e2e::plugins::{add_plugin, ship};
use waxwing_e2e::rollout::{Scenario, deployment, message, phase, rollout};
use waxwing_e2e::waxwing_api::v1beta1::RolloutPhase;
use waxwing_e2e::{connect, repo_root};

const WEB: &str = "app=web";

/// Cargo settings of the test run that must not reach the guest's build.
const LEAKING_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
];

/// Builds plugins/testing/hostile, packages it into part ConfigMaps and adds it to the
/// plugin ConfigMap as the policy `hostile`, once for the whole binary.
async fn hostile_installed() -> Result<()> {
    static INSTALLED: OnceCell<()> = OnceCell::const_new();
    INSTALLED
        .get_or_try_init(|| async {
            let root = repo_root();
            let target = root.join("target/wasm");
            let mut cargo = tokio::process::Command::new(
                std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            );
            cargo.current_dir(&root).args([
                "build",
                "--quiet",
                "--package",
                "waxwing-plugin-hostile",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "plugin",
                "--target-dir",
            ]);
            cargo.arg(&target);
            for var in LEAKING_VARS {
                cargo.env_remove(var);
            }
            ensure!(
                cargo.status().await?.success(),
                "building the hostile guest failed"
            );
            let wasm = target.join("wasm32-wasip2/plugin/waxwing_plugin_hostile.wasm");
            let client = connect().await?;
            let digest = ship(&client, "hostile", &wasm).await?;
            let entry = format!(
                "  - name: hostile
    source: configMaps:hostile
    sha256: {digest}
    world: policy
    handles:
      policies: [hostile]
    limits: {{memoryMiB: 16, timeoutMs: 500}}
"
            );
            add_plugin(&client, &entry, None).await
        })
        .await
        .map(drop)
}

/// Deployment `web` released through one analysed step measured by `hostile` doing `act`.
async fn released_with(s: &Scenario, act: &str) -> Result<()> {
    s.apply(&format!(
        "apiVersion: waxwing.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: hostile
spec:
  metrics:
    - name: act
      provider:
        hostile: {{act: {act}}}
      interval: 1s
      consecutiveErrorLimit: 1
"
    ))
    .await?;
    let steps = "        - replicas: 1
          analysis:
            templates:
              - templateName: hostile
          pause: {duration: 0}
        - replicas: 100%
";
    s.apply(&deployment("web", 2, "v1")).await?;
    s.apply(&rollout("web", true, steps)).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.release("web", "v2", None).await
}

async fn aborts_naming(act: &str, limit: &str) -> Result<()> {
    hostile_installed().await?;
    let s = Scenario::new(&format!("hostile-{act}")).await?;
    released_with(&s, act).await?;
    let r = s.wait_aborted("web").await?;
    let text = message(&r);
    ensure!(
        text.contains("could not be measured 2 time(s) in a row") && text.contains(limit),
        "message: {text}"
    );
    s.wait_pods(WEB, &[("v1", 2)]).await?;
    s.ns.cleanup().await
}

#[tokio::test]
async fn an_endless_loop_is_stopped_at_its_time_limit_and_aborts_its_release() -> Result<()> {
    aborts_naming("loop", "stopped after its time limit of 500 ms").await
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_its_memory_limit_and_aborts_its_release() -> Result<()> {
    aborts_naming("allocate", "stopped at its memory limit of 16 MiB").await
}

#[tokio::test]
async fn other_rollouts_complete_while_the_hostile_policy_runs() -> Result<()> {
    hostile_installed().await?;
    let s = Scenario::new("hostile-bystander").await?;
    s.apply(&deployment("web", 2, "v1")).await?;
    let steps = "        - replicas: 1\n          pause: {duration: 1}\n        - replicas: 100%\n";
    s.apply(&rollout("web", true, steps)).await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    // Released while the other tests' hostile measurements run (the tests run in parallel).
    s.release("web", "v2", None).await?;
    s.wait_completed("web").await?;
    s.wait_pods(WEB, &[("v2", 2)]).await?;
    s.ns.cleanup().await
}
