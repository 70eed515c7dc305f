//! What `waxwing get rollout` shows: a Rollout, its steps with the current one marked, its
//! routes and analysis, the revisions and the pods with their batch labels. Built from the
//! objects alone (a pure function, tested without a cluster) and rendered as a tree or as JSON.

use std::fmt::Write as _;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use serde::Serialize;
use waxwing_api::labels::{ROLLOUT_BATCH_ID, ROLLOUT_ID};
use waxwing_api::v1beta1::{CanaryStep, CommonStatus, Rollout, RolloutStatus};

/// Pod labels that name a pod's revision, by workload family.
const REVISION_LABELS: [&str; 2] = ["pod-template-hash", "controller-revision-hash"];

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    pub namespace: String,
    pub name: String,
    pub workload: String,
    pub phase: String,
    pub message: String,
    pub paused: bool,
    /// 1-based; 0 before the first release.
    pub current_step: i32,
    pub step_state: String,
    pub steps: Vec<StepView>,
    /// Each route and the Services it moves traffic between:
    /// `Ingress web (nginx): web -> web-canary`.
    pub routes: Vec<String>,
    /// Each analysis run's metrics: `step-2 gates/errors  Running  2 measured, 0 failed,
    /// 0 errors  last: result [0.01] ...`.
    pub analysis: Vec<String>,
    pub stable_revision: String,
    pub canary_revision: String,
    pub pods: Vec<PodView>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    pub index: usize,
    pub replicas: String,
    /// The step's share of requests (`20%`) or `N matches`.
    pub traffic: Option<String>,
    /// `manual`, `<n>s`, or `none` (a last step of 100%).
    pub pause: String,
    pub status: StepProgress,
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub enum StepProgress {
    Done,
    Current,
    Pending,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    pub name: String,
    /// `canary`, `stable` or `other`.
    pub revision: String,
    pub ready: bool,
    pub rollout_id: Option<String>,
    pub batch: Option<String>,
}

pub fn common(rollout: &Rollout) -> Option<&CommonStatus> {
    let status = rollout.status.as_ref()?;
    status
        .canary_status
        .as_ref()
        .map(|c| &c.common)
        .or(status.blue_green_status.as_ref().map(|b| &b.common))
}

