//! Policy evaluation: which policies guard a step state, what each is told, and how their
//! decisions combine: any Abort wins, then any Pause, then the shortest Wait; Proceed only when
//! every policy proceeds.

use std::time::Duration;

use serde_json::{Map, Value};
use waxwing_machine::{Decision, Guard};
use waxwing_runtime::Decision as PluginDecision;

/// The policy that runs a step's `pause`.
pub const PAUSE_POLICY: &str = "pause";

/// The policies that guard a step state. Kruise's API has no analysis to configure, so
/// `StepMetricsAnalysis` has no policy and proceeds.
pub fn guarding(guard: Guard) -> &'static [&'static str] {
    match guard {
        Guard::Pause => &[PAUSE_POLICY],
        Guard::Analysis => &[],
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
    let mut merged = match plugin_config {
        Value::Object(fields) => fields.clone(),
        Value::Null => Map::new(),
        other => {
            return Err(format!(
                "the config of the plugin serving policy {policy:?} in the plugin ConfigMap must \
                 be a mapping, not {other}"
            ));
        }
    };
    if policy == PAUSE_POLICY
        && let Some(seconds) = pause_seconds
    {
        merged.insert("duration".into(), Value::from(seconds));
    }
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

/// The combined decision of every policy guarding a state, in the order given. The first
/// Abort or Pause is the one reported.
pub fn combine(decisions: impl IntoIterator<Item = Decision>) -> Decision {
    let mut combined = Decision::Proceed;
    for decision in decisions {
        combined = match (combined, decision) {
            (abort @ Decision::Abort { .. }, _) => abort,
            (_, abort @ Decision::Abort { .. }) => abort,
            (pause @ Decision::Pause { .. }, _) => pause,
            (_, pause @ Decision::Pause { .. }) => pause,
            (
                Decision::Wait { after, .. },
                Decision::Wait {
                    after: other_after,
                    reason: other_reason,
                },
            ) if other_after < after => Decision::Wait {
                after: other_after,
                reason: other_reason,
            },
            (wait @ Decision::Wait { .. }, _) => wait,
            (Decision::Proceed, next) => next,
        };
    }
    combined
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waxwing_runtime::WaitReason;

    use super::*;

    fn wait(seconds: u64, reason: &str) -> Decision {
        Decision::Wait {
            after: Duration::from_secs(seconds),
            reason: reason.into(),
        }
    }

    fn pause(reason: &str) -> Decision {
        Decision::Pause {
            reason: reason.into(),
        }
    }

    fn abort(reason: &str) -> Decision {
        Decision::Abort {
            reason: reason.into(),
        }
    }

    #[test]
    fn no_policy_proceeds() {
        assert_eq!(combine([]), Decision::Proceed);
        assert_eq!(
            combine([Decision::Proceed, Decision::Proceed]),
            Decision::Proceed
        );
    }

    #[test]
    fn an_abort_wins_over_everything() {
        assert_eq!(
            combine([pause("p"), wait(5, "w"), abort("errors"), abort("later")]),
            abort("errors")
        );
        assert_eq!(combine([abort("first"), pause("p")]), abort("first"));
    }

    #[test]
    fn a_pause_wins_over_waits_and_proceeds() {
        assert_eq!(
            combine([wait(5, "w"), pause("p"), Decision::Proceed]),
            pause("p")
        );
        assert_eq!(combine([pause("first"), pause("second")]), pause("first"));
    }

    #[test]
    fn the_shortest_wait_wins_over_proceed() {
        assert_eq!(
            combine([
                wait(60, "long"),
                Decision::Proceed,
                wait(5, "short"),
                wait(30, "mid")
            ]),
            wait(5, "short")
        );
        assert_eq!(combine([Decision::Proceed, wait(9, "w")]), wait(9, "w"));
    }

    #[test]
    fn policies_guard_the_pause_only() {
        assert_eq!(guarding(Guard::Pause), &[PAUSE_POLICY]);
        assert!(guarding(Guard::Analysis).is_empty());
    }

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
        assert_eq!(decision(PluginDecision::Pause("ok?".into())), pause("ok?"));
        assert_eq!(decision(PluginDecision::Abort("bad".into())), abort("bad"));
    }
}
