//! How a Rollout releases its workload, and accessors that pick the right strategy, as Kruise's
//! `GetRollingStyle`, `GetSteps`, `GetTrafficRouting` and `IsRealPartition`.

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use super::spec::{CanaryStep, Rollout, RolloutStrategy};
use super::status::{CommonStatus, RolloutStatus};
use super::traffic::TrafficRoutingRef;
use crate::analysis::BackgroundAnalysis;

/// The way new pods are brought in.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RollingStyle {
    /// An extra canary workload runs the new revision beside the untouched stable one.
    Canary,
    /// The workload itself is updated in place, a few pods per step.
    Partition,
    /// The new revision is scaled up beside the old one, which stays until the end.
    BlueGreen,
}

impl RollingStyle {
    /// The name Kruise uses for the style (`Canary`, `Partition`, `BlueGreen`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RollingStyle::Canary => "Canary",
            RollingStyle::Partition => "Partition",
            RollingStyle::BlueGreen => "BlueGreen",
        }
    }
}

impl fmt::Display for RollingStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RolloutStrategy {
    /// The style the strategy asks for: blue-green when `blueGreen` is set, otherwise canary
    /// with `enableExtraWorkloadForCanary` and partition without. `None` when neither strategy
    /// is set (an "empty release"). Only Deployments can run the canary style; see
    /// [`Rollout::release_style`] for the style that actually applies.
    pub fn rolling_style(&self) -> Option<RollingStyle> {
        if self.blue_green.is_some() {
            return Some(RollingStyle::BlueGreen);
        }
        let canary = self.canary.as_ref()?;
        Some(if canary.enable_extra_workload_for_canary {
            RollingStyle::Canary
        } else {
            RollingStyle::Partition
        })
    }

    /// True when neither `canary` nor `blueGreen` is set.
    pub fn is_empty_release(&self) -> bool {
        self.canary.is_none() && self.blue_green.is_none()
    }

    /// The steps of the strategy in use (blue-green wins when both are set, as in Kruise).
    pub fn steps(&self) -> &[CanaryStep] {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => &blue_green.steps,
            (None, Some(canary)) => &canary.steps,
            (None, None) => &[],
        }
    }

    /// The background analysis of the strategy in use (Waxwing's own).
    pub fn analysis(&self) -> Option<&BackgroundAnalysis> {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => blue_green.analysis.as_ref(),
            (None, Some(canary)) => canary.analysis.as_ref(),
            (None, None) => None,
        }
    }

    /// Whether a step's analysis or the background analysis names AnalysisTemplate `name`.
    pub fn names_template(&self, name: &str) -> bool {
        let background = self.analysis().map(|background| &background.analysis);
        self.steps()
            .iter()
            .filter_map(|step| step.analysis.as_ref())
            .chain(background)
            .any(|analysis| analysis.templates.iter().any(|t| t.template_name == name))
    }

    /// The traffic routings of the strategy in use.
    pub fn traffic_routings(&self) -> &[TrafficRoutingRef] {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => &blue_green.traffic_routings,
            (None, Some(canary)) => &canary.traffic_routings,
            (None, None) => &[],
        }
    }

    pub fn has_traffic_routings(&self) -> bool {
        !self.traffic_routings().is_empty()
    }

    /// The failure threshold of the strategy in use.
    pub fn failure_threshold(&self) -> Option<&IntOrString> {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => blue_green.failure_threshold.as_ref(),
            (None, Some(canary)) => canary.failure_threshold.as_ref(),
            (None, None) => None,
        }
    }

    /// The TrafficRouting object the strategy in use drives, if any.
    pub fn traffic_routing_ref(&self) -> Option<&str> {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => blue_green.traffic_routing_ref.as_deref(),
            (None, Some(canary)) => canary.traffic_routing_ref.as_deref(),
            (None, None) => None,
        }
    }

    /// True when the strategy in use routes without a generated `<service>-canary` Service.
    pub fn disable_generate_canary_service(&self) -> bool {
        match (&self.blue_green, &self.canary) {
            (Some(blue_green), _) => blue_green.disable_generate_canary_service,
            (None, Some(canary)) => canary.disable_generate_canary_service,
            (None, None) => false,
        }
    }
}

