//! Rollout scenarios: one namespace per test, the workload and Rollout YAML users write,
//! waiting on Rollout status, approving like kubectl-kruise, and what the pods run.
//!
//! Images follow the convention `registry.example/<app>:<version>`; a pod's *version* is its
//! first container's image tag, so a census says "v2: 2 pods, batches 1 and 2".

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::json;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use waxwing_api::labels::{ROLLOUT_BATCH_ID, ROLLOUT_ID};
use waxwing_api::v1beta1::{CommonStatus, Rollout, RolloutPhase, StepState};

use crate::{Check, DEFAULT_TIMEOUT, TestNamespace, pod_ready, poll_until};

/// How long a rollout scenario waits for one step: several reconciles, a few grace periods.
pub const STEP_TIMEOUT: Duration = DEFAULT_TIMEOUT;

/// Tests in one binary share the controller started by `make up`; a test that kills or
/// restarts it takes this exclusively, so no other rollout is in flight meanwhile.
static CONTROLLER: RwLock<()> = RwLock::const_new(());

/// One rollout scenario: its namespace, and its hold on the shared controller.
pub struct Scenario {
    pub ns: TestNamespace,
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _exclusive: Option<RwLockWriteGuard<'static, ()>>,
}

impl Scenario {
    /// A namespace `e2e-<prefix>-...`, run beside other scenarios.
    pub async fn new(prefix: &str) -> Result<Self> {
        let shared = CONTROLLER.read().await;
        Ok(Self {
            ns: TestNamespace::new(prefix).await?,
            _shared: Some(shared),
            _exclusive: None,
        })
    }

    /// A scenario that may stop the controller: it waits for every other scenario of this
    /// test binary to end, and none starts until it is over.
    pub async fn exclusive(prefix: &str) -> Result<Self> {
        let exclusive = CONTROLLER.write().await;
        Ok(Self {
            ns: TestNamespace::new(prefix).await?,
            _shared: None,
            _exclusive: Some(exclusive),
        })
    }

    /// Run `scripts/controller.sh <action>` (`kill`, `start`, ...) on the shared controller.
    /// Only for an [`exclusive`](Self::exclusive) scenario.
    pub async fn controller(&self, action: &str) -> Result<()> {
        self.controller_with(action, &[]).await
    }

    /// [`controller`](Self::controller) with environment variables for the script
    /// (`WAXWING_KUBECONFIG`...).
    pub async fn controller_with(&self, action: &str, env: &[(&str, &str)]) -> Result<()> {
        anyhow::ensure!(
            self._exclusive.is_some(),
            "only an exclusive scenario may {action} the shared controller"
        );
        let script = crate::repo_root().join("scripts/controller.sh");
        let status = tokio::process::Command::new(&script)
            .arg(action)
            .envs(env.iter().copied())
            .status()
            .await
            .with_context(|| format!("running {}", script.display()))?;
        anyhow::ensure!(
            status.success(),
            "{} {action} failed: {status}",
            script.display()
        );
        Ok(())
    }

    pub async fn apply(&self, yaml: &str) -> Result<()> {
        self.ns.apply_yaml(yaml).await.map(drop)
    }

    pub async fn rollout(&self, name: &str) -> Result<Rollout> {
        self.ns
            .api::<Rollout>()
            .get(name)
            .await
            .with_context(|| format!("reading rollout {}/{name}", self.ns.name()))
    }

    /// Wait until the Rollout satisfies `pred`; the timeout error shows its last status.
    pub async fn wait_rollout(
        &self,
        name: &str,
        what: &str,
        pred: impl Fn(&Rollout) -> bool,
    ) -> Result<Rollout> {
        let api = self.ns.api::<Rollout>();
        poll_until(what, STEP_TIMEOUT, || async {
            let rollout = api.get(name).await?;
            Ok(if pred(&rollout) {
                Check::Done(rollout)
            } else {
                Check::Pending(describe(&rollout))
            })
        })
        .await
    }