impl RolloutView {
    pub fn new(rollout: &Rollout, pods: &[Pod]) -> Self {
        let status = rollout.status.as_ref();
        let common = common(rollout);
        let current = common.map_or(0, |c| c.current_step_index);
        let completed = common
            .is_some_and(|c| c.current_step_state == waxwing_api::v1beta1::StepState::Completed);
        let steps = rollout.spec.strategy.steps();
        let canary_revision = status
            .and_then(|s| s.canary_status.as_ref())
            .map(|c| c.common.pod_template_hash.clone())
            .or_else(|| common.map(|c| c.pod_template_hash.clone()))
            .unwrap_or_default();
        let stable_revision = common
            .map(|c| c.stable_revision.clone())
            .unwrap_or_default();
        // After a release the new revision is the stable one; nothing is a canary any more.
        let (stable_revision, canary_revision) = if completed {
            (canary_revision, String::new())
        } else {
            (stable_revision, canary_revision)
        };
        let reference = &rollout.spec.workload_ref;
        let mut pods: Vec<PodView> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|pod| PodView::new(pod, &canary_revision, &stable_revision))
            .collect();
        pods.sort_by(|a, b| (&a.revision, &a.name).cmp(&(&b.revision, &b.name)));
        Self {
            namespace: rollout.namespace().unwrap_or_default(),
            name: rollout.name_any(),
            workload: format!("{} {}", reference.kind, reference.name),
            phase: status
                .and_then(|s| s.phase)
                .map_or("-".to_owned(), |p| format!("{p:?}")),
            message: message(status),
            paused: rollout.spec.strategy.paused,
            current_step: current,
            step_state: common.map_or("-".to_owned(), |c| format!("{:?}", c.current_step_state)),
            steps: steps
                .iter()
                .enumerate()
                .map(|(i, step)| StepView::new(i + 1, step, steps.len(), current, completed))
                .collect(),
            routes: crate::reconcile::traffic::routes::of(rollout)
                .iter()
                .map(|route| {
                    let class = route
                        .class_type
                        .as_ref()
                        .map_or(String::new(), |class| format!(" ({class})"));
                    format!(
                        "{}{class}: {} -> {}",
                        route.describe(),
                        route.stable_service,
                        route.canary_service
                    )
                })
                .collect(),
            analysis: status.map_or_else(Vec::new, |status| {
                status
                    .analysis_runs
                    .iter()
                    .flat_map(|run| {
                        run.metrics.iter().map(move |metric| {
                            let last = metric
                                .measurements
                                .last()
                                .filter(|m| !m.message.is_empty())
                                .map_or(String::new(), |m| format!("  last: {}", m.message));
                            format!(
                                "{} {}  {:?}  {} measured, {} failed, {} inconclusive, {} errors{last}",
                                run.name,
                                metric.name,
                                metric.phase,
                                metric.count,
                                metric.failed,
                                metric.inconclusive,
                                metric.error
                            )
                        })
                    })
                    .collect()
            }),
            stable_revision,
            canary_revision,
            pods,
        }
    }

    /// The tree for people; `colour` adds ANSI colours (only on a terminal).
    pub fn render(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let paused = if self.paused { "  (paused)" } else { "" };
        let _ = writeln!(
            out,
            "{} {}/{}  {}{paused}",
            paint("1", "Rollout"),
            self.namespace,
            self.name,
            paint(phase_colour(&self.phase), &self.phase)
        );
        let _ = writeln!(out, "├─ Workload  {}", self.workload);
        let _ = writeln!(out, "├─ Steps");
        for step in &self.steps {
            let marker = match step.status {
                StepProgress::Done => paint("32", "✔"),
                StepProgress::Current => paint("33", "▶"),
                StepProgress::Pending => " ".to_owned(),
            };
            let traffic = step
                .traffic
                .as_ref()
                .map_or(String::new(), |t| format!("  traffic {t}"));
            let state = if step.status == StepProgress::Current {
                format!("  {}", paint("33", &self.step_state))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "│  {marker} {}  replicas {}{traffic}  pause {}{state}",
                step.index, step.replicas, step.pause
            );
        }
        for route in &self.routes {
            let _ = writeln!(out, "├─ Route  {route}");
        }
        for metric in &self.analysis {
            let _ = writeln!(out, "├─ Analysis  {metric}");
        }
        let _ = writeln!(out, "├─ Revisions");
        for (role, revision) in [
            ("stable", &self.stable_revision),
            ("canary", &self.canary_revision),
        ] {
            let pods: Vec<&PodView> = self.pods.iter().filter(|p| p.revision == role).collect();
            let ready = pods.iter().filter(|p| p.ready).count();
            let _ = writeln!(
                out,
                "│  {role:<6} {}  {} pods, {ready} ready",
                if revision.is_empty() { "-" } else { revision },
                pods.len()
            );
        }
        let _ = writeln!(out, "├─ Pods");
        for pod in &self.pods {
            let ready = if pod.ready {
                paint("32", "Ready")
            } else {
                paint("31", "NotReady")
            };
            let batch = pod
                .batch
                .as_ref()
                .map_or(String::new(), |b| format!("  batch {b}"));
            let id = pod
                .rollout_id
                .as_ref()
                .map_or(String::new(), |id| format!("  rollout-id {id}"));
            let _ = writeln!(
                out,
                "│  {:<40} {:<6} {ready}{batch}{id}",
                pod.name, pod.revision
            );
        }
        let _ = writeln!(out, "└─ {}", self.message);
        out
    }
}

