//! Policy plugins: what the pause policy and an analysis metric's policy are told, and how
//! their answers are read.

use std::time::Duration;

use serde_json::{Map, Value};
use waxwing_machine::{Decision, MeasurementOutcome};
use waxwing_runtime::Decision as PluginDecision;

/// The policy that runs a step's `pause`.
pub const PAUSE_POLICY: &str = "pause";

/// The plugin's settings from the ConfigMap, as a mapping.
fn plugin_settings(plugin_config: &Value, policy: &str) -> Result<Map<String, Value>, String> {
    match plugin_config {
        Value::Object(fields) => Ok(fields.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(format!(
            "the config of the plugin serving policy {policy:?} in the plugin ConfigMap must \
             be a mapping, not {other}"
        )),
    }
}

/// A policy's settings for one evaluation: the step's settings merged over the plugin's own
/// from the ConfigMap. For the pause policy the step says `{"duration": N}`, or `{}` for a
/// pause that waits for a person.
pub fn settings(
    plugin_config: &Value,
    policy: &str,
    pause_seconds: Option<u32>,
) -> Result<String, String> {
    let mut merged = plugin_settings(plugin_config, policy)?;
    if policy == PAUSE_POLICY
        && let Some(seconds) = pause_seconds
    {
        merged.insert("duration".into(), Value::from(seconds));
    }
    Ok(Value::Object(merged).to_string())
}

/// A metric's settings (a JSON object, from its AnalysisTemplate) merged over the plugin's
/// own from the ConfigMap.
pub fn merge_settings(plugin_config: &Value, policy: &str, metric: &str) -> Result<String, String> {
    let mut merged = plugin_settings(plugin_config, policy)?;
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(metric) else {
        return Err(format!(
            "the settings of policy {policy:?} are not a JSON object"
        ));
    };
    merged.extend(fields);
    Ok(Value::Object(merged).to_string())
}

/// A plugin's answer as the machine takes it.
pub fn decision(answer: PluginDecision) -> Decision {
    match answer {
        PluginDecision::Proceed => Decision::Proceed,
        PluginDecision::Wait(wait) => Decision::Wait {
            after: Duration::from_millis(wait.after_ms),
            reason: wait.reason,
        },
        PluginDecision::Pause(reason) => Decision::Pause { reason },
        PluginDecision::Abort(reason) => Decision::Abort { reason },
    }
}

/// A plugin's answer read as one measurement of an analysis metric (see the policy interface
/// in `wit/plugin.wit`).
pub fn measurement(answer: PluginDecision) -> MeasurementOutcome {
    match answer {
        PluginDecision::Proceed => MeasurementOutcome::Successful(String::new()),
        PluginDecision::Abort(reason) => MeasurementOutcome::Failed(reason),
        PluginDecision::Pause(reason) => MeasurementOutcome::Inconclusive(reason),
        PluginDecision::Wait(wait) => MeasurementOutcome::NotYet {
            after: Duration::from_millis(wait.after_ms),
            reason: wait.reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waxwing_runtime::WaitReason;

    use super::*;

    #[test]
    fn the_step_pause_goes_over_the_plugin_config() {
        let plugin_config = json!({"duration": 5, "other": true});
        let merged: Value =
            serde_json::from_str(&settings(&plugin_config, PAUSE_POLICY, Some(60)).unwrap())
                .unwrap();
        assert_eq!(merged, json!({"duration": 60, "other": true}));

        let manual = settings(&json!({}), PAUSE_POLICY, None).unwrap();
        assert_eq!(manual, "{}");
        assert_eq!(settings(&Value::Null, PAUSE_POLICY, None).unwrap(), "{}");
    }

    #[test]
    fn a_plugin_config_that_is_not_a_mapping_is_refused() {
        let problem = settings(&json!([1, 2]), PAUSE_POLICY, None).unwrap_err();
        assert!(problem.contains("\"pause\""), "{problem}");
    }

    #[test]
    fn metric_settings_go_over_the_plugin_config() {
        let merged = merge_settings(
            &json!({"provider": "prometheus", "query": "default"}),
            "prometheus",
            r#"{"query": "rate(errors[1m])"}"#,
        )
        .unwrap();
        let merged: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(
            merged,
            json!({"provider": "prometheus", "query": "rate(errors[1m])"})
        );
    }

    #[test]
    fn plugin_decisions_map_one_to_one() {
        assert_eq!(decision(PluginDecision::Proceed), Decision::Proceed);
        assert_eq!(
            decision(PluginDecision::Wait(WaitReason {
                after_ms: 1500,
                reason: "timed pause".into()
            })),
            Decision::Wait {
                after: Duration::from_millis(1500),
                reason: "timed pause".into()
            }
        );
        assert_eq!(
            decision(PluginDecision::Abort("bad".into())),
            Decision::Abort {
                reason: "bad".into()
            }
        );
    }

    #[test]
    fn decisions_read_as_measurements() {
        assert_eq!(
            measurement(PluginDecision::Abort("0.3 >= 0.05".into())),
            MeasurementOutcome::Failed("0.3 >= 0.05".into())
        );
        assert_eq!(
            measurement(PluginDecision::Pause("no data".into())),
            MeasurementOutcome::Inconclusive("no data".into())
        );
        assert_eq!(
            measurement(PluginDecision::Wait(WaitReason {
                after_ms: 60_000,
                reason: "freeze".into()
            })),
            MeasurementOutcome::NotYet {
                after: Duration::from_secs(60),
                reason: "freeze".into()
            }
        );
    }
}