    /// Wait until the release is at step `step` in state `state`.
    pub async fn wait_step(&self, name: &str, step: i32, state: StepState) -> Result<Rollout> {
        self.wait_rollout(name, &format!("step {step} {state:?}"), |r| {
            common(r).is_some_and(|c| c.current_step_index == step && c.current_step_state == state)
        })
        .await
    }

    /// Wait until the Rollout is Healthy with its release Completed.
    pub async fn wait_completed(&self, name: &str) -> Result<Rollout> {
        self.wait_rollout(name, "phase Healthy, release Completed", |r| {
            phase(r) == Some(RolloutPhase::Healthy)
                && common(r).is_some_and(|c| c.current_step_state == StepState::Completed)
        })
        .await
    }

    /// Waits until a policy has aborted the release (the Progressing condition's reason is
    /// `Aborted`) and returns the Rollout.
    pub async fn wait_aborted(&self, name: &str) -> Result<Rollout> {
        self.wait_rollout(name, "the release aborted", |r| {
            r.status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Progressing"))
                // Waxwing's reason (waxwing_machine::ABORTED); Kruise has no abort.
                .is_some_and(|c| c.reason == "Aborted")
        })
        .await
    }

    /// Approve the current step as `kubectl-kruise rollout approve` does, in the status of
    /// the release's strategy (`canaryStatus` or `blueGreenStatus`).
    pub async fn approve(&self, name: &str) -> Result<()> {
        let rollout = self.rollout(name).await?;
        let field = if rollout
            .status
            .as_ref()
            .is_some_and(|status| status.blue_green_status.is_some())
        {
            "blueGreenStatus"
        } else {
            "canaryStatus"
        };
        self.patch_status(name, json!({ field: {"currentStepState": "StepReady"} }))
            .await
    }

    /// End a release by disabling the Rollout (`spec.disabled: true`) or, with `disable` false,
    /// deleting it: either way the Rollout hands its workload back.
    pub async fn abandon(&self, name: &str, disable: bool) -> Result<()> {
        let rollouts = self.ns.api::<Rollout>();
        if disable {
            let patch = json!({"spec": {"disabled": true}});
            rollouts
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .with_context(|| format!("disabling rollout {name}"))?;
        } else {
            rollouts
                .delete(name, &DeleteParams::default())
                .await
                .with_context(|| format!("deleting rollout {name}"))?;
        }
        Ok(())
    }

    /// Ask for a jump to step `index` through `status.canaryStatus.nextStepIndex`.
    pub async fn jump(&self, name: &str, index: i32) -> Result<()> {
        self.patch_status(name, json!({"canaryStatus": {"nextStepIndex": index}}))
            .await
    }

    async fn patch_status(&self, name: &str, status: serde_json::Value) -> Result<()> {
        self.ns
            .api::<Rollout>()
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await
            .with_context(|| format!("patching the status of rollout {name}"))?;
        Ok(())
    }

    /// Merge-patch a Deployment (a user's `kubectl patch`).
    pub async fn patch_deployment(&self, name: &str, patch: serde_json::Value) -> Result<()> {
        self.patch_workload(&DEPLOYMENT, name, patch).await
    }

    /// Merge-patch a workload of any kind (a user's `kubectl patch --type=merge`).
    pub async fn patch_workload(
        &self,
        kind: &WorkloadKind,
        name: &str,
        patch: serde_json::Value,
    ) -> Result<()> {
        kind.api(self)
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .with_context(|| format!("patching {} {name}", kind.kind))?;
        Ok(())
    }

    /// Change the image of the first container of a workload (`kubectl set image`), and
    /// merge `labels` into its metadata in the same update.
    pub async fn set_image(
        &self,
        kind: &WorkloadKind,
        name: &str,
        image: &str,
        labels: serde_json::Value,
    ) -> Result<()> {
        let current = kind.api(self).get(name).await?;
        let container = current.data["spec"]["template"]["spec"]["containers"][0]["name"]
            .as_str()
            .with_context(|| format!("{} {name} has no container", kind.kind))?
            .to_owned();
        self.patch_workload(
            kind,
            name,
            json!({
                "metadata": {"labels": labels},
                "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}},
            }),
        )
        .await
    }