impl StepView {
    fn new(index: usize, step: &CanaryStep, count: usize, current: i32, completed: bool) -> Self {
        let position = i32::try_from(index).unwrap_or(i32::MAX);
        let status = if completed || position < current {
            StepProgress::Done
        } else if position == current {
            StepProgress::Current
        } else {
            StepProgress::Pending
        };
        let replicas = match &step.replicas {
            Some(IntOrString::Int(n)) => n.to_string(),
            Some(IntOrString::String(s)) => s.clone(),
            None => "-".to_owned(),
        };
        let last_full = index == count && replicas == "100%";
        let pause = match step.pause.duration {
            Some(seconds) => format!("{seconds}s"),
            None if last_full => "none".to_owned(),
            None => "manual".to_owned(),
        };
        Self {
            index,
            replicas,
            traffic: match step.traffic_routing_strategy.matches.len() {
                0 => step.traffic_routing_strategy.traffic.clone(),
                n => Some(format!("{n} matches")),
            },
            pause,
            status,
        }
    }
}

impl PodView {
    fn new(pod: &Pod, canary: &str, stable: &str) -> Self {
        let labels = pod.labels();
        let revision = REVISION_LABELS
            .iter()
            .find_map(|key| labels.get(*key))
            .map_or("other", |value| {
                let is = |revision: &str| {
                    !revision.is_empty()
                        && (value == revision || value.ends_with(&format!("-{revision}")))
                };
                if is(canary) {
                    "canary"
                } else if is(stable) {
                    "stable"
                } else {
                    "other"
                }
            });
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        Self {
            name: pod.name_any(),
            revision: revision.to_owned(),
            ready,
            rollout_id: labels.get(ROLLOUT_ID).cloned(),
            batch: labels.get(ROLLOUT_BATCH_ID).cloned(),
        }
    }
}

fn phase_colour(phase: &str) -> &'static str {
    match phase {
        "Healthy" => "32",
        "Progressing" => "33",
        _ => "31",
    }
}

