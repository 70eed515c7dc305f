//! The rolling-update settings of a partition release.
//!
//! While a partition release holds the Deployment, its `spec.strategy` is `Recreate` and the
//! user's `rollingUpdate` lives in Kruise's `rollouts.kruise.io/deployment-strategy`
//! annotation (`{"rollingStyle":"Partition","rollingUpdate":{...}}`), which finalize puts back.

use k8s_openapi::api::apps::v1::RollingUpdateDeployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value};
use waxwing_plugin_sdk::{PluginError, intstr};

use crate::deployment::Workload;
use crate::keys::DEPLOYMENT_STRATEGY;

/// The annotation's JSON object; fields this plugin does not use (Kruise's `partition`,
/// `paused`) are kept as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyAnnotation(Map<String, Value>);

impl StrategyAnnotation {
    /// The annotation on `workload`; a malformed one counts as absent and is rewritten.
    pub fn read(workload: &Workload) -> Option<Self> {
        let text = workload.annotation(DEPLOYMENT_STRATEGY)?;
        match serde_json::from_str(text) {
            Ok(Value::Object(fields)) => Some(Self(fields)),
            _ => None,
        }
    }

    /// The annotation a partition release writes: the existing one with the rolling style set
    /// and `rolling_update` recorded.
    pub fn partition(existing: Option<Self>, rolling_update: &RollingUpdateDeployment) -> Self {
        let mut fields = existing.map(|annotation| annotation.0).unwrap_or_default();
        fields.insert("rollingStyle".into(), Value::from("Partition"));
        // Serialising a k8s-openapi value into a `Value` cannot fail.
        let rolling_update = serde_json::to_value(rolling_update).unwrap_or_default();
        fields.insert("rollingUpdate".into(), rolling_update);
        Self(fields)
    }

    fn rolling_update(&self) -> Option<RollingUpdateDeployment> {
        serde_json::from_value(self.0.get("rollingUpdate")?.clone()).ok()
    }

    pub fn text(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// The settings the partition style rolls with: the Deployment's own `rollingUpdate` when set
/// (the user may change them during a release), else the ones recorded in its annotation (or
/// in `previous`'s, when an update dropped the annotation), else Kubernetes' defaults; then
/// Kruise's defaulting.
pub fn rolling_update_of(
    workload: &Workload,
    previous: Option<&Workload>,
) -> RollingUpdateDeployment {
    let own = workload
        .spec
        .strategy
        .as_ref()
        .and_then(|strategy| strategy.rolling_update.clone());
    let recorded = || {
        StrategyAnnotation::read(workload)
            .or_else(|| previous.and_then(StrategyAnnotation::read))
            .and_then(|annotation| annotation.rolling_update())
    };
    with_defaults(own.or_else(recorded).unwrap_or_default())
}

/// Fills unset fields with 25%; settings that would never let a pod be replaced (both zero)
/// become `maxSurge: 0, maxUnavailable: 1`.
fn with_defaults(rolling_update: RollingUpdateDeployment) -> RollingUpdateDeployment {
    let quarter = || IntOrString::String("25%".into());
    let max_surge = rolling_update.max_surge.unwrap_or_else(quarter);
    let max_unavailable = rolling_update.max_unavailable.unwrap_or_else(quarter);
    let of_hundred = |value: &IntOrString| intstr::scaled_value(value, 100, true, "").ok();
    if of_hundred(&max_surge) == Some(0) && of_hundred(&max_unavailable) == Some(0) {
        return RollingUpdateDeployment {
            max_surge: Some(IntOrString::Int(0)),
            max_unavailable: Some(IntOrString::Int(1)),
        };
    }
    RollingUpdateDeployment {
        max_surge: Some(max_surge),
        max_unavailable: Some(max_unavailable),
    }
}

/// How far a rolling update may go above and below the desired replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fenceposts {
    pub max_surge: u32,
    pub max_unavailable: u32,
}

/// Resolves the settings against `replicas` as Kubernetes does: surge rounds up, unavailable
/// rounds down, and when both come to zero one pod may be unavailable. Unavailability never
/// exceeds the replicas.
pub fn fenceposts(
    rolling_update: &RollingUpdateDeployment,
    replicas: u32,
) -> Result<Fenceposts, PluginError> {
    let zero = IntOrString::Int(0);
    let resolve = |value: Option<&IntOrString>, round_up, field| {
        intstr::scaled_value(value.unwrap_or(&zero), replicas, round_up, field)
    };
    let max_surge = resolve(
        rolling_update.max_surge.as_ref(),
        true,
        "rollingUpdate.maxSurge",
    )?;
    let mut max_unavailable = resolve(
        rolling_update.max_unavailable.as_ref(),
        false,
        "rollingUpdate.maxUnavailable",
    )?;
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Ok(Fenceposts {
        max_surge,
        max_unavailable: max_unavailable.min(replicas),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolling(
        surge: Option<IntOrString>,
        unavailable: Option<IntOrString>,
    ) -> RollingUpdateDeployment {
        RollingUpdateDeployment {
            max_surge: surge,
            max_unavailable: unavailable,
        }
    }

    #[test]
    fn defaults_follow_kubernetes_and_kruise() {
        let defaulted = with_defaults(rolling(None, None));
        assert_eq!(
            defaulted,
            rolling(
                Some(IntOrString::String("25%".into())),
                Some(IntOrString::String("25%".into()))
            )
        );
        let stuck = with_defaults(rolling(
            Some(IntOrString::Int(0)),
            Some(IntOrString::String("0%".into())),
        ));
        assert_eq!(
            stuck,
            rolling(Some(IntOrString::Int(0)), Some(IntOrString::Int(1)))
        );
    }

    #[test]
    fn fenceposts_round_like_kubernetes() {
        let quarter = rolling(
            Some(IntOrString::String("25%".into())),
            Some(IntOrString::String("25%".into())),
        );
        assert_eq!(
            fenceposts(&quarter, 10),
            Ok(Fenceposts {
                max_surge: 3,
                max_unavailable: 2
            })
        );
        assert_eq!(
            fenceposts(&quarter, 1),
            Ok(Fenceposts {
                max_surge: 1,
                max_unavailable: 0
            })
        );
        let tiny = rolling(
            Some(IntOrString::String("1%".into())),
            Some(IntOrString::Int(0)),
        );
        assert_eq!(
            fenceposts(&tiny, 10),
            Ok(Fenceposts {
                max_surge: 1,
                max_unavailable: 0
            })
        );
        let none = rolling(
            Some(IntOrString::String("0%".into())),
            Some(IntOrString::String("1%".into())),
        );
        assert_eq!(
            fenceposts(&none, 10),
            Ok(Fenceposts {
                max_surge: 0,
                max_unavailable: 1
            })
        );
        assert_eq!(
            fenceposts(&none, 0),
            Ok(Fenceposts {
                max_surge: 0,
                max_unavailable: 0
            })
        );
    }

    #[test]
    fn malformed_settings_are_refused() {
        let bad = rolling(Some(IntOrString::String("lots".into())), None);
        let err = fenceposts(&bad, 10).unwrap_err();
        assert!(err.message().contains("rollingUpdate.maxSurge"), "{err}");
    }
}