    /// What the live (not terminating) pods matching `selector` run.
    pub async fn census(&self, selector: &str) -> Result<Census> {
        Ok(Census::of(&self.ns.pods(selector).await?))
    }

    /// Wait until the pods matching `selector` satisfy `pred`.
    pub async fn wait_census(
        &self,
        selector: &str,
        what: &str,
        pred: impl Fn(&Census) -> bool,
    ) -> Result<Census> {
        poll_until(what, STEP_TIMEOUT, || async {
            let census = self.census(selector).await?;
            Ok(if pred(&census) {
                Check::Done(census)
            } else {
                Check::Pending(census.to_string())
            })
        })
        .await
    }

    /// Wait until an event with `reason` is recorded for object `name`.
    pub async fn wait_event(&self, name: &str, reason: &str) -> Result<()> {
        poll_until(
            &format!("a {reason} event for {name}"),
            STEP_TIMEOUT,
            || async {
                let reasons = self.event_reasons(name).await?;
                Ok(if reasons.iter().any(|r| r == reason) {
                    Check::Done(())
                } else {
                    Check::Pending(format!("events {reasons:?}"))
                })
            },
        )
        .await
    }

    /// Reasons of the events recorded for object `name`, oldest first.
    pub async fn event_reasons(&self, name: &str) -> Result<Vec<String>> {
        let events = self
            .ns
            .api::<Event>()
            .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
            .await?;
        let mut events = events.items;
        events.sort_by_key(|e| e.metadata.creation_timestamp.clone());
        Ok(events.into_iter().filter_map(|e| e.reason).collect())
    }
}

/// The release state of a Rollout (canary or blue-green).
pub fn common(rollout: &Rollout) -> Option<&CommonStatus> {
    let status = rollout.status.as_ref()?;
    status
        .canary_status
        .as_ref()
        .map(|c| &c.common)
        .or(status.blue_green_status.as_ref().map(|b| &b.common))
}

pub fn phase(rollout: &Rollout) -> Option<RolloutPhase> {
    rollout.status.as_ref()?.phase
}

pub fn message(rollout: &Rollout) -> String {
    rollout
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

/// Phase, step, state and message, for timeout errors.
pub fn describe(rollout: &Rollout) -> String {
    let step = common(rollout).map_or("no release".to_string(), |c| {
        format!(
            "step {} {:?} (next {})",
            c.current_step_index, c.current_step_state, c.next_step_index
        )
    });
    format!(
        "phase {:?}, {step}, message {:?}",
        phase(rollout),
        message(rollout)
    )
}

/// The tag of an image reference: `registry.example/web:v2` -> `v2`.
pub fn version_of(image: &str) -> String {
    image
        .rsplit_once(':')
        .map_or(image, |(_, tag)| tag)
        .to_string()
}

/// Pods of one version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pods {
    pub total: u32,
    pub ready: u32,
    /// `rollouts.kruise.io/rollout-batch-id` value -> pods carrying it.
    pub batches: BTreeMap<String, u32>,
    /// `rollouts.kruise.io/rollout-id` value -> pods carrying it.
    pub rollout_ids: BTreeMap<String, u32>,
}

/// What the live pods run, by version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Census(pub BTreeMap<String, Pods>);

impl Census {
    pub fn of(pods: &[Pod]) -> Self {
        let mut census = BTreeMap::<String, Pods>::new();
        for pod in pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
        {
            let image = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            let entry = census.entry(version_of(&image)).or_default();
            entry.total += 1;
            entry.ready += u32::from(pod_ready(pod));
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            if let Some(batch) = labels.get(ROLLOUT_BATCH_ID) {
                *entry.batches.entry(batch.clone()).or_default() += 1;
            }
            if let Some(id) = labels.get(ROLLOUT_ID) {
                *entry.rollout_ids.entry(id.clone()).or_default() += 1;
            }
        }
        Self(census)
    }