impl Rollout {
    /// The style that actually applies to the referenced workload. The canary style needs an
    /// extra workload, which only `apps/v1` Deployments get; every other workload asking for it
    /// (for example a CloneSet converted from v1alpha1, where canary is the default) is released
    /// in partition style, as in Kruise.
    pub fn release_style(&self) -> Option<RollingStyle> {
        match self.spec.strategy.rolling_style()? {
            RollingStyle::Canary if !self.targets_deployment() => Some(RollingStyle::Partition),
            style => Some(style),
        }
    }

    /// Kruise's `IsRealPartition`: the workload is updated in place.
    pub fn is_real_partition(&self) -> bool {
        self.release_style() == Some(RollingStyle::Partition)
    }

    fn targets_deployment(&self) -> bool {
        let workload = &self.spec.workload_ref;
        workload.api_version == "apps/v1" && workload.kind == "Deployment"
    }
}

impl RolloutStatus {
    /// The progress of the release under way: the canary status, else the blue-green one.
    pub fn sub_status(&self) -> Option<&CommonStatus> {
        match (&self.canary_status, &self.blue_green_status) {
            (Some(canary), _) => Some(&canary.common),
            (None, Some(blue_green)) => Some(&blue_green.common),
            (None, None) => None,
        }
    }

    pub fn sub_status_mut(&mut self) -> Option<&mut CommonStatus> {
        match (&mut self.canary_status, &mut self.blue_green_status) {
            (Some(canary), _) => Some(&mut canary.common),
            (None, Some(blue_green)) => Some(&mut blue_green.common),
            (None, None) => None,
        }
    }

    /// The revision being released (`canaryRevision` or `updatedRevision`).
    pub fn update_revision(&self) -> Option<&str> {
        match (&self.canary_status, &self.blue_green_status) {
            (Some(canary), _) => Some(&canary.canary_revision),
            (None, Some(blue_green)) => Some(&blue_green.update_revision),
            (None, None) => None,
        }
    }

