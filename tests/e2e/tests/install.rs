//! The install in deploy/manifests, on the local cluster: `kubectl apply -k deploy/manifests`
//! installs it, the controller works with exactly the RBAC it grants, and the people bound to
//! Kubernetes' edit and view roles get the user roles aggregated into them.
//!
//! No container runtime exists here, so the manifests' Deployment only gets kwok's simulated
//! pods. The controller that does the work is the locally built binary (the one `make up`
//! runs), restarted out of cluster with the credentials of the manifests' ServiceAccount: a
//! token from `kubectl create token waxwing -n waxwing-system` in a kubeconfig of its own. So
//! every API call the release below needs is authorized by deploy/manifests/rbac.yaml alone.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_yaml::Value;
use waxwing_e2e::rollout::{Scenario, deployment, phase, rollout};
use waxwing_e2e::traffic::{
    SERVICE, ingress, routing, traffic_restored, traffic_steps, wait_split,
};
use waxwing_e2e::waxwing_api::v1beta1::{RolloutPhase, StepState};
use waxwing_e2e::{Check, kubeconfig_path, poll_until, repo_root};

const SYSTEM: &str = "waxwing-system";

/// `kubectl` of the test cluster as its admin; fails with its output unless it exits 0.
async fn kubectl(args: &[&str]) -> Result<String> {
    let out = kubectl_run(args).await?;
    ensure!(
        out.status.success(),
        "kubectl {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The standard output of `kubectl` as the test cluster's admin, whatever its exit status.
async fn kubectl_output(args: &[&str]) -> Result<String> {
    let out = kubectl_run(args).await?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn kubectl_run(args: &[&str]) -> Result<std::process::Output> {
    let kubectl = repo_root().join("target/cluster/bin/kubectl");
    tokio::process::Command::new(&kubectl)
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .output()
        .await
        .with_context(|| format!("running {}", kubectl.display()))
}

/// A kubeconfig for the test cluster that authenticates as ServiceAccount
/// waxwing-system/waxwing with `token`.
fn service_account_kubeconfig(token: &str) -> Result<PathBuf> {
    let admin: Value = serde_yaml::from_str(&std::fs::read_to_string(kubeconfig_path())?)?;
    let cluster = admin["clusters"][0].clone();
    let cluster_name = cluster["name"]
        .as_str()
        .context("no cluster name")?
        .to_owned();
    let config = serde_yaml::to_string(&serde_yaml::from_str::<Value>(&format!(
        "apiVersion: v1
kind: Config
clusters: []
users: [{{name: waxwing, user: {{token: {token}}}}}]
contexts: [{{name: waxwing, context: {{cluster: {cluster_name}, user: waxwing, namespace: {SYSTEM}}}}}]
current-context: waxwing
"
    ))?)?;
    let mut config: Value = serde_yaml::from_str(&config)?;
    config["clusters"] = Value::Sequence(vec![cluster]);
    let path = repo_root().join("target/cluster/waxwing-serviceaccount.kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&config)?)?;
    Ok(path)
}

/// Puts the shared controller back on the admin's credentials however the test ends.
struct AdminController;

impl Drop for AdminController {
    fn drop(&mut self) {
        let script = repo_root().join("scripts/controller.sh");
        let _ = std::process::Command::new(script).arg("restart").status();
    }
}

#[tokio::test]
async fn the_manifests_install_and_their_rbac_is_enough_for_a_release_with_traffic() -> Result<()> {
    let s = Scenario::exclusive("install").await?;
    let manifests = repo_root().join("deploy/manifests");
    kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-k",
        &manifests.display().to_string(),
    ])
    .await?;
    for kind in [
        "serviceaccount/waxwing",
        "clusterrole/waxwing",
        "configmap/waxwing-plugins",
    ] {
        kubectl(&["-n", SYSTEM, "get", kind]).await?;
    }
    let token = kubectl(&["-n", SYSTEM, "create", "token", "waxwing", "--duration=1h"]).await?;
    let kubeconfig = service_account_kubeconfig(token.trim())?;
    let restricted = kubeconfig.display().to_string();
    // The token is the ServiceAccount's: what the rules leave out is forbidden.
    // `can-i` exits 1 for "no": read its answer, not its status. --kubeconfig wins over the
    // admin's KUBECONFIG.
    let can = |verb: &'static str, what: &'static str| {
        let restricted = restricted.clone();
        async move {
            let args = [
                "auth",
                "can-i",
                verb,
                what,
                "--all-namespaces",
                "--kubeconfig",
                &restricted,
            ];
            anyhow::Ok(kubectl_output(&args).await?.trim() == "yes")
        }
    };
    ensure!(
        can("list", "rollouts.rollouts.kruise.io").await?,
        "the ServiceAccount cannot list Rollouts"
    );
    ensure!(
        !can("list", "secrets").await?,
        "the ServiceAccount may list every Secret"
    );
    ensure!(
        !can("delete", "pods").await?,
        "the ServiceAccount may delete pods"
    );

    people_get_the_user_roles(&s).await?;

    let _restore = AdminController;
    let log_path = repo_root().join("target/cluster/logs/waxwing.log");
    let log_start = std::fs::metadata(&log_path).map_or(0, |meta| meta.len());
    s.controller_with("restart", &[("WAXWING_KUBECONFIG", &restricted)])
        .await?;

    s.apply(&deployment("web", 3, "v1")).await?;
    s.apply(SERVICE).await?;
    s.apply(&ingress("nginx")).await?;
    let steps = traffic_steps(&[("50%", "50%")]) + "        - replicas: 100%\n";
    s.apply(&format!(
        "{}{}",
        rollout("web", true, &steps),
        routing("ingress: {name: web}")
    ))
    .await?;
    s.wait_rollout("web", "phase Healthy", |r| {
        phase(r) == Some(RolloutPhase::Healthy)
    })
    .await?;
    s.wait_pods("app=web", &[("v1", 3)]).await?;
    s.release("web", "v2", Some("v2")).await?;
    s.wait_step("web", 1, StepState::StepPaused).await?;
    wait_split(&s, 3, 2).await?;
    s.approve("web").await?;
    s.wait_completed("web").await?;
    s.wait_pods("app=web", &[("v2", 3)]).await?;
    traffic_restored(&s).await?;

    // What RBAC refused this process, for this release or any other (every controller process
    // of the run appends to the same log).
    let log = std::fs::read(&log_path)?;
    let log = String::from_utf8_lossy(log.get(usize::try_from(log_start)?..).unwrap_or_default());
    let refused: Vec<&str> = log
        .lines()
        .filter(|line| {
            line.contains("system:serviceaccount:waxwing-system:waxwing") && line.contains("cannot")
        })
        .collect();
    ensure!(
        refused.is_empty(),
        "RBAC refused the controller:\n{}",
        refused.join("\n")
    );

    // The manifests' own Deployment only ran simulated pods; the ServiceAccount, RBAC and
    // ConfigMap stay for the rest of the run.
    kubectl(&[
        "-n",
        SYSTEM,
        "delete",
        "deployment/waxwing",
        "poddisruptionbudget/waxwing",
    ])
    .await?;
    drop(_restore);
    s.ns.cleanup().await
}

/// Users bound to Kubernetes' `edit` may write Rollouts and AnalysisTemplates and approve,
/// retry or abort (status patches); users bound to `view` may read them and nothing more.
/// Through deploy/manifests/user-roles.yaml, aggregated by the controller-manager.
async fn people_get_the_user_roles(s: &Scenario) -> Result<()> {
    s.apply(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: developers
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dev}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: viewers
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]
",
    )
    .await?;
    let ns = s.ns.name().to_owned();
    let rollouts = "rollouts.rollouts.kruise.io";
    let expected: [(&str, &str, &str, Option<&str>, bool); 6] = [
        ("dev", "patch", rollouts, Some("status"), true),
        ("dev", "create", rollouts, None, true),
        ("dev", "create", "analysistemplates.waxwing.io", None, true),
        ("viewer", "list", rollouts, None, true),
        ("viewer", "get", "analysistemplates.waxwing.io", None, true),
        ("viewer", "patch", rollouts, Some("status"), false),
    ];
    poll_until(
        "the user roles aggregated into edit and view",
        Duration::from_secs(30),
        || async {
            let mut wrong = Vec::new();
            for (user, verb, resource, subresource, allowed) in expected {
                let mut args = vec!["auth", "can-i", verb, resource, "-n", &ns, "--as", user];
                if let Some(subresource) = subresource {
                    args.extend(["--subresource", subresource]);
                }
                // `can-i` exits 1 for "no": read its answer, not its status.
                let out = kubectl_output(&args).await?;
                if (out.trim() == "yes") != allowed {
                    wrong.push(format!(
                        "{user} {verb} {resource} {subresource:?}: {}",
                        out.trim()
                    ));
                }
            }
            Ok(if wrong.is_empty() {
                Check::Done(())
            } else {
                Check::Pending(wrong.join("; "))
            })
        },
    )
    .await
}