    /// Pods running `version`.
    pub fn count(&self, version: &str) -> u32 {
        self.0.get(version).map_or(0, |p| p.total)
    }

    /// Ready pods running `version`.
    pub fn ready(&self, version: &str) -> u32 {
        self.0.get(version).map_or(0, |p| p.ready)
    }

    /// Batch label -> pods, for `version`.
    pub fn batches(&self, version: &str) -> BTreeMap<String, u32> {
        self.0
            .get(version)
            .map(|p| p.batches.clone())
            .unwrap_or_default()
    }

    pub fn total(&self) -> u32 {
        self.0.values().map(|p| p.total).sum()
    }

    /// Exactly these versions with these pod counts, all ready.
    pub fn is(&self, expected: &[(&str, u32)]) -> bool {
        self.0.len() == expected.iter().filter(|(_, n)| *n > 0).count()
            && expected
                .iter()
                .all(|(v, n)| self.count(v) == *n && self.ready(v) == *n)
    }
}

impl fmt::Display for Census {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no pods");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(v, p)| {
                format!(
                    "{v}: {} pods ({} ready), batches {:?}, rollout ids {:?}",
                    p.total, p.ready, p.batches, p.rollout_ids
                )
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// A workload kind the scenarios release.
#[derive(Clone, Copy, Debug)]
pub struct WorkloadKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
}

pub const DEPLOYMENT: WorkloadKind = WorkloadKind {
    api_version: "apps/v1",
    kind: "Deployment",
    plural: "deployments",
};
pub const CLONESET: WorkloadKind = WorkloadKind {
    api_version: "apps.kruise.io/v1alpha1",
    kind: "CloneSet",
    plural: "clonesets",
};
pub const STATEFULSET: WorkloadKind = WorkloadKind {
    api_version: "apps/v1",
    kind: "StatefulSet",
    plural: "statefulsets",
};
pub const ADVANCED_STATEFULSET: WorkloadKind = WorkloadKind {
    api_version: "apps.kruise.io/v1beta1",
    kind: "StatefulSet",
    plural: "statefulsets",
};

impl WorkloadKind {
    fn api(&self, scenario: &Scenario) -> Api<DynamicObject> {
        let (group, version) = self
            .api_version
            .rsplit_once('/')
            .unwrap_or(("", self.api_version));
        let gvk = GroupVersionKind::gvk(group, version, self.kind);
        Api::namespaced_with(
            scenario.ns.client(),
            scenario.ns.name(),
            &ApiResource::from_gvk_with_plural(&gvk, self.plural),
        )
    }

    /// A workload `name` (label `app: name`) with `replicas` pods of
    /// `registry.example/<name>:<version>`.
    pub fn manifest(&self, name: &str, replicas: u32, version: &str) -> String {
        let service_name = if self.kind == "StatefulSet" {
            format!("\n  serviceName: {name}")
        } else {
            String::new()
        };
        format!(
            "apiVersion: {api_version}
kind: {kind}
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}{service_name}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: main
          image: registry.example/{name}:{version}
",
            api_version = self.api_version,
            kind = self.kind,
        )
    }

    /// A v1beta1 Rollout `name` of this workload `name` with the given canary steps (YAML
    /// list items, indented for `steps:`).
    pub fn rollout(&self, name: &str, steps: &str) -> String {
        format!(
            "apiVersion: rollouts.kruise.io/v1beta1
kind: Rollout
metadata:
  name: {name}
spec:
  workloadRef:
    apiVersion: {api_version}
    kind: {kind}
    name: {name}
  strategy:
    canary:
      steps:
{steps}",
            api_version = self.api_version,
            kind = self.kind,
        )
    }
}

/// A Deployment `name` (label `app: name`) with `replicas` pods of `registry.example/<name>:<version>`.
pub fn deployment(name: &str, replicas: u32, version: &str) -> String {
    DEPLOYMENT.manifest(name, replicas, version)
}