    /// Pods on the new revision, and how many of them are ready.
    pub fn updated_replicas(&self) -> Option<(i32, i32)> {
        match (&self.canary_status, &self.blue_green_status) {
            (Some(canary), _) => Some((canary.canary_replicas, canary.canary_ready_replicas)),
            (None, Some(blue_green)) => Some((
                blue_green.updated_replicas,
                blue_green.updated_ready_replicas,
            )),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1beta1::{
        BlueGreenStatus, BlueGreenStrategy, CanaryStatus, CanaryStrategy, ObjectRef, RolloutSpec,
    };

    fn step(replicas: i32) -> CanaryStep {
        CanaryStep {
            replicas: Some(IntOrString::Int(replicas)),
            ..CanaryStep::default()
        }
    }

    fn canary(extra: bool) -> CanaryStrategy {
        CanaryStrategy {
            steps: vec![step(1)],
            enable_extra_workload_for_canary: extra,
            traffic_routing_ref: Some("canary-routes".into()),
            ..CanaryStrategy::default()
        }
    }

    fn blue_green() -> BlueGreenStrategy {
        BlueGreenStrategy {
            steps: vec![step(2), step(3)],
            disable_generate_canary_service: true,
            ..BlueGreenStrategy::default()
        }
    }

    fn rollout(api_version: &str, kind: &str, strategy: RolloutStrategy) -> Rollout {
        Rollout::new(
            "demo",
            RolloutSpec {
                workload_ref: ObjectRef {
                    api_version: api_version.into(),
                    kind: kind.into(),
                    name: "web".into(),
                },
                strategy,
                disabled: false,
            },
        )
    }

    fn with(
        canary: Option<CanaryStrategy>,
        blue_green: Option<BlueGreenStrategy>,
    ) -> RolloutStrategy {
        RolloutStrategy {
            paused: false,
            canary,
            blue_green,
        }
    }

    #[test]
    fn rolling_style_follows_kruise() {
        assert_eq!(with(None, None).rolling_style(), None);
        assert!(with(None, None).is_empty_release());
        assert_eq!(
            with(Some(canary(true)), None).rolling_style(),
            Some(RollingStyle::Canary)
        );
        assert_eq!(
            with(Some(canary(false)), None).rolling_style(),
            Some(RollingStyle::Partition)
        );
        assert_eq!(
            with(None, Some(blue_green())).rolling_style(),
            Some(RollingStyle::BlueGreen)
        );
        assert_eq!(
            with(Some(canary(true)), Some(blue_green())).rolling_style(),
            Some(RollingStyle::BlueGreen),
            "blue-green wins when both are set"
        );
    }

    #[test]
    fn accessors_read_the_strategy_in_use() {
        let canary_only = with(Some(canary(true)), None);
        assert_eq!(canary_only.steps().len(), 1);
        assert_eq!(canary_only.traffic_routing_ref(), Some("canary-routes"));
        assert!(!canary_only.disable_generate_canary_service());
        assert!(!canary_only.has_traffic_routings());

        let both = with(Some(canary(true)), Some(blue_green()));
        assert_eq!(both.steps().len(), 2);
        assert_eq!(both.traffic_routing_ref(), None);
        assert!(both.disable_generate_canary_service());
        assert_eq!(both.failure_threshold(), None);

        let empty = with(None, None);
        assert!(empty.steps().is_empty());
        assert!(empty.traffic_routings().is_empty());
    }

    #[test]
    fn canary_style_applies_to_deployments_only() {
        let deployment = rollout("apps/v1", "Deployment", with(Some(canary(true)), None));
        assert_eq!(deployment.release_style(), Some(RollingStyle::Canary));
        assert!(!deployment.is_real_partition());

        let cloneset = rollout(
            "apps.kruise.io/v1alpha1",
            "CloneSet",
            with(Some(canary(true)), None),
        );
        assert_eq!(cloneset.release_style(), Some(RollingStyle::Partition));
        assert!(cloneset.is_real_partition());

        let partition = rollout("apps/v1", "Deployment", with(Some(canary(false)), None));
        assert!(partition.is_real_partition());

        let blue_green = rollout("apps/v1", "Deployment", with(None, Some(blue_green())));
        assert!(!blue_green.is_real_partition());
        assert!(!rollout("apps/v1", "Deployment", with(None, None)).is_real_partition());
    }

    #[test]
    fn status_accessors_prefer_the_canary_status() {
        let mut status = RolloutStatus::default();
        assert!(status.sub_status().is_none());
        assert_eq!(status.update_revision(), None);

        status.blue_green_status = Some(BlueGreenStatus {
            update_revision: "blue".into(),
            updated_replicas: 3,
            updated_ready_replicas: 2,
            ..BlueGreenStatus::default()
        });
        assert_eq!(status.update_revision(), Some("blue"));
        assert_eq!(status.updated_replicas(), Some((3, 2)));

        status.canary_status = Some(CanaryStatus {
            canary_revision: "canary".into(),
            ..CanaryStatus::default()
        });
        assert_eq!(status.update_revision(), Some("canary"));
        status.sub_status_mut().unwrap().current_step_index = 4;
        assert_eq!(
            status
                .canary_status
                .as_ref()
                .unwrap()
                .common
                .current_step_index,
            4
        );
        assert_eq!(status.sub_status().unwrap().current_step_index, 4);
    }

    #[test]
    fn style_names_are_kruises() {
        assert_eq!(RollingStyle::BlueGreen.to_string(), "BlueGreen");
        assert_eq!(RollingStyle::Partition.as_str(), "Partition");
        assert_eq!(RollingStyle::Canary.as_str(), "Canary");
    }
}