/// The status message, after a pending abort request (one the controller has not taken yet).
fn message(status: Option<&RolloutStatus>) -> String {
    let text = status.and_then(|s| s.message.clone()).unwrap_or_default();
    match status.and_then(|s| s.abort_request.as_ref()) {
        Some(request) => {
            let reason = if request.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", request.reason)
            };
            format!("abort requested{reason}, not yet taken by the controller. {text}")
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waxwing_api::v1beta1::AbortRequest;

    use super::*;

    fn rollout() -> Rollout {
        serde_json::from_value(json!({
            "apiVersion": "rollouts.kruise.io/v1beta1",
            "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "demo"},
            "spec": {
                "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "strategy": {"canary": {"steps": [
                    {"replicas": "20%", "pause": {"duration": 5}},
                    {"replicas": "40%", "pause": {}},
                    {"replicas": "100%"}
                ]}}
            },
            "status": {
                "phase": "Progressing",
                "message": "Rollout is in step(2/3)",
                "canaryStatus": {
                    "currentStepIndex": 2, "currentStepState": "StepPaused",
                    "podTemplateHash": "new", "stableRevision": "old", "canaryRevision": "new",
                    "observedWorkloadGeneration": 2, "observedRolloutID": "r2",
                    "rolloutHash": "h", "nextStepIndex": 3
                }
            }
        }))
        .unwrap()
    }

    fn pod(name: &str, hash: &str, ready: bool, batch: Option<&str>) -> Pod {
        let mut labels = json!({"app": "web", "pod-template-hash": hash});
        if let Some(batch) = batch {
            labels[ROLLOUT_BATCH_ID] = json!(batch);
            labels[ROLLOUT_ID] = json!("r2");
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        }))
        .unwrap()
    }

    #[test]
    fn marks_the_current_step_and_sorts_pods_by_revision() {
        let pods = [
            pod("web-old-a", "old", true, None),
            pod("web-new-b", "new", false, Some("2")),
            pod("web-new-a", "new", true, Some("1")),
        ];
        let view = RolloutView::new(&rollout(), &pods);
        let progress: Vec<StepProgress> = view.steps.iter().map(|s| s.status).collect();
        assert_eq!(
            progress,
            [
                StepProgress::Done,
                StepProgress::Current,
                StepProgress::Pending
            ]
        );
        let pauses: Vec<&str> = view.steps.iter().map(|s| s.pause.as_str()).collect();
        assert_eq!(pauses, ["5s", "manual", "none"]);
        let names: Vec<&str> = view.pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["web-new-a", "web-new-b", "web-old-a"]);
        assert_eq!(view.pods[0].revision, "canary");
        assert_eq!(view.pods[2].revision, "stable");

        let text = view.render(false);
        assert!(text.contains("Rollout demo/web  Progressing"), "{text}");
        assert!(
            text.contains("▶ 2  replicas 40%  pause manual  StepPaused"),
            "{text}"
        );
        assert!(text.contains("canary new  2 pods, 1 ready"), "{text}");
        assert!(text.contains("NotReady  batch 2  rollout-id r2"), "{text}");
        assert!(!text.contains('\x1b'), "colours without a terminal: {text}");
        assert!(view.render(true).contains('\x1b'));
    }

    #[test]
    fn shows_each_metric_of_the_analysis_with_its_last_measurement() {
        let mut rollout = rollout();
        rollout.status.as_mut().unwrap().analysis_runs = serde_json::from_value(json!([{
            "name": "step-2", "phase": "Running", "startedAt": "2026-11-27T01:00:00Z",
            "metrics": [{
                "name": "errors/ratio", "phase": "Running", "count": 2, "successful": 1,
                "failed": 1, "inconclusive": 0, "error": 0, "consecutiveError": 0,
                "measurements": [{"phase": "Failed", "measuredAt": "2026-11-27T01:00:10Z",
                    "message": "result [0.3] meets failureCondition \"result[0] >= 0.2\""}]
            }]
        }]))
        .unwrap();
        let text = RolloutView::new(&rollout, &[]).render(false);
        assert!(
            text.contains(
                "├─ Analysis  step-2 errors/ratio  Running  2 measured, 1 failed, 0 inconclusive, \
                 0 errors  last: result [0.3] meets failureCondition \"result[0] >= 0.2\""
            ),
            "{text}"
        );
    }

    #[test]
    fn shows_each_route_and_the_traffic_of_each_step() {
        let mut rollout = rollout();
        let canary = rollout.spec.strategy.canary.as_mut().unwrap();
        canary.steps[0].traffic_routing_strategy.traffic = Some("10%".into());
        canary.steps[1].traffic_routing_strategy.matches = vec![Default::default()];
        canary.traffic_routings = serde_json::from_value(json!([
            {"service": "web", "ingress": {"name": "web"}, "gateway": {"httpRouteName": "web"}}
        ]))
        .unwrap();
        let text = RolloutView::new(&rollout, &[]).render(false);
        assert!(
            text.contains("├─ Route  Ingress web (nginx): web -> web-canary"),
            "{text}"
        );
        assert!(
            text.contains("├─ Route  HTTPRoute web: web -> web-canary"),
            "{text}"
        );
        assert!(text.contains("replicas 20%  traffic 10%"), "{text}");
        assert!(text.contains("replicas 40%  traffic 1 matches"), "{text}");
    }

    #[test]
    fn revisions_match_controller_revision_hash_names() {
        let mut sts_pod = pod("db-4", "x", true, Some("1"));
        let labels = sts_pod.metadata.labels.as_mut().unwrap();
        labels.remove("pod-template-hash");
        labels.insert("controller-revision-hash".into(), "db-new".into());
        let view = RolloutView::new(&rollout(), &[sts_pod]);
        assert_eq!(view.pods[0].revision, "canary");
    }

    #[test]
    fn a_pending_abort_request_comes_first_in_the_message() {
        let mut rollout = rollout();
        rollout.status.as_mut().unwrap().abort_request = Some(AbortRequest {
            reason: "p99 latency".into(),
        });
        let view = RolloutView::new(&rollout, &[]);
        assert_eq!(
            view.message,
            "abort requested (p99 latency), not yet taken by the controller. Rollout is in step(2/3)"
        );
    }
}