/// A v1beta1 Rollout of Deployment `name` with the given canary steps (YAML list items,
/// indented for `steps:`), optionally in canary style (an extra canary Deployment).
pub fn rollout(name: &str, canary_style: bool, steps: &str) -> String {
    DEPLOYMENT.rollout(name, steps).replace(
        "      steps:\n",
        &format!("      enableExtraWorkloadForCanary: {canary_style}\n      steps:\n"),
    )
}

/// `{"1": 1, "2": 1, ...}` up to `n`: one pod released in each batch.
pub fn one_per_batch(n: u32) -> BTreeMap<String, u32> {
    (1..=n).map(|b| (b.to_string(), 1)).collect()
}

/// The pause of one step.
#[derive(Clone, Copy, Debug)]
pub enum Pause {
    /// No `pause` field: as in Kruise, the step then waits for a person too, except a last
    /// step of 100%, which completes the release.
    Omitted,
    /// `pause: {}`: waits for a person.
    Manual,
    /// `pause: {duration: N}`.
    Seconds(u32),
}

/// Canary steps as YAML list items for [`rollout`]: `(replicas, pause)` each.
pub fn steps(list: &[(&str, Pause)]) -> String {
    list.iter()
        .map(|(replicas, pause)| {
            let pause = match pause {
                Pause::Omitted => String::new(),
                Pause::Manual => "\n          pause: {}".to_string(),
                Pause::Seconds(s) => format!("\n          pause: {{duration: {s}}}"),
            };
            format!("        - replicas: {replicas}{pause}\n")
        })
        .collect()
}

impl Scenario {
    /// Release `version` of Deployment `name` as a user does: a new image and, if given, a
    /// new `rollouts.kruise.io/rollout-id` label, in one update.
    pub async fn release(&self, name: &str, version: &str, rollout_id: Option<&str>) -> Result<()> {
        self.release_workload(&DEPLOYMENT, name, version, rollout_id)
            .await
    }

    /// [`release`](Self::release) for a workload of any kind.
    pub async fn release_workload(
        &self,
        kind: &WorkloadKind,
        name: &str,
        version: &str,
        rollout_id: Option<&str>,
    ) -> Result<()> {
        let labels = rollout_id.map_or(json!({}), |id| json!({ ROLLOUT_ID: id }));
        let image = format!("registry.example/{name}:{version}");
        self.set_image(kind, name, &image, labels).await
    }

    /// Pod ordinal (the number after the last `-` of a StatefulSet pod's name) -> version, for
    /// the live pods matching `selector`.
    pub async fn ordinals(&self, selector: &str) -> Result<BTreeMap<u32, String>> {
        let mut out = BTreeMap::new();
        for pod in self.ns.pods(selector).await? {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let name = pod.metadata.name.clone().unwrap_or_default();
            let ordinal = name
                .rsplit_once('-')
                .and_then(|(_, n)| n.parse().ok())
                .with_context(|| format!("pod {name} has no ordinal"))?;
            let image = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            out.insert(ordinal, version_of(&image));
        }
        Ok(out)
    }

    /// [`wait_pods`](Self::wait_pods), and the pods of `version` carry these batch labels.
    pub async fn wait_labelled(
        &self,
        selector: &str,
        expected: &[(&str, u32)],
        version: &str,
        batches: &BTreeMap<String, u32>,
    ) -> Result<Census> {
        let what = format!("pods {expected:?}, all ready, {version} in batches {batches:?}");
        self.wait_census(selector, &what, |c| {
            c.is(expected) && c.batches(version) == *batches
        })
        .await
    }

    /// Wait until exactly these versions run, with these counts, all ready.
    pub async fn wait_pods(&self, selector: &str, expected: &[(&str, u32)]) -> Result<Census> {
        self.wait_census(selector, &format!("pods {expected:?}, all ready"), |c| {
            c.is(expected)
        })
        .await
    }
}
